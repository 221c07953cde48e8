package schedule

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

const fieldSchedule = "spec.schedule"

// FieldError reports a spec field that cannot be used. The controller turns it into an Invalid
// condition; errors.As finds it in a wrapped error.
type FieldError struct {
	// Field is the field's path in the object, such as spec.schedule.
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

// neverFiresFrom is the time a schedule must fire within five years of to be accepted. Any cron
// expression that fires at all does so within five years (cron's own search limit) of any date;
// a fixed date keeps Parse pure. 2000 is a leap year, so "29 February" schedules pass.
var neverFiresFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse reads spec.schedule with cron.ParseStandard. It returns a *FieldError naming
// spec.schedule with the parser's message, also for an expression that never fires (such as
// 30 February), which would otherwise wait forever without a word.
func Parse(expr string) (s cron.Schedule, err error) {
	defer func() {
		// cron v3.0.1 panics on a zone prefix without a following space ("TZ=UTC"); the CRD's
		// pattern rejects it, but a user's string must never crash the controller.
		if r := recover(); r != nil {
			s, err = nil, &FieldError{Field: fieldSchedule, Value: expr, Err: fmt.Errorf("the cron parser cannot read it: %v", r)}
		}
	}()
	s, err = cron.ParseStandard(expr)
	if err != nil {
		return nil, &FieldError{Field: fieldSchedule, Value: expr, Err: err}
	}
	if s.Next(neverFiresFrom).IsZero() {
		return nil, &FieldError{Field: fieldSchedule, Value: expr, Err: errors.New("the schedule never fires")}
	}
	return s, nil
}

// Due returns the tick that should run now: the latest tick t with last < t <= now, with ok
// false when there is none. last is status.lastBackupTime, or the schedule's creation time when
// it never ran. next is the first tick after both now and last, when the caller requeues: after
// running due (and recording it as the last Backup time) that is the next tick, and when last is
// in the future (the clocks disagree) it is the first tick that can become due, so nothing runs
// twice. next is zero for a schedule that never fires again.
func Due(s cron.Schedule, last, now time.Time) (due time.Time, ok bool, next time.Time) {
	switch c := s.(type) {
	case cron.ConstantDelaySchedule:
		return dueEvery(c.Delay, last, now)
	case *cron.ConstantDelaySchedule:
		if c != nil {
			return dueEvery(c.Delay, last, now)
		}
	}
	return dueCalendar(s, last, now)
}

// dueEvery handles "@every d": the ticks are last + k*d, with last's sub-second part dropped as
// cron.ConstantDelaySchedule.Next drops it.
func dueEvery(delay time.Duration, last, now time.Time) (time.Time, bool, time.Time) {
	delay = max(delay, time.Second) // cron.Every never delays less
	base := last.Add(-time.Duration(last.Nanosecond()))
	first := base.Add(delay)
	if now.Before(first) {
		return time.Time{}, false, first
	}
	k := now.Sub(base) / delay
	due := base.Add(k * delay)
	return due, true, due.Add(delay)
}

// dueCalendar handles schedules whose ticks are fixed points in time (cron expressions and the
// @daily-style descriptors), for which s.Next(t) is the first tick after t whatever t is.
func dueCalendar(s cron.Schedule, last, now time.Time) (time.Time, bool, time.Time) {
	if !now.After(last) {
		return time.Time{}, false, s.Next(last)
	}
	first := s.Next(last)
	if first.IsZero() || first.After(now) {
		return time.Time{}, false, first
	}
	// The common cases, one tick due, take two calls.
	second := s.Next(first)
	if second.IsZero() || second.After(now) {
		return first, true, second
	}
	// Several ticks were missed. Next is monotonic, so bisect for the latest lo with
	// Next(lo) <= now; ticks are whole seconds, so once hi-lo is a second at most, Next(lo) is
	// the latest tick not after now. The invariant keeps the result in (last, now] even should
	// a schedule not be monotonic across a daylight-saving change.
	lo, hi := first, now
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if t := s.Next(mid); !t.IsZero() && !t.After(now) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.Next(lo), true, s.Next(now)
}
