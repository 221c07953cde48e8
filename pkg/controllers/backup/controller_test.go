package backup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
)

func TestSnapshotJobIsCreatedOnceAndSteadyStateWritesNothing(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup())
	h.mustReconcile()
	j := h.Job("backup-bk")
	if j == nil {
		t.Fatalf("no Job backup-bk; writes %v", h.writes)
	}
	if c := condition(h.backup(), v1alpha1.BackupScheduled); c == nil || c.Status != corev1.ConditionTrue {
		t.Fatalf("Scheduled = %+v", c)
	}
	if got := h.backup().Status.Phase; got != v1alpha1.BackupScheduled {
		t.Fatalf("phase %q", got)
	}
	if ev := h.DrainEvents(); len(ev) != 1 || !strings.Contains(ev[0], "JobCreated") {
		t.Fatalf("events %v", ev)
	}
	for i := 0; i < 3; i++ {
		h.mustReconcile()
		if len(h.writes) != 0 {
			t.Fatalf("reconcile %d of a running backup wrote %v", i, h.writes)
		}
	}
	// The backup-manager reports Complete; the Job completes; nothing more happens.
	h.managerWrites(func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupComplete, Status: corev1.ConditionTrue}, status.BackupFields{CommitTs: "42"})(bk)
	})
	h.finishJob("backup-bk", true)
	h.mustReconcile()
	if len(h.writes) != 0 {
		t.Fatalf("a completed backup wrote %v", h.writes)
	}
	if ev := h.DrainEvents(); len(ev) != 0 {
		t.Fatalf("events %v", ev)
	}
}

func TestFailedBackupIsRetriedPerPolicyThenFails(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup())
	h.mustReconcile()
	for attempt := 1; attempt <= 3; attempt++ {
		// BR fails: the backup-manager writes Failed, then the Job fails.
		h.managerWrites(func(bk *v1alpha1.Backup) {
			status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: "BackupDataToRemoteFailed", Message: "br exited 1"}, status.BackupFields{})(bk)
		})
		h.finishJob("backup-bk", false)
		res := h.mustReconcile()
		bk := h.backup()
		if attempt == 3 {
			c := condition(bk, v1alpha1.BackupFailed)
			if c == nil || c.Status != corev1.ConditionTrue || c.Reason != retry.ReasonRetryLimitExceeded {
				t.Fatalf("after the last failure Failed = %+v", c)
			}
			if bk.Status.Phase != v1alpha1.BackupFailed {
				t.Fatalf("phase %q", bk.Status.Phase)
			}
			if len(bk.Status.BackoffRetryStatus) != 2 {
				t.Fatalf("records %+v", bk.Status.BackoffRetryStatus)
			}
			// Given up: more reconciles change nothing and create no Job.
			h.Now = h.Now.Add(time.Hour)
			h.mustReconcile()
			h.mustReconcile()
			if len(h.writes) != 0 {
				t.Fatalf("a failed backup wrote %v", h.writes)
			}
			return
		}
		if n := len(bk.Status.BackoffRetryStatus); n != attempt {
			t.Fatalf("attempt %d: %d records", attempt, n)
		}
		rec := bk.Status.BackoffRetryStatus[attempt-1]
		wantDelay := 300 * time.Second << (attempt - 1)
		if rec.RetryNum != attempt || rec.OriginalReason != "BackupDataToRemoteFailed" || rec.ExpectedRetryAt.Sub(h.Now) != wantDelay {
			t.Fatalf("attempt %d: record %+v", attempt, rec)
		}
		if bk.Status.Phase != v1alpha1.BackupRetryTheFailed || v1alpha1.IsBackupFailed(bk) {
			t.Fatalf("attempt %d: phase %q, failed %v", attempt, bk.Status.Phase, v1alpha1.IsBackupFailed(bk))
		}
		if res.RequeueAfter != wantDelay {
			t.Fatalf("attempt %d: requeue after %s, want %s", attempt, res.RequeueAfter, wantDelay)
		}
		// Before the retry is due nothing is written, the failed Job stays.
		h.Now = h.Now.Add(wantDelay / 2)
		h.mustReconcile()
		if len(h.writes) != 0 || h.Job("backup-bk") == nil {
			t.Fatalf("attempt %d: early reconcile wrote %v", attempt, h.writes)
		}
		// Due: the failed Job goes and the record is closed, then a new Job runs.
		h.Now = h.Now.Add(wantDelay)
		h.mustReconcile()
		if h.Job("backup-bk") != nil {
			t.Fatalf("attempt %d: the failed Job was not deleted", attempt)
		}
		if rec := h.backup().Status.BackoffRetryStatus[attempt-1]; rec.RealRetryAt == nil {
			t.Fatalf("attempt %d: record not closed: %+v", attempt, rec)
		}
		h.mustReconcile()
		if h.Job("backup-bk") == nil {
			t.Fatalf("attempt %d: no new Job; writes %v", attempt, h.writes)
		}
		if got := h.backup().Status.Phase; got != v1alpha1.BackupScheduled {
			t.Fatalf("attempt %d: phase %q after the retry Job", attempt, got)
		}
	}
}

func TestNoRetriesWhenTheUserDisablesThem(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup(func(bk *v1alpha1.Backup) { bk.Spec.BackoffRetryPolicy.MaxRetryTimes = 0 }))
	h.mustReconcile()
	h.finishJob("backup-bk", false)
	h.mustReconcile()
	bk := h.backup()
	if !v1alpha1.IsBackupFailed(bk) || len(bk.Status.BackoffRetryStatus) != 0 {
		t.Fatalf("failed=%v records=%+v", v1alpha1.IsBackupFailed(bk), bk.Status.BackoffRetryStatus)
	}
	// The Job reason is kept when the backup-manager never reported.
	if c := condition(bk, v1alpha1.BackupFailed); !strings.Contains(c.Message, "BackoffLimitExceeded") {
		t.Fatalf("Failed message %q does not name the Job's failure", c.Message)
	}
}

func TestInvalidSpecIsReportedOnceAndNothingRuns(t *testing.T) {
	cases := map[string]struct {
		bk    *v1alpha1.Backup
		field string
	}{
		"no br":           {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.BR = nil }), "spec.br"},
		"no cluster name": {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.BR.Cluster = "" }), "spec.br.cluster"},
		"no storage":      {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.S3 = nil }), "spec"},
		"bad duration":    {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.BackoffRetryPolicy.MinRetryDuration = "five" }), "spec.backoffRetryPolicy.minRetryDuration"},
		"volume snapshot": {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.Mode = v1alpha1.BackupModeVolumeSnapshot }), "spec.backupMode"},
		"unknown cluster": {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.BR.Cluster = "nope" }), "spec.br.cluster: TidbCluster nope not found"},
		"missing Secret":  {testBackup(func(bk *v1alpha1.Backup) { bk.Spec.S3.SecretName = "gone" }), "spec.s3.secretName: Secret gone not found"},
		"bad truncate": {testBackup(func(bk *v1alpha1.Backup) {
			bk.Spec.Mode = v1alpha1.BackupModeLog
			bk.Spec.LogTruncateUntil = "yesterday"
		}), "spec.logTruncateUntil"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, testCluster(), tc.bk)
			for i := 0; i < 3; i++ {
				h.mustReconcile()
			}
			bk := h.backup()
			c := condition(bk, v1alpha1.BackupInvalid)
			if c == nil || c.Status != corev1.ConditionTrue || !strings.HasPrefix(c.Message, tc.field) {
				t.Fatalf("Invalid = %+v, want a message starting with %q", c, tc.field)
			}
			if h.Job("backup-bk") != nil || h.Job("backup-bk-log-start") != nil {
				t.Fatal("a Job was created for an invalid Backup")
			}
			if ev := h.DrainEvents(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning") {
				t.Fatalf("events %v, want one Warning", ev)
			}
		})
	}
}

func TestFixedSpecClearsInvalid(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup(func(bk *v1alpha1.Backup) { bk.Spec.BR.Cluster = "nope" }))
	h.mustReconcile()
	bk := h.backup()
	bk.Spec.BR.Cluster = "basic"
	if err := h.Store.Update(context.Background(), bk); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	bk = h.backup()
	if v1alpha1.IsBackupInvalid(bk) || h.Job("backup-bk") == nil || bk.Status.Phase != v1alpha1.BackupScheduled {
		t.Fatalf("invalid=%v job=%v phase=%q", v1alpha1.IsBackupInvalid(bk), h.Job("backup-bk") != nil, bk.Status.Phase)
	}
}

func TestInjectedErrorsLeaveNoPartialState(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup())
	h.Fail["create Job"] = errors.New("apiserver down")
	if _, err := h.reconcile(); err == nil || !strings.Contains(err.Error(), "apiserver down") {
		t.Fatalf("err = %v", err)
	}
	delete(h.Fail, "create Job")
	if h.backup().Status.Phase != "" {
		t.Fatalf("status written although the Job was not created: %+v", h.backup().Status)
	}
	// Status write fails after the Job was created: the Job stays, and Scheduled is not
	// written again by a later reconcile (the Job exists), but nothing is created twice.
	h.Fail["status Backup"] = errors.New("conflict storm")
	if _, err := h.reconcile(); err == nil {
		t.Fatal("no error")
	}
	delete(h.Fail, "status Backup")
	if h.Job("backup-bk") == nil {
		t.Fatal("no Job")
	}
	h.mustReconcile()
	if hasWrite(h.writes, "create") {
		t.Fatalf("a second Job was created: %v", h.writes)
	}
}

func deleteBackup(t *testing.T, h *harness) {
	t.Helper()
	if err := h.Store.Delete(context.Background(), h.backup()); err != nil {
		t.Fatal(err)
	}
}

func TestCleanPolicyDeleteRunsTheCleanJobBeforeTheBackupGoes(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup(func(bk *v1alpha1.Backup) { bk.Spec.CleanPolicy = v1alpha1.CleanPolicyTypeDelete }))
	h.mustReconcile()
	if got := h.backup().Finalizers; len(got) != 1 || got[0] != Finalizer {
		t.Fatalf("finalizers %v", got)
	}
	h.managerWrites(func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupComplete, Status: corev1.ConditionTrue}, status.BackupFields{BackupPath: "s3://bucket/p"})(bk)
	})
	h.finishJob("backup-bk", true)
	deleteBackup(t, h)
	h.mustReconcile()
	if h.Job("clean-bk") == nil {
		t.Fatalf("no clean Job; writes %v", h.writes)
	}
	if c := condition(h.backup(), v1alpha1.BackupClean); c == nil || c.Status != corev1.ConditionFalse {
		t.Fatalf("Clean = %+v", c)
	}
	h.mustReconcile()
	if len(h.writes) != 0 {
		t.Fatalf("reconcile while cleaning wrote %v", h.writes)
	}
	// The clean fails: CleanFailed, one Warning, the Backup stays; after the interval it runs again.
	h.finishJob("clean-bk", false)
	h.DrainEvents()
	h.mustReconcile()
	h.mustReconcile()
	if !v1alpha1.IsBackupCleanFailed(h.backup()) {
		t.Fatal("CleanFailed not recorded")
	}
	if ev := h.DrainEvents(); len(ev) != 1 || !strings.Contains(ev[0], ReasonCleanJobFailed) {
		t.Fatalf("events %v", ev)
	}
	h.Now = h.Now.Add(DefaultCleanRetryInterval + time.Second)
	h.mustReconcile()
	if h.Job("clean-bk") != nil {
		t.Fatal("the failed clean Job was not deleted for a retry")
	}
	h.mustReconcile()
	if h.Job("clean-bk") == nil {
		t.Fatal("the clean Job did not run again")
	}
	h.finishJob("clean-bk", true)
	h.mustReconcile()
	bk := &v1alpha1.Backup{}
	if err := h.Store.Get(context.Background(), bkKey, bk); err == nil {
		t.Fatalf("the Backup is still there: finalizers %v, conditions %+v", bk.Finalizers, bk.Status.Conditions)
	}
}

func TestRetainKeepsTheDataAndOnFailureCleansOnlyFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		policy    v1alpha1.CleanPolicyType
		failed    bool
		wantClean bool
	}{
		{"retain", v1alpha1.CleanPolicyTypeRetain, false, false},
		{"on failure, complete", v1alpha1.CleanPolicyTypeOnFailure, false, false},
		{"on failure, failed", v1alpha1.CleanPolicyTypeOnFailure, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testCluster(), testBackup(func(bk *v1alpha1.Backup) {
				bk.Spec.CleanPolicy = tc.policy
				bk.Spec.BackoffRetryPolicy.MaxRetryTimes = 0
			}))
			h.mustReconcile()
			typ := v1alpha1.BackupComplete
			if tc.failed {
				typ = v1alpha1.BackupFailed
			}
			h.managerWrites(func(bk *v1alpha1.Backup) {
				status.SetBackupCondition(v1alpha1.BackupCondition{Type: typ, Status: corev1.ConditionTrue, Reason: "X"}, status.BackupFields{BackupPath: "s3://bucket/p"})(bk)
			})
			h.finishJob("backup-bk", !tc.failed)
			h.mustReconcile()
			deleteBackup(t, h)
			if tc.policy == v1alpha1.CleanPolicyTypeRetain {
				// No finalizer was ever needed: the Backup is gone at once.
				if err := h.Store.Get(context.Background(), bkKey, &v1alpha1.Backup{}); err == nil {
					t.Fatal("a Retain Backup was held back")
				}
				return
			}
			h.mustReconcile()
			if got := h.Job("clean-bk") != nil; got != tc.wantClean {
				t.Fatalf("clean Job created = %v, want %v", got, tc.wantClean)
			}
			if !tc.wantClean {
				if err := h.Store.Get(context.Background(), bkKey, &v1alpha1.Backup{}); err == nil {
					t.Fatal("the Backup was kept although its data stays")
				}
			}
		})
	}
}

func TestDeletionWaitsForARunningBackupJob(t *testing.T) {
	h := newHarness(t, testCluster(), testBackup(func(bk *v1alpha1.Backup) { bk.Spec.CleanPolicy = v1alpha1.CleanPolicyTypeDelete }))
	h.mustReconcile()
	h.managerWrites(func(bk *v1alpha1.Backup) { bk.Status.BackupPath = "s3://bucket/p" })
	deleteBackup(t, h)
	h.mustReconcile()
	if h.Job("clean-bk") != nil {
		t.Fatal("the clean Job started while the backup Job runs")
	}
	h.finishJob("backup-bk", false)
	h.mustReconcile()
	if h.Job("clean-bk") == nil {
		t.Fatal("no clean Job after the backup Job finished")
	}
}

func logBackup(mutate ...func(*v1alpha1.Backup)) *v1alpha1.Backup {
	return testBackup(append([]func(*v1alpha1.Backup){func(bk *v1alpha1.Backup) {
		bk.Spec.Mode = v1alpha1.BackupModeLog
		bk.Spec.CleanPolicy = v1alpha1.CleanPolicyTypeRetain
	}}, mutate...)...)
}

// logStarted records a started, running log backup task as the backup-manager does.
func logStarted(bk *v1alpha1.Backup) {
	for _, typ := range []v1alpha1.BackupConditionType{v1alpha1.BackupRunning, v1alpha1.BackupComplete} {
		status.SetBackupCondition(v1alpha1.BackupCondition{Command: v1alpha1.LogStartCommand, Type: typ, Status: corev1.ConditionTrue}, status.BackupFields{CommitTs: "100", BackupPath: "s3://bucket/p"})(bk)
	}
}

func TestLogBackupStartsOnceAndTracksTheCheckpoint(t *testing.T) {
	h := newHarness(t, testCluster(), logBackup())
	h.mustReconcile()
	j := h.Job("backup-bk-log-start")
	if j == nil {
		t.Fatalf("no log-start Job; writes %v", h.writes)
	}
	if !h.r.Options.Checkpoints.(*fakeCheckpoints).noCalls() {
		t.Fatal("the checkpoint was read before the task started")
	}
	h.managerWrites(logStarted)
	h.finishJob("backup-bk-log-start", true)
	h.ckpt.ts = 500
	res := h.mustReconcile()
	if got := h.backup().Status.LogCheckpointTs; got != "500" {
		t.Fatalf("logCheckpointTs %q", got)
	}
	if res.RequeueAfter != DefaultCheckpointInterval {
		t.Fatalf("requeue after %s", res.RequeueAfter)
	}
	if got := h.ckpt.got[len(h.ckpt.got)-1]; got != "basic-pd.ns:2379 bk" {
		t.Fatalf("read %q", got)
	}
	// Same checkpoint: no write. Lower one (a lagging read): no write either.
	h.mustReconcile()
	h.ckpt.ts = 400
	h.mustReconcile()
	if len(h.writes) != 0 {
		t.Fatalf("wrote %v", h.writes)
	}
	h.ckpt.ts = 900
	h.mustReconcile()
	if got := h.backup().Status.LogCheckpointTs; got != "900" {
		t.Fatalf("logCheckpointTs %q", got)
	}
	// PD unreachable: the last checkpoint stays, nothing is written, the tracker retries.
	h.ckpt.err = errors.New("connection refused")
	res = h.mustReconcile()
	if len(h.writes) != 0 || res.RequeueAfter != DefaultCheckpointInterval {
		t.Fatalf("writes %v, requeue %s", h.writes, res.RequeueAfter)
	}
}

func (f *fakeCheckpoints) noCalls() bool { return len(f.got) == 0 }

func TestLogTruncateRunsPerRequest(t *testing.T) {
	h := newHarness(t, testCluster(), logBackup())
	h.mustReconcile()
	h.managerWrites(logStarted)
	h.finishJob("backup-bk-log-start", true)
	h.mustReconcile()
	setTruncate := func(ts string) {
		bk := h.backup()
		bk.Spec.LogTruncateUntil = ts
		if err := h.Store.Update(context.Background(), bk); err != nil {
			t.Fatal(err)
		}
	}
	setTruncate("200")
	h.mustReconcile()
	j := h.Job("backup-bk-log-truncate")
	if j == nil || !containsArg(j.Spec.Template.Spec.Containers[0].Args, "--truncate-until=200") {
		t.Fatalf("truncate Job %v", j)
	}
	h.finishJob("backup-bk-log-truncate", true)
	h.managerWrites(func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Command: v1alpha1.LogTruncateCommand, Type: v1alpha1.BackupComplete, Status: corev1.ConditionTrue}, status.BackupFields{LogSuccessTruncateUntil: "200", LogTruncatingUntil: "200"})(bk)
	})
	h.mustReconcile()
	if h.Job("backup-bk-log-truncate") == nil {
		t.Fatal("a finished truncate Job of the current request was deleted")
	}
	// A new truncate point: the old Job goes, a new one runs with the new point.
	setTruncate("300")
	h.mustReconcile()
	h.mustReconcile()
	j = h.Job("backup-bk-log-truncate")
	if j == nil || !containsArg(j.Spec.Template.Spec.Containers[0].Args, "--truncate-until=300") {
		t.Fatalf("truncate Job for 300: %v", j)
	}
}

func containsArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}

func TestDeletingALogBackupStopsTheTaskFirst(t *testing.T) {
	h := newHarness(t, testCluster(), logBackup())
	h.mustReconcile()
	h.managerWrites(logStarted)
	h.finishJob("backup-bk-log-start", true)
	h.mustReconcile()
	deleteBackup(t, h)
	h.mustReconcile()
	stop := h.Job("stop-bk")
	if stop == nil || !containsArg(stop.Spec.Template.Spec.Containers[0].Args, "--subcommand=log-stop") {
		t.Fatalf("stop Job %v; writes %v", stop, h.writes)
	}
	// A failed stop keeps the Backup and is retried after the interval.
	h.finishJob("stop-bk", false)
	h.mustReconcile()
	if err := h.Store.Get(context.Background(), bkKey, &v1alpha1.Backup{}); err != nil {
		t.Fatal("the Backup went although its task was not stopped")
	}
	h.Now = h.Now.Add(DefaultCleanRetryInterval + time.Second)
	h.mustReconcile()
	h.mustReconcile()
	if h.Job("stop-bk") == nil {
		t.Fatal("the stop did not run again")
	}
	h.finishJob("stop-bk", true)
	h.managerWrites(func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Command: v1alpha1.LogStopCommand, Type: v1alpha1.BackupComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(h.Now)}, status.BackupFields{})(bk)
	})
	h.mustReconcile()
	if err := h.Store.Get(context.Background(), bkKey, &v1alpha1.Backup{}); err == nil {
		t.Fatal("the Backup stays after its task stopped (Retain)")
	}
}

var bkKey = client.ObjectKey{Namespace: "ns", Name: "bk"}

func TestAFailedLogSubcommandIsReportedOnceAndNotRerun(t *testing.T) {
	h := newHarness(t, testCluster(), logBackup())
	h.mustReconcile()
	h.managerWrites(func(bk *v1alpha1.Backup) {
		status.SetBackupCondition(v1alpha1.BackupCondition{Command: v1alpha1.LogStartCommand, Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: "LogBackupFailed", Message: "br log start: task exists"}, status.BackupFields{})(bk)
	})
	h.finishJob("backup-bk-log-start", false)
	h.DrainEvents()
	for i := 0; i < 3; i++ {
		h.mustReconcile()
		if hasWrite(h.writes, "create") || hasWrite(h.writes, "delete") {
			t.Fatalf("a failed log-start was run again: %v", h.writes)
		}
	}
	ev := h.DrainEvents()
	if len(ev) != 1 || !strings.Contains(ev[0], ReasonLogSubcommandFailed) || !strings.Contains(ev[0], "task exists") {
		t.Fatalf("events %v", ev)
	}
}
