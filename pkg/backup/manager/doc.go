// Package manager is what tidb-backup-manager does inside a Job: the cli.Runner behind the
// backup, restore, clean and compact subcommands.
//
// Each flow reads its custom resource, records each step in the status as v1.6 did (Prepare,
// Running, Complete or Failed for a Backup; Running, Complete or Failed for a Restore; the state
// of a CompactBackup), runs BR or tikv-ctl as a child process and turns what they print into
// live progress, and reads the result back from storage (backupmeta) rather than trusting the
// tool's summary line. Status is written through package status, small transactions on a fresh
// copy, because the operator writes the same objects while a Job runs.
//
// Credentials never pass through this package as values: BR inherits the Job's environment,
// storage is opened with the same environment, and only names of credential sources appear in
// messages.
package manager
