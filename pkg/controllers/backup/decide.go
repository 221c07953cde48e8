package backup

import (
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// Finalizer protects a Backup whose deletion needs work first (v1.6's name).
const Finalizer = "tidb.pingcap.com/backup-protection"

// Condition reasons the controller writes.
const (
	ReasonInvalidSpec         = "InvalidSpec"
	ReasonClusterNotFound     = "ClusterNotFound"
	ReasonValid               = "Valid"
	ReasonJobCreated          = "JobCreated"
	ReasonJobFailed           = "JobFailed"
	ReasonRetryScheduled      = "RetryScheduled"
	ReasonRetrying            = "Retrying"
	ReasonNoData              = "NoBackupData"
	ReasonCleanJobCreated     = "CleanJobCreated"
	ReasonCleanJobSucceeded   = "CleanJobSucceeded"
	ReasonCleanJobFailed      = "CleanBackupDataFailed"
	ReasonStopJobFailed       = "StopLogBackupFailed"
	ReasonResultMissing       = "ResultNotRecorded"
	ReasonSecretNotFound      = "SecretNotFound"
	ReasonLogSubcommandFailed = "LogSubcommandFailed"
)

// secretRefs lists the Secrets a Backup's Jobs take values from.
func secretRefs(bk *v1alpha1.Backup) []job.SecretRef {
	var refs []job.SecretRef
	if ref, ok := job.StorageSecret(bk.Spec.StorageProvider, "spec"); ok {
		refs = append(refs, ref)
	}
	if ref, ok := job.AccessSecret(bk.Spec.From, "spec.from"); ok {
		refs = append(refs, ref)
	}
	return refs
}

// validate reports why the operator cannot run bk, as an error whose message starts with the
// field to fix. It checks only what the spec alone decides; the target cluster is checked
// when it is read.
func validate(bk *v1alpha1.Backup) error {
	spec := &bk.Spec
	switch spec.Mode {
	case "", v1alpha1.BackupModeSnapshot, v1alpha1.BackupModeLog:
	case v1alpha1.BackupModeVolumeSnapshot:
		return errors.New("spec.backupMode: volume-snapshot backups are not supported by this operator yet; use snapshot or log")
	default:
		return fmt.Errorf("spec.backupMode: unknown mode %q; use snapshot or log", spec.Mode)
	}
	if spec.BR == nil {
		return errors.New("spec.br: Dumpling exports (a Backup without spec.br) are not supported by this operator; set spec.br to back up with BR")
	}
	if spec.BR.Cluster == "" {
		return errors.New("spec.br.cluster: name the TidbCluster to back up")
	}
	if spec.Count() == 0 {
		return errors.New("spec: no storage given; set one of spec.s3, spec.gcs, spec.azblob or spec.local")
	}
	if _, err := storage.FromProvider(spec.StorageProvider, spec.BR.Options); err != nil {
		return err
	}
	if err := validatePolicy(spec.BackoffRetryPolicy); err != nil {
		return err
	}
	if spec.Mode == v1alpha1.BackupModeLog {
		for _, f := range []struct{ path, value string }{
			{"spec.commitTs", spec.CommitTs},
			{"spec.logTruncateUntil", spec.LogTruncateUntil},
		} {
			if f.value == "" {
				continue
			}
			if _, err := v1alpha1.ParseTSString(f.value); err != nil {
				return fmt.Errorf("%s: %w", f.path, err)
			}
		}
		if cmd := v1alpha1.ParseLogBackupSubcommand(bk); cmd == v1alpha1.LogUnknownCommand {
			return fmt.Errorf("spec.logSubcommand: unknown subcommand %q; use log-start, log-pause or log-stop", spec.LogSubcommand)
		}
	}
	return nil
}

func validatePolicy(p v1alpha1.BackoffRetryPolicy) error {
	for _, f := range []struct{ path, value string }{
		{"spec.backoffRetryPolicy.minRetryDuration", p.MinRetryDuration},
		{"spec.backoffRetryPolicy.retryTimeout", p.RetryTimeout},
	} {
		if f.value == "" {
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		if d < 0 {
			return fmt.Errorf("%s: %q is negative", f.path, f.value)
		}
	}
	return nil
}

// snapshotAction is what the snapshot step does next.
type snapshotAction int

const (
	// snapshotDone: the backup completed or failed for good; nothing to do.
	snapshotDone snapshotAction = iota
	// snapshotCreate: create the Job (first run, or a retry whose old Job is gone).
	snapshotCreate
	// snapshotWait: the Job runs.
	snapshotWait
	// snapshotFailed: the Job failed; the retry policy decides.
	snapshotFailed
	// snapshotUnreported: the Job succeeded but the Backup does not say Complete.
	snapshotUnreported
)

// decideSnapshot chooses the snapshot step's action from the Backup and its Job's outcome.
//
// A missing Job is created unless the backup is Complete or Failed. A Failed backup whose
// retry is due is the exception: the retry step deleted the failed Job and is about to (or
// did) mark the failure as retried; creating the Job is then what the retry means.
func decideSnapshot(bk *v1alpha1.Backup, out backupjob.Outcome, now time.Time) snapshotAction {
	if v1alpha1.IsBackupComplete(bk) || failedForGood(bk) {
		return snapshotDone
	}
	switch out.Phase {
	case backupjob.Running:
		return snapshotWait
	case backupjob.Failed:
		return snapshotFailed
	case backupjob.Succeeded:
		return snapshotUnreported
	}
	if !v1alpha1.IsBackupFailed(bk) {
		return snapshotCreate
	}
	if open, ok := retry.Pending(bk.Status.BackoffRetryStatus); ok && open.ExpectedRetryAt != nil && !now.Before(open.ExpectedRetryAt.Time) {
		return snapshotCreate
	}
	return snapshotDone
}

// failedForGood reports whether the controller itself ended the backup as Failed: the retry
// policy gave up, or the Job succeeded without a result. Nothing runs again for such a Backup.
func failedForGood(bk *v1alpha1.Backup) bool {
	_, c := v1alpha1.GetBackupCondition(&bk.Status, v1alpha1.BackupFailed)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	switch c.Reason {
	case retry.ReasonRetryLimitExceeded, retry.ReasonRetryTimeoutExceeded, ReasonResultMissing:
		return true
	}
	return false
}

// failureOf names the failure of a failed run for the retry records: the backup-manager's
// Failed condition when it wrote one for this run, else the Job's own reason (the pod died
// before the backup-manager could report, or it could not start).
func failureOf(bk *v1alpha1.Backup, out backupjob.Outcome) retry.Failure {
	if _, c := v1alpha1.GetBackupCondition(&bk.Status, v1alpha1.BackupFailed); c != nil && c.Status == corev1.ConditionTrue && c.Reason != ReasonRetrying {
		return retry.Failure{Reason: c.Reason, Message: c.Message}
	}
	return retry.Failure{Reason: out.Reason, Message: out.Message}
}

// logAction is what the log step does next for the subcommand the spec asks for.
type logAction int

const (
	// logInSync: the task is already as the spec asks; nothing to run.
	logInSync logAction = iota
	// logCreate: create the subcommand's Job.
	logCreate
	// logWait: the Job runs, or finished and its result is not in the Backup's status yet.
	logWait
	// logReplace: a finished Job of that name ran other arguments (an earlier truncate
	// point, a stop before a new start); delete it so the current request can run.
	logReplace
	// logFailed: the Job for this very request failed; it waits for a spec change.
	logFailed
)

// decideLog chooses the log step's action. wantArgs are the container arguments the Job for
// the current request has; job is the live Job of that name, if any.
func decideLog(bk *v1alpha1.Backup, cmd v1alpha1.LogSubCommandType, out backupjob.Outcome, liveArgs, wantArgs []string) logAction {
	if cmd == "" {
		return logInSync
	}
	if cmd != v1alpha1.LogTruncateCommand && v1alpha1.IsLogSubcommandAlreadySync(bk, cmd) {
		return logInSync
	}
	if cmd == v1alpha1.LogTruncateCommand && v1alpha1.IsLogBackupAlreadyTruncate(bk) {
		return logInSync
	}
	switch out.Phase {
	case backupjob.Absent:
		return logCreate
	case backupjob.Running:
		return logWait
	}
	if !slices.Equal(liveArgs, wantArgs) {
		return logReplace
	}
	if out.Phase == backupjob.Failed {
		return logFailed
	}
	// Succeeded with the same arguments: the backup-manager's status write is on its way
	// (the informer has not delivered it yet), or it could not write it. Either way the Job
	// is not run again by itself.
	return logWait
}

// cleanAction is what deletion does about the data.
type cleanAction int

const (
	// cleanRetain: the data stays (cleanPolicy Retain, or OnFailure for a backup that did not
	// fail); the finalizer can go.
	cleanRetain cleanAction = iota
	// cleanNothing: there is no data (the backup never got a path); record Clean and go.
	cleanNothing
	// cleanDone: the clean Job finished; the finalizer can go.
	cleanDone
	// cleanRun: the clean Job must run or runs.
	cleanRun
)

func decideClean(bk *v1alpha1.Backup) cleanAction {
	switch {
	case v1alpha1.NeedRetainData(bk):
		return cleanRetain
	case v1alpha1.IsBackupClean(bk):
		return cleanDone
	case bk.Status.BackupPath == "":
		return cleanNothing
	default:
		return cleanRun
	}
}

// needsStop reports whether a log backup task must be stopped before its Backup goes: it was
// started and has not been stopped.
func needsStop(bk *v1alpha1.Backup) bool {
	return bk.Spec.Mode == v1alpha1.BackupModeLog && v1alpha1.IsLogBackupAlreadyStart(bk) && !v1alpha1.IsLogBackupAlreadyStop(bk)
}

// tracksCheckpoint reports whether the checkpoint tracker reads the task's checkpoint: the task
// was started and may make progress.
func tracksCheckpoint(bk *v1alpha1.Backup) bool {
	return v1alpha1.IsLogBackupAlreadyStart(bk) && v1alpha1.IsLogBackupOnTrack(bk)
}
