package task

import (
	"fmt"
	"time"
)

// Status is the kind of outcome a step reports.
type Status int

const (
	// StatusComplete: the step did its work (or had none); the next step runs.
	StatusComplete Status = iota
	// StatusWait: the step cannot go on until the world changes (a pod becomes ready, PD
	// becomes available); the rest of the list is skipped.
	StatusWait
	// StatusRetry: the step made progress or hit a transient condition and must run again after
	// a delay; the rest of the list is skipped.
	StatusRetry
	// StatusFail: the step failed with an error; the rest of the list is skipped and the error
	// is returned to controller-runtime, which backs off.
	StatusFail
)

func (s Status) String() string {
	switch s {
	case StatusComplete:
		return "Complete"
	case StatusWait:
		return "Wait"
	case StatusRetry:
		return "Retry"
	case StatusFail:
		return "Fail"
	default:
		return fmt.Sprintf("Status(%d)", int(s))
	}
}

// Result is what one step reports.
type Result struct {
	status  Status
	message string
	after   time.Duration
	err     error
	// broke is set by IfBreak: the list ends here, but the outcome itself is not an error.
	broke bool
}

// Complete reports success; message says what was done, or is empty.
func Complete(message string) Result {
	return Result{status: StatusComplete, message: message}
}

// Fail reports an error. The error is kept as is (not formatted into a string), so callers up
// the stack can still match it with errors.Is and errors.As.
func Fail(err error) Result {
	if err == nil {
		err = errUnknownFailure
	}
	return Result{status: StatusFail, message: err.Error(), err: err}
}

// Retry asks for the reconcile to run again after d (at least one second), saying why.
func Retry(d time.Duration, message string) Result {
	if d < minRetry {
		d = minRetry
	}
	return Result{status: StatusRetry, message: message, after: d}
}

// Wait stops the list until something changes; reason says what is awaited.
func Wait(reason string) Result {
	return Result{status: StatusWait, message: reason}
}

// minRetry keeps a buggy step from spinning the controller in a hot loop.
const minRetry = time.Second

var errUnknownFailure = fmt.Errorf("task failed without an error")

// Status is the kind of outcome.
func (r Result) Status() Status { return r.status }

// Message explains the outcome.
func (r Result) Message() string { return r.message }

// RequeueAfter is the delay a Retry asked for; zero otherwise.
func (r Result) RequeueAfter() time.Duration { return r.after }

// Err is the error of a Fail; nil otherwise.
func (r Result) Err() error { return r.err }

// stops reports whether the rest of the list must be skipped.
func (r Result) stops() bool { return r.status != StatusComplete || r.broke }
