package compactbackup

import (
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// Event reasons. The state has no reason field, so they appear in events only.
const (
	ReasonInvalidSpec     = "InvalidSpec"
	ReasonClusterNotFound = "ClusterNotFound"
	ReasonJobCreated      = "JobCreated"
	ReasonRetryScheduled  = "RetryScheduled"
	ReasonJobNotFound     = "JobNotFound"
	ReasonResultMissing   = "ResultNotRecorded"
)

// problem is why the operator cannot run a CompactBackup: an event reason and a message that
// starts with the field to fix.
type problem struct {
	Reason, Message string
}

func invalidSpec(format string, args ...any) *problem {
	return &problem{Reason: ReasonInvalidSpec, Message: fmt.Sprintf(format, args...)}
}

// validate reports why the operator cannot run cb, or nil: v1.6's checks (startTs and endTs
// set, concurrency and maxRetryTimes not negative), the storage the backup-manager will open,
// and the range exactly as the backup-manager will read it (brcmd.CompactRange), so that a spec
// it would refuse never gets a Job. The target cluster is checked when it is read.
func validate(cb *v1alpha1.CompactBackup) *problem {
	spec := &cb.Spec
	if spec.Count() == 0 {
		return invalidSpec("spec: no storage given; set one of spec.s3, spec.gcs, spec.azblob or spec.local to where the log backup is")
	}
	var options []string
	if spec.BR != nil {
		options = spec.BR.Options
	}
	if _, err := storage.FromProvider(spec.StorageProvider, options); err != nil {
		return invalidSpec("%s", err.Error())
	}
	if spec.StartTs == "" {
		return invalidSpec("spec.startTs must be set: the TSO or time where the compacted range starts")
	}
	if spec.EndTs == "" {
		return invalidSpec("spec.endTs must be set: the TSO or time where the compacted range ends")
	}
	if _, _, err := brcmd.CompactRange(cb); err != nil {
		return invalidSpec("%s", err.Error())
	}
	if spec.Concurrency < 0 {
		return invalidSpec("spec.concurrency must be greater than 0")
	}
	if spec.MaxRetryTimes < 0 {
		return invalidSpec("spec.maxRetryTimes must not be negative; 0 disables retries")
	}
	if needsCluster(cb) {
		if _, ok := clusterKey(cb); !ok {
			return invalidSpec("spec.br.cluster: name the TidbCluster whose log backup this is (its TiKV image gives tikv-ctl and the BR version), or set both spec.tikvImage and spec.toolImage")
		}
	}
	return nil
}

// needsCluster reports whether the Job's images come from the target cluster: tikv-ctl from its
// TiKV image unless spec.tikvImage is set, BR at its TiKV version unless spec.toolImage is set.
func needsCluster(cb *v1alpha1.CompactBackup) bool {
	return cb.Spec.TikvImage == "" || cb.Spec.ToolImage == ""
}

// clusterKey names the TidbCluster of the log backup: spec.br.cluster in
// spec.br.clusterNamespace, or in the CompactBackup's namespace (v1.6 read an empty namespace
// there, which only worked in a namespaced informer). ok is false without spec.br.cluster.
func clusterKey(cb *v1alpha1.CompactBackup) (client.ObjectKey, bool) {
	if cb.Spec.BR == nil || cb.Spec.BR.Cluster == "" {
		return client.ObjectKey{}, false
	}
	ns := cb.Spec.BR.ClusterNamespace
	if ns == "" {
		ns = cb.Namespace
	}
	return client.ObjectKey{Namespace: ns, Name: cb.Spec.BR.Cluster}, true
}

func clusterNotFound(key client.ObjectKey) *problem {
	return &problem{Reason: ReasonClusterNotFound, Message: fmt.Sprintf(
		"spec.br.cluster: TidbCluster %s not found in namespace %s; correct spec.br.cluster and spec.br.clusterNamespace, or set both spec.tikvImage and spec.toolImage",
		key.Name, key.Namespace)}
}

// action is what a reconcile does about the compaction Job.
type action int

const (
	// actDone: nothing left to do (complete, or failed for good).
	actDone action = iota
	// actCreate: the first run; validate, then create the Job.
	actCreate
	// actRetry: a retry is open and the failed Job is gone; create the next Job when due.
	actRetry
	// actRecordScheduled: a Job runs but the state does not show it (the write after the
	// creation failed); record Scheduled.
	actRecordScheduled
	// actWait: the Job runs.
	actWait
	// actFailed: the Job failed, or succeeded without a result; the retry policy decides.
	actFailed
	// actLost: the compaction runs by its state but its Job is gone; confirm, then as failed.
	actLost
)

func (a action) String() string {
	return [...]string{"Done", "Create", "Retry", "RecordScheduled", "Wait", "Failed", "Lost"}[a]
}

// decide chooses the action from the CompactBackup and its Job's outcome.
func decide(cb *v1alpha1.CompactBackup, out backupjob.Outcome) action {
	st := cb.Status.State
	if st == v1alpha1.CompactStateComplete {
		return actDone
	}
	switch out.Phase {
	case backupjob.Running:
		if st == "" || st == v1alpha1.CompactStateRetryFailed {
			return actRecordScheduled
		}
		return actWait
	case backupjob.Succeeded, backupjob.Failed:
		return actFailed
	}
	switch st {
	case "":
		return actCreate
	case v1alpha1.CompactStateFailed:
		// Refused by validation, or given up on; with the Job gone nothing is left to decide.
		return actDone
	case v1alpha1.CompactStateRetryFailed:
		return actRetry
	}
	return actLost
}

// jobFailure describes how a run ended, from the Job alone: it stays the same for as long as
// the Job exists, which is what makes the give-up message deterministic.
func jobFailure(out backupjob.Outcome, jobName string) retry.Failure {
	switch out.Phase {
	case backupjob.Succeeded:
		return retry.Failure{Reason: ReasonResultMissing, Message: fmt.Sprintf("Job %s completed, but the backup-manager did not record the compaction's result", jobName)}
	case backupjob.Absent:
		return retry.Failure{Reason: ReasonJobNotFound, Message: fmt.Sprintf("Job %s is gone although the compaction did not finish", jobName)}
	}
	return retry.Failure{Reason: out.Reason, Message: out.Message}
}

// plan is what to do about a failed run, decided on a fresh copy of the CompactBackup.
type plan struct {
	// Action is retry's action; zero when nothing is left to do (the compaction completed
	// after all, or was already given up on).
	Action retry.Action
	// At is when the retry is due (Record, Wait).
	At time.Time
	// Record is the retry record to append (Record).
	Record v1alpha1.CompactRetryRecord
	// Reason is the event reason (Record, GiveUp).
	Reason string
	// Message is status.message to write (Record, GiveUp).
	Message string
}

// decideFailure applies spec.maxRetryTimes to a failed run whose Job says jobFail.
//
// The run's failure is the backup-manager's message when it recorded Failed for it (BR's or
// tikv-ctl's error, far more useful in a retry record than BackoffLimitExceeded), else the
// Job's. The give-up message is built from the Job's failure only, so that it is the same on
// every reconcile; the backup-manager's last error is appended to it. A Failed state whose
// message starts with the give-up message is therefore the controller's own final verdict, and
// nothing is written again.
func decideFailure(cb *v1alpha1.CompactBackup, jobFail retry.Failure, now time.Time) plan {
	st := cb.Status
	if st.State == v1alpha1.CompactStateComplete {
		return plan{}
	}
	run := jobFail
	reported := st.State == v1alpha1.CompactStateFailed && st.Message != ""
	if reported {
		// The Job's reason (BackoffLimitExceeded) would only restate that the pod failed.
		run = retry.Failure{Message: st.Message}
	}
	d := retry.DecideCompact(cb.Spec.MaxRetryTimes, st, run, now)
	switch d.Action {
	case retry.ActionRecord:
		return plan{
			Action: d.Action, At: d.At, Record: d.Record, Reason: ReasonRetryScheduled,
			Message: fmt.Sprintf("retry %d of %d is due at %s, after: %s",
				d.Record.RetryNum, cb.Spec.MaxRetryTimes, d.At.UTC().Format(time.RFC3339), run),
		}
	case retry.ActionWait:
		return plan{Action: d.Action, At: d.At}
	case retry.ActionRetry:
		return plan{Action: d.Action}
	}
	final := retry.DecideCompact(cb.Spec.MaxRetryTimes, st, jobFail, now).Message
	if st.State == v1alpha1.CompactStateFailed && strings.HasPrefix(st.Message, final) {
		return plan{}
	}
	msg := final
	if reported {
		msg += " Last error: " + st.Message
	}
	return plan{Action: retry.ActionGiveUp, Reason: d.Reason, Message: msg}
}

// retryDue reports whether the open retry may start, or when it will.
func retryDue(cb *v1alpha1.CompactBackup, now time.Time) (time.Time, bool) {
	d := retry.DecideCompact(cb.Spec.MaxRetryTimes, cb.Status, retry.Failure{}, now)
	if d.Action == retry.ActionWait {
		return d.At, false
	}
	// Retry; or RetryFailed without a record (written by something else), which leaves
	// nothing to wait for.
	return time.Time{}, true
}
