// Package job is the command-line contract between the operator, which starts backup, restore,
// clean, compact, export and import Jobs, and tidb-backup-manager, which runs inside them.
//
// Each subcommand has one options struct here. The backup-manager registers its flags with
// AddFlags and checks them with Validate; the operator's Job builder fills the same struct and
// calls Args to get the container arguments. Args is derived from the very flag definitions the
// backup-manager parses, so the two sides cannot drift apart. Flag names, spellings (mixed
// camelCase and kebab-case) and defaults are v1.6's, because Jobs created by a v1.6 operator may
// still be running when the new backup-manager image is rolled out, and the other way round.
//
// The Job builders live here too, so that builder and parser stay one contract: BackupJob
// (backup-<name>, a log subcommand's Job, stop-<name>), CleanJob (clean-<name>), RestoreJob
// (restore-<name>) and CompactJob make the whole batch/v1 Job from the custom resource, a Target
// (what the Job needs to know about the TidbCluster, see TargetOf) and the operator's Settings.
// They are pure: they never read the API server, and never a Secret, so credentials reach the
// Pods only as Secret references in the environment. BackupOptionsFor and RestoreOptionsFor fill
// the flags the way v1.6's operator did, for a controller that needs to adjust them (the
// initialize phase of a volume snapshot, a prune) before building.
package job
