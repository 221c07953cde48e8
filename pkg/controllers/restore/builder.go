package restore

import "github.com/tidbops/tidb-operator/pkg/task"

// buildRunner lists the steps of one reconcile. The list stops at the first step that does not
// complete; task.Summary.Result turns the outcome into the requeue.
func buildRunner(s *state) task.Runner {
	return task.Runner{
		Resync: s.r.Options.Resync,
		Tasks: []task.Task{
			// A Restore being deleted takes its Jobs with it (owner references): nothing to do,
			// and no finalizer holds it (v1.6 had none).
			task.IfBreak("Deleting", s.deleting, settle(s)),
			// Complete: the backup-manager recorded the result; nothing is left to do.
			task.IfBreak("Complete", s.complete, settle(s)),
			// Failed: only the prune of spec.prune: afterFailed may be left, and runs once.
			task.IfBreak("Failed", s.failed, prune(s)),
			// What the restore Job says, and what that means for the Restore.
			observeJob(s),
			// No Job yet: check the spec and the target, then create restore-<name>.
			// A PiTR restore starts only once TiKV runs with gc.ratio-threshold = -1, which the
			// TidbCluster controller puts in while this Restore is unfinished.
			task.If("Start", s.is(jobCreate), validateSpec(s), loadTarget(s), checkSecrets(s), waitForGCOverlay(s), createJob(s)),
			// The Job exists (or existed): follow it and record what the backup-manager could not.
			task.If("Track", s.tracking, trackJob(s)),
		},
	}
}
