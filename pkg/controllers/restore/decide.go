package restore

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// Condition reasons the controller writes. Failed conditions recorded from a failed Job carry
// the Job's own reason (BackoffLimitExceeded, DeadlineExceeded, ...).
const (
	ReasonInvalidSpec     = "InvalidSpec"
	ReasonNotSupported    = "NotSupported"
	ReasonClusterNotFound = "ClusterNotFound"
	ReasonValid           = "Valid"
	ReasonJobCreated      = "JobCreated"
	ReasonJobNotFound     = "JobNotFound"
	ReasonResultMissing   = "ResultNotRecorded"
	ReasonPruneJobCreated = "PruneJobCreated"
	ReasonPruneSucceeded  = "PruneJobSucceeded"
	ReasonSecretNotFound  = "SecretNotFound"
)

// PruneJobName is the Job that aborts a failed restore (spec.prune: afterFailed):
// restore-<name>-prune.
func PruneJobName(rs *v1alpha1.Restore) string { return rs.GetRestoreJobName() + "-prune" }

// problem is why the operator cannot run a Restore: a condition reason and a message that
// starts with the field to fix.
type problem struct {
	Reason, Message string
}

func invalidSpec(format string, args ...any) *problem {
	return &problem{Reason: ReasonInvalidSpec, Message: fmt.Sprintf(format, args...)}
}

// validate reports why the operator cannot run rs, or nil. It checks what the spec alone
// decides, in the order a user would fix things (mode, tool, cluster, storage, PiTR), and last
// builds the very BR command line the backup-manager will build, so that any spec error that
// would fail the Job at its first step shows up here, before a pod is scheduled. The target
// cluster is checked when it is read.
func validate(rs *v1alpha1.Restore) *problem {
	spec := &rs.Spec
	switch spec.Mode {
	case "", v1alpha1.RestoreModeSnapshot, v1alpha1.RestoreModePiTR:
	case v1alpha1.RestoreModeVolumeSnapshot:
		return &problem{Reason: ReasonNotSupported, Message: "spec.restoreMode: volume-snapshot restores (EBS volume snapshots) are not supported yet by this operator; use snapshot or pitr"}
	default:
		return invalidSpec("spec.restoreMode: unknown mode %q; use snapshot or pitr", spec.Mode)
	}
	if spec.FederalVolumeRestorePhase != "" {
		return &problem{Reason: ReasonNotSupported, Message: "spec.federalVolumeRestorePhase: federated volume-snapshot restores are not supported yet by this operator; remove the field"}
	}
	if spec.BR == nil {
		return &problem{Reason: ReasonNotSupported, Message: "spec.br is not set: Lightning imports (a Restore without spec.br) are not supported by this operator's tidb-backup-manager; set spec.br.cluster to restore with BR"}
	}
	if spec.BR.Cluster == "" {
		return invalidSpec("spec.br.cluster: name the TidbCluster to restore into")
	}
	switch spec.Type {
	case "", v1alpha1.BackupTypeFull, v1alpha1.BackupTypeDB, v1alpha1.BackupTypeTable:
	default:
		return invalidSpec("spec.backupType: %q cannot be restored with BR; use full, db or table", spec.Type)
	}
	if (spec.Type == v1alpha1.BackupTypeDB || spec.Type == v1alpha1.BackupTypeTable) && spec.BR.DB == "" {
		return invalidSpec("spec.br.db: name the database to restore when spec.backupType is %s", spec.Type)
	}
	if spec.Type == v1alpha1.BackupTypeTable && spec.BR.Table == "" {
		return invalidSpec("spec.br.table: name the table to restore when spec.backupType is table")
	}
	if spec.Count() == 0 {
		return invalidSpec("spec: no storage given; set one of spec.s3, spec.gcs, spec.azblob or spec.local to where the backup is")
	}
	loc, err := storage.FromProvider(spec.StorageProvider, spec.BR.Options)
	if err != nil {
		return invalidSpec("%s", err.Error())
	}
	var full *storage.Location
	if spec.Mode == v1alpha1.RestoreModePiTR {
		p, l := validatePiTR(rs)
		if p != nil {
			return p
		}
		full = l
	}
	o := job.RestoreOptionsFor(rs, job.Target{})
	cluster := brcmd.Cluster{PDAddress: brcmd.PDAddress(spec.BR, rs.Namespace)}
	if _, err := brcmd.Restore(rs, *o, cluster, loc, full); err != nil {
		return invalidSpec("%s", err.Error())
	}
	return nil
}

// validatePiTR checks a pitr restore as v1.6 did: exactly one of spec.pitrFullBackupStorageProvider
// (restore a snapshot, then replay the log) and spec.logRestoreStartTs (replay the log from
// there), plus points in time that parse. It returns the full backup's location, if any.
func validatePiTR(rs *v1alpha1.Restore) (*problem, *storage.Location) {
	spec := &rs.Spec
	full := rs.HasPitrFullBackup()
	switch {
	case full && spec.LogRestoreStartTs != "":
		return invalidSpec("spec.logRestoreStartTs and spec.pitrFullBackupStorageProvider are both set: a pitr restore either starts from the snapshot backup or replays the log from logRestoreStartTs; remove one"), nil
	case !full && spec.LogRestoreStartTs == "":
		return invalidSpec("spec.pitrFullBackupStorageProvider or spec.logRestoreStartTs: a pitr restore needs one, the snapshot backup to start from or the point to replay the log from"), nil
	}
	restored, err := v1alpha1.ParseTSString(spec.PitrRestoredTs)
	if err != nil {
		return invalidSpec("spec.pitrRestoredTs: %v", err), nil
	}
	start, err := v1alpha1.ParseTSString(spec.LogRestoreStartTs)
	if err != nil {
		return invalidSpec("spec.logRestoreStartTs: %v", err), nil
	}
	if restored != 0 && start > restored {
		return invalidSpec("spec.logRestoreStartTs (TSO %d) is after spec.pitrRestoredTs (TSO %d): the log is replayed from the first to the second", start, restored), nil
	}
	if !full {
		return nil, nil
	}
	l, err := storage.FromProvider(spec.PitrFullBackupStorageProvider, spec.BR.Options)
	if err != nil {
		return invalidSpec("spec.pitrFullBackupStorageProvider: %v", err), nil
	}
	return nil, &l
}

// clusterKey names the TidbCluster rs restores into: spec.br.cluster in spec.br.clusterNamespace,
// or in the Restore's namespace. ok is false when spec.br does not name one.
func clusterKey(rs *v1alpha1.Restore) (client.ObjectKey, bool) {
	if rs.Spec.BR == nil || rs.Spec.BR.Cluster == "" {
		return client.ObjectKey{}, false
	}
	ns := rs.Spec.BR.ClusterNamespace
	if ns == "" {
		ns = rs.Namespace
	}
	return client.ObjectKey{Namespace: ns, Name: rs.Spec.BR.Cluster}, true
}

// clusterNotFound is the Invalid problem of a target that does not exist.
func clusterNotFound(key client.ObjectKey) *problem {
	return &problem{Reason: ReasonClusterNotFound, Message: fmt.Sprintf(
		"spec.br.cluster: TidbCluster %s not found in namespace %s; create it, or correct spec.br.cluster and spec.br.clusterNamespace",
		key.Name, key.Namespace)}
}

// hasTrue reports whether rs has a condition of type t that is True.
func hasTrue(rs *v1alpha1.Restore, t v1alpha1.RestoreConditionType) bool {
	_, c := v1alpha1.GetRestoreCondition(&rs.Status, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// hasAny reports whether rs has a condition of type t, whatever its status.
func hasAny(rs *v1alpha1.Restore, t v1alpha1.RestoreConditionType) bool {
	_, c := v1alpha1.GetRestoreCondition(&rs.Status, t)
	return c != nil
}

// started reports whether the restore Job was created (Scheduled) or runs (Running, written by
// the backup-manager). Either means the Job is never created again.
func started(rs *v1alpha1.Restore) bool {
	return hasTrue(rs, v1alpha1.RestoreScheduled) || hasTrue(rs, v1alpha1.RestoreRunning)
}

// finished reports whether the restore reached its end (Complete or Failed).
func finished(rs *v1alpha1.Restore) bool {
	return v1alpha1.IsRestoreComplete(rs) || v1alpha1.IsRestoreFailed(rs)
}

// jobAction is what the restore step does about the restore Job.
type jobAction int

const (
	// jobDone: the restore completed or failed; nothing to do here.
	jobDone jobAction = iota
	// jobCreate: validate, then create the Job.
	jobCreate
	// jobRecordScheduled: the Job exists but the status does not say so (the write after the
	// creation failed); record Scheduled, then wait.
	jobRecordScheduled
	// jobWait: the Job runs.
	jobWait
	// jobFailed: the Job failed; record Failed unless the backup-manager did.
	jobFailed
	// jobUnreported: the Job succeeded; record Failed unless Complete shows up on a fresh read.
	jobUnreported
	// jobLost: the restore started but its Job is gone; confirm, then record Failed.
	jobLost
)

func (a jobAction) String() string {
	return [...]string{"Done", "Create", "RecordScheduled", "Wait", "Failed", "Unreported", "Lost"}[a]
}

// decideJob chooses the restore step's action from the Restore and its Job's outcome.
func decideJob(rs *v1alpha1.Restore, out backupjob.Outcome) jobAction {
	if finished(rs) {
		return jobDone
	}
	switch out.Phase {
	case backupjob.Running:
		if !started(rs) {
			return jobRecordScheduled
		}
		return jobWait
	case backupjob.Succeeded:
		return jobUnreported
	case backupjob.Failed:
		return jobFailed
	}
	if started(rs) {
		return jobLost
	}
	return jobCreate
}

// pruneAction is what the prune step does for a failed Restore.
type pruneAction int

const (
	// pruneNone: no prune was asked for, or it finished.
	pruneNone pruneAction = iota
	// pruneHold: the restore Job's pod still runs; aborting under a live BR would race it.
	pruneHold
	// pruneCreate: create the prune Job and record PruneScheduled.
	pruneCreate
	// pruneRecordScheduled: the prune Job runs but nothing recorded it; record PruneScheduled.
	pruneRecordScheduled
	// pruneWait: the prune Job runs.
	pruneWait
	// pruneFailed: the prune Job failed; record PruneFailed unless the backup-manager did.
	pruneFailed
	// pruneUnreported: the prune Job succeeded; record PruneComplete unless it is there.
	pruneUnreported
	// pruneLost: the prune was scheduled but its Job is gone; confirm, then record PruneFailed.
	pruneLost
)

func (a pruneAction) String() string {
	return [...]string{"None", "Hold", "Create", "RecordScheduled", "Wait", "Failed", "Unreported", "Lost"}[a]
}

// wantsPrune reports whether rs failed, asks for spec.prune: afterFailed, and the prune has not
// finished.
func wantsPrune(rs *v1alpha1.Restore) bool {
	return rs.Spec.Prune == v1alpha1.PruneTypeAfterFailed && v1alpha1.IsRestoreFailed(rs) && !pruneFinished(rs)
}

// pruneFinished reports whether the prune ended (PruneComplete or PruneFailed).
func pruneFinished(rs *v1alpha1.Restore) bool {
	return hasTrue(rs, v1alpha1.RestorePruneComplete) || hasTrue(rs, v1alpha1.RestorePruneFailed)
}

// pruneStarted reports whether the prune Job was ever created: PruneScheduled (the controller's)
// or PruneRunning (the backup-manager's), whatever their status. It is what makes the prune run
// at most once.
func pruneStarted(rs *v1alpha1.Restore) bool {
	return hasAny(rs, v1alpha1.RestorePruneScheduled) || hasAny(rs, v1alpha1.RestorePruneRunning)
}

// decidePrune chooses the prune step's action from the Restore, its restore Job and its prune
// Job.
func decidePrune(rs *v1alpha1.Restore, restoreJob, pruneJob backupjob.Outcome) pruneAction {
	if !wantsPrune(rs) {
		return pruneNone
	}
	switch pruneJob.Phase {
	case backupjob.Running:
		if !pruneStarted(rs) {
			return pruneRecordScheduled
		}
		return pruneWait
	case backupjob.Succeeded:
		return pruneUnreported
	case backupjob.Failed:
		return pruneFailed
	}
	if pruneStarted(rs) {
		return pruneLost
	}
	if restoreJob.Phase == backupjob.Running {
		return pruneHold
	}
	return pruneCreate
}

// checkJobName refuses a Job name Kubernetes would refuse: the Job controller copies it into a
// label of the pods, and label values have at most 63 characters.
func checkJobName(name string) error {
	if len(name) > validation.DNS1123LabelMaxLength {
		return fmt.Errorf("the Job name %q is longer than %d characters, which Kubernetes refuses: give the Restore a shorter name", name, validation.DNS1123LabelMaxLength)
	}
	return nil
}
