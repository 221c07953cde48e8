// Package retry decides what happens after a backup or compaction Job failed: record the failure
// and schedule a retry, wait for the retry to become due, start the retry, or give up.
//
// The functions are pure. They take the spec's retry policy, the retry records the status holds
// and the time, and return a Decision; the controller applies it (appends or replaces a record,
// deletes the failed Job, sets a condition) and requeues at Decision.At. Keeping the arithmetic
// here lets it be tested with fixed times and keeps the controller free of clock reads.
//
// # Snapshot backups
//
// spec.backoffRetryPolicy of a snapshot Backup says how its failed Job is retried, and
// status.backoffRetryStatus records each retry, as in v1.6:
//
//   - A new failure (no open record) appends record n = len(records)+1 with DetectFailedAt = now
//     and ExpectedRetryAt = now + minRetryDuration * 2^(n-1) (v1alpha1.BackoffRetryPolicy.RetryDelay).
//   - While the last record is open (RealRetryAt unset) and ExpectedRetryAt has not come, the
//     controller waits; once it has, the retry starts and the record gets RealRetryAt = now, which
//     closes it. A later failure then opens the next record.
//   - No record is appended when the policy does not allow another retry: retries are disabled,
//     n would exceed maxRetryTimes (reason RetryLimitExceeded), or the retry would start later
//     than retryTimeout after the first failure, records[0].DetectFailedAt (reason
//     RetryTimeoutExceeded). The backup is then Failed.
//
// Differences from v1.6, on purpose: v1.6 appended record n even when n exceeded the limit and only
// then marked the Backup failed, so its status showed one record more than retries made; and it
// checked the timeout again on every reconcile while waiting, so a retry accepted within the
// timeout could still be dropped if the operator was down when it became due. Here the limits are
// checked once, when the failure is recorded, and an accepted retry always runs. Both keep
// maxRetryTimes retries at most and never schedule one past the timeout.
//
// Defaults. The CRD defaults minRetryDuration to 300s, maxRetryTimes to 2 and retryTimeout to 30m,
// but the API server applies them only when spec.backoffRetryPolicy is present: a Backup written
// without it reads back as the zero policy. So the zero policy means "all defaults". Once any
// field is set, the API server has filled in the fields left out, so a maxRetryTimes of 0 next to
// a set duration was written by the user and disables retries; an empty duration (which has no
// other meaning) still takes its default. A negative maxRetryTimes disables retries too. The one
// case this cannot tell apart is a policy whose three fields were all explicitly zero or empty,
// which gets the defaults.
//
// Stored times are truncated to whole seconds, the precision of metav1.Time in the API, so that
// the decision made in memory equals what a later read of the status yields.
//
// # Compactions
//
// A CompactBackup retries its failed Job up to spec.maxRetryTimes times (the CRD default is 6,
// applied by the API server because the field sits at the top of the spec, so 0 really means no
// retries). status.backoffRetryStatus records each retry, but CompactRetryRecord has no
// ExpectedRetryAt or RealRetryAt, so the open retry is marked by status.state RetryFailed, which the
// controller sets together with the record it appends and leaves when it creates the retry Job.
// Retry n waits CompactDelay(n) = 10s * 2^(n-1), at most 6 minutes: the values v1.6 used between
// its compaction attempts. The wait is short and fixed because a compaction only reads and writes
// the backup storage and is cheap to repeat, unlike a snapshot backup.
package retry
