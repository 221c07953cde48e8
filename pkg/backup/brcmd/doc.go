// Package brcmd builds the command lines the backup-manager runs: br for snapshot and log
// backups, restores, aborts and `operator base64ify`, and tikv-ctl for compacting a log backup.
//
// Every builder is pure: it reads a custom resource, the Job's flags (package job) and where
// the data lives (storage.Location) and returns the arguments after the binary's path. The
// shapes are v1.6's (cmd/backup-manager/app/backup, app/restore, app/compact, app/util), so a
// cluster moved from the v1.6 operator gets the very same BR invocations:
//
//	br <specific args> --pd=<cluster>-pd.<ns>:2379 [TLS] [global] <storage> [filters] [tuning] <spec.br.options>
//
// Where v1.6 would have passed a flag BR refuses, the builders leave it out instead, and say so
// next to the code: BR defines --pd, --ca/--cert/--key, --log-level, --status-addr,
// --send-credentials-to-tikv, --storage and the provider flags, --concurrency, --ratelimit,
// --checksum and --check-requirements on its root command (persistent flags, accepted by every
// subcommand), but --filter only on backup, restore, `log start` and `restore point`, --db and
// --table only on the db and table subcommands, and --timeago and --backupts only on backup.
//
// spec.br.options always come last, because BR keeps the last value of a repeated flag and v1.6
// documents the options as overriding what the operator generates.
//
// Credentials never appear in these arguments except what a user wrote into the spec (an Azure
// SAS token inside the storage URL) or into spec.br.options; Redact hides those before anything
// is logged.
package brcmd
