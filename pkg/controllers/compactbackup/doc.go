// Package compactbackup is the CompactBackup controller: it runs each CompactBackup as one Job
// of tidb-backup-manager, named like the CompactBackup as in v1.6 (pkg/backup/job builds it,
// pkg/controllers/backupjob runs it), and retries the Job when it fails.
//
// Status has no conditions, only status.state (Scheduled, Prepare, Running, Complete, Failed,
// RetryFailed) with a message, and v1.6 has no Invalid state for compactions. So:
//
//   - validation: a spec the operator cannot run (storage, startTs/endTs, the target cluster
//     that gives the TiKV and BR images unless spec.tikvImage and spec.toolImage are set) gets
//     state Failed with a message naming the field, one Warning event, and no Job. Failed is
//     final, as in v1.6: a BackupSchedule takes a Failed compaction for finished and schedules
//     the next one, so a Failed compaction must never start later behind its back.
//   - the Job: created once (state Scheduled, Normal event). The backup-manager inside it
//     records Prepare, Running, progress, and Complete with endTs, or Failed with the error.
//   - retries (spec.maxRetryTimes, pkg/backup/retry.DecideCompact): a failed Job appends a
//     record to status.backoffRetryStatus and sets RetryFailed (one Warning event); once the
//     retry is due the failed Job is deleted (backupjob.Delete) and the next reconcile creates a
//     fresh one, Scheduled again. Only ever one Job: a new one is created only after the old
//     one is gone. When no retry is left the state is Failed with why, and the backup-manager's
//     last error.
//
// The backup-manager's Failed is therefore not final by itself: it reports one run. What makes
// Failed final is the controller's decision, recognised on later reconciles without a marker
// field: either the Job is gone, or the retries are used up and the message is the give-up
// message (deterministic for a given Job), so a settled CompactBackup makes no API writes.
// Every write is a small transaction on a fresh copy read from the API server
// (pkg/backup/status.Update over common.DirectReads), re-deciding on that copy, so nothing the
// backup-manager wrote is overwritten by a decision taken on a stale cache.
package compactbackup
