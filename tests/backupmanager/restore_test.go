package backupmanager

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// backupInto runs a snapshot backup to completion so that a restore has real data to read.
func backupInto(ctx context.Context, t *testing.T, ns, name string, b backend, prefix string) {
	t.Helper()
	bk := newBackup(ns, name, b, prefix)
	scheduleBackup(ctx, t, bk)
	startManager(t, b.env, "backup", "--namespace="+ns, "--backupName="+name).mustSucceed(t, time.Minute)
}

func scheduleRestore(ctx context.Context, t *testing.T, rs *v1alpha1.Restore) client.ObjectKey {
	t.Helper()
	c := cluster.Shared(t).Client()
	if err := c.Create(ctx, rs); err != nil {
		t.Fatalf("create Restore: %v", err)
	}
	v1alpha1.UpdateRestoreCondition(&rs.Status, &v1alpha1.RestoreCondition{Type: v1alpha1.RestoreScheduled, Status: corev1.ConditionTrue})
	if err := c.Status().Update(ctx, rs); err != nil {
		t.Fatalf("mark Restore Scheduled: %v", err)
	}
	return client.ObjectKeyFromObject(rs)
}

// TestSnapshotAndPointInTimeRestoresComplete restores a snapshot backup (commitTs from its
// backupmeta, progress observed while BR ran) and a PiTR restore from a log backup with the
// snapshot as its full backup (commitTs = the restored TS).
func TestSnapshotAndPointInTimeRestoresComplete(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := s3Backend(t)
	backupInto(ctx, t, ns, "source", b, "restore/full")

	t.Run("snapshot", func(t *testing.T) {
		key := scheduleRestore(ctx, t, &v1alpha1.Restore{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "snapshot"},
			Spec: v1alpha1.RestoreSpec{
				Type: v1alpha1.BackupTypeFull, StorageProvider: b.provider("restore/full"),
				BR: &v1alpha1.BRConfig{Cluster: "target", Options: b.brOptions},
			},
		})
		w := watchProgress(ctx, restoreProgress(key, c))
		startManager(t, b.env, "restore", "--namespace="+ns, "--restoreName=snapshot", "--mode=snapshot").mustSucceed(t, time.Minute)
		seen := w.values()
		got := getRestore(ctx, t, key)
		if got.Status.Phase != v1alpha1.RestoreComplete {
			t.Fatalf("phase %q, conditions %+v", got.Status.Phase, got.Status.Conditions)
		}
		if got.Status.CommitTs != fmt.Sprint(commitTS) {
			t.Errorf("commitTs %q, want the backup's %d", got.Status.CommitTs, commitTS)
		}
		if got.Status.TimeTaken == "" || got.Status.TimeCompleted.IsZero() {
			t.Errorf("time fields missing: %+v", got.Status)
		}
		if len(seen) < 2 {
			t.Errorf("progress seen: %q, want at least two values", seen)
		}
	})

	t.Run("pitr", func(t *testing.T) {
		logBackup := newBackup(ns, "log", b, "restore/log")
		logBackup.Spec.Mode = v1alpha1.BackupModeLog
		logBackup.Spec.CommitTs = ""
		scheduleBackup(ctx, t, logBackup)
		// The log starts before the snapshot's TS, so the two leave no gap BR would refuse.
		startManager(t, b.env, "backup", "--namespace="+ns, "--backupName=log", "--mode=log", "--subcommand=log-start",
			fmt.Sprintf("--commit-ts=%d", commitTS-1000)).mustSucceed(t, time.Minute)

		restoredTS := fmt.Sprint(commitTS + 1000)
		key := scheduleRestore(ctx, t, &v1alpha1.Restore{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pitr"},
			Spec: v1alpha1.RestoreSpec{
				Mode: v1alpha1.RestoreModePiTR, PitrRestoredTs: restoredTS,
				StorageProvider:               b.provider("restore/log"),
				PitrFullBackupStorageProvider: b.provider("restore/full"),
				BR:                            &v1alpha1.BRConfig{Cluster: "target", Options: b.brOptions},
			},
		})
		startManager(t, b.env, "restore", "--namespace="+ns, "--restoreName=pitr", "--mode=pitr", "--pitrRestoredTs="+restoredTS).mustSucceed(t, time.Minute)
		got := getRestore(ctx, t, key)
		if got.Status.Phase != v1alpha1.RestoreComplete || got.Status.CommitTs != restoredTS {
			t.Fatalf("phase %q commitTs %q, want Complete at %s; conditions %+v", got.Status.Phase, got.Status.CommitTs, restoredTS, got.Status.Conditions)
		}
	})

	t.Run("abort", func(t *testing.T) {
		key := scheduleRestore(ctx, t, &v1alpha1.Restore{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pruned"},
			Spec: v1alpha1.RestoreSpec{
				Type: v1alpha1.BackupTypeFull, StorageProvider: b.provider("restore/full"), Prune: v1alpha1.PruneTypeAfterFailed,
				BR: &v1alpha1.BRConfig{Cluster: "target", Options: b.brOptions},
			},
		})
		startManager(t, b.env, "restore", "--namespace="+ns, "--restoreName=pruned", "--abort").mustSucceed(t, time.Minute)
		got := getRestore(ctx, t, key)
		if got.Status.Phase != v1alpha1.RestorePruneComplete {
			t.Fatalf("phase %q, conditions %+v; want PruneComplete", got.Status.Phase, got.Status.Conditions)
		}
	})

	t.Run("missing backup", func(t *testing.T) {
		key := scheduleRestore(ctx, t, &v1alpha1.Restore{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nothing-there"},
			Spec: v1alpha1.RestoreSpec{
				Type: v1alpha1.BackupTypeFull, StorageProvider: b.provider("restore/none"),
				BR: &v1alpha1.BRConfig{Cluster: "target", Options: b.brOptions},
			},
		})
		if code := startManager(t, b.env, "restore", "--namespace="+ns, "--restoreName=nothing-there").wait(t, time.Minute); code == 0 {
			t.Fatal("a restore of a prefix with no backup exited 0")
		}
		got := getRestore(ctx, t, key)
		if got.Status.Phase != v1alpha1.RestoreFailed {
			t.Fatalf("phase %q, conditions %+v; want Failed", got.Status.Phase, got.Status.Conditions)
		}
	})
}
