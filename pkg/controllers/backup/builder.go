package backup

import "github.com/tidbops/tidb-operator/pkg/task"

// buildRunner lists the steps of one reconcile. The list stops at the first step that does
// not complete; task.Summary.Result turns the outcome into the requeue.
func buildRunner(s *state) task.Runner {
	return task.Runner{
		Resync: s.r.Options.Resync,
		Tasks: []task.Task{
			// Deletion: wait for running Jobs, stop a log task, delete the data if the
			// cleanPolicy says so, then let the Backup go.
			task.IfBreak("Deleting", s.deleting,
				waitForBackupJobs(s),
				loadTargetForDeletion(s),
				stopLogBackup(s),
				cleanData(s),
				removeFinalizer(s),
			),
			// Anything that needs work on deletion carries the finalizer first.
			ensureFinalizer(s),
			// Invalid specs stop here, with a condition and an event naming the field.
			validateSpec(s),
			// The TidbCluster decides the BR image, TLS and where PD is.
			loadTarget(s),
			// backup-<name>, with the backoffRetryPolicy on failure.
			task.If("Snapshot", s.snapshot, runSnapshot(s)),
			// One Job per log subcommand run, then the checkpoint tracker.
			task.If("Log", s.logMode, runLogSubcommand(s), trackCheckpoint(s)),
		},
	}
}
