package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// A snapshot restore completes; a PiTR restore (snapshot plus log) runs only while TiKV's
// configuration carries gc.ratio-threshold = -1, which the operator puts in when the Restore
// appears and takes out once it completed.
func TestRestoreAndPiTRRestoreWithTheGCOverlay(t *testing.T) {
	t.Parallel()
	be := newBackupEnv(t)
	be.createCluster()

	// The log backup starts first, so the snapshot lies inside the log's range.
	be.createObject(&v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: "log"},
		Spec: v1alpha1.BackupSpec{
			Mode:            v1alpha1.BackupModeLog,
			StorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage("log")},
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			ToolImage:       "pingcap/br:v8.5.0",
		},
	})
	be.waitBackup("log", "running", backupTimeout, inPhase(v1alpha1.BackupRunning))
	be.createObject(be.snapshotBackup("full", "full"))
	full := be.waitBackup("full", "Complete", backupTimeout, inPhase(v1alpha1.BackupComplete))
	fullTS := mustTS(t, full.Status.CommitTs)
	restoredTS := be.checkpointAfter("log", fullTS)

	be.createObject(&v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: "snap"},
		Spec: v1alpha1.RestoreSpec{
			Mode:            v1alpha1.RestoreModeSnapshot,
			Type:            v1alpha1.BackupTypeFull,
			StorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage("full")},
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			ToolImage:       "pingcap/br:v8.5.0",
		},
	})
	snap := be.waitRestore("snap", v1alpha1.RestoreComplete)
	if snap.Status.CommitTs == "" {
		t.Fatalf("snapshot restore Complete without commitTs: %+v", snap.Status)
	}
	if overlay, _ := be.tikvOverlay(); overlay {
		t.Fatal("a snapshot restore turned TiKV's GC off")
	}

	be.createObject(&v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: "pitr"},
		Spec: v1alpha1.RestoreSpec{
			Mode:                          v1alpha1.RestoreModePiTR,
			PitrRestoredTs:                strconv.FormatUint(restoredTS, 10),
			StorageProvider:               v1alpha1.StorageProvider{S3: be.s3Storage("log")},
			PitrFullBackupStorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage("full")},
			BR:                            &v1alpha1.BRConfig{Cluster: "basic"},
			ToolImage:                     "pingcap/br:v8.5.0",
			// Slow steps, so the restore is seen running with the overlay in place.
			Env: []corev1.EnvVar{{Name: brdouble.EnvStepDelay, Value: "1s"}},
		},
	})
	// While the restore is unfinished, TiKV runs with the overlay, and the Job started only
	// once it did.
	be.eventually("TiKV configuration with gc.ratio-threshold = -1", changeTimeout, func(context.Context) error {
		overlay, err := be.tikvOverlay()
		if err != nil {
			return err
		}
		if !overlay {
			return errNotYet
		}
		return nil
	})
	rs := be.waitRestore("pitr", v1alpha1.RestoreComplete)
	if runs := be.runsOf("restore-pitr"); len(runs) != 1 || runs[0].ExitCode != 0 {
		t.Fatalf("PiTR restore runs %v", runs)
	}
	if _, c := v1alpha1.GetRestoreCondition(&rs.Status, v1alpha1.RestoreScheduled); c == nil || c.LastTransitionTime.IsZero() {
		t.Fatalf("no Scheduled condition: %+v", rs.Status.Conditions)
	}
	be.eventually("TiKV configuration back to the user's", changeTimeout, func(context.Context) error {
		overlay, err := be.tikvOverlay()
		if err != nil {
			return err
		}
		if overlay {
			return fmt.Errorf("overlay still there")
		}
		return nil
	})
	be.waitEvent("basic", corev1.EventTypeNormal, "gc.ratio-threshold")
}

// waitRestore waits for a Restore condition to be True and fails early on Failed or Invalid.
func (be *backupEnv) waitRestore(name string, want v1alpha1.RestoreConditionType) *v1alpha1.Restore {
	be.t.Helper()
	rs := &v1alpha1.Restore{}
	be.eventually("Restore "+name+" "+string(want), backupTimeout, func(ctx context.Context) error {
		if err := be.c.Get(ctx, objKey(be.ns, name), rs); err != nil {
			return err
		}
		if _, c := v1alpha1.GetRestoreCondition(&rs.Status, want); c != nil && c.Status == corev1.ConditionTrue {
			return nil
		}
		return fmt.Errorf("phase %q, conditions %+v", rs.Status.Phase, rs.Status.Conditions)
	})
	return rs
}

// tikvOverlay reports whether the configuration TiKV's StatefulSet mounts disables GC.
func (be *backupEnv) tikvOverlay() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sts := &appsv1.StatefulSet{}
	if err := be.c.Get(ctx, objKey(be.ns, "basic-tikv"), sts); err != nil {
		return false, err
	}
	cm := &corev1.ConfigMap{}
	if err := be.c.Get(ctx, objKey(be.ns, builders.ConfigMapInUse(sts)), cm); err != nil {
		return false, err
	}
	return builders.HasPiTRRestoreOverlay(cm), nil
}
