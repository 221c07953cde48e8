package restore

import (
	"context"
	"errors"
	"fmt"

	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// Event actions (events.k8s.io "action": what the controller was doing).
const (
	actionValidate = "Validate"
	actionCreate   = "Create"
	actionObserve  = "Observe"
	actionPrune    = "Prune"
)

// ReasonJobConflict is the reason of the Warning event about a Job of the wanted name that
// belongs to something else.
const ReasonJobConflict = "JobConflict"

// settle ends a reconcile that has nothing left to do and marks the Restore as needing no
// resync.
func settle(s *state) task.Task {
	return task.NameTaskFunc("Settle", func(context.Context) task.Result {
		s.settled = true
		return task.Complete("")
	})
}

// observeJob reads restore-<name> from the cache and decides what to do about it.
func observeJob(s *state) task.Task {
	return task.NameTaskFunc("ObserveJob", func(ctx context.Context) task.Result {
		name := s.rs.GetRestoreJobName()
		live, err := backupjob.Get(ctx, s.r.Client, s.rs, s.rs.Namespace, name)
		if err != nil {
			if errors.Is(err, backupjob.ErrForeignJob) {
				// Running, deleting or waiting on someone else's Job would be wrong; the user
				// renames the Restore or removes the other Job.
				s.event(nil, corev1.EventTypeWarning, ReasonJobConflict, actionObserve,
					"a Job named %s exists but does not belong to this Restore: delete it or restore under another name", name)
			}
			return task.Fail(err)
		}
		s.restoreJob, s.out = live, backupjob.Observe(live)
		s.action = decideJob(s.rs, s.out)
		return task.Complete("")
	})
}

// validateSpec records Invalid for a spec the operator cannot run. An invalid Restore waits,
// without a requeue, for the next spec change.
func validateSpec(s *state) task.Task {
	return task.NameTaskFunc("Validate", func(ctx context.Context) task.Result {
		if p := validate(s.rs); p != nil {
			return s.invalid(ctx, p)
		}
		return task.Complete("")
	})
}

// invalid records Invalid=True with the problem, and emits one Warning event when that changed
// the status (a new problem, or a new message for it).
func (s *state) invalid(ctx context.Context, p *problem) task.Result {
	changed, err := s.update(ctx, func(rs *v1alpha1.Restore) bool {
		// A Job created in the meantime (a reconcile that raced this one) means the spec was
		// valid enough to start; its Restore is past validation.
		if started(rs) || finished(rs) {
			return false
		}
		return status.SetRestoreCondition(s.condition(v1alpha1.RestoreInvalid, corev1.ConditionTrue, p.Reason, p.Message), status.RestoreFields{})(rs)
	})
	if err != nil {
		return task.Fail(err)
	}
	if changed {
		s.event(nil, corev1.EventTypeWarning, p.Reason, actionValidate, "%s", p.Message)
	}
	s.settled = true
	return task.Wait("invalid: " + p.Message)
}

// loadTarget reads the TidbCluster restored into. A missing one is Invalid: the user creates it
// (which reconciles the Restore again) or corrects the name.
func loadTarget(s *state) task.Task {
	return task.NameTaskFunc("LoadTarget", func(ctx context.Context) task.Result {
		p, err := s.readTarget(ctx)
		if err != nil {
			return task.Fail(err)
		}
		if p != nil {
			return s.invalid(ctx, p)
		}
		return task.Complete("")
	})
}

// secretRecheck is how often a Restore waiting for a Secret looks again: Secrets are not
// watched (the operator may only get them one by one), so creating the missing one is noticed
// within this delay.
const secretRecheck = time.Minute

// checkSecrets reports a Secret the Restore's Job would need but that does not exist, as
// Invalid with reason SecretNotFound naming the field, and looks again every secretRecheck.
func checkSecrets(s *state) task.Task {
	return task.NameTaskFunc("CheckSecrets", func(ctx context.Context) task.Result {
		var refs []job.SecretRef
		if ref, ok := job.StorageSecret(s.rs.Spec.StorageProvider, "spec"); ok {
			refs = append(refs, ref)
		}
		if ref, ok := job.StorageSecret(s.rs.Spec.PitrFullBackupStorageProvider, "spec.pitrFullBackupStorageProvider"); ok {
			refs = append(refs, ref)
		}
		if ref, ok := job.AccessSecret(s.rs.Spec.To, "spec.to"); ok {
			refs = append(refs, ref)
		}
		msg, err := backupjob.MissingSecret(ctx, s.r.APIReader, s.rs.Namespace, refs...)
		if err != nil {
			return task.Fail(err)
		}
		if msg == "" {
			return task.Complete("")
		}
		if res := s.invalid(ctx, &problem{Reason: ReasonSecretNotFound, Message: msg}); res.Status() == task.StatusFail {
			return res
		}
		s.settled = false
		return task.Retry(secretRecheck, "invalid: "+msg)
	})
}

// waitForGCOverlay holds a PiTR restore until the TiKV configuration in use carries the
// gc.ratio-threshold = -1 overlay: replaying the log while TiKV's GC compacts away versions
// the restore still writes would lose data. The TidbCluster controller adds the overlay as
// soon as it sees this unfinished Restore, so the wait is one TiKV rollout at most.
func waitForGCOverlay(s *state) task.Task {
	return task.NameTaskFunc("WaitForGCOverlay", func(ctx context.Context) task.Result {
		if s.rs.Spec.Mode != v1alpha1.RestoreModePiTR {
			return task.Complete("")
		}
		sts := &appsv1.StatefulSet{}
		key := client.ObjectKey{Namespace: s.target.Namespace, Name: builders.MemberName(s.target.Name, label.TiKVComponent)}
		if err := s.r.Client.Get(ctx, key, sts); err != nil {
			if apierrors.IsNotFound(err) {
				return task.Wait("TiKV StatefulSet " + key.String() + " not found")
			}
			return task.Fail(fmt.Errorf("get StatefulSet %s: %w", key, err))
		}
		name := builders.ConfigMapInUse(sts)
		if name == "" {
			return task.Wait("TiKV StatefulSet " + key.String() + " mounts no configuration")
		}
		cm := &corev1.ConfigMap{}
		if err := s.r.Client.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: name}, cm); err != nil {
			if apierrors.IsNotFound(err) {
				return task.Wait("TiKV ConfigMap " + name + " not found")
			}
			return task.Fail(fmt.Errorf("get ConfigMap %s/%s: %w", key.Namespace, name, err))
		}
		if !builders.HasPiTRRestoreOverlay(cm) {
			return task.Retry(5*time.Second, "waiting for TiKV to run with gc.ratio-threshold = -1")
		}
		return task.Complete("")
	})
}

// readTarget reads the target TidbCluster into s.target. It returns the problem when there is
// none to read.
func (s *state) readTarget(ctx context.Context) (*problem, error) {
	key, ok := clusterKey(s.rs)
	if !ok {
		return invalidSpec("spec.br.cluster: name the TidbCluster to restore into"), nil
	}
	tc := &v1alpha1.TidbCluster{}
	if err := s.r.Client.Get(ctx, key, tc); err != nil {
		if apierrors.IsNotFound(err) {
			return clusterNotFound(key), nil
		}
		return nil, fmt.Errorf("get TidbCluster %s: %w", key, err)
	}
	s.target = job.TargetOf(tc)
	return nil, nil
}

// createJob creates restore-<name> and records Scheduled. A spec the builder refuses (a BR
// image it cannot tell, storage Secrets that conflict) is Invalid like any other spec problem.
func createJob(s *state) task.Task {
	return task.NameTaskFunc("CreateJob", func(ctx context.Context) task.Result {
		desired, err := job.RestoreJob(s.rs, s.target, s.r.Options.Settings, nil)
		if err != nil {
			return s.invalid(ctx, invalidSpec("%s", err.Error()))
		}
		fresh, err := s.fresh(ctx)
		if err != nil {
			return task.Fail(err)
		}
		if started(fresh) || finished(fresh) {
			s.rs = fresh
			return task.Wait("the restore was scheduled by an earlier reconcile")
		}
		live, created, err := backupjob.Ensure(ctx, s.r.Client, desired)
		if err != nil {
			return task.Fail(err)
		}
		if _, err := s.recordScheduled(ctx, live.Name); err != nil {
			return task.Fail(err)
		}
		if !created {
			return task.Wait("Job " + live.Name + " runs")
		}
		key, _ := clusterKey(s.rs)
		s.event(live, corev1.EventTypeNormal, ReasonJobCreated, actionCreate, "Job %s created to restore into TidbCluster %s", live.Name, key)
		return task.Complete("created Job " + live.Name)
	})
}

// recordScheduled records Scheduled for the restore Job and clears an earlier Invalid in the
// same write, Invalid first so that Scheduled becomes the phase. Once the restore started or
// finished nothing is written: a later condition must never be followed by an earlier one,
// which would move the phase backwards.
func (s *state) recordScheduled(ctx context.Context, jobName string) (bool, error) {
	return s.update(ctx, func(rs *v1alpha1.Restore) bool {
		if started(rs) || finished(rs) {
			return false
		}
		if hasTrue(rs, v1alpha1.RestoreInvalid) {
			status.SetRestoreCondition(s.condition(v1alpha1.RestoreInvalid, corev1.ConditionFalse, ReasonValid, "the spec is valid"), status.RestoreFields{})(rs)
		}
		status.SetRestoreCondition(s.condition(v1alpha1.RestoreScheduled, corev1.ConditionTrue, ReasonJobCreated, "Job "+jobName+" created"), status.RestoreFields{})(rs)
		return true
	})
}

// trackJob follows the restore Job and records what the backup-manager could not.
func trackJob(s *state) task.Task {
	return task.NameTaskFunc("TrackJob", func(ctx context.Context) task.Result {
		name := s.rs.GetRestoreJobName()
		switch s.action {
		case jobWait:
			return task.Wait("Job " + name + " runs")
		case jobRecordScheduled:
			if _, err := s.recordScheduled(ctx, name); err != nil {
				return task.Fail(err)
			}
			return task.Wait("Job " + name + " runs")
		case jobFailed:
			return s.recordFailed(ctx, s.out.Reason, fmt.Sprintf(
				"Job %s failed (%s: %s) before the backup-manager recorded a result; see the logs of its pod",
				name, s.out.Reason, s.out.Message))
		case jobUnreported:
			return s.recordFailed(ctx, ReasonResultMissing, fmt.Sprintf(
				"Job %s completed, but the backup-manager did not record the restore's result (Complete, commitTs); check its log before relying on the restored data",
				name))
		case jobLost:
			// The cache may simply not have seen a Job created a moment ago.
			live, err := backupjob.Get(ctx, s.r.APIReader, s.rs, s.rs.Namespace, name)
			if err != nil {
				return task.Fail(err)
			}
			if live != nil {
				return task.Wait("Job " + name + " is not in the cache yet")
			}
			return s.recordFailed(ctx, ReasonJobNotFound, fmt.Sprintf(
				"Job %s is gone although the restore did not finish, so its result is unknown and BR may have restored part of the data; check the cluster, then create a new Restore to run it again",
				name))
		}
		return task.Complete("")
	})
}

// recordFailed records Failed unless the fresh copy shows the restore already finished: what the
// backup-manager recorded (its own Failed with BR's error, or Complete) is more precise than
// anything the controller can tell from the Job. One Warning event goes with the write.
func (s *state) recordFailed(ctx context.Context, reason, message string) task.Result {
	changed, err := s.update(ctx, func(rs *v1alpha1.Restore) bool {
		if finished(rs) {
			return false
		}
		return status.SetRestoreCondition(s.condition(v1alpha1.RestoreFailed, corev1.ConditionTrue, reason, message), status.RestoreFields{})(rs)
	})
	if err != nil {
		return task.Fail(err)
	}
	if !changed {
		return task.Complete("")
	}
	s.event(s.restoreJob, corev1.EventTypeWarning, reason, actionObserve, "%s", message)
	return task.Complete("recorded Failed: " + reason)
}

// prune runs the abort Job of spec.prune: afterFailed for a failed Restore, at most once.
func prune(s *state) task.Task {
	return task.NameTaskFunc("Prune", func(ctx context.Context) task.Result {
		if !wantsPrune(s.rs) {
			s.settled = true
			return task.Complete("")
		}
		restoreJob, err := backupjob.Get(ctx, s.r.Client, s.rs, s.rs.Namespace, s.rs.GetRestoreJobName())
		if err != nil && !errors.Is(err, backupjob.ErrForeignJob) {
			return task.Fail(err)
		}
		if err != nil {
			restoreJob = nil // someone else's Job says nothing about this restore
		}
		s.restoreJob = restoreJob
		name := PruneJobName(s.rs)
		live, err := backupjob.Get(ctx, s.r.Client, s.rs, s.rs.Namespace, name)
		if err != nil {
			return task.Fail(err)
		}
		out := backupjob.Observe(live)
		switch decidePrune(s.rs, backupjob.Observe(restoreJob), out) {
		case pruneNone:
			s.settled = true
			return task.Complete("")
		case pruneHold:
			return task.Wait("Job " + s.rs.GetRestoreJobName() + " still runs; the prune starts after it")
		case pruneWait:
			return task.Wait("Job " + name + " prunes")
		case pruneRecordScheduled:
			if _, err := s.recordPruneScheduled(ctx, name); err != nil {
				return task.Fail(err)
			}
			return task.Wait("Job " + name + " prunes")
		case pruneFailed:
			return s.recordPrune(ctx, live, v1alpha1.RestorePruneFailed, out.Reason, fmt.Sprintf(
				"Job %s failed (%s: %s) before the backup-manager recorded a result; see the logs of its pod, and run `br abort restore` by hand if the cluster still holds the failed restore's data",
				name, out.Reason, out.Message))
		case pruneUnreported:
			return s.recordPrune(ctx, live, v1alpha1.RestorePruneComplete, ReasonPruneSucceeded, fmt.Sprintf(
				"Job %s completed; the backup-manager did not record it", name))
		case pruneLost:
			gone, err := backupjob.Get(ctx, s.r.APIReader, s.rs, s.rs.Namespace, name)
			if err != nil {
				return task.Fail(err)
			}
			if gone != nil {
				return task.Wait("Job " + name + " is not in the cache yet")
			}
			return s.recordPrune(ctx, nil, v1alpha1.RestorePruneFailed, ReasonJobNotFound, fmt.Sprintf(
				"Job %s is gone although the prune did not finish; it is not run again: run `br abort restore` by hand if the cluster still holds the failed restore's data", name))
		}
		return s.createPruneJob(ctx, name)
	})
}

// createPruneJob creates the prune Job and records PruneScheduled. When it cannot be built
// (the cluster is gone, the spec no longer builds), PruneFailed says why: the prune is a one-shot
// clean-up, not something to retry until the spec is fixed.
func (s *state) createPruneJob(ctx context.Context, name string) task.Result {
	p, err := s.readTarget(ctx)
	if err != nil {
		return task.Fail(err)
	}
	if p != nil {
		return s.recordPrune(ctx, nil, v1alpha1.RestorePruneFailed, p.Reason, "the prune cannot run: "+p.Message)
	}
	desired, err := buildPruneJob(s.rs, s.target, s.r.Options.Settings)
	if err != nil {
		return s.recordPrune(ctx, nil, v1alpha1.RestorePruneFailed, ReasonInvalidSpec, "the prune cannot run: "+err.Error())
	}
	fresh, err := s.fresh(ctx)
	if err != nil {
		return task.Fail(err)
	}
	if pruneStarted(fresh) || pruneFinished(fresh) {
		s.rs = fresh
		return task.Wait("the prune was scheduled by an earlier reconcile")
	}
	live, created, err := backupjob.Ensure(ctx, s.r.Client, desired)
	if err != nil {
		return task.Fail(err)
	}
	if _, err := s.recordPruneScheduled(ctx, live.Name); err != nil {
		return task.Fail(err)
	}
	if !created {
		return task.Wait("Job " + name + " prunes")
	}
	s.event(live, corev1.EventTypeNormal, ReasonPruneJobCreated, actionPrune,
		"Job %s created to abort the failed restore (spec.prune: afterFailed)", live.Name)
	return task.Complete("created Job " + live.Name)
}

// buildPruneJob is the restore Job with --abort=true under the prune Job's name.
func buildPruneJob(rs *v1alpha1.Restore, t job.Target, settings job.Settings) (*batchv1.Job, error) {
	name := PruneJobName(rs)
	if err := checkJobName(name); err != nil {
		return nil, fmt.Errorf("build Job %s for Restore %s/%s: %w", name, rs.Namespace, rs.Name, err)
	}
	o := job.RestoreOptionsFor(rs, t)
	o.Abort = true
	j, err := job.RestoreJob(rs, t, settings, o)
	if err != nil {
		return nil, err
	}
	// job.RestoreJob names its Job restore-<name>, which the failed restore's Job still holds
	// (it is kept for its logs); the abort run gets its own name.
	j.Name = name
	return j, nil
}

// recordPruneScheduled records PruneScheduled unless the prune already started or finished.
func (s *state) recordPruneScheduled(ctx context.Context, jobName string) (bool, error) {
	return s.update(ctx, func(rs *v1alpha1.Restore) bool {
		if pruneStarted(rs) || pruneFinished(rs) {
			return false
		}
		return status.SetRestoreCondition(s.condition(v1alpha1.RestorePruneScheduled, corev1.ConditionTrue, ReasonPruneJobCreated, "Job "+jobName+" created"), status.RestoreFields{})(rs)
	})
}

// recordPrune records the prune's end (PruneComplete or PruneFailed) unless the backup-manager
// did; a PruneFailed goes with one Warning event.
func (s *state) recordPrune(ctx context.Context, related *batchv1.Job, t v1alpha1.RestoreConditionType, reason, message string) task.Result {
	changed, err := s.update(ctx, func(rs *v1alpha1.Restore) bool {
		if pruneFinished(rs) {
			return false
		}
		return status.SetRestoreCondition(s.condition(t, corev1.ConditionTrue, reason, message), status.RestoreFields{})(rs)
	})
	if err != nil {
		return task.Fail(err)
	}
	s.settled = true
	if !changed {
		return task.Complete("")
	}
	eventType := corev1.EventTypeNormal
	if t == v1alpha1.RestorePruneFailed {
		eventType = corev1.EventTypeWarning
	}
	s.event(related, eventType, reason, actionPrune, "%s", message)
	return task.Complete("recorded " + string(t))
}
