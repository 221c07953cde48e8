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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/checkpoint"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob/backupjobtest"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

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

// harness is one Backup controller in a backupjobtest.World, with a settable clock and
// checkpoint reader. The Backup controller has no stale-cache tests: both its clients see the
// store as it is.
type harness struct {
	*backupjobtest.World
	t    *testing.T
	r    *Reconciler
	ckpt *fakeCheckpoints
	// writes are the writes of the last reconcile, as "<verb> <Kind>/<name>".
	writes []string
}

// s3Credentials is the Secret testBackup names.
func s3Credentials() *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s3"}, Data: map[string][]byte{"access_key": []byte("a"), "secret_key": []byte("s")}}
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	w := backupjobtest.New(t, backupjobtest.Config{
		Namespace:         "ns",
		StatusSubresource: []client.Object{&v1alpha1.Backup{}},
		Objects:           append(objs, s3Credentials()),
		Now:               t0,
	})
	h := &harness{World: w, t: t, ckpt: &fakeCheckpoints{}}
	o := Options{
		Settings:    job.Settings{BackupManagerImage: "pingcap/tidb-backup-manager:test"},
		Checkpoints: h.ckpt,
		// Longer than any retry delay, so requeues show the delays themselves.
		Resync: time.Hour,
		Now:    w.Clock(),
	}
	o.defaults()
	h.r = &Reconciler{Client: w.Cache, Status: w.API, Recorder: w.Events, Options: o}
	return h
}

// reconcile runs one reconcile and returns its result; h.writes are its writes.
func (h *harness) reconcile() (ctrl.Result, error) {
	h.t.Helper()
	res, writes, err := h.Reconcile(h.r, client.ObjectKey{Namespace: "ns", Name: "bk"})
	h.writes = writes
	return res, err
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
	if err := h.Store.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "bk"}, bk); err != nil {
		h.t.Fatalf("get Backup: %v", err)
	}
	return bk
}

// finishJob marks a Job as kube-controller-manager would.
func (h *harness) finishJob(name string, ok bool) {
	h.t.Helper()
	if ok {
		h.FinishJob(name, batchv1.JobComplete, "", "")
	} else {
		h.FinishJob(name, batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	}
}

// managerWrites applies a status change as the backup-manager would.
func (h *harness) managerWrites(mutate func(*v1alpha1.Backup)) {
	h.t.Helper()
	bk := h.backup()
	mutate(bk)
	if err := h.Store.Status().Update(context.Background(), bk); err != nil {
		h.t.Fatal(err)
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
