package retry

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Defaults of spec.backoffRetryPolicy, the CRD's kubebuilder defaults.
const (
	DefaultMinRetryDuration = "300s"
	DefaultMaxRetryTimes    = 2
	DefaultRetryTimeout     = "30m"
)

// Reasons of a GiveUp decision, usable as the reason of the Failed condition.
const (
	// ReasonRetryLimitExceeded: retries are disabled or all allowed retries were made.
	ReasonRetryLimitExceeded = "RetryLimitExceeded"
	// ReasonRetryTimeoutExceeded: the next retry would start after the retry timeout.
	ReasonRetryTimeoutExceeded = "RetryTimeoutExceeded"
)

// Fields named in errors and messages, as a user finds them in the spec.
const (
	fieldMinRetryDuration = "spec.backoffRetryPolicy.minRetryDuration"
	fieldMaxRetryTimes    = "spec.backoffRetryPolicy.maxRetryTimes"
	fieldRetryTimeout     = "spec.backoffRetryPolicy.retryTimeout"
)

// Failure says why the current Job failed, for example the reason and message of the Job's
// Failed condition or of the failed Pod.
type Failure struct {
	Reason  string
	Message string
}

// String describes the failure for a record or a message: "Reason: Message", or whichever of the
// two is set.
func (f Failure) String() string {
	switch {
	case f.Reason != "" && f.Message != "":
		return f.Reason + ": " + f.Message
	case f.Reason != "":
		return f.Reason
	case f.Message != "":
		return f.Message
	default:
		return "an unknown reason"
	}
}

// Action is what the controller should do about a failed Job.
type Action int

const (
	// ActionRecord: append Decision.Record (the failure and when it is retried) and requeue at
	// Decision.At.
	ActionRecord Action = iota + 1
	// ActionWait: the retry is not due yet; requeue at Decision.At.
	ActionWait
	// ActionRetry: the retry is due; replace the last record with Decision.Record, delete the
	// failed Job and run the backup again.
	ActionRetry
	// ActionGiveUp: no more retries; mark the backup Failed with Decision.Reason and Message.
	ActionGiveUp
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case ActionRecord:
		return "Record"
	case ActionWait:
		return "Wait"
	case ActionRetry:
		return "Retry"
	case ActionGiveUp:
		return "GiveUp"
	default:
		return "Action(" + strconv.Itoa(int(a)) + ")"
	}
}

// Decision is what Decide found.
type Decision struct {
	Action Action
	// At is, for Record and Wait, when the retry is due: the caller requeues then. Zero otherwise.
	At time.Time
	// Record is, for Record, the new record to append; for Retry, the open record with
	// RealRetryAt and RetryReason set, to replace the last one. Zero otherwise.
	Record v1alpha1.BackoffRetryRecord
	// Reason and Message are, for GiveUp, a CamelCase reason and a sentence naming the limit and
	// the failure, usable as the Failed condition.
	Reason, Message string
}

// FieldError reports a spec field that cannot be used. The controller turns it into an Invalid
// condition; errors.As finds it in a wrapped error.
type FieldError struct {
	// Field is the field's path in the object, such as spec.backoffRetryPolicy.retryTimeout.
	Field string
	// Value is the value found there.
	Value string
	// Err is what is wrong with it.
	Err error
}

// Error says which field is wrong and why.
func (e *FieldError) Error() string {
	return fmt.Sprintf("parse %s %q: %v", e.Field, e.Value, e.Err)
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// policy is a BackoffRetryPolicy with the defaults filled in and the durations parsed.
type policy struct {
	spec    v1alpha1.BackoffRetryPolicy
	max     int
	timeout time.Duration
}

// Effective returns p with the defaults filled in (see the package documentation for when a zero
// maxRetryTimes is a default and when it disables retries), or a *FieldError when a duration is
// malformed or negative.
func Effective(p v1alpha1.BackoffRetryPolicy) (v1alpha1.BackoffRetryPolicy, error) {
	pol, err := resolve(p)
	if err != nil {
		return v1alpha1.BackoffRetryPolicy{}, err
	}
	return pol.spec, nil
}

func resolve(p v1alpha1.BackoffRetryPolicy) (policy, error) {
	if p == (v1alpha1.BackoffRetryPolicy{}) {
		// The policy was left out, so the API server applied none of its defaults.
		p.MaxRetryTimes = DefaultMaxRetryTimes
	}
	if p.MinRetryDuration == "" {
		p.MinRetryDuration = DefaultMinRetryDuration
	}
	if p.RetryTimeout == "" {
		p.RetryTimeout = DefaultRetryTimeout
	}
	if _, err := parseDuration(fieldMinRetryDuration, p.MinRetryDuration); err != nil {
		return policy{}, err
	}
	timeout, err := parseDuration(fieldRetryTimeout, p.RetryTimeout)
	if err != nil {
		return policy{}, err
	}
	return policy{spec: p, max: p.MaxRetryTimes, timeout: timeout}, nil
}

// parseDuration parses a non-negative Go duration found in field.
func parseDuration(field, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &FieldError{Field: field, Value: s, Err: err}
	}
	if d < 0 {
		return 0, &FieldError{Field: field, Value: s, Err: errors.New("must not be negative")}
	}
	return d, nil
}

// Pending returns the open record: the last one, when its retry has not started (RealRetryAt is
// unset).
func Pending(records []v1alpha1.BackoffRetryRecord) (open v1alpha1.BackoffRetryRecord, ok bool) {
	if len(records) == 0 || records[len(records)-1].RealRetryAt != nil {
		return v1alpha1.BackoffRetryRecord{}, false
	}
	return *records[len(records)-1].DeepCopy(), true
}

// Decide says what to do about a failed snapshot backup Job, given spec.backoffRetryPolicy,
// status.backoffRetryStatus, why the Job failed and the time. It returns a *FieldError when the
// policy's durations are malformed, whatever the records say, so that a broken spec is reported
// rather than acted on.
func Decide(p v1alpha1.BackoffRetryPolicy, records []v1alpha1.BackoffRetryRecord, f Failure, now time.Time) (Decision, error) {
	pol, err := resolve(p)
	if err != nil {
		return Decision{}, err
	}
	stamp := now.Truncate(time.Second)

	if open, ok := Pending(records); ok {
		if open.ExpectedRetryAt != nil && now.Before(open.ExpectedRetryAt.Time) {
			return Decision{Action: ActionWait, At: open.ExpectedRetryAt.Time}, nil
		}
		// The retry was accepted when the failure was recorded; it runs even if the operator
		// was down past the timeout meanwhile.
		started := metav1.NewTime(stamp)
		open.RealRetryAt = &started
		cause := f.String()
		if f == (Failure{}) && open.OriginalReason != "" {
			cause = open.OriginalReason
		}
		open.RetryReason = fmt.Sprintf("retry %d after the backup failed with %s", open.RetryNum, cause)
		return Decision{Action: ActionRetry, Record: open}, nil
	}

	n := len(records) + 1
	if pol.max <= 0 {
		return giveUp(ReasonRetryLimitExceeded, fmt.Sprintf(
			"The backup failed with %s and %s is %d, so it is not retried. Fix the cause and create a new Backup.",
			f, fieldMaxRetryTimes, pol.max)), nil
	}
	if n > pol.max {
		return giveUp(ReasonRetryLimitExceeded, fmt.Sprintf(
			"The backup failed again with %s after %d %s, the most %s allows. Fix the cause and create a new Backup.",
			f, pol.max, plural(pol.max, "retry", "retries"), fieldMaxRetryTimes)), nil
	}

	delay, err := pol.spec.RetryDelay(n)
	if err != nil {
		return Decision{}, fmt.Errorf("compute the delay of retry %d: %w", n, err)
	}
	due := stamp.Add(delay)
	first := stamp
	if len(records) > 0 && records[0].DetectFailedAt != nil {
		first = records[0].DetectFailedAt.Time
	}
	if deadline := first.Add(pol.timeout); due.After(deadline) {
		return giveUp(ReasonRetryTimeoutExceeded, fmt.Sprintf(
			"The backup failed with %s; retry %d would start at %s, more than %s (%s) after the first failure at %s, so it is not retried. Fix the cause and create a new Backup.",
			f, n, formatTime(due), fieldRetryTimeout, pol.spec.RetryTimeout, formatTime(first))), nil
	}

	detected, expected := metav1.NewTime(stamp), metav1.NewTime(due)
	return Decision{
		Action: ActionRecord,
		At:     due,
		Record: v1alpha1.BackoffRetryRecord{
			RetryNum:        n,
			DetectFailedAt:  &detected,
			ExpectedRetryAt: &expected,
			OriginalReason:  f.Reason,
		},
	}, nil
}

func giveUp(reason, message string) Decision {
	return Decision{Action: ActionGiveUp, Reason: reason, Message: message}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
