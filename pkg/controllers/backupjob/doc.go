// Package backupjob is the one Job lifecycle of the backup family: the Backup, Restore,
// CompactBackup (and, later, TidbInitializer) controllers run their work as Kubernetes Jobs
// built by the pure builders of pkg/backup/job, and all of them go through the same three
// steps here:
//
//   - Ensure creates the Job once. A Job of that name that already exists is returned as it
//     is, never updated or replaced: a running Job is never disturbed by a re-rendered
//     template, and a Job that belongs to another object is an error, not something to take
//     over.
//   - Observe maps the Job's conditions to an Outcome (Running, Succeeded, Failed with the
//     reason and message kube-controller-manager recorded). It is pure.
//   - Delete removes a finished Job (to run it again after a backoff, or to release what it
//     holds), with a UID precondition so that a Job re-created in between is never deleted by
//     mistake, and background propagation so that its pod goes with it.
//
// What an outcome means for the custom resource (a condition, a retry record, an event) is the
// controller's decision; this package only reports facts about Jobs, and emits (Event) the events
// the controller decided on, about the Job concerned.
package backupjob
