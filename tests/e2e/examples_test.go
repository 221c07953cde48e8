package e2e

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/backupenv"
)

// The walk-through of docs/backup.md with the manifests of examples/ applied unchanged, in
// the namespace "tidb" they name: the basic cluster, the backup-manager's identity, the
// snapshot backup to S3 (an S3 server stands in for AWS, at the example's region and bucket
// and with its placeholder credentials), the log backup, the restore into a second cluster,
// and the schedules. The PiTR restore and compaction examples name fixed dates of 2025 that
// this run's log does not cover; their runs are the scenarios of logbackup_test.go and
// restore_test.go.
func TestBackupExamplesWorkUnchanged(t *testing.T) {
	t.Parallel()
	be := startBackupEnv(t, backupEnvOptions{
		Namespace: "tidb",
		S3: []backupenv.Option{
			backupenv.WithS3Region("us-west-2"),
			backupenv.WithS3Credentials("REPLACE-WITH-ACCESS-KEY-ID", "REPLACE-WITH-SECRET-ACCESS-KEY"),
		},
		S3ForAWS: true,
	})
	be.s3.CreateBucket(t, "my-tidb-backups")
	be.applyFile("../../examples/basic/tidb-cluster.yaml")
	be.waitReady("basic", readyTimeout)

	be.applyFile("../../examples/backup-s3/s3-secret.yaml")
	be.applyFile("../../examples/backup-s3/backup.yaml")
	bk := be.waitBackup("basic-full-20250101", "Complete", backupTimeout, inPhase(v1alpha1.BackupComplete))
	if bk.Status.BackupPath != "s3://my-tidb-backups/basic/full-20250101" || bk.Status.CommitTs == "" {
		t.Fatalf("backup status %+v", bk.Status)
	}

	be.applyFile("../../examples/log-backup/log-backup.yaml")
	be.waitBackup("basic-log", "running", backupTimeout, inPhase(v1alpha1.BackupRunning))
	be.checkpointAfter("basic-log", 0)

	restored := basicCluster(t, 1, 1, 1)
	restored.Name = "restored"
	be.create(restored)
	be.waitReady("restored", readyTimeout)
	be.applyFile("../../examples/restore/restore.yaml")
	be.waitRestore("restore-basic-full-20250101", v1alpha1.RestoreComplete)

	be.applyFile("../../examples/backup-schedule/backup-schedule.yaml")
	for _, name := range []string{"basic-nightly", "basic-weekday"} {
		be.eventually("BackupSchedule "+name+" valid", changeTimeout, func(ctx context.Context) error {
			bs := &v1alpha1.BackupSchedule{}
			if err := be.c.Get(ctx, objKey(be.ns, name), bs); err != nil {
				return err
			}
			if c := meta.FindStatusCondition(bs.Status.Conditions, "ScheduleValid"); c == nil || c.Status != metav1.ConditionTrue {
				return fmt.Errorf("ScheduleValid %+v", c)
			}
			return nil
		})
	}
	// The nightly schedule keeps a log backup running from the start.
	be.waitBackup("log-basic-nightly", "running", backupTimeout, inPhase(v1alpha1.BackupRunning))
}
