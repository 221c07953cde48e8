package status

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestTransactReportsTheWriteAndKeepsTheCopyReadLast(t *testing.T) {
	ctx := context.Background()
	var w writes
	c := newClient(t, w.funcs(), scheduledBackup())
	// The controller's copy is older than the store's: the backup-manager recorded Running.
	cur := scheduledBackup()
	if err := Update(ctx, c, backupKey, &v1alpha1.Backup{}, SetBackupCondition(cond(v1alpha1.BackupRunning, corev1.ConditionTrue), BackupFields{})); err != nil {
		t.Fatal(err)
	}
	w.n = 0

	changed, err := Transact(ctx, c, &cur, &v1alpha1.Backup{}, func(*v1alpha1.Backup) bool { return false })
	if err != nil || changed || w.n != 0 {
		t.Fatalf("no-op transaction: changed=%v err=%v writes=%d", changed, err, w.n)
	}
	if cur.Status.Phase != v1alpha1.BackupRunning {
		t.Fatalf("phase %q: the copy read was not kept", cur.Status.Phase)
	}

	changed, err = Transact(ctx, c, &cur, &v1alpha1.Backup{}, SetBackupFields(BackupFields{BackupPath: "s3://b/p"}))
	if err != nil || !changed || w.n != 1 {
		t.Fatalf("changing transaction: changed=%v err=%v writes=%d", changed, err, w.n)
	}
	if stored := getBackup(t, c); cur.ResourceVersion != stored.ResourceVersion || cur.Status.BackupPath != "s3://b/p" {
		t.Fatalf("kept %s %q, stored %s", cur.ResourceVersion, cur.Status.BackupPath, stored.ResourceVersion)
	}

	gone := scheduledBackup()
	gone.Name = "gone"
	before := gone
	if changed, err := Transact(ctx, c, &gone, &v1alpha1.Backup{}, SetBackupFields(BackupFields{BackupPath: "x"})); changed || !apierrors.IsNotFound(err) || gone != before {
		t.Fatalf("missing object: changed=%v err=%v, kept=%v", changed, err, gone == before)
	}
}
