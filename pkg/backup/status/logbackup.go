package status

import (
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// logBackupWide says what a log backup subcommand's condition means for the Backup as a whole,
// v1.6's rules: the Backup-wide phase follows the task (Running, Paused, Stopped, Failed to
// start), not every run of every subcommand.
//
//   - log-start: every condition is the task's (Prepare, Running, Failed), except Complete: a
//     started task keeps running, so the phase stays Running. The fields apply, but not the end
//     time (the task has not ended).
//   - log-stop, log-pause, log-resume: only Complete changes the task, to Stopped, Paused and
//     Running. A stop's end time is the task's end time; the other times are the run's own.
//   - log-truncate: no condition is the task's; a Complete one brings its fields (the new
//     logSuccessTruncateUntil) without times.
//   - anything else: nothing.
//
// The Backup-wide condition carries no command. A nil condition means none; zero fields mean
// none. timeTaken is dropped whenever a time is, because it would describe the run, not the
// task.
func logBackupWide(cond v1alpha1.BackupCondition, f BackupFields) (*v1alpha1.BackupCondition, BackupFields) {
	complete := cond.Type == v1alpha1.BackupComplete
	switch cond.Command {
	case v1alpha1.LogStartCommand:
		if complete {
			return nil, withoutTimes(f, false, true)
		}
		return wideCondition(cond, cond.Type), f
	case v1alpha1.LogStopCommand:
		if complete {
			return wideCondition(cond, v1alpha1.BackupStopped), withoutTimes(f, true, false)
		}
	case v1alpha1.LogPauseCommand:
		if complete {
			return wideCondition(cond, v1alpha1.BackupPaused), withoutTimes(f, true, true)
		}
	case v1alpha1.LogResumeCommand:
		if complete {
			return wideCondition(cond, v1alpha1.BackupRunning), withoutTimes(f, true, true)
		}
	case v1alpha1.LogTruncateCommand:
		if complete {
			return nil, withoutTimes(f, true, true)
		}
	}
	return nil, BackupFields{}
}

// wideCondition is cond as the Backup-wide condition of type t.
func wideCondition(cond v1alpha1.BackupCondition, t v1alpha1.BackupConditionType) *v1alpha1.BackupCondition {
	cond.Command = ""
	cond.Type = t
	return &cond
}

// withoutTimes drops the start and/or end time, and with either the time taken.
func withoutTimes(f BackupFields, started, completed bool) BackupFields {
	if started {
		f.TimeStarted = nil
	}
	if completed {
		f.TimeCompleted = nil
	}
	if started || completed {
		f.TimeTaken = ""
	}
	return f
}

// applyLogSubcommand records cond and the run's times in the status of cond's subcommand.
// The subcommand's conditions follow UpdateBackupCondition's rules too (one per type, the phase
// is the latest type except Restart, the transition time moves only with the status), so that
// the phase v1alpha1.IsLogSubcommandInPhase reads is never Restart. As in v1.6 they carry no
// command: the map key says it.
func applyLogSubcommand(st *v1alpha1.BackupStatus, cond v1alpha1.BackupCondition, f BackupFields) bool {
	cmd := cond.Command
	sub, ok := st.LogSubCommandStatuses[cmd]
	changed := !ok
	if !ok {
		sub = v1alpha1.LogSubCommandStatus{Command: cmd}
	}
	if setTime(&sub.TimeStarted, f.TimeStarted) {
		changed = true
	}
	if setTime(&sub.TimeCompleted, f.TimeCompleted) {
		changed = true
	}
	if setString(&sub.LogTruncatingUntil, f.LogTruncatingUntil) {
		changed = true
	}
	cond.Command = ""
	conds := v1alpha1.BackupStatus{Phase: sub.Phase, Conditions: sub.Conditions}
	if v1alpha1.UpdateBackupCondition(&conds, &cond) {
		changed = true
	}
	sub.Phase, sub.Conditions = conds.Phase, conds.Conditions
	if !changed {
		return false
	}
	if st.LogSubCommandStatuses == nil {
		st.LogSubCommandStatuses = map[v1alpha1.LogSubCommandType]v1alpha1.LogSubCommandStatus{}
	}
	st.LogSubCommandStatuses[cmd] = sub
	return true
}
