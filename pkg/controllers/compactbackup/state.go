package compactbackup

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// state is one reconcile of one CompactBackup.
type state struct {
	r   *Reconciler
	cb  *v1alpha1.CompactBackup
	now time.Time

	// live is the compaction Job (nil when absent) and out its outcome, once observeJob
	// ran; action is what decide made of them.
	live   *batchv1.Job
	out    backupjob.Outcome
	action action

	// target is the TidbCluster of the log backup, once loadTarget read it (zero when the
	// spec names its images and no cluster).
	target job.Target

	// settled says the CompactBackup needs no periodic look; Reconcile then asks for no
	// resync.
	settled bool
}

func (s *state) deleting() bool { return !s.cb.DeletionTimestamp.IsZero() }

func (s *state) complete() bool { return s.cb.Status.State == v1alpha1.CompactStateComplete }

func (s *state) is(a action) func() bool { return func() bool { return s.action == a } }

// starting reports whether this reconcile creates a Job: the first run or a retry.
func (s *state) starting() bool { return s.action == actCreate || s.action == actRetry }

// tracking reports whether a Job exists, or existed, and is followed.
func (s *state) tracking() bool {
	return s.action == actRecordScheduled || s.action == actWait || s.action == actFailed || s.action == actLost
}

// jobName is the compaction Job's name: the CompactBackup's, as in v1.6.
func (s *state) jobName() string { return s.cb.Name }

// update runs a status transaction on a fresh copy of the CompactBackup and reports whether it
// wrote. tx decides on that copy and may run more than once after conflicts. The copy read
// last becomes the state's CompactBackup.
func (s *state) update(ctx context.Context, tx func(*v1alpha1.CompactBackup) bool) (bool, error) {
	return status.Transact(ctx, s.r.Status, &s.cb, &v1alpha1.CompactBackup{}, tx) // errors name the CompactBackup
}

// event emits one event on the CompactBackup, related to the Job when there is one. Callers
// emit only when the status write that goes with it changed something. Notes name fields, Jobs
// and reasons, never credentials.
func (s *state) event(related *batchv1.Job, eventType, reason, action, note string, args ...any) {
	backupjob.Event(s.r.Recorder, s.cb, related, eventType, reason, action, note, args...)
}

// fresh reads the CompactBackup from the API server. It guards every Job creation: the cache
// may not show yet that an earlier reconcile scheduled a Job (or a retry), and if that Job was
// deleted in the meantime, the cache would show neither, and a run would start that no record
// accounts for.
func (s *state) fresh(ctx context.Context) (*v1alpha1.CompactBackup, error) {
	cb := &v1alpha1.CompactBackup{}
	if err := s.r.Status.Get(ctx, client.ObjectKeyFromObject(s.cb), cb); err != nil {
		return nil, fmt.Errorf("get CompactBackup %s/%s: %w", s.cb.Namespace, s.cb.Name, err)
	}
	return cb, nil
}
