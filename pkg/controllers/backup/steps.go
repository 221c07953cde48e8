package backup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/checkpoint"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// Event actions (events.k8s.io "action": what the controller did).
const (
	actionCreate   = "Create"
	actionValidate = "Validate"
	actionRetry    = "Retry"
	actionClean    = "Clean"
	actionStop     = "Stop"
)

// ensureFinalizer adds the backup-protection finalizer to a Backup whose deletion needs work.
func ensureFinalizer(s *state) task.Task {
	return task.NameTaskFunc("EnsureFinalizer", func(ctx context.Context) task.Result {
		if !v1alpha1.IsCleanCandidate(s.bk) || controllerutil.ContainsFinalizer(s.bk, Finalizer) {
			return task.Complete("")
		}
		if err := s.patchFinalizers(ctx, func(bk *v1alpha1.Backup) { controllerutil.AddFinalizer(bk, Finalizer) }); err != nil {
			return task.Fail(err)
		}
		return task.Complete("finalizer added")
	})
}

// removeFinalizer lets a deleted Backup go once its deletion work is done.
func removeFinalizer(s *state) task.Task {
	return task.NameTaskFunc("RemoveFinalizer", func(ctx context.Context) task.Result {
		if !controllerutil.ContainsFinalizer(s.bk, Finalizer) {
			return task.Complete("")
		}
		if err := s.patchFinalizers(ctx, func(bk *v1alpha1.Backup) { controllerutil.RemoveFinalizer(bk, Finalizer) }); err != nil {
			return task.Fail(err)
		}
		return task.Complete("finalizer removed")
	})
}

// patchFinalizers changes the finalizers with a merge patch guarded by the resourceVersion the
// decision was made on, so a finalizer list changed by someone else in between is never
// overwritten.
func (s *state) patchFinalizers(ctx context.Context, edit func(*v1alpha1.Backup)) error {
	orig := s.bk.DeepCopy()
	edit(s.bk)
	if err := s.r.Client.Patch(ctx, s.bk, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		s.bk = orig
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch finalizers of Backup %s/%s: %w", orig.Namespace, orig.Name, err)
	}
	return nil
}

// validateSpec records Invalid for a spec the operator cannot run. An invalid Backup waits:
// the next spec change reconciles it again. Invalid is cleared by loadTarget, once the spec
// and the cluster it names are both fine, so the condition never flips within a reconcile.
func validateSpec(s *state) task.Task {
	return task.NameTaskFunc("Validate", func(ctx context.Context) task.Result {
		if err := validate(s.bk); err != nil {
			return s.invalid(ctx, ReasonInvalidSpec, err.Error())
		}
		return task.Complete("")
	})
}

func (s *state) invalid(ctx context.Context, reason, message string) task.Result {
	changed, err := s.setCondition(ctx, v1alpha1.BackupInvalid, corev1.ConditionTrue, reason, message)
	if err != nil {
		return task.Fail(err)
	}
	if changed {
		s.event(corev1.EventTypeWarning, reason, actionValidate, "%s", message)
	}
	return task.Wait("invalid: " + message)
}

func (s *state) clearInvalid(ctx context.Context) task.Result {
	if !v1alpha1.IsBackupInvalid(s.bk) {
		return task.Complete("")
	}
	if _, err := s.setCondition(ctx, v1alpha1.BackupInvalid, corev1.ConditionFalse, ReasonValid, "the spec is valid"); err != nil {
		return task.Fail(err)
	}
	return task.Complete("spec valid again")
}

// loadTarget reads the TidbCluster the Backup works on. A missing cluster is something the
// user fixes (a wrong name, or the cluster is not created yet): Invalid, re-checked at every
// resync.
func loadTarget(s *state) task.Task {
	return task.NameTaskFunc("LoadTarget", func(ctx context.Context) task.Result {
		found, err := s.readTarget(ctx)
		if err != nil {
			return task.Fail(err)
		}
		if !found {
			key := s.clusterKey()
			return s.invalid(ctx, ReasonClusterNotFound, fmt.Sprintf("spec.br.cluster: TidbCluster %s not found in namespace %s", key.Name, key.Namespace))
		}
		if problem, err := backupjob.MissingSecret(ctx, s.r.Status, s.bk.Namespace, secretRefs(s.bk)...); err != nil {
			return task.Fail(err)
		} else if problem != "" {
			return s.invalid(ctx, ReasonSecretNotFound, problem)
		}
		return s.clearInvalid(ctx)
	})
}

// loadTargetForDeletion reads the cluster too, but a missing one only means there is no log
// task left to stop.
func loadTargetForDeletion(s *state) task.Task {
	return task.NameTaskFunc("LoadTarget", func(ctx context.Context) task.Result {
		if s.bk.Spec.BR == nil || s.bk.Spec.BR.Cluster == "" {
			return task.Complete("")
		}
		if _, err := s.readTarget(ctx); err != nil {
			return task.Fail(err)
		}
		return task.Complete("")
	})
}

func (s *state) readTarget(ctx context.Context) (bool, error) {
	key := s.clusterKey()
	tc := &v1alpha1.TidbCluster{}
	if err := s.r.Client.Get(ctx, key, tc); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("get TidbCluster %s: %w", key, err)
	}
	s.tc = tc
	s.target = job.TargetOf(tc)
	return true, nil
}

// runSnapshot runs backup-<name> once, and again per the backoffRetryPolicy after a failure.
func runSnapshot(s *state) task.Task {
	return task.NameTaskFunc("SnapshotJob", func(ctx context.Context) task.Result {
		name := s.bk.GetBackupJobName()
		live, err := backupjob.Get(ctx, s.r.Client, s.bk, s.bk.Namespace, name)
		if err != nil {
			return task.Fail(err)
		}
		out := backupjob.Observe(live)
		switch decideSnapshot(s.bk, out, s.now) {
		case snapshotDone:
			return task.Complete("")
		case snapshotWait:
			return task.Wait("Job " + name + " runs")
		case snapshotUnreported:
			return s.unreported(ctx, name)
		case snapshotFailed:
			return s.retryFailed(ctx, live, out)
		}
		return s.createSnapshotJob(ctx, name)
	})
}

func (s *state) createSnapshotJob(ctx context.Context, name string) task.Result {
	// A retry whose failed Job is already gone: mark it as started before the new run.
	if open, ok := retry.Pending(s.bk.Status.BackoffRetryStatus); ok && v1alpha1.IsBackupFailed(s.bk) {
		if _, err := s.markRetried(ctx, open); err != nil {
			return task.Fail(err)
		}
	}
	desired, err := job.BackupJob(s.bk, s.target, s.r.Options.Settings, name, job.BackupOptionsFor(s.bk, s.target, ""))
	if err != nil {
		return s.invalid(ctx, ReasonInvalidSpec, err.Error())
	}
	return s.createJob(ctx, desired, "", "Job %s created to back up TidbCluster %s")
}

// createJob creates a Job and, when this call created it, records Scheduled (with the log
// subcommand, if any) and one event.
func (s *state) createJob(ctx context.Context, desired *batchv1.Job, cmd v1alpha1.LogSubCommandType, note string) task.Result {
	_, created, err := backupjob.Ensure(ctx, s.r.Client, desired)
	if err != nil {
		return task.Fail(err)
	}
	if !created {
		return task.Wait("Job " + desired.Name + " exists")
	}
	cond := v1alpha1.BackupCondition{
		Command: cmd, Type: v1alpha1.BackupScheduled, Status: corev1.ConditionTrue,
		Reason: ReasonJobCreated, Message: "Job " + desired.Name + " created",
		LastTransitionTime: metav1.NewTime(s.now.Truncate(time.Second)),
	}
	if _, err := s.update(ctx, status.SetBackupCondition(cond, status.BackupFields{})); err != nil {
		return task.Fail(err)
	}
	s.event(corev1.EventTypeNormal, ReasonJobCreated, actionCreate, note, desired.Name, s.clusterKey().String())
	return task.Complete("created Job " + desired.Name)
}

// unreported handles a Job that succeeded while the Backup does not say Complete. Usually the
// backup-manager's write is still on its way to the cache, so the step reads the Backup
// afresh; only if it still is not Complete is the run recorded as failed, because nothing
// tells what the backup produced.
func (s *state) unreported(ctx context.Context, name string) task.Result {
	msg := fmt.Sprintf("Job %s completed, but the backup-manager did not record the backup's result", name)
	changed, err := s.update(ctx, func(bk *v1alpha1.Backup) bool {
		if v1alpha1.IsBackupComplete(bk) || v1alpha1.IsBackupFailed(bk) {
			return false
		}
		return status.SetBackupCondition(v1alpha1.BackupCondition{
			Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: ReasonResultMissing, Message: msg,
			LastTransitionTime: metav1.NewTime(s.now.Truncate(time.Second)),
		}, status.BackupFields{})(bk)
	})
	if err != nil {
		return task.Fail(err)
	}
	if changed {
		s.event(corev1.EventTypeWarning, ReasonResultMissing, actionCreate, "%s", msg)
	}
	return task.Complete("")
}

// retryFailed applies the backoffRetryPolicy to a failed Job. The decision is made again
// inside the status transaction, on the fresh copy, so two reconciles (or a conflict retry)
// never append the same failure twice.
func (s *state) retryFailed(ctx context.Context, live *batchv1.Job, out backupjob.Outcome) task.Result {
	var d retry.Decision
	var derr error
	changed, err := s.update(ctx, func(bk *v1alpha1.Backup) bool {
		d, derr = retry.Decide(bk.Spec.BackoffRetryPolicy, bk.Status.BackoffRetryStatus, failureOf(bk, out), s.now)
		if derr != nil {
			return false
		}
		switch d.Action {
		case retry.ActionGiveUp:
			return s.giveUp(bk, d)
		case retry.ActionRecord:
			bk.Status.BackoffRetryStatus = append(bk.Status.BackoffRetryStatus, d.Record)
			return s.markRetryScheduled(bk, d)
		}
		return false
	})
	if err != nil {
		return task.Fail(err)
	}
	if derr != nil {
		return s.invalid(ctx, ReasonInvalidSpec, derr.Error())
	}
	switch d.Action {
	case retry.ActionGiveUp:
		if changed {
			s.event(corev1.EventTypeWarning, d.Reason, actionRetry, "%s", d.Message)
		}
		return task.Complete("failed: " + d.Reason)
	case retry.ActionRecord:
		if changed {
			s.event(corev1.EventTypeWarning, ReasonRetryScheduled, actionRetry,
				"Job %s failed (%s); retry %d at %s", live.Name, d.Record.OriginalReason, d.Record.RetryNum, d.At.UTC().Format(time.RFC3339))
		}
		return task.Retry(d.At.Sub(s.now), fmt.Sprintf("retry %d due at %s", d.Record.RetryNum, d.At.UTC().Format(time.RFC3339)))
	case retry.ActionWait:
		return task.Retry(d.At.Sub(s.now), "retry due at "+d.At.UTC().Format(time.RFC3339))
	}
	// The retry is due: the failed Job goes first, then the failure is marked as retried, and
	// the next reconcile creates the Job again.
	if err := backupjob.Delete(ctx, s.r.Client, live); err != nil {
		return task.Fail(err)
	}
	open, _ := retry.Pending(s.bk.Status.BackoffRetryStatus)
	if _, err := s.markRetried(ctx, open); err != nil {
		return task.Fail(err)
	}
	s.event(corev1.EventTypeNormal, ReasonRetrying, actionRetry, "retry %d: deleted the failed Job %s to run it again", open.RetryNum, live.Name)
	return task.Retry(time.Second, "failed Job deleted for a retry")
}

// giveUp records the final failure.
func (s *state) giveUp(bk *v1alpha1.Backup, d retry.Decision) bool {
	return status.SetBackupCondition(v1alpha1.BackupCondition{
		Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: d.Reason, Message: d.Message,
		LastTransitionTime: metav1.NewTime(s.now.Truncate(time.Second)),
	}, status.BackupFields{})(bk)
}

// markRetryScheduled says that the failure is to be retried: RetryFailed becomes the phase,
// and Failed is lowered so that nothing reading the Backup (a schedule, cleanPolicy
// OnFailure) takes the backup for failed for good.
func (s *state) markRetryScheduled(bk *v1alpha1.Backup, d retry.Decision) bool {
	at := metav1.NewTime(s.now.Truncate(time.Second))
	msg := fmt.Sprintf("retry %d of %s is due at %s", d.Record.RetryNum, d.Record.OriginalReason, d.At.UTC().Format(time.RFC3339))
	return status.All(
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupFailed, Status: corev1.ConditionFalse, Reason: ReasonRetrying, Message: msg, LastTransitionTime: at}, status.BackupFields{}),
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupRetryTheFailed, Status: corev1.ConditionTrue, Reason: ReasonRetryScheduled, Message: msg, LastTransitionTime: at}, status.BackupFields{}),
	)(bk)
}

// markRetried closes the open retry record (realRetryAt) and lowers Failed, so that the Job
// created next is the retry.
func (s *state) markRetried(ctx context.Context, open v1alpha1.BackoffRetryRecord) (bool, error) {
	return s.update(ctx, func(bk *v1alpha1.Backup) bool {
		n := len(bk.Status.BackoffRetryStatus)
		if n == 0 || bk.Status.BackoffRetryStatus[n-1].RetryNum != open.RetryNum || bk.Status.BackoffRetryStatus[n-1].RealRetryAt != nil {
			return false
		}
		at := metav1.NewTime(s.now.Truncate(time.Second))
		rec := &bk.Status.BackoffRetryStatus[n-1]
		rec.RealRetryAt = &at
		rec.RetryReason = fmt.Sprintf("retry %d after %s", rec.RetryNum, rec.OriginalReason)
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupFailed, Status: corev1.ConditionFalse, Reason: ReasonRetrying, Message: rec.RetryReason, LastTransitionTime: at}, status.BackupFields{})(bk)
		status.ClearBackupProgress()(bk)
		return true
	})
}

// runLogSubcommand runs the Job of the log subcommand the spec asks for, once per request.
func runLogSubcommand(s *state) task.Task {
	return task.NameTaskFunc("LogSubcommandJob", func(ctx context.Context) task.Result {
		cmd := v1alpha1.ParseLogBackupSubcommand(s.bk)
		name := s.bk.GetBackupJobName()
		desired, err := job.BackupJob(s.bk, s.target, s.r.Options.Settings, name, job.BackupOptionsFor(s.bk, s.target, cmd))
		if err != nil {
			return s.invalid(ctx, ReasonInvalidSpec, err.Error())
		}
		live, err := backupjob.Get(ctx, s.r.Client, s.bk, s.bk.Namespace, name)
		if err != nil {
			return task.Fail(err)
		}
		out := backupjob.Observe(live)
		switch decideLog(s.bk, cmd, out, containerArgs(live), containerArgs(desired)) {
		case logInSync:
			return task.Complete("")
		case logWait:
			return task.Wait("Job " + name + " runs")
		case logFailed:
			if s.r.warnOnce(live.UID) {
				reason, msg := v1alpha1.LogSubcommandConditionInfo(s.bk)
				if msg == "" {
					msg = out.Message
				}
				s.event(corev1.EventTypeWarning, ReasonLogSubcommandFailed, actionCreate,
					"%s failed (%s): %s; change the spec to run it again", cmd, reason, msg)
			}
			return task.Complete(string(cmd) + " failed; change the spec to try again")
		case logReplace:
			if err := backupjob.Delete(ctx, s.r.Client, live); err != nil {
				return task.Fail(err)
			}
			return task.Retry(time.Second, "deleted Job "+name+" of an earlier request")
		}
		return s.createJob(ctx, desired, cmd, "Job %s created for the log backup of TidbCluster %s")
	})
}

// containerArgs are the arguments of a Job's main container (the first one), nil for no Job.
func containerArgs(j *batchv1.Job) []string {
	if j == nil || len(j.Spec.Template.Spec.Containers) == 0 {
		return nil
	}
	return j.Spec.Template.Spec.Containers[0].Args
}

// trackCheckpoint copies the log backup task's checkpoint from PD's etcd into
// status.logCheckpointTs, every CheckpointInterval while the task may make progress.
func trackCheckpoint(s *state) task.Task {
	return task.NameTaskFunc("TrackCheckpoint", func(ctx context.Context) task.Result {
		if !tracksCheckpoint(s.bk) || s.tc == nil {
			return task.Complete("")
		}
		interval := s.r.Options.CheckpointInterval
		tlsConfig, err := s.clusterTLS(ctx)
		if err != nil {
			return task.Retry(interval, "checkpoint: "+err.Error())
		}
		ts, err := s.r.Options.Checkpoints.Checkpoint(ctx, checkpoint.Endpoint(s.tc.Name, s.tc.Namespace), tlsConfig, s.bk.Name)
		if err != nil {
			// PD may be restarting or the task not registered yet: the last checkpoint stays
			// in status (it is still true, only older) and the tracker tries again.
			if errors.Is(err, checkpoint.ErrNoCheckpoint) {
				return task.Retry(interval, "no checkpoint yet")
			}
			return task.Retry(interval, "read checkpoint: "+err.Error())
		}
		value := strconv.FormatUint(ts, 10)
		if _, err := s.update(ctx, func(bk *v1alpha1.Backup) bool {
			if old, err := strconv.ParseUint(bk.Status.LogCheckpointTs, 10, 64); err == nil && old >= ts {
				return false // never backwards: a lagging PD follower must not undo progress
			}
			return status.SetBackupFields(status.BackupFields{LogCheckpointTs: value})(bk)
		}); err != nil {
			return task.Fail(err)
		}
		return task.Retry(interval, "")
	})
}

// waitForBackupJobs holds a deletion while a backup Job of the Backup still runs: its data
// would otherwise be written after the clean-up.
func waitForBackupJobs(s *state) task.Task {
	return task.NameTaskFunc("WaitForBackupJobs", func(ctx context.Context) task.Result {
		jobs := &batchv1.JobList{}
		if err := s.r.Client.List(ctx, jobs, client.InNamespace(s.bk.Namespace), client.MatchingLabels{label.BackupLabelKey: s.bk.Name}); err != nil {
			return task.Fail(fmt.Errorf("list Jobs of Backup %s/%s: %w", s.bk.Namespace, s.bk.Name, err))
		}
		var own []batchv1.Job
		for _, j := range jobs.Items {
			if j.Name == s.bk.GetCleanJobName() || j.Name == s.bk.GetStopLogBackupJobName() {
				continue
			}
			if ref := metav1.GetControllerOf(&j); ref != nil && ref.UID == s.bk.UID {
				own = append(own, j)
			}
		}
		if name, ok := backupjob.Active(own); ok {
			return task.Wait("Job " + name + " still runs")
		}
		return task.Complete("")
	})
}

// stopLogBackup stops a started log backup task before its Backup goes (Job stop-<name>). A
// failed stop is retried after CleanRetryInterval: removing the Backup while its task still
// runs would leave a task nobody can see writing into the storage.
func stopLogBackup(s *state) task.Task {
	return task.NameTaskFunc("StopLogBackup", func(ctx context.Context) task.Result {
		if !needsStop(s.bk) || s.tc == nil {
			return task.Complete("")
		}
		name := s.bk.GetStopLogBackupJobName()
		live, err := backupjob.Get(ctx, s.r.Client, s.bk, s.bk.Namespace, name)
		if err != nil {
			return task.Fail(err)
		}
		out := backupjob.Observe(live)
		switch out.Phase {
		case backupjob.Absent:
			desired, err := job.BackupJob(s.bk, s.target, s.r.Options.Settings, name, job.BackupOptionsFor(s.bk, s.target, v1alpha1.LogStopCommand))
			if err != nil {
				return task.Fail(err)
			}
			if _, _, err := backupjob.Ensure(ctx, s.r.Client, desired); err != nil {
				return task.Fail(err)
			}
			s.event(corev1.EventTypeNormal, ReasonJobCreated, actionStop, "Job %s created to stop the log backup task before the Backup is deleted", name)
			return task.Wait("log backup task stopping")
		case backupjob.Running:
			return task.Wait("log backup task stopping")
		case backupjob.Succeeded:
			// The backup-manager records Stopped; until the cache shows it, wait.
			return task.Wait("waiting for the stop to be recorded")
		}
		return s.retryLater(ctx, live, out, ReasonStopJobFailed,
			"the log backup task could not be stopped (%s); the Backup stays until it is, next try at %s")
	})
}

// retryLater keeps a failed clean or stop Job for CleanRetryInterval, so the user can read its
// logs, then deletes it so the next reconcile runs it again. One Warning event per failed Job.
func (s *state) retryLater(ctx context.Context, live *batchv1.Job, out backupjob.Outcome, reason, note string) task.Result {
	next := out.FinishedAt.Add(s.r.Options.CleanRetryInterval)
	if out.FinishedAt.IsZero() {
		next = s.now.Add(s.r.Options.CleanRetryInterval)
	}
	if s.now.Before(next) {
		if s.r.warnOnce(live.UID) {
			s.event(corev1.EventTypeWarning, reason, actionRetry, note, out.Message, next.UTC().Format(time.RFC3339))
		}
		return task.Retry(next.Sub(s.now), fmt.Sprintf("Job %s failed; next try at %s", live.Name, next.UTC().Format(time.RFC3339)))
	}
	if err := backupjob.Delete(ctx, s.r.Client, live); err != nil {
		return task.Fail(err)
	}
	return task.Retry(time.Second, "deleted the failed Job "+live.Name+" to run it again")
}

// cleanData deletes the backup data through clean-<name> when the cleanPolicy asks for it.
func cleanData(s *state) task.Task {
	return task.NameTaskFunc("CleanData", func(ctx context.Context) task.Result {
		switch decideClean(s.bk) {
		case cleanRetain, cleanDone:
			return task.Complete("")
		case cleanNothing:
			if _, err := s.setCondition(ctx, v1alpha1.BackupClean, corev1.ConditionTrue, ReasonNoData, "the backup has no data to delete"); err != nil {
				return task.Fail(err)
			}
			return task.Complete("no data to clean")
		}
		name := s.bk.GetCleanJobName()
		live, err := backupjob.Get(ctx, s.r.Client, s.bk, s.bk.Namespace, name)
		if err != nil {
			return task.Fail(err)
		}
		out := backupjob.Observe(live)
		switch out.Phase {
		case backupjob.Absent:
			desired, err := job.CleanJob(s.bk, s.r.Options.Settings)
			if err != nil {
				return task.Fail(err)
			}
			if _, created, err := backupjob.Ensure(ctx, s.r.Client, desired); err != nil {
				return task.Fail(err)
			} else if !created {
				return task.Wait("Job " + name + " exists")
			}
			if _, err := s.setCondition(ctx, v1alpha1.BackupClean, corev1.ConditionFalse, ReasonCleanJobCreated, "Job "+name+" deletes the backup data"); err != nil {
				return task.Fail(err)
			}
			s.event(corev1.EventTypeNormal, ReasonCleanJobCreated, actionClean, "Job %s created to delete the backup data at %s", name, s.bk.Status.BackupPath)
			return task.Wait("cleaning")
		case backupjob.Running:
			return task.Wait("cleaning")
		case backupjob.Succeeded:
			// The Job deletes, then verifies that nothing is left under the prefix, before
			// it exits 0: its success is enough to record Clean if its own write is late.
			if _, err := s.setCondition(ctx, v1alpha1.BackupClean, corev1.ConditionTrue, ReasonCleanJobSucceeded, "the backup data was deleted"); err != nil {
				return task.Fail(err)
			}
			return task.Complete("cleaned")
		}
		if _, err := s.update(ctx, func(bk *v1alpha1.Backup) bool {
			if v1alpha1.IsBackupCleanFailed(bk) {
				return false
			}
			return status.SetBackupCondition(v1alpha1.BackupCondition{
				Type: v1alpha1.BackupCleanFailed, Status: corev1.ConditionTrue, Reason: ReasonCleanJobFailed, Message: out.Message,
				LastTransitionTime: metav1.NewTime(s.now.Truncate(time.Second)),
			}, status.BackupFields{})(bk)
		}); err != nil {
			return task.Fail(err)
		}
		return s.retryLater(ctx, live, out, ReasonCleanJobFailed,
			"deleting the backup data failed (%s); the Backup stays until the data is deleted, next try at %s")
	})
}
