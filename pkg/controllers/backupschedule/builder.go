package backupschedule

import "github.com/tidbops/tidb-operator/pkg/task"

// buildRunner lists the steps of one reconcile. The main list stops at the first step that does
// not complete; the finally list always runs, so the garbage collection also runs for a paused
// or invalid schedule, and the status is written once at the end.
func buildRunner(s *state) task.Runner {
	bs := s.bs
	return task.Runner{
		Resync: s.r.Options.Resync,
		Tasks: []task.Task{
			// A schedule being deleted: its children go with it through their owner references.
			task.IfBreak("Deleting", s.deleting),
			// The schedule's Backups and CompactBackups, those of its group, its log backup.
			load(s),
			// A field that cannot be used: a condition and one event, then nothing is created.
			validate(s),
			// Paused: only the garbage collection (in finally).
			task.IfBreak("Paused", func() bool { return bs.Spec.Pause }),
			// log-<schedule>, once.
			task.If("LogBackup", func() bool { return bs.Spec.LogBackupTemplate != nil && bs.Status.LogBackup == "" },
				ensureLogBackup(s)),
			// A CompactBackup over the log backup every compactInterval.
			task.If("Compact", func() bool {
				return bs.Spec.CompactBackupTemplate != nil && bs.Spec.CompactInterval != nil && bs.Status.LogBackup != ""
			}, compact(s)),
			// <schedule>-<time> on a due tick, after the running Backups finished.
			task.If("Snapshot", func() bool { return bs.Spec.BackupTemplate != nil }, snapshot(s)),
		},
		Finally: []task.Task{
			// Old Backups and CompactBackups, and the log backup's truncation point.
			task.If("GC", func() bool { return s.loaded && s.spec.gcOK && !s.deleting() }, collect(s)),
			// The one status write, skipped when nothing changed.
			task.If("PersistStatus", func() bool { return !s.deleting() }, persistStatus(s)),
			// Come back at the next tick or compaction.
			requeue(s),
		},
	}
}
