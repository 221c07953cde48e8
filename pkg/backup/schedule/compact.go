package schedule

import (
	"errors"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

const fieldCompactInterval = "spec.compactInterval"

// CompactCatchUp bounds one CompactBackup to this many compactIntervals of log, as v1.6 did
// (its "fast compact limit"): after an outage or when compaction is enabled on an old log
// backup, the backlog is compacted in several bounded CompactBackups rather than one huge one.
const CompactCatchUp = 3

// ParseCompactInterval parses spec.compactInterval, a Go duration that must be positive.
func ParseCompactInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &FieldError{Field: fieldCompactInterval, Value: s, Err: err}
	}
	if d <= 0 {
		return 0, &FieldError{Field: fieldCompactInterval, Value: s, Err: errors.New("must be positive")}
	}
	return d, nil
}

// CompactDue reports whether the next CompactBackup is due: spec.compactInterval (interval) has
// passed since status.lastCompactExecutionTs (lastRun, zero when none ran). Its window [from,
// until) is in TSOs: from is where the last compaction ended (lastEnd, from
// status.lastCompactProgress) or, when none did or the log backup started later, the log
// backup's start (logStart); until is TSO(now), but at most CompactCatchUp intervals after from.
// ok is false when it is not due, the log backup has not started (both TSOs 0) or the window is
// empty. next is when to look again: lastRun+interval while waiting, otherwise now+interval.
// A malformed or non-positive interval is a *FieldError.
func CompactDue(interval string, lastEnd, logStart uint64, lastRun, now time.Time) (from, until uint64, ok bool, next time.Time, err error) {
	d, err := ParseCompactInterval(interval)
	if err != nil {
		return 0, 0, false, time.Time{}, err
	}
	if !lastRun.IsZero() && now.Sub(lastRun) < d {
		// Also when lastRun is in the future (the clocks disagree): wait for it plus interval.
		return 0, 0, false, lastRun.Add(d), nil
	}
	next = now.Add(d)
	from = max(lastEnd, logStart)
	if from == 0 {
		return 0, 0, false, next, nil
	}
	until = min(v1alpha1.TimeToTSO(now), v1alpha1.TimeToTSO(v1alpha1.TSOToTime(from).Add(CompactCatchUp*d)))
	if until <= from {
		return 0, 0, false, next, nil
	}
	return from, until, true, next, nil
}
