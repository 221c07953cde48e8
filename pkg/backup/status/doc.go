// Package status writes the status of Backup, Restore and CompactBackup as small transactions.
//
// Two processes write these statuses at the same time: the operator's controllers (Scheduled,
// retries, clean-up, the log backup checkpoint) and tidb-backup-manager inside the Job (Prepare,
// Running, progress, Complete or Failed). v1.6 read the object from an informer cache, changed
// it and wrote the whole object back, so whichever writer came second could undo the other's
// change, or give up on a conflict and lose its own.
//
// Here a change is a transaction: a func(T) bool that applies one small edit to the object it
// is given and reports whether anything changed. Update reads a fresh copy through the client
// it is handed (the backup-manager passes a client without a cache), applies the transaction,
// and writes the status subresource with that copy's resourceVersion as an optimistic lock. On
// a conflict it reads again and re-applies the same transaction, so the other writer's change
// stays and only the fields this transaction touches are replaced. A transaction that changes
// nothing makes no write, so a steady state costs no API calls. Controllers, which keep the object they
// reconcile in memory, go through Transact: it also hands them the copy read last, so that the
// reconcile's later steps see the other writer's changes.
//
// The transactions keep v1.6's rules (v1alpha1.UpdateBackupCondition and
// UpdateRestoreCondition for conditions and phases, the per-subcommand status of log backups,
// progress that only moves forwards) so that users and tools see the status v1.6 showed.
package status
