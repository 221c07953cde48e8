package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// BackupFields are the Backup status fields a transaction may set besides conditions and
// phase; unset fields (empty strings, nil pointers) are left as they are.
type BackupFields struct {
	BackupPath                    string
	CommitTs                      string
	TimeStarted                   *metav1.Time
	TimeCompleted                 *metav1.Time
	TimeTaken                     string
	BackupSize                    *int64
	BackupSizeReadable            string
	IncrementalBackupSize         *int64
	IncrementalBackupSizeReadable string
	LogCheckpointTs               string
	LogSuccessTruncateUntil       string
	// LogTruncatingUntil is the point a log-truncate run works towards. It exists only in the
	// subcommand's status (status.logSubCommandStatuses[log-truncate]), so it is ignored when
	// the condition names no subcommand.
	LogTruncatingUntil string
}

// SetBackupCondition records cond and the set fields of f.
//
// A condition without a command (every snapshot or volume-snapshot backup condition, and the
// operator's Scheduled, Invalid, Clean... conditions) goes straight to the Backup's status
// through v1alpha1.UpdateBackupCondition: one condition per type, and the phase becomes cond's
// type, whatever its status (Clean=False makes the phase Clean), except Restart.
//
// A condition with a command is about one run of a log backup subcommand. As in v1.6 it is
// recorded twice. In status.logSubCommandStatuses[command] it sets that run's times,
// logTruncatingUntil, conditions and phase. In the Backup-wide status it counts only as far as
// it changes the log backup task: every log-start condition except Complete (a started task
// stays Running), with the fields but not the end time; a Complete log-stop, log-pause or
// log-resume, as the condition Stopped, Paused or Running (the stop's end time goes along);
// a Complete log-truncate's fields (logSuccessTruncateUntil), without times. Nothing else.
//
// v1.6 applied the condition to the Backup-wide status unchanged once the Backup was being
// deleted, so the log-stop run of a deletion ended in phase Complete rather than Stopped, the
// phase the clean-up checks for. Here the command alone decides, so a log-stop ends Stopped
// whenever it runs.
func SetBackupCondition(cond v1alpha1.BackupCondition, f BackupFields) func(*v1alpha1.Backup) bool {
	return func(bk *v1alpha1.Backup) bool {
		if cond.Command == "" {
			return applyBackup(&bk.Status, &cond, f)
		}
		wideCond, wideFields := logBackupWide(cond, f)
		wide := applyBackup(&bk.Status, wideCond, wideFields)
		sub := applyLogSubcommand(&bk.Status, cond, f)
		return wide || sub
	}
}

// SetBackupFields sets the set fields of f without touching conditions, phase or subcommand
// statuses: for facts learnt outside a run, such as the log backup checkpoint the operator
// reads from PD, or sizes computed after the fact. f.LogTruncatingUntil is ignored.
func SetBackupFields(f BackupFields) func(*v1alpha1.Backup) bool {
	return func(bk *v1alpha1.Backup) bool {
		return applyBackup(&bk.Status, nil, f)
	}
}

// SetBackupProgress records that step reached percent at now in status.progresses. As in
// v1.6, a known step only moves forwards (a lower or repeated percent is no change), and a new
// step completes the one before it to 100%.
func SetBackupProgress(step string, percent float64, now metav1.Time) func(*v1alpha1.Backup) bool {
	return func(bk *v1alpha1.Backup) bool {
		ps, changed := upsertProgress(bk.Status.Progresses, step, percent, now)
		bk.Status.Progresses = ps
		return changed
	}
}

// applyBackup sets the fields, then the condition if there is one, and reports whether either
// changed the status.
func applyBackup(st *v1alpha1.BackupStatus, cond *v1alpha1.BackupCondition, f BackupFields) bool {
	changed := applyBackupFields(st, f)
	if cond != nil && v1alpha1.UpdateBackupCondition(st, cond) {
		changed = true
	}
	return changed
}

func applyBackupFields(st *v1alpha1.BackupStatus, f BackupFields) bool {
	changes := []bool{
		setString(&st.BackupPath, f.BackupPath),
		setString(&st.CommitTs, f.CommitTs),
		setTime(&st.TimeStarted, f.TimeStarted),
		setTime(&st.TimeCompleted, f.TimeCompleted),
		setString(&st.TimeTaken, f.TimeTaken),
		setInt64(&st.BackupSize, f.BackupSize),
		setString(&st.BackupSizeReadable, f.BackupSizeReadable),
		setInt64(&st.IncrementalBackupSize, f.IncrementalBackupSize),
		setString(&st.IncrementalBackupSizeReadable, f.IncrementalBackupSizeReadable),
		setString(&st.LogCheckpointTs, f.LogCheckpointTs),
		setString(&st.LogSuccessTruncateUntil, f.LogSuccessTruncateUntil),
	}
	return anyTrue(changes)
}

func anyTrue(bs []bool) bool {
	for _, b := range bs {
		if b {
			return true
		}
	}
	return false
}

// ClearBackupProgress removes the progress of an earlier run. A retried or restarted backup
// starts BR from nothing, and progress only moves forwards, so the old entries would hide the
// new run's progress until it passed them.
func ClearBackupProgress() func(*v1alpha1.Backup) bool {
	return func(bk *v1alpha1.Backup) bool {
		if len(bk.Status.Progresses) == 0 {
			return false
		}
		bk.Status.Progresses = nil
		return true
	}
}
