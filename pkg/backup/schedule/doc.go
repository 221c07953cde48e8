// Package schedule holds the decisions of the BackupSchedule controller: which cron tick is due,
// which Backups the garbage collection deletes, where the log backup may be truncated, whether a
// new Backup must wait for a running one, and which range of log backup the next CompactBackup
// covers.
//
// The functions are pure: the controller lists the objects, converts them to the small values
// taken here (Item, TSOs, times) and applies what comes back, so the rules can be tested with
// fixed times and do not change with the API plumbing.
//
// # Ticks
//
// spec.schedule is read with robfig/cron's ParseStandard, as in v1.6: five fields, the
// @yearly … @hourly and "@every <duration>" descriptors, an optional TZ= prefix. A schedule without
// a zone is evaluated in the location of the times passed to Due (v1.6 used the operator's local
// time, UTC in its container). Due reports the latest tick after the last Backup and not after
// now, so after an outage the missed ticks run once, not once per missed tick; v1.6 did the same
// by walking every missed tick (beyond 1000 it skipped the run and moved lastBackupTime to now);
// Due finds the latest by bisection, however long the outage. Ticks
// of "@every" count from the last Backup (or the schedule's creation), the way cron's
// ConstantDelaySchedule and v1.6 count them; other schedules tick on the calendar.
//
// # Garbage collection
//
// Only finished Backups (Complete or Failed) are ever chosen for deletion, so a running Backup is
// never deleted under its Job, and the newest Complete Backup is never chosen, so that a run of
// failures cannot leave the schedule without a restorable backup. The log backup of the schedule
// is not an Item: the caller leaves it out (v1.6's count-based GC listed it among the Backups and
// could delete it). When both spec.maxReservedTime and spec.maxBackups are set, v1.6 used
// maxReservedTime only; that choice is the caller's.
//
// Order is by creation time, then name: the names of scheduled Backups end in their UTC time, so
// the name breaks ties between Backups created in the same second the same way.
//
// # Compaction
//
// A CompactBackup is due once spec.compactInterval has passed since the last one was created
// (status.lastCompactExecutionTs). It covers the log from where the last one ended
// (status.lastCompactProgress), or from the log backup's start, up to now, but at most three
// intervals: v1.6's limit, which turns a backlog (after an outage, or compaction enabled on an old
// log backup) into several bounded compactions instead of one that runs for hours.
package schedule
