package compactbackup

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/retry"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// Event actions (events.k8s.io "action": what the controller was doing).
const (
	actionValidate = "Validate"
	actionCreate   = "Create"
	actionRetry    = "Retry"
	actionObserve  = "Observe"
)

// ReasonJobConflict is the reason of the Warning event about a Job of the wanted name that
// belongs to something else.
const ReasonJobConflict = "JobConflict"

// settle ends a reconcile that has nothing left to do and marks the CompactBackup as needing
// no resync.
func settle(s *state) task.Task {
	return task.NameTaskFunc("Settle", func(context.Context) task.Result {
		s.settled = true
		return task.Complete("")
	})
}

// observeJob reads the compaction Job from the cache and decides what to do about it.
func observeJob(s *state) task.Task {
	return task.NameTaskFunc("ObserveJob", func(ctx context.Context) task.Result {
		live, err := backupjob.Get(ctx, s.r.Client, s.cb, s.cb.Namespace, s.jobName())
		if err != nil {
			if errors.Is(err, backupjob.ErrForeignJob) {
				s.event(nil, corev1.EventTypeWarning, ReasonJobConflict, actionObserve,
					"a Job named %s exists but does not belong to this CompactBackup: delete it or compact under another name", s.jobName())
			}
			return task.Fail(err)
		}
		s.live, s.out = live, backupjob.Observe(live)
		s.action = decide(s.cb, s.out)
		return task.Complete("")
	})
}

// waitForRetry holds the next run until its retry is due (the failed Job may have been
// deleted early, by hand).
func waitForRetry(s *state) task.Task {
	return task.NameTaskFunc("WaitForRetry", func(context.Context) task.Result {
		at, due := retryDue(s.cb, s.now)
		if !due {
			return task.Retry(at.Sub(s.now), "retry due at "+at.UTC().Format(time.RFC3339))
		}
		return task.Complete("")
	})
}

// validateSpec fails a compaction whose spec the operator cannot run.
func validateSpec(s *state) task.Task {
	return task.NameTaskFunc("Validate", func(ctx context.Context) task.Result {
		if p := validate(s.cb); p != nil {
			return s.refuse(ctx, p)
		}
		return task.Complete("")
	})
}

// refuse records state Failed with the problem before any Job runs, and emits one Warning
// event when that changed the status.
func (s *state) refuse(ctx context.Context, p *problem) task.Result {
	changed, err := s.update(ctx, func(cb *v1alpha1.CompactBackup) bool {
		// Only a compaction that is not running may be refused: a Job created by a reconcile
		// that raced this one moved the state on.
		if st := cb.Status.State; st != "" && st != v1alpha1.CompactStateRetryFailed {
			return false
		}
		cb.Status.State = v1alpha1.CompactStateFailed
		cb.Status.Message = p.Message
		return true
	})
	if err != nil {
		return task.Fail(err)
	}
	if changed {
		s.event(nil, corev1.EventTypeWarning, p.Reason, actionValidate, "%s", p.Message)
	}
	s.settled = true
	return task.Wait("failed: " + p.Message)
}

// loadTarget reads the TidbCluster whose TiKV image and version the Job's tools come from. It
// is required unless the spec names both images; then a named cluster is still read when it
// exists, for the version a tag-less spec.toolImage gets.
func loadTarget(s *state) task.Task {
	return task.NameTaskFunc("LoadTarget", func(ctx context.Context) task.Result {
		key, ok := clusterKey(s.cb)
		if !ok {
			return task.Complete("") // validate made sure the images are given
		}
		tc := &v1alpha1.TidbCluster{}
		if err := s.r.Client.Get(ctx, key, tc); err != nil {
			if !apierrors.IsNotFound(err) {
				return task.Fail(fmt.Errorf("get TidbCluster %s: %w", key, err))
			}
			if needsCluster(s.cb) {
				return s.refuse(ctx, clusterNotFound(key))
			}
			return task.Complete("")
		}
		s.target = job.TargetOf(tc)
		return task.Complete("")
	})
}

// createJob creates the compaction Job and records Scheduled. A spec the builder refuses (no
// TiKV image to copy tikv-ctl from) fails like any other spec problem.
func createJob(s *state) task.Task {
	return task.NameTaskFunc("CreateJob", func(ctx context.Context) task.Result {
		desired, err := job.CompactJob(s.cb, s.target, s.r.Options.Settings)
		if err != nil {
			return s.refuse(ctx, invalidSpec("%s", err.Error()))
		}
		fresh, err := s.fresh(ctx)
		if err != nil {
			return task.Fail(err)
		}
		if st := fresh.Status.State; st != s.cb.Status.State {
			s.cb = fresh
			return task.Wait("the compaction moved on to " + string(st) + " meanwhile")
		}
		live, created, err := backupjob.Ensure(ctx, s.r.Client, desired)
		if err != nil {
			return task.Fail(err)
		}
		if _, err := s.recordScheduled(ctx); err != nil {
			return task.Fail(err)
		}
		if !created {
			return task.Wait("Job " + live.Name + " runs")
		}
		if n := len(s.cb.Status.BackoffRetryStatus); n > 0 {
			s.event(live, corev1.EventTypeNormal, ReasonJobCreated, actionCreate,
				"Job %s created for retry %d of %d", live.Name, n, s.cb.Spec.MaxRetryTimes)
		} else {
			s.event(live, corev1.EventTypeNormal, ReasonJobCreated, actionCreate, "Job %s created", live.Name)
		}
		return task.Complete("created Job " + live.Name)
	})
}

// recordScheduled moves a new or retried compaction to Scheduled. A retry starts with no
// progress shown: the old run's figure would otherwise stay until tikv-ctl reports again.
// Once the backup-manager moved the state on (Prepare, Running, ...) nothing is written.
func (s *state) recordScheduled(ctx context.Context) (bool, error) {
	return s.update(ctx, func(cb *v1alpha1.CompactBackup) bool {
		st := cb.Status.State
		if st != "" && st != v1alpha1.CompactStateRetryFailed {
			return false
		}
		msg := "Job " + s.jobName() + " created"
		if n := len(cb.Status.BackoffRetryStatus); st == v1alpha1.CompactStateRetryFailed && n > 0 {
			msg = fmt.Sprintf("Job %s created for retry %d of %d", s.jobName(), n, cb.Spec.MaxRetryTimes)
			cb.Status.Progress = ""
		}
		cb.Status.State = v1alpha1.CompactStateScheduled
		cb.Status.Message = msg
		return true
	})
}

// trackJob follows the Job; a failed one goes to the retry policy.
func trackJob(s *state) task.Task {
	return task.NameTaskFunc("TrackJob", func(ctx context.Context) task.Result {
		name := s.jobName()
		switch s.action {
		case actWait:
			return task.Wait("Job " + name + " runs")
		case actRecordScheduled:
			if _, err := s.recordScheduled(ctx); err != nil {
				return task.Fail(err)
			}
			return task.Wait("Job " + name + " runs")
		case actLost:
			// The cache may simply not have seen a Job created a moment ago.
			live, err := backupjob.Get(ctx, s.r.APIReader, s.cb, s.cb.Namespace, name)
			if err != nil {
				return task.Fail(err)
			}
			if live != nil {
				return task.Wait("Job " + name + " is not in the cache yet")
			}
		}
		return s.failed(ctx, jobFailure(s.out, name))
	})
}

// failed applies the retry policy to a run that ended without Complete. The decision is made
// again inside the status transaction, on the fresh copy, so two reconciles (or a conflict
// retry) never append the same failure twice, and a Complete recorded meanwhile wins.
func (s *state) failed(ctx context.Context, jobFail retry.Failure) task.Result {
	var p plan
	changed, err := s.update(ctx, func(cb *v1alpha1.CompactBackup) bool {
		p = decideFailure(cb, jobFail, s.now)
		switch p.Action {
		case retry.ActionRecord:
			cb.Status.BackoffRetryStatus = append(cb.Status.BackoffRetryStatus, p.Record)
			cb.Status.State = v1alpha1.CompactStateRetryFailed
			cb.Status.Message = p.Message
			return true
		case retry.ActionGiveUp:
			cb.Status.State = v1alpha1.CompactStateFailed
			cb.Status.Message = p.Message
			return true
		}
		return false
	})
	if err != nil {
		return task.Fail(err)
	}
	switch p.Action {
	case retry.ActionRecord:
		if changed {
			s.event(s.live, corev1.EventTypeWarning, p.Reason, actionRetry, "%s", p.Message)
		}
		return task.Retry(p.At.Sub(s.now), fmt.Sprintf("retry %d due at %s", p.Record.RetryNum, p.At.UTC().Format(time.RFC3339)))
	case retry.ActionWait:
		return task.Retry(p.At.Sub(s.now), "retry due at "+p.At.UTC().Format(time.RFC3339))
	case retry.ActionRetry:
		// The failed Job goes first; the next reconcile, seeing it gone, creates the next one.
		// Its logs stayed readable until the retry was due.
		if s.live != nil {
			if err := backupjob.Delete(ctx, s.r.Client, s.live); err != nil {
				return task.Fail(err)
			}
		}
		return task.Retry(time.Second, "deleted the failed Job "+s.jobName()+" for a retry")
	case retry.ActionGiveUp:
		if changed {
			s.event(s.live, corev1.EventTypeWarning, p.Reason, actionRetry, "%s", p.Message)
		}
	}
	s.settled = true
	return task.Complete("")
}
