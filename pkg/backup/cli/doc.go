// Package cli is tidb-backup-manager's command line: a cobra root with one subcommand per Job
// kind (backup, restore, clean, compact, export, import) and `version`.
//
// The flags come from package job, the contract shared with the operator. Each subcommand
// validates them and hands them to a Runner, the interface the backup logic implements; the
// command line knows nothing about BR, Dumpling, Lightning or storage.
package cli
