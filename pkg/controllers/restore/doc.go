// Package restore is the Restore controller: it runs each BR Restore as the Job restore-<name>
// of tidb-backup-manager (pkg/backup/job builds it, pkg/controllers/backupjob runs it), and owns
// what the Job cannot do for itself:
//
//   - validation: a Restore the operator cannot run (no spec.br, volume-snapshot mode, a bad
//     storage or PiTR spec, a missing target TidbCluster) gets Invalid=True with a reason and a
//     message naming the field, one Warning event, and no requeue. The spec is checked again on
//     the next reconcile, which a spec change (or, for a missing cluster, the creation of that
//     TidbCluster) triggers; once it passes, Invalid turns False in the same write that records
//     Scheduled. RestoreCondition has no observedGeneration, so "invalid for this generation" is
//     implemented as "validated again on every reconcile before the Job exists": the result is
//     the same for an unchanged spec, and an unchanged result writes nothing.
//   - the Job: created once, Scheduled when created (Normal event). The backup-manager inside
//     it records Running, progress, Complete with commitTs, or Failed. The controller records
//     only what the backup-manager could not: Failed with the Job's reason when the pod died
//     before reporting, Failed when the Job succeeded without a recorded result, Failed when the
//     Job vanished mid-run. A restore is never run twice: a second BR restore into a cluster a
//     first one partly wrote is not safe to start behind the user's back.
//   - spec.prune: afterFailed: once the restore failed, the Job restore-<name>-prune runs
//     `tidb-backup-manager restore --abort=true` (`br abort restore`), which removes what the
//     unfinished restore left in the cluster. The name is the one v1.6's design for prune uses
//     (restore Job name + "-prune"). The controller records PruneScheduled when it creates the
//     Job; the backup-manager records PruneRunning, then PruneComplete or PruneFailed. The prune
//     Job is created at most once: a PruneScheduled or PruneRunning condition, whatever its
//     status, means it was.
//
// Two processes write the status, so every write is a small transaction on a fresh copy read
// from the API server (pkg/backup/status.Update over common.DirectReads), re-deciding on that
// copy, and only when something changes: a steady-state reconcile makes no API writes, and the
// controller never overwrites what the backup-manager recorded. Decisions are pure functions in
// decide.go; the steps in steps.go read, decide and write.
package restore
