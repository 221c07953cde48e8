package backupjobtest

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
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Scheme holds client-go's types and v1alpha1's: everything the backup family reads and writes.
func Scheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// DrainEvents returns the events rec recorded since the last call, oldest first.
func DrainEvents(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// Config says what a World starts with.
type Config struct {
	// Namespace is where Job, JobCount and FinishJob look.
	Namespace string
	// StatusSubresource lists the kinds whose status is a subresource, as their CRDs declare
	// (Jobs' always is): a plain update leaves their status alone, a status update the rest.
	StatusSubresource []client.Object
	// Objects are in the store from the start.
	Objects []client.Object
	// Now is the clock's first reading.
	Now time.Time
}

// World is a fake API server for one controller; see the package documentation.
type World struct {
	t  testing.TB
	ns string

	// Store is the API server's store, unobserved: what the test itself reads and writes.
	Store client.WithWatch
	// Cache and API are the reconciler's clients: Cache answers like the informer cache
	// (Stale, HideJobs), API like the API server. Both record writes and fail calls (Fail).
	Cache, API client.Client
	// Events records the controller's events; pass it as the reconciler's recorder.
	Events *events.FakeRecorder
	// Now is the time the clock (Clock) tells; tests move it.
	Now time.Time

	// Writes lists every write the controller made, oldest first, as "<verb> <Kind>/<name>"
	// ("create Job/backup-bk", "status Backup/bk"); Reconcile returns those of one reconcile.
	Writes []string
	// Fail fails the calls it names, through Cache and API, until the key is deleted. A key is
	// "<verb> <Kind>" with the Go type's name as the kind ("create Job", "status Restore",
	// "list BackupList"); verbs are get, list, create, update, patch, delete, status (an update
	// of the status subresource) and status-patch.
	Fail map[string]error
	// Stale, when set, is what Cache returns for every Get of an object of its type: the
	// informer has not seen the changes made since.
	Stale client.Object
	// HideJobs makes Cache answer NotFound for every Job (one created a moment ago, say).
	HideJobs bool
}

// New starts a World.
func New(t testing.TB, c Config) *World {
	t.Helper()
	w := &World{
		t:      t,
		ns:     c.Namespace,
		Events: events.NewFakeRecorder(100),
		Now:    c.Now,
		Fail:   map[string]error{},
	}
	w.Store = fake.NewClientBuilder().WithScheme(Scheme(t)).
		WithStatusSubresource(c.StatusSubresource...).
		WithObjects(c.Objects...).Build()
	w.Cache = interceptor.NewClient(w.Store, w.funcs(true))
	w.API = interceptor.NewClient(w.Store, w.funcs(false))
	return w
}

// Clock is the reconciler's clock: it tells Now.
func (w *World) Clock() func() time.Time { return func() time.Time { return w.Now } }

// Reconcile runs one reconcile of key by r and returns its result, the writes it made and
// its error.
func (w *World) Reconcile(r reconcile.Reconciler, key client.ObjectKey) (ctrl.Result, []string, error) {
	w.t.Helper()
	before := len(w.Writes)
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
	return res, append([]string(nil), w.Writes[before:]...), err
}

// MustReconcile is Reconcile for a reconcile that must not fail.
func (w *World) MustReconcile(r reconcile.Reconciler, key client.ObjectKey) (ctrl.Result, []string) {
	w.t.Helper()
	res, writes, err := w.Reconcile(r, key)
	if err != nil {
		w.t.Fatalf("reconcile %s: %v", key, err)
	}
	return res, writes
}

// Job returns the Job of that name from the store, or nil.
func (w *World) Job(name string) *batchv1.Job {
	w.t.Helper()
	j := &batchv1.Job{}
	if err := w.Store.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name}, j); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		w.t.Fatal(err)
	}
	return j
}

// JobCount is the number of Jobs in the store.
func (w *World) JobCount() int {
	w.t.Helper()
	list := &batchv1.JobList{}
	if err := w.Store.List(context.Background(), list); err != nil {
		w.t.Fatal(err)
	}
	return len(list.Items)
}

// FinishJob gives a Job its terminal condition at Now, as kube-controller-manager does; a
// completed Job also gets its completion time.
func (w *World) FinishJob(name string, t batchv1.JobConditionType, reason, message string) {
	w.t.Helper()
	j := w.Job(name)
	if j == nil {
		w.t.Fatalf("no Job %s", name)
	}
	at := metav1.NewTime(w.Now)
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{
		Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: at,
	})
	if t == batchv1.JobComplete {
		j.Status.CompletionTime = &at
	}
	if err := w.Store.Status().Update(context.Background(), j); err != nil {
		w.t.Fatal(err)
	}
}

// DrainEvents returns the controller's events since the last call, oldest first.
func (w *World) DrainEvents() []string { return DrainEvents(w.Events) }

// kind names obj's kind in Fail keys and Writes: its Go type's name.
func kind(obj runtime.Object) string { return reflect.TypeOf(obj).Elem().Name() }

// inject returns the error Fail holds for verb on obj's kind, if any.
func (w *World) inject(verb string, obj runtime.Object) error {
	return w.Fail[verb+" "+kind(obj)]
}

// write is inject for a write, which is recorded unless it fails: a failed write wrote nothing.
func (w *World) write(verb string, obj client.Object) error {
	if err := w.inject(verb, obj); err != nil {
		return err
	}
	w.Writes = append(w.Writes, verb+" "+kind(obj)+"/"+obj.GetName())
	return nil
}

// funcs builds the interceptor of Cache (stale) or API.
func (w *World) funcs(stale bool) interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := w.inject("get", obj); err != nil {
				return err
			}
			if stale {
				if w.Stale != nil && reflect.TypeOf(obj) == reflect.TypeOf(w.Stale) {
					reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(w.Stale.DeepCopyObject()).Elem())
					return nil
				}
				if _, ok := obj.(*batchv1.Job); ok && w.HideJobs {
					return apierrors.NewNotFound(schema.GroupResource{Group: "batch", Resource: "jobs"}, key.Name)
				}
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := w.inject("list", list); err != nil {
				return err
			}
			return c.List(ctx, list, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if err := w.write("create", obj); err != nil {
				return err
			}
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if err := w.write("update", obj); err != nil {
				return err
			}
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := w.write("patch", obj); err != nil {
				return err
			}
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			if err := w.write("delete", obj); err != nil {
				return err
			}
			return c.Delete(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if err := w.write(sub, obj); err != nil {
				return err
			}
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			if err := w.write(sub+"-patch", obj); err != nil {
				return err
			}
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	}
}
