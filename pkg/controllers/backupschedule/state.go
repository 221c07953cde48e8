package backupschedule

import (
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Event actions (events.k8s.io's action field).
const (
	actionValidate = "Validate"
	actionCreate   = "Create"
	actionDelete   = "Delete"
	actionTruncate = "Truncate"
)

// Event reasons besides ReasonInvalidSchedule and ReasonValid.
const (
	// ReasonBackupCreated: a scheduled snapshot Backup was created.
	ReasonBackupCreated = "BackupCreated"
	// ReasonLogBackupCreated: the schedule's log backup was created.
	ReasonLogBackupCreated = "LogBackupCreated"
	// ReasonCompactBackupCreated: a CompactBackup was created.
	ReasonCompactBackupCreated = "CompactBackupCreated"
	// ReasonBackupDeleted: the garbage collection deleted a Backup.
	ReasonBackupDeleted = "BackupDeleted"
	// ReasonLogBackupTruncate: the garbage collection moved the log backup's logTruncateUntil.
	ReasonLogBackupTruncate = "LogBackupTruncate"
	// ReasonNameConflict: an object of the name the schedule would create belongs to someone
	// else; the schedule does not touch it and waits.
	ReasonNameConflict = "NameConflict"
)

// state is one reconcile of one schedule.
type state struct {
	r *Reconciler
	// bs is the schedule as read from the cache; the edits of this reconcile are applied to its
	// status as they are made, so later steps see them.
	bs *v1alpha1.BackupSchedule
	// now is the reconcile's clock reading, to the second (the precision status keeps).
	now  time.Time
	spec spec

	// Loaded by the Load step.
	loaded   bool
	backups  []v1alpha1.Backup        // the schedule's (label)
	group    []v1alpha1.Backup        // of the schedule's group; nil without a group label
	compacts []v1alpha1.CompactBackup // the schedule's (label)
	// logBk is the schedule's log backup (status.logBackup, else log-<schedule>), nil if absent.
	logBk *v1alpha1.Backup

	// edits to write at the end, in order.
	edits []edit
	// created is the snapshot Backup created by this reconcile, "" if none.
	created string
	// wake is the earliest time a step wants to run again; zero for none.
	wake time.Time
}

func newState(r *Reconciler, bs *v1alpha1.BackupSchedule) *state {
	return &state{r: r, bs: bs, now: r.Options.Now().Truncate(time.Second), spec: parseSpec(bs)}
}

func (s *state) deleting() bool { return !s.bs.DeletionTimestamp.IsZero() }

// apply makes an edit to the status in memory and keeps it for the write when it changed
// something.
func (s *state) apply(e edit) bool {
	if !e(&s.bs.Status) {
		return false
	}
	s.edits = append(s.edits, e)
	return true
}

// wakeAt asks for a reconcile at t at the latest.
func (s *state) wakeAt(t time.Time) {
	if t.IsZero() {
		return
	}
	if s.wake.IsZero() || t.Before(s.wake) {
		s.wake = t
	}
}

// event records an event on the schedule, about related if not nil. It is not backupjob.Event:
// what it relates to is a Backup or a CompactBackup, never a Job.
func (s *state) event(related runtime.Object, eventType, reason, action, note string, args ...any) {
	if s.r.Recorder == nil {
		return
	}
	s.r.Recorder.Eventf(s.bs, related, eventType, reason, action, note, args...)
}
