package compactbackup

import (
	"context"
	"reflect"
	"testing"
	"time"

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
)

// harness runs the Reconciler against controller-runtime's fake client. The reconciler's
// "cache" and "API" clients wrap the same store: the cache one can be made stale (an old copy
// of the CompactBackup, Jobs it has not seen yet) to exercise what the controller does when the
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
	// stale, when set, is what the cache returns for the CompactBackup.
	stale *v1alpha1.CompactBackup
	// hideJobs makes the cache miss every Job (one created a moment ago, say).
	hideJobs bool
}

const ns = "ns"

var compactKey = client.ObjectKey{Namespace: ns, Name: "cpbk"}

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
		WithStatusSubresource(&v1alpha1.CompactBackup{}).
		WithObjects(objs...).Build()
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
				case *v1alpha1.CompactBackup:
					if h.stale != nil {
						h.stale.DeepCopyInto(o)
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
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: compactKey})
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

func (h *harness) compact() *v1alpha1.CompactBackup {
	h.t.Helper()
	cb := &v1alpha1.CompactBackup{}
	if err := h.world.Get(context.Background(), compactKey, cb); err != nil {
		h.t.Fatal(err)
	}
	return cb
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

// managerWrites sets the state (and message, when not empty) as the backup-manager does.
func (h *harness) managerWrites(state v1alpha1.CompactState, message string) {
	h.t.Helper()
	cb := h.compact()
	cb.Status.State = state
	if message != "" {
		cb.Status.Message = message
	}
	if err := h.world.Status().Update(context.Background(), cb); err != nil {
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

func basicCluster() *v1alpha1.TidbCluster {
	return &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "basic"},
		Spec: v1alpha1.TidbClusterSpec{
			Version: "v8.5.0",
			TiKV:    &v1alpha1.TiKVSpec{},
		},
	}
}
