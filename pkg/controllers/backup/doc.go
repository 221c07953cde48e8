// Package backup is the Backup controller: it runs each Backup as Jobs of the
// tidb-backup-manager (pkg/backup/job builds them, pkg/controllers/backupjob runs them), and owns
// what the Job cannot do for itself:
//
//   - validation: a Backup the operator cannot run gets Invalid=True with a message naming the
//     field, one Warning event, and no retry until its spec changes;
//   - snapshot backups: the Job backup-<name>, Scheduled when created, and the
//     backoffRetryPolicy when it fails (status.backoffRetryStatus, pkg/backup/retry decides);
//   - log backups: one Job per subcommand run (start, pause, resume, stop, truncate), and the
//     checkpoint tracker that copies the task's checkpoint from PD's etcd into
//     status.logCheckpointTs every interval;
//   - deletion: the tidb.pingcap.com/backup-protection finalizer, the stop-<name> Job that
//     stops a running log task, and the clean-<name> Job that deletes the data when cleanPolicy
//     asks for it.
//
// The backup-manager writes the Backup's status too (Prepare, Running, Complete, Failed, sizes,
// progress). Both writers therefore change status only through small transactions on a fresh
// copy (pkg/backup/status.Update), never through a whole-object update, so neither loses the
// other's change. Decisions are pure functions in decide.go; the steps in steps.go only read,
// decide and write.
package backup
