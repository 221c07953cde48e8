package backup

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

func withCondition(typ v1alpha1.BackupConditionType, st corev1.ConditionStatus, reason string) func(*v1alpha1.Backup) {
	return func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: typ, Status: st, Reason: reason}, status.BackupFields{})(bk)
	}
}

func withRecord(expected time.Time, real *time.Time) func(*v1alpha1.Backup) {
	return func(bk *v1alpha1.Backup) {
		e := metav1.NewTime(expected)
		rec := v1alpha1.BackoffRetryRecord{RetryNum: len(bk.Status.BackoffRetryStatus) + 1, ExpectedRetryAt: &e}
		if real != nil {
			r := metav1.NewTime(*real)
			rec.RealRetryAt = &r
		}
		bk.Status.BackoffRetryStatus = append(bk.Status.BackoffRetryStatus, rec)
	}
}

func TestDecideSnapshot(t *testing.T) {
	running := backupjob.Outcome{Phase: backupjob.Running}
	failed := backupjob.Outcome{Phase: backupjob.Failed}
	succeeded := backupjob.Outcome{Phase: backupjob.Succeeded}
	absent := backupjob.Outcome{Phase: backupjob.Absent}
	later, earlier := t0.Add(time.Minute), t0.Add(-time.Minute)
	cases := map[string]struct {
		bk   *v1alpha1.Backup
		out  backupjob.Outcome
		want snapshotAction
	}{
		"new":                      {testBackup(), absent, snapshotCreate},
		"running":                  {testBackup(), running, snapshotWait},
		"complete":                 {testBackup(withCondition(v1alpha1.BackupComplete, corev1.ConditionTrue, "")), succeeded, snapshotDone},
		"complete, Job gone":       {testBackup(withCondition(v1alpha1.BackupComplete, corev1.ConditionTrue, "")), absent, snapshotDone},
		"succeeded, no result":     {testBackup(), succeeded, snapshotUnreported},
		"failed Job":               {testBackup(withCondition(v1alpha1.BackupFailed, corev1.ConditionTrue, "BR")), failed, snapshotFailed},
		"given up":                 {testBackup(withCondition(v1alpha1.BackupFailed, corev1.ConditionTrue, retry.ReasonRetryLimitExceeded)), failed, snapshotDone},
		"failed, Job deleted":      {testBackup(withCondition(v1alpha1.BackupFailed, corev1.ConditionTrue, "BR")), absent, snapshotDone},
		"retry due, Job deleted":   {testBackup(withCondition(v1alpha1.BackupFailed, corev1.ConditionTrue, "BR"), withRecord(earlier, nil)), absent, snapshotCreate},
		"retry early, Job deleted": {testBackup(withCondition(v1alpha1.BackupFailed, corev1.ConditionTrue, "BR"), withRecord(later, nil)), absent, snapshotDone},
		"retried, Job gone":        {testBackup(withCondition(v1alpha1.BackupFailed, corev1.ConditionFalse, ReasonRetrying), withRecord(earlier, &earlier)), absent, snapshotCreate},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := decideSnapshot(tc.bk, tc.out, t0); got != tc.want {
				t.Fatalf("decideSnapshot = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDecideLog(t *testing.T) {
	args := []string{"backup", "--truncate-until=200"}
	other := []string{"backup", "--truncate-until=100"}
	started := logBackup(logStarted)
	truncating := logBackup(logStarted, func(bk *v1alpha1.Backup) { bk.Spec.LogTruncateUntil = "200" })
	truncated := logBackup(logStarted, func(bk *v1alpha1.Backup) {
		bk.Spec.LogTruncateUntil = "200"
		bk.Status.LogSuccessTruncateUntil = "200"
	})
	cases := map[string]struct {
		bk         *v1alpha1.Backup
		out        backupjob.Phase
		live, want []string
		result     logAction
	}{
		"start, no Job":       {logBackup(), backupjob.Absent, nil, args, logCreate},
		"start, running":      {logBackup(), backupjob.Running, args, args, logWait},
		"started":             {started, backupjob.Succeeded, args, args, logInSync},
		"truncate, new":       {truncating, backupjob.Absent, nil, args, logCreate},
		"truncate, old Job":   {truncating, backupjob.Succeeded, other, args, logReplace},
		"truncate, failed":    {truncating, backupjob.Failed, args, args, logFailed},
		"truncate, reporting": {truncating, backupjob.Succeeded, args, args, logWait},
		"truncated":           {truncated, backupjob.Succeeded, args, args, logInSync},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := v1alpha1.ParseLogBackupSubcommand(tc.bk)
			if got := decideLog(tc.bk, cmd, backupjob.Outcome{Phase: tc.out}, tc.live, tc.want); got != tc.result {
				t.Fatalf("decideLog(%s) = %d, want %d", cmd, got, tc.result)
			}
		})
	}
}

func TestDecideClean(t *testing.T) {
	withPath := func(bk *v1alpha1.Backup) { bk.Status.BackupPath = "s3://b/p" }
	policy := func(p v1alpha1.CleanPolicyType) func(*v1alpha1.Backup) {
		return func(bk *v1alpha1.Backup) { bk.Spec.CleanPolicy = p }
	}
	cases := map[string]struct {
		bk   *v1alpha1.Backup
		want cleanAction
	}{
		"retain":             {testBackup(withPath), cleanRetain},
		"delete":             {testBackup(withPath, policy(v1alpha1.CleanPolicyTypeDelete)), cleanRun},
		"delete, no path":    {testBackup(policy(v1alpha1.CleanPolicyTypeDelete)), cleanNothing},
		"delete, cleaned":    {testBackup(withPath, policy(v1alpha1.CleanPolicyTypeDelete), withCondition(v1alpha1.BackupClean, corev1.ConditionTrue, "")), cleanDone},
		"on failure, ok":     {testBackup(withPath, policy(v1alpha1.CleanPolicyTypeOnFailure), withCondition(v1alpha1.BackupComplete, corev1.ConditionTrue, "")), cleanRetain},
		"on failure, failed": {testBackup(withPath, policy(v1alpha1.CleanPolicyTypeOnFailure), withCondition(v1alpha1.BackupFailed, corev1.ConditionTrue, "")), cleanRun},
		"clean in progress":  {testBackup(withPath, policy(v1alpha1.CleanPolicyTypeDelete), withCondition(v1alpha1.BackupClean, corev1.ConditionFalse, "")), cleanRun},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := decideClean(tc.bk); got != tc.want {
				t.Fatalf("decideClean = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNeedsStopAndTracking(t *testing.T) {
	stopped := logBackup(logStarted, func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Command: v1alpha1.LogStopCommand, Type: v1alpha1.BackupComplete, Status: corev1.ConditionTrue}, status.BackupFields{})(bk)
	})
	for _, tc := range []struct {
		name        string
		bk          *v1alpha1.Backup
		stop, track bool
	}{
		{"snapshot", testBackup(), false, false},
		{"not started", logBackup(), false, false},
		{"running", logBackup(logStarted), true, true},
		{"stopped", stopped, false, false},
	} {
		if got := needsStop(tc.bk); got != tc.stop {
			t.Errorf("%s: needsStop = %v", tc.name, got)
		}
		if got := tracksCheckpoint(tc.bk); got != tc.track {
			t.Errorf("%s: tracksCheckpoint = %v", tc.name, got)
		}
	}
}
