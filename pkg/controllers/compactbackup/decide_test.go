package compactbackup

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// compaction is a valid CompactBackup ns/cpbk of the log backup of TidbCluster ns/basic.
func compaction() *v1alpha1.CompactBackup {
	return &v1alpha1.CompactBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cpbk", UID: "uid-cpbk"},
		Spec: v1alpha1.CompactSpec{
			StorageProvider: v1alpha1.StorageProvider{
				S3: &v1alpha1.S3StorageProvider{Provider: "aws", Region: "us-west-2", Bucket: "backups", Prefix: "log"},
			},
			StartTs:       "2025-01-01 00:00:00+0800",
			EndTs:         "2025-01-02 00:00:00+0800",
			Concurrency:   4,
			MaxRetryTimes: 2,
			BR:            &v1alpha1.BRConfig{Cluster: "basic"},
		},
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		edit func(*v1alpha1.CompactBackup)
		// wantField is "" for a valid spec, else a text the message must contain.
		wantField string
	}{
		"a compaction with storage, range and cluster is valid": {},
		"TSOs are valid too": {edit: func(cb *v1alpha1.CompactBackup) {
			cb.Spec.StartTs, cb.Spec.EndTs = "400036290571534337", "400036290571534338"
		}},
		"both images make the cluster unnecessary": {edit: func(cb *v1alpha1.CompactBackup) {
			cb.Spec.BR = nil
			cb.Spec.TikvImage, cb.Spec.ToolImage = "pingcap/tikv:v8.5.0", "pingcap/br:v8.5.0"
		}},
		"no storage":                   {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.StorageProvider = v1alpha1.StorageProvider{} }, wantField: "spec.s3"},
		"an S3 storage without bucket": {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.S3.Bucket, cb.Spec.S3.Prefix = "", "" }, wantField: "spec.s3.bucket"},
		"no startTs":                   {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.StartTs = "" }, wantField: "spec.startTs"},
		"no endTs":                     {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.EndTs = "" }, wantField: "spec.endTs"},
		"an unparseable startTs":       {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.StartTs = "last week" }, wantField: "spec.startTs"},
		"an unparseable endTs":         {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.EndTs = "tomorrow" }, wantField: "spec.endTs"},
		"an end before the start": {edit: func(cb *v1alpha1.CompactBackup) {
			cb.Spec.StartTs, cb.Spec.EndTs = cb.Spec.EndTs, cb.Spec.StartTs
		}, wantField: "before spec.startTs"},
		"a negative concurrency":   {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.Concurrency = -1 }, wantField: "spec.concurrency"},
		"a negative maxRetryTimes": {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.MaxRetryTimes = -1 }, wantField: "spec.maxRetryTimes"},
		"no cluster and no images": {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.BR = nil }, wantField: "spec.br.cluster"},
		"no cluster and only tikvImage": {edit: func(cb *v1alpha1.CompactBackup) {
			cb.Spec.BR.Cluster = ""
			cb.Spec.TikvImage = "pingcap/tikv:v8.5.0"
		}, wantField: "spec.toolImage"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cb := compaction()
			if c.edit != nil {
				c.edit(cb)
			}
			p := validate(cb)
			if c.wantField == "" {
				if p != nil {
					t.Fatalf("valid spec refused: %s", p.Message)
				}
				return
			}
			if p == nil || !strings.Contains(p.Message, c.wantField) {
				t.Fatalf("got %+v, want a problem naming %q", p, c.wantField)
			}
		})
	}
}

var (
	absent    = backupjob.Outcome{Phase: backupjob.Absent}
	running   = backupjob.Outcome{Phase: backupjob.Running}
	succeeded = backupjob.Outcome{Phase: backupjob.Succeeded}
	failedJob = backupjob.Outcome{Phase: backupjob.Failed, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}
)

func withState(st v1alpha1.CompactState) *v1alpha1.CompactBackup {
	cb := compaction()
	cb.Status.State = st
	return cb
}

func TestDecide(t *testing.T) {
	cases := map[string]struct {
		cb   *v1alpha1.CompactBackup
		out  backupjob.Outcome
		want action
	}{
		"a new compaction gets its Job":                              {cb: withState(""), out: absent, want: actCreate},
		"a complete compaction is done":                              {cb: withState(v1alpha1.CompactStateComplete), out: succeeded, want: actDone},
		"a failed compaction without a Job is done":                  {cb: withState(v1alpha1.CompactStateFailed), out: absent, want: actDone},
		"a failed compaction with its failed Job goes to the policy": {cb: withState(v1alpha1.CompactStateFailed), out: failedJob, want: actFailed},
		"an open retry without a Job creates the next one":           {cb: withState(v1alpha1.CompactStateRetryFailed), out: absent, want: actRetry},
		"an open retry with its failed Job goes to the policy":       {cb: withState(v1alpha1.CompactStateRetryFailed), out: failedJob, want: actFailed},
		"a Job nobody recorded is recorded as Scheduled":             {cb: withState(""), out: running, want: actRecordScheduled},
		"a retry Job nobody recorded is recorded as Scheduled":       {cb: withState(v1alpha1.CompactStateRetryFailed), out: running, want: actRecordScheduled},
		"a scheduled compaction waits":                               {cb: withState(v1alpha1.CompactStateScheduled), out: running, want: actWait},
		"a running compaction waits":                                 {cb: withState(v1alpha1.CompactStateRunning), out: running, want: actWait},
		"a Failed reported by a pod that still exits waits":          {cb: withState(v1alpha1.CompactStateFailed), out: running, want: actWait},
		"a succeeded Job without Complete is a failed run":           {cb: withState(v1alpha1.CompactStateRunning), out: succeeded, want: actFailed},
		"a running compaction whose Job is gone is lost":             {cb: withState(v1alpha1.CompactStateRunning), out: absent, want: actLost},
		"a scheduled compaction whose Job is gone is lost":           {cb: withState(v1alpha1.CompactStateScheduled), out: absent, want: actLost},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := decide(c.cb, c.out); got != c.want {
				t.Fatalf("decide = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDecideFailure(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	record := func(n int, at time.Time) v1alpha1.CompactRetryRecord {
		t := metav1.NewTime(at)
		return v1alpha1.CompactRetryRecord{RetryNum: n, DetectFailedAt: &t, RetryReason: "earlier"}
	}
	jobFail := jobFailure(failedJob, "cpbk")
	const managerErr = "tikv-ctl compact-log-backup: access denied"
	cases := map[string]struct {
		edit func(cb *v1alpha1.CompactBackup)
		// check inspects the plan.
		want retry.Action
		// wantText must appear in the plan's message or record.
		wantText string
		wantAt   time.Time
	}{
		"the first failure reported by the backup-manager is recorded with its error": {
			edit: func(cb *v1alpha1.CompactBackup) {
				cb.Status.State, cb.Status.Message = v1alpha1.CompactStateFailed, managerErr
			},
			want: retry.ActionRecord, wantText: managerErr, wantAt: now.Add(10 * time.Second),
		},
		"a pod that died without a report is recorded with the Job's reason": {
			edit: func(cb *v1alpha1.CompactBackup) { cb.Status.State = v1alpha1.CompactStateRunning },
			want: retry.ActionRecord, wantText: "BackoffLimitExceeded", wantAt: now.Add(10 * time.Second),
		},
		"an open retry that is not due waits": {
			edit: func(cb *v1alpha1.CompactBackup) {
				cb.Status.State = v1alpha1.CompactStateRetryFailed
				cb.Status.BackoffRetryStatus = []v1alpha1.CompactRetryRecord{record(1, now.Add(-4*time.Second))}
			},
			want: retry.ActionWait, wantAt: now.Add(6 * time.Second),
		},
		"an open retry that is due runs": {
			edit: func(cb *v1alpha1.CompactBackup) {
				cb.Status.State = v1alpha1.CompactStateRetryFailed
				cb.Status.BackoffRetryStatus = []v1alpha1.CompactRetryRecord{record(1, now.Add(-10*time.Second))}
			},
			want: retry.ActionRetry,
		},
		"a failure after the last retry gives up, keeping the backup-manager's error": {
			edit: func(cb *v1alpha1.CompactBackup) {
				cb.Status.State, cb.Status.Message = v1alpha1.CompactStateFailed, managerErr
				cb.Status.BackoffRetryStatus = []v1alpha1.CompactRetryRecord{record(1, now.Add(-time.Hour)), record(2, now.Add(-time.Minute))}
			},
			want: retry.ActionGiveUp, wantText: "Last error: " + managerErr,
		},
		"no retries allowed gives up at once": {
			edit: func(cb *v1alpha1.CompactBackup) {
				cb.Spec.MaxRetryTimes = 0
				cb.Status.State = v1alpha1.CompactStateRunning
			},
			want: retry.ActionGiveUp, wantText: "spec.maxRetryTimes is 0",
		},
		"a compaction that completed after all needs nothing": {
			edit: func(cb *v1alpha1.CompactBackup) { cb.Status.State = v1alpha1.CompactStateComplete },
			want: 0,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cb := compaction()
			c.edit(cb)
			p := decideFailure(cb, jobFail, now)
			if p.Action != c.want {
				t.Fatalf("action %v, want %v (%+v)", p.Action, c.want, p)
			}
			if c.wantText != "" && !strings.Contains(p.Message+" "+p.Record.RetryReason, c.wantText) {
				t.Fatalf("plan %+v does not mention %q", p, c.wantText)
			}
			if !c.wantAt.IsZero() && !p.At.Equal(c.wantAt) {
				t.Fatalf("due at %v, want %v", p.At, c.wantAt)
			}
			if p.Action == retry.ActionRecord && p.Record.RetryNum != len(cb.Status.BackoffRetryStatus)+1 {
				t.Fatalf("record %+v", p.Record)
			}
		})
	}
}

// TestGivingUpIsRecognisedAfterwards checks that the give-up written once is not written
// again: a settled compaction must make no writes.
func TestGivingUpIsRecognisedAfterwards(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	jobFail := jobFailure(failedJob, "cpbk")
	for _, reported := range []string{"tikv-ctl compact-log-backup: access denied", ""} {
		cb := compaction()
		cb.Spec.MaxRetryTimes = 1
		detected := metav1.NewTime(now.Add(-time.Minute))
		cb.Status.BackoffRetryStatus = []v1alpha1.CompactRetryRecord{{RetryNum: 1, DetectFailedAt: &detected}}
		cb.Status.State, cb.Status.Message = v1alpha1.CompactStateRunning, ""
		if reported != "" {
			cb.Status.State, cb.Status.Message = v1alpha1.CompactStateFailed, reported
		}
		p := decideFailure(cb, jobFail, now)
		if p.Action != retry.ActionGiveUp {
			t.Fatalf("action %v, want GiveUp", p.Action)
		}
		cb.Status.State, cb.Status.Message = v1alpha1.CompactStateFailed, p.Message
		if again := decideFailure(cb, jobFail, now.Add(time.Hour)); again.Action != 0 {
			t.Fatalf("after giving up (reported %q), the next decision is %+v, want nothing", reported, again)
		}
	}
}

func TestRetryDue(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cb := withState(v1alpha1.CompactStateRetryFailed)
	detected := metav1.NewTime(now.Add(-15 * time.Second))
	cb.Status.BackoffRetryStatus = []v1alpha1.CompactRetryRecord{{RetryNum: 1, DetectFailedAt: &detected}, {RetryNum: 2, DetectFailedAt: &detected}}
	if at, due := retryDue(cb, now); due || !at.Equal(detected.Add(20*time.Second)) {
		t.Fatalf("retry 2 (20s after the failure) due=%v at %v", due, at)
	}
	if _, due := retryDue(cb, now.Add(5*time.Second)); !due {
		t.Fatal("retry 2 is due 20s after the failure")
	}
	if _, due := retryDue(withState(v1alpha1.CompactStateRetryFailed), now); !due {
		t.Fatal("RetryFailed without a record has nothing to wait for")
	}
}
