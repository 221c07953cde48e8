package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// A snapshot backup to S3 reaches Complete with what BR wrote (size, commit TS); deleting it
// with cleanPolicy Delete runs clean-<name>, which removes the data before the Backup goes,
// while a Retain backup goes at once and leaves its data.
func TestSnapshotBackupCompletesAndCleanPoliciesApply(t *testing.T) {
	t.Parallel()
	be := newBackupEnv(t)
	be.createCluster()

	be.createObject(be.snapshotBackup("full-delete", "delete", func(bk *v1alpha1.Backup) { bk.Spec.CleanPolicy = v1alpha1.CleanPolicyTypeDelete }))
	be.createObject(be.snapshotBackup("full-retain", "retain"))
	for _, name := range []string{"full-delete", "full-retain"} {
		bk := be.waitBackup(name, "Complete", backupTimeout, inPhase(v1alpha1.BackupComplete))
		if bk.Status.CommitTs == "" || bk.Status.BackupSize <= 0 || bk.Status.TimeTaken == "" {
			t.Fatalf("%s: Complete without the backup's facts: %+v", name, bk.Status)
		}
		if want := "s3://" + backupBucket + "/" + strings.TrimPrefix(name, "full-"); bk.Status.BackupPath != want {
			t.Fatalf("%s: backupPath %q, want %q", name, bk.Status.BackupPath, want)
		}
		if c := condition(bk, v1alpha1.BackupScheduled); c == nil || c.Status != corev1.ConditionTrue {
			t.Fatalf("%s: no Scheduled condition: %s", name, backupConditions(bk))
		}
		ctx, cancel := be.ctx()
		j, err := be.job(ctx, "backup-"+name)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if j.Labels[label.BackupLabelKey] != name || j.Labels[label.ManagedByLabelKey] != label.BackupOperator || *j.Spec.BackoffLimit != 0 {
			t.Fatalf("%s: Job labels %v backoffLimit %d", name, j.Labels, *j.Spec.BackoffLimit)
		}
		if runs := be.runsOf("backup-" + name); len(runs) != 1 || runs[0].ExitCode != 0 || runs[0].ServiceAccount != v1alpha1.DefaultBackupManagerServiceAccount {
			t.Fatalf("%s: runs %v", name, runs)
		}
	}
	if got := be.waitBackup("full-delete", "protected", time.Second, func(*v1alpha1.Backup) error { return nil }).Finalizers; len(got) != 1 {
		t.Fatalf("finalizers of the Delete backup: %v", got)
	}
	for _, prefix := range []string{"delete", "retain"} {
		ctx, cancel := be.ctx()
		keys, err := be.objects(ctx, prefix)
		cancel()
		if err != nil || len(keys) == 0 {
			t.Fatalf("no data under %s: %v %v", prefix, keys, err)
		}
	}

	// Nothing changes any more: no writes to the finished Backups.
	be.quiet()
	be.api.reset()
	time.Sleep(2 * resync)
	if _, writes := be.api.snapshot(); countPrefix(writes, "/apis/pingcap.com/v1alpha1/namespaces/"+be.ns+"/backups") > 0 {
		t.Fatalf("finished Backups were written: %v", writes)
	}

	ctx, cancel := be.ctx()
	defer cancel()
	retain, _ := be.backup(ctx, "full-retain")
	if err := be.c.Delete(ctx, retain); err != nil {
		t.Fatal(err)
	}
	be.waitGone(retain, 10*time.Second)
	del, _ := be.backup(ctx, "full-delete")
	if err := be.c.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	be.waitGone(del, backupTimeout)
	if runs := be.runsOf("clean-full-delete"); len(runs) != 1 || runs[0].ExitCode != 0 {
		t.Fatalf("clean runs %v", runs)
	}
	keys, err := be.objects(ctx, "delete")
	if err != nil || len(keys) != 0 {
		t.Fatalf("data left after the clean: %v %v", keys, err)
	}
	if keys, err := be.objects(ctx, "retain"); err != nil || len(keys) == 0 {
		t.Fatalf("the Retain backup's data is gone: %v %v", keys, err)
	}
}

func countPrefix(writes []string, pathPrefix string) int {
	n := 0
	for _, w := range writes {
		if _, path, ok := strings.Cut(w, " "); ok && strings.HasPrefix(path, pathPrefix) {
			n++
		}
	}
	return n
}

func condition(bk *v1alpha1.Backup, typ v1alpha1.BackupConditionType) *v1alpha1.BackupCondition {
	_, c := v1alpha1.GetBackupCondition(&bk.Status, typ)
	return c
}

// A backup whose BR fails is retried per backoffRetryPolicy, one Job at a time, and ends
// Failed once maxRetryTimes retries failed too; each retry is recorded and announced.
func TestFailingBackupIsRetriedThenFails(t *testing.T) {
	t.Parallel()
	be := newBackupEnv(t)
	be.createCluster()
	be.createObject(be.snapshotBackup("flaky", "flaky", func(bk *v1alpha1.Backup) {
		bk.Spec.BackoffRetryPolicy = v1alpha1.BackoffRetryPolicy{MinRetryDuration: "3s", MaxRetryTimes: 2, RetryTimeout: "10m"}
		// The br double fails every backup run (spec.env reaches BR through the Job).
		bk.Spec.Env = []corev1.EnvVar{{Name: brdouble.EnvFail, Value: "injected failure"}, {Name: brdouble.EnvOnly, Value: "br backup"}}
	}))
	bk := be.waitBackup("flaky", "Failed for good", 3*backupTimeout, func(bk *v1alpha1.Backup) error {
		c := condition(bk, v1alpha1.BackupFailed)
		if c == nil || c.Status != corev1.ConditionTrue || c.Reason != retry.ReasonRetryLimitExceeded {
			return fmt.Errorf("phase %q, retries %d, %s", bk.Status.Phase, len(bk.Status.BackoffRetryStatus), backupConditions(bk))
		}
		return nil
	})
	if bk.Status.Phase != v1alpha1.BackupFailed {
		t.Fatalf("phase %q", bk.Status.Phase)
	}
	recs := bk.Status.BackoffRetryStatus
	if len(recs) != 2 {
		t.Fatalf("retry records %+v", recs)
	}
	for i, rec := range recs {
		want := 3 * time.Second << i
		if rec.RetryNum != i+1 || rec.RealRetryAt == nil || rec.ExpectedRetryAt.Sub(rec.DetectFailedAt.Time) != want || rec.RealRetryAt.Before(rec.ExpectedRetryAt) {
			t.Fatalf("record %d: %+v (want a %s delay, retried no earlier)", i, rec, want)
		}
		if rec.OriginalReason != "BackupDataToRemoteFailed" {
			t.Fatalf("record %d does not name BR's failure: %+v", i, rec)
		}
	}
	runs := be.runsOf("backup-flaky")
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3: %v", len(runs), runs)
	}
	if err := noOverlap(runs); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.ExitCode == 0 {
			t.Fatalf("a run succeeded: %v", r)
		}
	}
	ctx, cancel := be.ctx()
	defer cancel()
	evs, err := be.objectEvents(ctx, "Backup", "flaky")
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, ev := range evs {
		reasons[ev.Type+"/"+ev.Reason]++
	}
	if reasons["Warning/RetryScheduled"] != 2 || reasons["Warning/"+retry.ReasonRetryLimitExceeded] != 1 {
		t.Fatalf("events by reason %v", reasons)
	}
	// Given up: no new Job within a while.
	time.Sleep(5 * time.Second)
	if n := len(be.runsOf("backup-flaky")); n != 3 {
		t.Fatalf("%d runs after giving up", n)
	}
}
