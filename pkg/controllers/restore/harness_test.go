package restore

import (
	"context"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/builders"
)

// harness runs the Reconciler against controller-runtime's fake client. The reconciler's
// "cache" and "API" clients wrap the same store: the cache one can be made stale (an old copy
// of the Restore, Jobs it has not seen yet) to exercise what the controller does when the
// informer lags, and both count writes and inject errors. world is the store itself, for what
// the backup-manager and kube-controller-manager do.
type harness struct {
	t      *testing.T
	world  client.WithWatch
	r      *Reconciler
	events *events.FakeRecorder
	now    time.Time

	// writes counts every write the controller made.
	writes int
	// fail injects an error into a call: keys are "<verb> <Kind>", verbs get, list, create,
	// delete, status.
	fail map[string]error
	// staleRestore, when set, is what the cache returns for the Restore.
	staleRestore *v1alpha1.Restore
	// hideJobs makes the cache miss every Job (one created a moment ago, say).
	hideJobs bool
}

const ns = "ns"

var restoreKey = client.ObjectKey{Namespace: ns, Name: "rt"}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t:      t,
		events: events.NewFakeRecorder(100),
		now:    time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		fail:   map[string]error{},
	}
	h.world = fake.NewClientBuilder().WithScheme(s).
		WithStatusSubresource(&v1alpha1.Restore{}).
		WithObjects(append(objs, tikvRunning(t, true)...)...).Build()
	cache := interceptor.NewClient(h.world, h.funcs(true))
	api := interceptor.NewClient(h.world, h.funcs(false))
	h.r = &Reconciler{
		Client:    cache,
		Status:    api,
		APIReader: api,
		Recorder:  h.events,
		Options: Options{
			Settings: job.Settings{BackupManagerImage: "pingcap/tidb-backup-manager:v1.6.3"},
			Resync:   DefaultResync,
			Now:      func() time.Time { return h.now },
		},
	}
	return h
}

// injected is the error injected into verb on obj's kind (its Go type name), if any.
func (h *harness) injected(verb string, obj runtime.Object) error {
	return h.fail[verb+" "+reflect.TypeOf(obj).Elem().Name()]
}

// funcs builds the interceptor of the cache client (stale) or the API client.
func (h *harness) funcs(stale bool) interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := h.injected("get", obj); err != nil {
				return err
			}
			if stale {
				switch o := obj.(type) {
				case *v1alpha1.Restore:
					if h.staleRestore != nil {
						h.staleRestore.DeepCopyInto(o)
						return nil
					}
				case *batchv1.Job:
					if h.hideJobs {
						return apierrors.NewNotFound(schema.GroupResource{Group: "batch", Resource: "jobs"}, key.Name)
					}
				}
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := h.injected("list", list); err != nil {
				return err
			}
			return c.List(ctx, list, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if err := h.injected("create", obj); err != nil {
				return err
			}
			h.writes++
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			h.writes++
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			h.writes++
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			if err := h.injected("delete", obj); err != nil {
				return err
			}
			h.writes++
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if err := h.injected("status", obj); err != nil {
				return err
			}
			h.writes++
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			h.writes++
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	}
}

// reconcile runs one reconcile and returns its result, the writes it made and the error.
func (h *harness) reconcile() (ctrl.Result, int, error) {
	h.t.Helper()
	before := h.writes
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: restoreKey})
	return res, h.writes - before, err
}

// mustReconcile runs one reconcile that must not fail and returns the writes it made.
func (h *harness) mustReconcile() (ctrl.Result, int) {
	h.t.Helper()
	res, n, err := h.reconcile()
	if err != nil {
		h.t.Fatalf("reconcile: %v", err)
	}
	return res, n
}

func (h *harness) restore() *v1alpha1.Restore {
	h.t.Helper()
	rs := &v1alpha1.Restore{}
	if err := h.world.Get(context.Background(), restoreKey, rs); err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// job returns the Job of that name, or nil.
func (h *harness) job(name string) *batchv1.Job {
	h.t.Helper()
	j := &batchv1.Job{}
	if err := h.world.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, j); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		h.t.Fatal(err)
	}
	return j
}

func (h *harness) jobCount() int {
	h.t.Helper()
	list := &batchv1.JobList{}
	if err := h.world.List(context.Background(), list); err != nil {
		h.t.Fatal(err)
	}
	return len(list.Items)
}

// finishJob sets a Job's terminal condition, as kube-controller-manager does.
func (h *harness) finishJob(name string, t batchv1.JobConditionType, reason, message string) {
	h.t.Helper()
	j := h.job(name)
	if j == nil {
		h.t.Fatalf("no Job %s", name)
	}
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{
		Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message,
		LastTransitionTime: metav1.NewTime(h.now),
	})
	if err := h.world.Status().Update(context.Background(), j); err != nil {
		h.t.Fatal(err)
	}
}

// managerWrites records a condition as the backup-manager does.
func (h *harness) managerWrites(t v1alpha1.RestoreConditionType, reason, message string) {
	h.t.Helper()
	rs := h.restore()
	v1alpha1.UpdateRestoreCondition(&rs.Status, &v1alpha1.RestoreCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message})
	if err := h.world.Status().Update(context.Background(), rs); err != nil {
		h.t.Fatal(err)
	}
}

// drainEvents returns the events emitted so far.
func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func condition(rs *v1alpha1.Restore, t v1alpha1.RestoreConditionType) *v1alpha1.RestoreCondition {
	_, c := v1alpha1.GetRestoreCondition(&rs.Status, t)
	return c
}

func basicCluster() *v1alpha1.TidbCluster {
	return &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "basic"},
		Spec: v1alpha1.TidbClusterSpec{
			Version: "v8.5.0",
			TiKV:    &v1alpha1.TiKVSpec{},
		},
	}
}

// tikvRunning is basic's TiKV StatefulSet and the ConfigMap it mounts, with or without the
// gc.ratio-threshold overlay a PiTR restore waits for.
func tikvRunning(t *testing.T, overlay bool) []client.Object {
	t.Helper()
	cm, err := builders.TiKVConfigMapWith(basicCluster(), builders.TiKVConfigOptions{PiTRRestore: overlay})
	if err != nil {
		t.Fatal(err)
	}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "basic-tikv"}}
	sts.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}},
	}}}
	return []client.Object{cm, sts}
}
