package compactbackup

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob/backupjobtest"
)

// harness runs the Reconciler in a backupjobtest.World: the cache can be made stale (an old
// copy of the CompactBackup, Jobs it has not seen yet), writes are counted and errors injected;
// the store itself is where the test plays the backup-manager and kube-controller-manager.
type harness struct {
	*backupjobtest.World
	t *testing.T
	r *Reconciler
}

const ns = "ns"

var compactKey = client.ObjectKey{Namespace: ns, Name: "cpbk"}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	w := backupjobtest.New(t, backupjobtest.Config{
		Namespace:         ns,
		StatusSubresource: []client.Object{&v1alpha1.CompactBackup{}},
		Objects:           objs,
		Now:               time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	})
	h := &harness{World: w, t: t}
	h.r = &Reconciler{
		Client:    w.Cache,
		Status:    w.API,
		APIReader: w.API,
		Recorder:  w.Events,
		Options: Options{
			Settings: job.Settings{BackupManagerImage: "pingcap/tidb-backup-manager:v1.6.3"},
			Resync:   DefaultResync,
			Now:      w.Clock(),
		},
	}
	return h
}

// reconcile runs one reconcile and returns its result, the number of writes it made and the
// error.
func (h *harness) reconcile() (ctrl.Result, int, error) {
	h.t.Helper()
	res, writes, err := h.Reconcile(h.r, compactKey)
	return res, len(writes), err
}

// mustReconcile runs one reconcile that must not fail and returns the number of writes it made.
func (h *harness) mustReconcile() (ctrl.Result, int) {
	h.t.Helper()
	res, writes := h.MustReconcile(h.r, compactKey)
	return res, len(writes)
}

func (h *harness) compact() *v1alpha1.CompactBackup {
	h.t.Helper()
	cb := &v1alpha1.CompactBackup{}
	if err := h.Store.Get(context.Background(), compactKey, cb); err != nil {
		h.t.Fatal(err)
	}
	return cb
}

// managerWrites sets the state (and message, when not empty) as the backup-manager does.
func (h *harness) managerWrites(state v1alpha1.CompactState, message string) {
	h.t.Helper()
	cb := h.compact()
	cb.Status.State = state
	if message != "" {
		cb.Status.Message = message
	}
	if err := h.Store.Status().Update(context.Background(), cb); err != nil {
		h.t.Fatal(err)
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
