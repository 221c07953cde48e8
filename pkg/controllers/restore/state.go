package restore

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// state is one reconcile of one Restore.
type state struct {
	r   *Reconciler
	rs  *v1alpha1.Restore
	now time.Time

	// restoreJob is the live restore Job (nil when absent) and out its outcome, once
	// observeJob ran; action is what decideJob made of them.
	restoreJob *batchv1.Job
	out        backupjob.Outcome
	action     jobAction

	// target is the TidbCluster restored into, once loadTarget found it.
	target job.Target

	// settled says the Restore needs no periodic look: it finished, or waits for a spec
	// change. Reconcile then asks for no resync.
	settled bool
}

func (s *state) deleting() bool { return !s.rs.DeletionTimestamp.IsZero() }

func (s *state) complete() bool { return v1alpha1.IsRestoreComplete(s.rs) }

func (s *state) failed() bool { return v1alpha1.IsRestoreFailed(s.rs) }

func (s *state) is(a jobAction) func() bool { return func() bool { return s.action == a } }

// stamp is the time written into conditions, at the precision the API server keeps.
func (s *state) stamp() metav1.Time { return metav1.NewTime(s.now.Truncate(time.Second)) }

// condition builds a condition stamped with the reconcile's time; UpdateRestoreCondition keeps
// the old time when the status does not change.
func (s *state) condition(t v1alpha1.RestoreConditionType, st corev1.ConditionStatus, reason, message string) v1alpha1.RestoreCondition {
	return v1alpha1.RestoreCondition{Type: t, Status: st, Reason: reason, Message: message, LastTransitionTime: s.stamp()}
}

// update runs a status transaction on a fresh copy of the Restore and reports whether it
// wrote. tx decides on that copy (it may find that the backup-manager already recorded what the
// step was about to), and may run more than once after conflicts. The copy read last becomes
// the state's Restore, so later steps see the result.
func (s *state) update(ctx context.Context, tx func(*v1alpha1.Restore) bool) (bool, error) {
	return status.Transact(ctx, s.r.Status, &s.rs, &v1alpha1.Restore{}, tx) // errors name the Restore
}

// event emits one event on the Restore, related to obj when it is set (the Job concerned).
// Callers emit only when the status write that goes with it changed something, so a state
// that stays produces no new events. Notes never carry credentials: they name fields, Jobs and
// reasons.
func (s *state) event(related *batchv1.Job, eventType, reason, action, note string, args ...any) {
	backupjob.Event(s.r.Recorder, s.rs, related, eventType, reason, action, note, args...)
}

// tracking reports whether the restore Job exists, or existed, and is followed.
func (s *state) tracking() bool { return s.action != jobCreate && s.action != jobDone }

// fresh reads the Restore from the API server. It guards every Job creation: the cache may not
// show yet that an earlier reconcile scheduled the Job, and if that Job was deleted in the
// meantime, the cache would show neither, and the restore (or prune) would run twice.
func (s *state) fresh(ctx context.Context) (*v1alpha1.Restore, error) {
	rs := &v1alpha1.Restore{}
	if err := s.r.Status.Get(ctx, client.ObjectKeyFromObject(s.rs), rs); err != nil {
		return nil, fmt.Errorf("get Restore %s/%s: %w", s.rs.Namespace, s.rs.Name, err)
	}
	return rs, nil
}
