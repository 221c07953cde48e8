package retry

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Backoff between compaction retries: v1.6's 10s * 2^(n-1), at most 6 minutes.
const (
	CompactBaseDelay = 10 * time.Second
	CompactMaxDelay  = 6 * time.Minute
)

const fieldCompactMaxRetryTimes = "spec.maxRetryTimes"

// CompactDelay returns how long compaction retry n (from 1) waits after the failure:
// 10s * 2^(n-1), at most CompactMaxDelay.
func CompactDelay(n int) time.Duration {
	d := CompactBaseDelay
	for i := 1; i < n && d < CompactMaxDelay; i++ {
		d *= 2
	}
	return min(d, CompactMaxDelay)
}

// CompactDecision is what DecideCompact found; the fields mean what they mean in Decision.
type CompactDecision struct {
	Action Action
	// At is, for Record and Wait, when the retry is due. Zero otherwise.
	At time.Time
	// Record is, for Record, the record to append to status.backoffRetryStatus. Zero otherwise:
	// a compaction record has nothing to fill in when its retry starts.
	Record v1alpha1.CompactRetryRecord
	// Reason and Message are, for GiveUp, usable as the Failed state's reason and message.
	Reason, Message string
}

// DecideCompact says what to do about a failed compaction Job, given spec.maxRetryTimes, the
// CompactBackup's status, why the Job failed and the time.
//
// The open retry is the last record while status.state is RetryFailed (see the package
// documentation), so the controller must keep to this protocol:
//   - Record: append Record and set the state to RetryFailed in the same status write;
//   - Wait: requeue at At;
//   - Retry: delete the failed Job and create the next one, which moves the state on to
//     Scheduled;
//   - GiveUp: set the state to Failed with Message.
func DecideCompact(maxRetryTimes int32, st v1alpha1.CompactStatus, f Failure, now time.Time) CompactDecision {
	records := st.BackoffRetryStatus
	if st.State == v1alpha1.CompactStateRetryFailed && len(records) > 0 {
		last := records[len(records)-1]
		due := now
		if last.DetectFailedAt != nil {
			due = last.DetectFailedAt.Add(CompactDelay(last.RetryNum))
		}
		if now.Before(due) {
			return CompactDecision{Action: ActionWait, At: due}
		}
		return CompactDecision{Action: ActionRetry}
	}

	n := len(records) + 1
	limit := int(maxRetryTimes)
	if limit <= 0 {
		return CompactDecision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded, Message: fmt.Sprintf(
			"The compaction failed with %s and %s is %d, so it is not retried. Fix the cause and create a new CompactBackup.",
			f, fieldCompactMaxRetryTimes, limit)}
	}
	if n > limit {
		return CompactDecision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded, Message: fmt.Sprintf(
			"The compaction failed again with %s after %d %s, the most %s allows. Fix the cause and create a new CompactBackup.",
			f, limit, plural(limit, "retry", "retries"), fieldCompactMaxRetryTimes)}
	}

	stamp := now.Truncate(time.Second)
	detected := metav1.NewTime(stamp)
	return CompactDecision{
		Action: ActionRecord,
		At:     stamp.Add(CompactDelay(n)),
		Record: v1alpha1.CompactRetryRecord{
			RetryNum:       n,
			DetectFailedAt: &detected,
			RetryReason:    f.String(),
		},
	}
}
