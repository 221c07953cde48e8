package backup

import (
	"context"
	"crypto/tls"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/checkpoint"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func testScheme(t *testing.T) *runtime.Scheme {
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

func testCluster() *v1alpha1.TidbCluster {
	return &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"},
		Spec: v1alpha1.TidbClusterSpec{
			Version: "v8.5.0",
			PD:      &v1alpha1.PDSpec{Replicas: 1},
			TiKV:    &v1alpha1.TiKVSpec{Replicas: 1},
		},
	}
}

func testBackup(mutate ...func(*v1alpha1.Backup)) *v1alpha1.Backup {
	bk := &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bk", UID: "bk-uid", Generation: 1},
		Spec: v1alpha1.BackupSpec{
			StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{
				Provider: v1alpha1.S3StorageProviderTypeAWS, Bucket: "bucket", Prefix: "p", SecretName: "s3",
			}},
			BR: &v1alpha1.BRConfig{Cluster: "basic"},
			BackoffRetryPolicy: v1alpha1.BackoffRetryPolicy{
				MinRetryDuration: "300s", MaxRetryTimes: 2, RetryTimeout: "30m",
			},
		},
	}
	for _, m := range mutate {
		m(bk)
	}
	return bk
}

// fakeCheckpoints answers Checkpoint from a settable value.
type fakeCheckpoints struct {
	mu  sync.Mutex
	ts  uint64
	err error
	got []string
}

func (f *fakeCheckpoints) Checkpoint(_ context.Context, endpoint string, _ *tls.Config, task string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, endpoint+" "+task)
	if f.err != nil {
		return 0, f.err
	}
	if f.ts == 0 {
		return 0, checkpoint.ErrNoCheckpoint
	}
	return f.ts, nil
}

// harness is one Backup controller on a fake API server with a settable clock, counting
// writes and collecting events.
type harness struct {
	t        *testing.T
	c        client.WithWatch
	r        *Reconciler
	now      time.Time
	writes   []string
	events   *events.FakeRecorder
	ckpt     *fakeCheckpoints
	failNext map[string]error // verb -> error for the next call
}

// s3Credentials is the Secret testBackup names.
func s3Credentials() *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s3"}, Data: map[string][]byte{"access_key": []byte("a"), "secret_key": []byte("s")}}
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	objs = append(objs, s3Credentials())
	h := &harness{t: t, now: t0, events: events.NewFakeRecorder(100), ckpt: &fakeCheckpoints{}, failNext: map[string]error{}}
	record := func(verb string, obj client.Object) error {
		h.writes = append(h.writes, verb+" "+kindName(obj))
		if err, ok := h.failNext[verb]; ok {
			delete(h.failNext, verb)
			return err
		}
		return nil
	}
	h.c = fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.Backup{}, &batchv1.Job{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if err := record("create", obj); err != nil {
					return err
				}
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if err := record("update", obj); err != nil {
					return err
				}
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				if err := record("patch", obj); err != nil {
					return err
				}
				return c.Patch(ctx, obj, p, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				if err := record("delete", obj); err != nil {
					return err
				}
				return c.Delete(ctx, obj, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				if err := record("update/"+sub, obj); err != nil {
					return err
				}
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}).Build()
	o := Options{
		Settings:    job.Settings{BackupManagerImage: "pingcap/tidb-backup-manager:test"},
		Checkpoints: h.ckpt,
		// Longer than any retry delay, so requeues show the delays themselves.
		Resync: time.Hour,
		Now:    func() time.Time { return h.now },
	}
	o.defaults()
	h.r = &Reconciler{Client: h.c, Status: h.c, Recorder: h.events, Options: o}
	return h
}

func kindName(obj client.Object) string {
	switch obj.(type) {
	case *v1alpha1.Backup:
		return "Backup/" + obj.GetName()
	case *batchv1.Job:
		return "Job/" + obj.GetName()
	}
	return obj.GetName()
}

// reconcile runs one reconcile and returns its result; writes are reset first.
func (h *harness) reconcile() (ctrl.Result, error) {
	h.t.Helper()
	h.writes = nil
	return h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Namespace: "ns", Name: "bk"}})
}

func (h *harness) mustReconcile() ctrl.Result {
	h.t.Helper()
	res, err := h.reconcile()
	if err != nil {
		h.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (h *harness) backup() *v1alpha1.Backup {
	h.t.Helper()
	bk := &v1alpha1.Backup{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "bk"}, bk); err != nil {
		h.t.Fatalf("get Backup: %v", err)
	}
	return bk
}

func (h *harness) job(name string) *batchv1.Job {
	h.t.Helper()
	j := &batchv1.Job{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, j); err != nil {
		return nil
	}
	return j
}

// finishJob marks a Job as kube-controller-manager would.
func (h *harness) finishJob(name string, ok bool) {
	h.t.Helper()
	j := h.job(name)
	if j == nil {
		h.t.Fatalf("no Job %s", name)
	}
	done := metav1.NewTime(h.now)
	if ok {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: done}}
		j.Status.CompletionTime = &done
	} else {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: done}}
	}
	if err := h.c.Status().Update(context.Background(), j); err != nil {
		h.t.Fatal(err)
	}
}

// managerWrites applies a status change as the backup-manager would.
func (h *harness) managerWrites(mutate func(*v1alpha1.Backup)) {
	h.t.Helper()
	bk := h.backup()
	mutate(bk)
	if err := h.c.Status().Update(context.Background(), bk); err != nil {
		h.t.Fatal(err)
	}
}

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

func condition(bk *v1alpha1.Backup, typ v1alpha1.BackupConditionType) *v1alpha1.BackupCondition {
	_, c := v1alpha1.GetBackupCondition(&bk.Status, typ)
	return c
}

func hasWrite(writes []string, prefix string) bool {
	for _, w := range writes {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}
