package compactbackup

import "github.com/tidbops/tidb-operator/pkg/task"

// buildRunner lists the steps of one reconcile. The list stops at the first step that does not
// complete; task.Summary.Result turns the outcome into the requeue.
func buildRunner(s *state) task.Runner {
	return task.Runner{
		Resync: s.r.Options.Resync,
		Tasks: []task.Task{
			// A CompactBackup being deleted takes its Job with it (owner references).
			task.IfBreak("Deleting", s.deleting, settle(s)),
			// Complete: the backup-manager recorded the result.
			task.IfBreak("Complete", s.complete, settle(s)),
			// What the Job says, and what that means for the compaction.
			observeJob(s),
			// Failed for good and the Job gone: nothing to decide any more.
			task.IfBreak("Done", s.is(actDone), settle(s)),
			// An open retry whose failed Job is gone waits until it is due.
			task.If("RetryDue", s.is(actRetry), waitForRetry(s)),
			// No Job: check the spec and the target, then create the Job (first run or retry).
			task.If("Start", s.starting, validateSpec(s), loadTarget(s), createJob(s)),
			// A Job exists (or existed): follow it, retry it or give up.
			task.If("Track", s.tracking, trackJob(s)),
		},
	}
}
