package brlog

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Throttle passes values on to report at most once per interval: the first value at once, then
// the latest value when the interval since the previous report has passed, and on Flush the
// latest one not yet reported. A value equal to the one last reported is never reported again,
// so a tool repeating the same progress makes no writes.
//
// Reports happen one at a time and in the order the values were decided on, from the goroutine
// of Offer or Flush or from a timer's. report must not call Offer or Flush, and should return
// quickly (hand the value to a writer goroutine): an Offer that reports waits for it, and so
// does the tool's output handler calling Offer. The methods are safe for concurrent use.
//
// Flush ends the Throttle: it returns only once no report is running, and none starts after
// it, so the caller may then close whatever report writes to. A timer that fires after Flush
// does nothing, and a value offered after Flush is dropped. A second Flush only waits.
type Throttle[T comparable] struct {
	interval time.Duration
	clock    clock.Clock
	report   func(T)

	mu       sync.Mutex
	reported bool      // last holds a reported value
	last     T         // the value last reported
	lastAt   time.Time // when it was reported (or due to be)
	pending  bool      // next waits for the timer or Flush
	next     T
	armed    bool   // a timer is scheduled for generation gen
	gen      uint64 // invalidates timers that Flush superseded
	stop     func() // stops the armed timer, once it is known
	stopped  bool   // Flush was called: nothing more is reported

	// reportMu makes reports sequential. It is taken while mu is still held, so reports keep
	// the order in which they were decided under mu; Flush takes it too, to wait for a report
	// that a timer or an Offer started before Flush took mu.
	reportMu sync.Mutex
}

// NewThrottle returns a Throttle reporting through report. clk is the time source (nil means
// the real clock); a clock that also implements clock.WithDelayedExecution, as the real clock
// and k8s.io/utils/clock/testing's FakeClock do, runs the delayed report through AfterFunc, any
// other through NewTimer and a goroutine.
func NewThrottle[T comparable](interval time.Duration, clk clock.Clock, report func(T)) *Throttle[T] {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Throttle[T]{interval: interval, clock: clk, report: report}
}

// Offer hands over the latest value.
func (t *Throttle[T]) Offer(v T) {
	// The clock is read before taking mu, and scheduled after releasing it: FakeClock runs
	// AfterFunc callbacks (which take mu) with its own lock held, so calling the clock under
	// mu could deadlock against a concurrent Step.
	now := t.clock.Now()
	t.mu.Lock()
	if t.stopped {
		// The caller may already have closed what report writes to.
		t.mu.Unlock()
		return
	}
	if t.reported && v == t.last {
		// The latest value is the one already out: whatever was pending is stale.
		t.pending = false
		t.mu.Unlock()
		return
	}
	if !t.reported || (!t.armed && now.Sub(t.lastAt) >= t.interval) {
		t.emitLocked(v, now)
		return
	}
	t.next, t.pending = v, true
	if t.armed {
		t.mu.Unlock()
		return
	}
	t.armed = true
	t.gen++
	gen := t.gen
	due := t.lastAt.Add(t.interval)
	t.mu.Unlock()

	stop := t.schedule(due.Sub(now), func() { t.fire(gen, due) })
	t.mu.Lock()
	if t.armed && t.gen == gen {
		t.stop, stop = stop, nil
	}
	t.mu.Unlock()
	if stop != nil {
		// The timer already fired or Flush superseded it.
		stop()
	}
}

// Flush reports the latest value if it was not reported yet, cancels the pending timer and
// stops the Throttle. It returns once every report has returned, the one it made and any that
// was running when it was called. Call it when the tool ended, so that its last progress is
// not lost, and before closing what report writes to.
func (t *Throttle[T]) Flush() {
	now := t.clock.Now()
	t.mu.Lock()
	stop := t.stop
	// stopped and the new generation are set under mu, so a timer that fires from now on and
	// an Offer that comes after this see them and report nothing.
	t.stopped = true
	t.armed, t.stop = false, nil
	t.gen++
	if t.pending {
		// emitLocked waits for a running report before starting this one, and returns when
		// this one has returned.
		t.emitLocked(t.next, now)
	} else {
		t.mu.Unlock()
		// A timer may have cleared pending and be inside report right now: without this wait,
		// Flush would return while it runs and the caller would close what it writes to.
		t.waitForReport()
	}
	if stop != nil {
		stop()
	}
}

// fire is the timer of generation gen going off.
func (t *Throttle[T]) fire(gen uint64, due time.Time) {
	t.mu.Lock()
	if t.stopped || !t.armed || t.gen != gen {
		// Flush superseded this timer (and cancelled it, but it had already fired).
		t.mu.Unlock()
		return
	}
	t.armed, t.stop = false, nil
	if !t.pending {
		t.mu.Unlock()
		return
	}
	// due rather than the clock's now: the callback may run inside the clock's lock.
	t.emitLocked(t.next, due)
}

// emitLocked records v as reported at at and reports it. It is called with mu held and
// releases it.
func (t *Throttle[T]) emitLocked(v T, at time.Time) {
	t.last, t.reported, t.lastAt, t.pending = v, true, at, false
	t.reportMu.Lock()
	t.mu.Unlock()
	defer t.reportMu.Unlock()
	t.report(v)
}

// waitForReport returns once no report is running. Call it without mu held.
func (t *Throttle[T]) waitForReport() {
	t.reportMu.Lock()
	defer t.reportMu.Unlock()
}

// schedule runs f after d and returns a function that cancels it.
func (t *Throttle[T]) schedule(d time.Duration, f func()) func() {
	if dc, ok := t.clock.(clock.WithDelayedExecution); ok {
		tm := dc.AfterFunc(d, f)
		return func() { tm.Stop() }
	}
	tm := t.clock.NewTimer(d)
	done := make(chan struct{})
	go func() {
		select {
		case <-tm.C():
			f()
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			tm.Stop()
			close(done)
		})
	}
}
