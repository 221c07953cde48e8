package retry

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// t0 is when the first failure of every case was detected.
var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time {
	t := metav1.NewTime(t0.Add(d))
	return &t
}

// closed is a record whose retry ran.
func closed(n int, detected, expected time.Duration) v1alpha1.BackoffRetryRecord {
	return v1alpha1.BackoffRetryRecord{RetryNum: n, DetectFailedAt: at(detected), ExpectedRetryAt: at(expected),
		RealRetryAt: at(expected), OriginalReason: "BackoffLimitExceeded", RetryReason: "retry"}
}

// open is a record whose retry has not started.
func open(n int, detected, expected time.Duration) v1alpha1.BackoffRetryRecord {
	return v1alpha1.BackoffRetryRecord{RetryNum: n, DetectFailedAt: at(detected), ExpectedRetryAt: at(expected),
		OriginalReason: "BackoffLimitExceeded"}
}

var jobFailed = Failure{Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}

func TestDecide(t *testing.T) {
	defaults := v1alpha1.BackoffRetryPolicy{MinRetryDuration: "300s", MaxRetryTimes: 2, RetryTimeout: "30m"}
	cases := map[string]struct {
		policy  v1alpha1.BackoffRetryPolicy
		records []v1alpha1.BackoffRetryRecord
		failure Failure
		now     time.Time
		want    Decision
		// wantMessage are parts the GiveUp message must contain.
		wantMessage []string
	}{
		"the first failure under the defaults is retried after 300s": {
			policy: defaults, failure: jobFailed, now: t0,
			want: Decision{Action: ActionRecord, At: t0.Add(5 * time.Minute), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 1, DetectFailedAt: at(0), ExpectedRetryAt: at(5 * time.Minute), OriginalReason: "BackoffLimitExceeded"}},
		},
		"a policy left out of the spec takes every default": {
			policy: v1alpha1.BackoffRetryPolicy{}, failure: jobFailed, now: t0,
			want: Decision{Action: ActionRecord, At: t0.Add(5 * time.Minute), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 1, DetectFailedAt: at(0), ExpectedRetryAt: at(5 * time.Minute), OriginalReason: "BackoffLimitExceeded"}},
		},
		"the second failure waits twice as long": {
			policy: defaults, records: []v1alpha1.BackoffRetryRecord{closed(1, 0, 5*time.Minute)},
			failure: jobFailed, now: t0.Add(10 * time.Minute),
			want: Decision{Action: ActionRecord, At: t0.Add(20 * time.Minute), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 2, DetectFailedAt: at(10 * time.Minute), ExpectedRetryAt: at(20 * time.Minute), OriginalReason: "BackoffLimitExceeded"}},
		},
		"a failure after maxRetryTimes retries gives up": {
			policy:  defaults,
			records: []v1alpha1.BackoffRetryRecord{closed(1, 0, 5*time.Minute), closed(2, 10*time.Minute, 20*time.Minute)},
			failure: jobFailed, now: t0.Add(25 * time.Minute),
			want:        Decision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded},
			wantMessage: []string{"after 2 retries", "spec.backoffRetryPolicy.maxRetryTimes", "BackoffLimitExceeded: Job has reached"},
		},
		"an open record waits until its retry is due": {
			policy: defaults, records: []v1alpha1.BackoffRetryRecord{open(1, 0, 5*time.Minute)},
			failure: jobFailed, now: t0.Add(4*time.Minute + 59*time.Second),
			want: Decision{Action: ActionWait, At: t0.Add(5 * time.Minute)},
		},
		"an open record is retried exactly when due": {
			policy: defaults, records: []v1alpha1.BackoffRetryRecord{open(1, 0, 5*time.Minute)},
			failure: jobFailed, now: t0.Add(5 * time.Minute),
			want: Decision{Action: ActionRetry, Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 1, DetectFailedAt: at(0), ExpectedRetryAt: at(5 * time.Minute), RealRetryAt: at(5 * time.Minute),
				OriginalReason: "BackoffLimitExceeded",
				RetryReason:    "retry 1 after the backup failed with BackoffLimitExceeded: Job has reached the specified backoff limit"}},
		},
		"an accepted retry runs even after the timeout passed while the operator was down": {
			policy: defaults, records: []v1alpha1.BackoffRetryRecord{closed(1, 0, 5*time.Minute), open(2, 10*time.Minute, 20*time.Minute)},
			now: t0.Add(3 * time.Hour),
			want: Decision{Action: ActionRetry, Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 2, DetectFailedAt: at(10 * time.Minute), ExpectedRetryAt: at(20 * time.Minute), RealRetryAt: at(3 * time.Hour),
				OriginalReason: "BackoffLimitExceeded", RetryReason: "retry 2 after the backup failed with BackoffLimitExceeded"}},
		},
		"a retry starting after retryTimeout gives up": {
			policy:  v1alpha1.BackoffRetryPolicy{MinRetryDuration: "10m", MaxRetryTimes: 5, RetryTimeout: "30m"},
			records: []v1alpha1.BackoffRetryRecord{closed(1, 0, 10*time.Minute)},
			failure: jobFailed, now: t0.Add(15 * time.Minute), // retry 2 would start at t0+35m
			want:        Decision{Action: ActionGiveUp, Reason: ReasonRetryTimeoutExceeded},
			wantMessage: []string{"retry 2 would start at 2024-05-01T10:35:00Z", "spec.backoffRetryPolicy.retryTimeout (30m)", "first failure at 2024-05-01T10:00:00Z"},
		},
		"a retry starting exactly at the timeout is made": {
			policy:  v1alpha1.BackoffRetryPolicy{MinRetryDuration: "10m", MaxRetryTimes: 5, RetryTimeout: "30m"},
			records: []v1alpha1.BackoffRetryRecord{closed(1, 0, 10*time.Minute)},
			failure: jobFailed, now: t0.Add(10 * time.Minute),
			want: Decision{Action: ActionRecord, At: t0.Add(30 * time.Minute), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 2, DetectFailedAt: at(10 * time.Minute), ExpectedRetryAt: at(30 * time.Minute), OriginalReason: "BackoffLimitExceeded"}},
		},
		"a first delay longer than the timeout gives up at once": {
			policy:  v1alpha1.BackoffRetryPolicy{MinRetryDuration: "1h", MaxRetryTimes: 2, RetryTimeout: "30m"},
			failure: jobFailed, now: t0,
			want:        Decision{Action: ActionGiveUp, Reason: ReasonRetryTimeoutExceeded},
			wantMessage: []string{"retry 1 would start at 2024-05-01T11:00:00Z"},
		},
		"maxRetryTimes 0 next to set durations disables retries": {
			policy:  v1alpha1.BackoffRetryPolicy{MinRetryDuration: "300s", MaxRetryTimes: 0, RetryTimeout: "30m"},
			failure: jobFailed, now: t0,
			want:        Decision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded},
			wantMessage: []string{"spec.backoffRetryPolicy.maxRetryTimes is 0", "not retried"},
		},
		"a negative maxRetryTimes disables retries": {
			policy: v1alpha1.BackoffRetryPolicy{MaxRetryTimes: -1}, failure: Failure{}, now: t0,
			want:        Decision{Action: ActionGiveUp, Reason: ReasonRetryLimitExceeded},
			wantMessage: []string{"an unknown reason", "is -1"},
		},
		"a partial policy keeps its values and defaults the empty durations": {
			policy: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "1m", MaxRetryTimes: 3}, failure: Failure{Reason: "Error"}, now: t0,
			want: Decision{Action: ActionRecord, At: t0.Add(time.Minute), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 1, DetectFailedAt: at(0), ExpectedRetryAt: at(time.Minute), OriginalReason: "Error"}},
		},
		"stored times are whole seconds": {
			policy: defaults, failure: jobFailed, now: t0.Add(1500 * time.Millisecond),
			want: Decision{Action: ActionRecord, At: t0.Add(5*time.Minute + time.Second), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 1, DetectFailedAt: at(time.Second), ExpectedRetryAt: at(5*time.Minute + time.Second), OriginalReason: "BackoffLimitExceeded"}},
		},
		"a first record without a detection time counts the timeout from now": {
			policy:  v1alpha1.BackoffRetryPolicy{MinRetryDuration: "10m", MaxRetryTimes: 5, RetryTimeout: "30m"},
			records: []v1alpha1.BackoffRetryRecord{{RetryNum: 1, RealRetryAt: at(0)}},
			failure: jobFailed, now: t0.Add(time.Hour),
			want: Decision{Action: ActionRecord, At: t0.Add(time.Hour + 20*time.Minute), Record: v1alpha1.BackoffRetryRecord{
				RetryNum: 2, DetectFailedAt: at(time.Hour), ExpectedRetryAt: at(time.Hour + 20*time.Minute), OriginalReason: "BackoffLimitExceeded"}},
		},
		"an open record without an expected time is due": {
			policy: defaults, records: []v1alpha1.BackoffRetryRecord{{RetryNum: 1, DetectFailedAt: at(0)}},
			failure: jobFailed, now: t0,
			want: Decision{Action: ActionRetry, Record: v1alpha1.BackoffRetryRecord{RetryNum: 1, DetectFailedAt: at(0), RealRetryAt: at(0),
				RetryReason: "retry 1 after the backup failed with BackoffLimitExceeded: Job has reached the specified backoff limit"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Decide(tc.policy, tc.records, tc.failure, tc.now)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			message := got.Message
			if tc.wantMessage != nil {
				got.Message = ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decide =\n%+v\nwant\n%+v", got, tc.want)
			}
			for _, part := range tc.wantMessage {
				if !strings.Contains(message, part) {
					t.Errorf("message %q does not contain %q", message, part)
				}
			}
		})
	}
}

func TestDecideRejectsMalformedPolicy(t *testing.T) {
	cases := map[string]struct {
		policy    v1alpha1.BackoffRetryPolicy
		records   []v1alpha1.BackoffRetryRecord
		wantField string
	}{
		"minRetryDuration is not a duration": {
			policy: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "5 minutes"}, wantField: "spec.backoffRetryPolicy.minRetryDuration",
		},
		"retryTimeout is not a duration": {
			policy: v1alpha1.BackoffRetryPolicy{RetryTimeout: "soon"}, wantField: "spec.backoffRetryPolicy.retryTimeout",
		},
		"minRetryDuration is negative": {
			policy: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "-1m"}, wantField: "spec.backoffRetryPolicy.minRetryDuration",
		},
		"a broken policy is reported while a retry is pending too": {
			policy:    v1alpha1.BackoffRetryPolicy{RetryTimeout: "-5m"},
			records:   []v1alpha1.BackoffRetryRecord{open(1, 0, 5*time.Minute)},
			wantField: "spec.backoffRetryPolicy.retryTimeout",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decide(tc.policy, tc.records, jobFailed, t0)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Decide error = %v, want a *FieldError", err)
			}
			if fe.Field != tc.wantField || !strings.Contains(err.Error(), tc.wantField) {
				t.Errorf("error %q names field %q, want %q", err, fe.Field, tc.wantField)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	cases := map[string]struct {
		in, want v1alpha1.BackoffRetryPolicy
	}{
		"left out":     {in: v1alpha1.BackoffRetryPolicy{}, want: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "300s", MaxRetryTimes: 2, RetryTimeout: "30m"}},
		"only a delay": {in: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "1m"}, want: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "1m", RetryTimeout: "30m"}},
		"complete":     {in: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "1m", MaxRetryTimes: 4, RetryTimeout: "2h"}, want: v1alpha1.BackoffRetryPolicy{MinRetryDuration: "1m", MaxRetryTimes: 4, RetryTimeout: "2h"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Effective(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("Effective(%+v) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestPending(t *testing.T) {
	cases := map[string]struct {
		records []v1alpha1.BackoffRetryRecord
		wantOK  bool
		wantNum int
	}{
		"no records":                  {},
		"the last retry ran":          {records: []v1alpha1.BackoffRetryRecord{closed(1, 0, time.Minute)}},
		"the last retry has not run":  {records: []v1alpha1.BackoffRetryRecord{closed(1, 0, time.Minute), open(2, 2*time.Minute, 4*time.Minute)}, wantOK: true, wantNum: 2},
		"only the last record counts": {records: []v1alpha1.BackoffRetryRecord{open(1, 0, time.Minute), closed(2, 2*time.Minute, 4*time.Minute)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := Pending(tc.records)
			if ok != tc.wantOK || got.RetryNum != tc.wantNum {
				t.Errorf("Pending = record %d, %v; want record %d, %v", got.RetryNum, ok, tc.wantNum, tc.wantOK)
			}
		})
	}
}

func TestPendingDoesNotAlias(t *testing.T) {
	records := []v1alpha1.BackoffRetryRecord{open(1, 0, time.Minute)}
	got, _ := Pending(records)
	got.ExpectedRetryAt.Time = t0.Add(time.Hour)
	if !records[0].ExpectedRetryAt.Equal(at(time.Minute)) {
		t.Errorf("changing the returned record changed the status")
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{ActionRecord: "Record", ActionWait: "Wait", ActionRetry: "Retry", ActionGiveUp: "GiveUp", 0: "Action(0)"} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", int(a), got, want)
		}
	}
}
