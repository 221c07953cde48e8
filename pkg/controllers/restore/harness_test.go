package restore

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob/backupjobtest"
)

// harness runs the Reconciler in a backupjobtest.World: the cache can be made stale (an old
// copy of the Restore, Jobs it has not seen yet), writes are counted and errors injected; the
// store itself is where the test plays the backup-manager and kube-controller-manager.
type harness struct {
	*backupjobtest.World
	t *testing.T
	r *Reconciler
}

const ns = "ns"

var restoreKey = client.ObjectKey{Namespace: ns, Name: "rt"}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	w := backupjobtest.New(t, backupjobtest.Config{
		Namespace:         ns,
		StatusSubresource: []client.Object{&v1alpha1.Restore{}},
		Objects:           append(objs, tikvRunning(t, true)...),
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
	res, writes, err := h.Reconcile(h.r, restoreKey)
	return res, len(writes), err
}

// mustReconcile runs one reconcile that must not fail and returns the number of writes it made.
func (h *harness) mustReconcile() (ctrl.Result, int) {
	h.t.Helper()
	res, writes := h.MustReconcile(h.r, restoreKey)
	return res, len(writes)
}

func (h *harness) restore() *v1alpha1.Restore {
	h.t.Helper()
	rs := &v1alpha1.Restore{}
	if err := h.Store.Get(context.Background(), restoreKey, rs); err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// managerWrites records a condition as the backup-manager does.
func (h *harness) managerWrites(t v1alpha1.RestoreConditionType, reason, message string) {
	h.t.Helper()
	rs := h.restore()
	v1alpha1.UpdateRestoreCondition(&rs.Status, &v1alpha1.RestoreCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message})
	if err := h.Store.Status().Update(context.Background(), rs); err != nil {
		h.t.Fatal(err)
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
