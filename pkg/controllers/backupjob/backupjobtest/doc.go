// Package backupjobtest is the fake world the glue tests of the backup family's controllers
// run in (Backup, Restore, CompactBackup; BackupSchedule borrows its scheme and event
// draining). Like net/http/httptest it is an ordinary package that only tests import.
//
// A World is controller-runtime's fake client as the store of a pretend API server, with two
// clients over it for the reconciler: Cache, what the informer cache answers, which a test can
// make lag behind the store (a stale copy of the reconciled object, Jobs it has not seen yet),
// and API, the API server itself. Both record the writes the controller makes and fail the
// calls a test names, so a test can say "a steady-state reconcile writes nothing" or "the
// status write fails after the Job was created". The store itself (Store) is how the test plays
// kube-controller-manager and the backup-manager; what it writes there is not recorded.
package backupjobtest
