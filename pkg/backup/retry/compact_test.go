package retry

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestCompactDelay(t *testing.T) {
	want := map[int]time.Duration{
		0: 10 * time.Second, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		4: 80 * time.Second, 5: 160 * time.Second, 6: 320 * time.Second, 7: 6 * time.Minute, 1000: 6 * time.Minute,
	}
	for n, d := range want {
		if got := CompactDelay(n); got != d {
			t.Errorf("CompactDelay(%d) = %v, want %v", n, got, d)
		}
	}
}

func compactRecord(n int, detected time.Duration) v1alpha1.CompactRetryRecord {
	return v1alpha1.CompactRetryRecord{RetryNum: n, DetectFailedAt: at(detected), RetryReason: "BackoffLimitExceeded"}
}

func TestDecideCompact(t *testing.T) {
	cases := map[string]struct {
		max         int32
		status      v1alpha1.CompactStatus
		now         time.Time
		want        CompactDecision
		wantMessage []string
	}{
		"the first failure is retried after 10s": {
			max: 6, status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning}, now: t0,
			want: CompactDecision{Action: ActionRecord, At: t0.Add(10 * time.Second), Record: v1alpha1.CompactRetryRecord{
				RetryNum: 1, DetectFailedAt: at(0), RetryReason: "BackoffLimitExceeded: Job has reached the specified backoff limit"}},
		},
		"the retry Job failed again": {
			max: 6, now: t0.Add(time.Minute),
			status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning,
				BackoffRetryStatus: []v1alpha1.CompactRetryRecord{compactRecord(1, 0), compactRecord(2, 30*time.Second)}},
			want: CompactDecision{Action: ActionRecord, At: t0.Add(time.Minute + 40*time.Second), Record: v1alpha1.CompactRetryRecord{
				RetryNum: 3, DetectFailedAt: at(time.Minute), RetryReason: "BackoffLimitExceeded: Job has reached the specified backoff limit"}},
		},
		"a recorded retry waits for its delay": {
			max: 6, now: t0.Add(39 * time.Second),
			status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRetryFailed,
				BackoffRetryStatus: []v1alpha1.CompactRetryRecord{compactRecord(1, -time.Minute), compactRecord(2, -30*time.Second), compactRecord(3, 0)}},
			want: CompactDecision{Action: ActionWait, At: t0.Add(40 * time.Second)},
		},
		"a recorded retry runs once its delay passed": {
			max: 6, now: t0.Add(40 * time.Second),
			status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRetryFailed,
				BackoffRetryStatus: []v1alpha1.CompactRetryRecord{compactRecord(1, -time.Minute), compactRecord(2, -30*time.Second), compactRecord(3, 0)}},
			want: CompactDecision{Action: ActionRetry},
		},
		"the delay is capped at six minutes": {
			max: 10, now: t0.Add(6*time.Minute - time.Second),
			status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRetryFailed,
				BackoffRetryStatus: []v1alpha1.CompactRetryRecord{compactRecord(8, 0)}},
			want: CompactDecision{Action: ActionWait, At: t0.Add(6 * time.Minute)},
		},
		"a failure after maxRetryTimes retries gives up": {
			max: 2, now: t0,
			status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning,
				BackoffRetryStatus: []v1alpha1.CompactRetryRecord{compactRecord(1, -time.Minute), compactRecord(2, -30*time.Second)}},
			want:        CompactDecision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded},
			wantMessage: []string{"after 2 retries", "spec.maxRetryTimes", "BackoffLimitExceeded"},
		},
		"maxRetryTimes 0 does not retry": {
			max: 0, status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning}, now: t0,
			want:        CompactDecision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded},
			wantMessage: []string{"spec.maxRetryTimes is 0"},
		},
		"RetryFailed without a record is a new failure": {
			max: 6, status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRetryFailed}, now: t0,
			want: CompactDecision{Action: ActionRecord, At: t0.Add(10 * time.Second), Record: v1alpha1.CompactRetryRecord{
				RetryNum: 1, DetectFailedAt: at(0), RetryReason: "BackoffLimitExceeded: Job has reached the specified backoff limit"}},
		},
		"a record without a detection time is due": {
			max: 6, now: t0,
			status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRetryFailed,
				BackoffRetryStatus: []v1alpha1.CompactRetryRecord{{RetryNum: 1}}},
			want: CompactDecision{Action: ActionRetry},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := DecideCompact(tc.max, tc.status, jobFailed, tc.now)
			message := got.Message
			if tc.wantMessage != nil {
				got.Message = ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecideCompact =\n%+v\nwant\n%+v", got, tc.want)
			}
			for _, part := range tc.wantMessage {
				if !strings.Contains(message, part) {
					t.Errorf("message %q does not contain %q", message, part)
				}
			}
		})
	}
}
