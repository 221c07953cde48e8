// Package backupschedule is the BackupSchedule controller: it turns a schedule into Backup and
// CompactBackup objects and removes old Backups, and leaves running them to the Backup and
// CompactBackup controllers.
//
// One reconcile, in order (builder.go):
//
//   - Validate: spec.schedule (robfig/cron's ParseStandard), spec.maxReservedTime and
//     spec.compactInterval (Go durations) and spec.backupTemplate.backupMode (not log) are
//     parsed. A field that cannot be used sets ScheduleValid=False with reason InvalidSchedule
//     and a message naming the field and the parser's complaint, emits one Warning event per
//     change of that message, and stops everything but the garbage collection until the spec
//     changes (the reconcile waits; only the periodic resync comes back, and it finds nothing
//     to do). It never fails the reconcile, so a bad expression is not a crash loop.
//   - Paused (spec.pause): only the garbage collection runs.
//   - LogBackup: with spec.logBackupTemplate, the Backup log-<schedule> (backupMode log) is
//     created once; status.logBackup and status.logBackupStartTs record it, and it is never
//     created again, also when someone deletes it (v1.6).
//   - Compact: with spec.compactBackupTemplate and spec.compactInterval, and once the log
//     backup has started, a CompactBackup compact-<schedule>-<time> over the next window of log
//     (pkg/backup/schedule.CompactDue) every interval, one at a time, the first an interval
//     after the log backup was created (not at once over its first seconds). status.lastCompact and
//     lastCompactExecutionTs record the creation, lastCompactProgress the end of the last
//     window that completed; a failed compaction's window is tried again.
//   - Snapshot: with spec.backupTemplate, the latest due cron tick (schedule.Due, counted from
//     status.lastBackupTime, else status.allBackupCleanTime, else the schedule's creation)
//     becomes the Backup <schedule>-<UTC time>. After an operator outage the missed ticks run
//     once, not once per tick. While any Backup of the schedule, or of any schedule of its
//     group (the tidb.pingcap.com/backup-schedule-group label), is unfinished, the due tick
//     waits; when that Backup finishes, the latest tick that came due meanwhile runs at once,
//     one Backup however many ticks passed. This is what v1.6 did (it looked at the last Backup
//     and, once it finished, created the Backup of the latest missed tick); skipping the tick
//     for good instead would leave a gap as long as a whole interval after every slow Backup.
//     Before it creates the Backup, the Job of the previous Dumpling Backup is deleted, as in
//     v1.6, so that its scratch volume is free.
//   - GC (also while paused): finished snapshot Backups beyond spec.maxBackups, or older than
//     spec.maxReservedTime (which wins when both are set, as in v1.6), are deleted through the
//     API, so the Backup controller's finalizer applies their cleanPolicy. The newest Complete
//     Backup is never deleted, nor the log backup. With maxReservedTime and a log backup, the
//     log backup's spec.logTruncateUntil is moved forward to the oldest snapshot still needed
//     (schedule.TruncateUntil), and the Backup controller truncates. When the collection
//     deletes every Backup, lastBackup and lastBackupTime are cleared and allBackupCleanTime is
//     set (v1.6). Finished CompactBackups other than the last one are deleted too.
//
// The children carry v1.6's labels (app.kubernetes.io/name=backup-schedule,
// managed-by=backup-schedule-operator, instance=<schedule>, tidb.pingcap.com/backup-schedule=
// <schedule>) merged with the schedule's own labels, the schedule's annotations (but kubectl's
// last-applied configuration), and a controller owner reference to the schedule, so deleting
// the schedule deletes them (and their data as their cleanPolicy says).
//
// Status is computed as a list of small edits during the reconcile and written once at the end,
// through pkg/backup/status.Update on a fresh copy read from the API server; a reconcile that
// changes nothing makes no write. The next reconcile is asked for at the next cron tick or
// compaction (task.Retry); Backups and CompactBackups of the schedule, and Backups of its
// group, wake it when they change.
//
// The controller is registered as "backupschedule". v1.6 registered it as "backup", the name of
// its Backup controller, by a copy-paste slip; two controllers of one manager cannot share a
// name here, and the metrics of the two would mix, so the name is the kind's.
package backupschedule
