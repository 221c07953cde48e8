package brlog

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
)

// recorder collects reports.
type recorder struct {
	mu  sync.Mutex
	got []int
}

func (r *recorder) report(v int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, v)
}

func (r *recorder) reports() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// timerOnlyClock hides FakeClock's AfterFunc, so the throttle takes its NewTimer path.
type timerOnlyClock struct{ clock.Clock }

// op is one step of a scenario: offer a value, advance the clock, or flush; want is every
// report expected so far.
type op struct {
	offer int
	step  time.Duration
	flush bool
	want  []int
}

func TestThrottle(t *testing.T) {
	const interval = time.Second
	scenarios := []struct {
		name     string
		interval time.Duration
		ops      []op
	}{
		{"the first value is reported at once", interval, []op{{offer: 1, want: []int{1}}}},
		{"values within the interval wait for it and only the latest is reported", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{offer: 3, want: []int{1}},
			{step: 999 * time.Millisecond, want: []int{1}},
			{step: time.Millisecond, want: []int{1, 3}},
		}},
		{"a value equal to the last reported one is not reported again", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 1, want: []int{1}},
			{step: interval, want: []int{1}},
			{offer: 1, want: []int{1}},
			{flush: true, want: []int{1}},
		}},
		{"a pending value overtaken by the reported one is dropped", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{offer: 1, want: []int{1}},
			{step: interval, want: []int{1}},
			{flush: true, want: []int{1}},
		}},
		{"after a quiet interval a new value is reported at once", interval, []op{
			{offer: 1, want: []int{1}},
			{step: 2 * interval, want: []int{1}},
			{offer: 2, want: []int{1, 2}},
		}},
		{"the timer fires one interval after the last report, not after the offer", interval, []op{
			{offer: 1, want: []int{1}},
			{step: 600 * time.Millisecond, want: []int{1}},
			{offer: 2, want: []int{1}},
			{step: 400 * time.Millisecond, want: []int{1, 2}},
		}},
		{"after a timed report the next value waits a full interval", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{step: interval, want: []int{1, 2}},
			{offer: 3, want: []int{1, 2}},
			{step: interval / 2, want: []int{1, 2}},
			{step: interval / 2, want: []int{1, 2, 3}},
		}},
		{"flush reports the pending value and cancels the timer", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{flush: true, want: []int{1, 2}},
			{step: 2 * interval, want: []int{1, 2}},
		}},
		{"flush with nothing pending reports nothing", interval, []op{
			{offer: 1, want: []int{1}},
			{flush: true, want: []int{1}},
		}},
		{"values offered after a flush are dropped, since the caller may have closed what report writes to", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{flush: true, want: []int{1, 2}},
			{offer: 3, want: []int{1, 2}},
			{step: interval, want: []int{1, 2}},
			{step: 2 * interval, want: []int{1, 2}},
			{offer: 4, want: []int{1, 2}},
		}},
		{"a first value offered after a flush is dropped too", interval, []op{
			{flush: true, want: nil},
			{offer: 1, want: nil},
			{step: interval, want: nil},
		}},
		{"a second flush reports nothing more", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{flush: true, want: []int{1, 2}},
			{offer: 3, want: []int{1, 2}},
			{flush: true, want: []int{1, 2}},
		}},
		{"a zero interval reports every distinct value at once", 0, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1, 2}},
			{offer: 2, want: []int{1, 2}},
			{offer: 3, want: []int{1, 2, 3}},
		}},
	}
	clocks := []struct {
		name string
		make func(*clocktesting.FakeClock) clock.Clock
	}{
		{"with AfterFunc", func(f *clocktesting.FakeClock) clock.Clock { return f }},
		{"with a timer only", func(f *clocktesting.FakeClock) clock.Clock { return timerOnlyClock{f} }},
	}
	for _, c := range clocks {
		for _, sc := range scenarios {
			t.Run(sc.name+" ("+c.name+")", func(t *testing.T) {
				fake := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
				var r recorder
				th := NewThrottle(sc.interval, c.make(fake), r.report)
				for i, o := range sc.ops {
					switch {
					case o.flush:
						th.Flush()
					case o.step != 0:
						fake.Step(o.step)
					default:
						th.Offer(o.offer)
					}
					// The timer-only path reports from a goroutine: give it time, then make
					// sure nothing more arrives.
					waitReports(t, &r, o.want, i)
				}
			})
		}
	}
}

func waitReports(t *testing.T, r *recorder, want []int, step int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !slices.Equal(r.reports(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("after step %d: reports = %v, want %v", step, r.reports(), want)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * time.Millisecond)
	if got := r.reports(); !slices.Equal(got, want) {
		t.Fatalf("after step %d: reports = %v, want %v", step, got, want)
	}
}

func TestThrottleConcurrency(t *testing.T) {
	const n = 2000
	check := func(t *testing.T, got []int) {
		t.Helper()
		if len(got) == 0 || got[len(got)-1] != n {
			t.Fatalf("the last report is not the last value: %v", got[max(0, len(got)-5):])
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("reports out of order at %d: %d after %d", i, got[i], got[i-1])
			}
		}
	}
	t.Run("reports keep the order of the offers while a fake clock is stepped concurrently", func(t *testing.T) {
		fake := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
		var r recorder
		th := NewThrottle(10*time.Millisecond, fake, r.report)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					fake.Step(3 * time.Millisecond)
				}
			}
		}()
		for v := 1; v <= n; v++ {
			th.Offer(v)
		}
		close(stop)
		wg.Wait()
		th.Flush()
		check(t, r.reports())
	})
	t.Run("a flush from another goroutine during the offers ends the reports, which stay in order", func(t *testing.T) {
		for range 20 {
			var r recorder
			var flushed atomic.Bool
			var after atomic.Int64
			th := NewThrottle(time.Millisecond, nil, func(v int) {
				if flushed.Load() {
					after.Store(int64(v))
				}
				r.report(v)
			})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
				th.Flush()
				flushed.Store(true)
			}()
			for v := 1; v <= n; v++ {
				th.Offer(v)
			}
			wg.Wait()
			time.Sleep(5 * time.Millisecond) // room for a timer that would still fire
			if v := after.Load(); v != 0 {
				t.Fatalf("%d was reported after Flush returned", v)
			}
			got := r.reports()
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("reports out of order at %d: %d after %d", i, got[i], got[i-1])
				}
			}
		}
	})
}

// TestThrottleFlushWaitsForATimedReport is the race the manager hit: the timer fires, clears
// pending and is inside report when Flush comes; a Flush that saw nothing pending and returned
// at once let the manager close the channel that report was about to send on (a panic on the
// timer's goroutine). Flush must wait for that report, and nothing may be reported after it.
func TestThrottleFlushWaitsForATimedReport(t *testing.T) {
	const interval = 10 * time.Millisecond
	// The real clock and the timer-only fake clock run the timer's report on a goroutine of its
	// own, as production does. FakeClock's AfterFunc runs it inside Step, under the clock's
	// lock, which Flush's clock.Now waits for: that path is checked too, but never raced.
	clocks := []struct {
		name string
		// make returns the clock and a function firing the timer armed one interval ahead.
		make func() (clock.Clock, func())
	}{
		{"with the real clock", func() (clock.Clock, func()) { return nil, func() {} }},
		{"with a fake clock's timer", func() (clock.Clock, func()) {
			fake := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
			return timerOnlyClock{fake}, func() { waitForWaiter(t, fake); fake.Step(interval) }
		}},
		{"with a fake clock's AfterFunc", func() (clock.Clock, func()) {
			fake := clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
			return fake, func() { waitForWaiter(t, fake); go fake.Step(interval) }
		}},
	}
	for _, c := range clocks {
		t.Run("flush returns only after the report the timer started, and nothing is reported after it ("+c.name+")", func(t *testing.T) {
			clk, fireTimer := c.make()
			var (
				r        recorder
				flushed  atomic.Bool // Flush has returned
				late     atomic.Int64
				entered  = make(chan struct{})
				release  = make(chan struct{})
				blockOne sync.Once
			)
			th := NewThrottle(interval, clk, func(v int) {
				if flushed.Load() {
					late.Store(int64(v))
				}
				if v == 2 {
					// The timed report: it blocks, as a report handing its value to a busy
					// writer would, until the test has seen that Flush waits for it.
					blockOne.Do(func() {
						close(entered)
						<-release
					})
				}
				r.report(v)
			})
			th.Offer(1) // reported at once
			th.Offer(2) // pending: the timer reports it
			fireTimer()
			select {
			case <-entered:
			case <-time.After(5 * time.Second):
				t.Fatal("the timer did not start the report")
			}

			done := make(chan struct{})
			go func() {
				th.Flush()
				flushed.Store(true)
				close(done)
			}()
			select {
			case <-done:
				t.Fatal("Flush returned while the timer's report was still running")
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Flush did not return after the report did")
			}
			if got := r.reports(); !slices.Equal(got, []int{1, 2}) {
				t.Fatalf("reports = %v when Flush returned, want [1 2]", got)
			}

			// Nothing more may start: not an offer, not a timer.
			th.Offer(3)
			th.Offer(4)
			if f, ok := clk.(*clocktesting.FakeClock); ok {
				f.Step(10 * interval)
			} else if f, ok := clk.(timerOnlyClock); ok {
				f.Clock.(*clocktesting.FakeClock).Step(10 * interval)
			}
			time.Sleep(5 * interval)
			if v := late.Load(); v != 0 {
				t.Fatalf("%d was reported after Flush returned", v)
			}
			if got := r.reports(); !slices.Equal(got, []int{1, 2}) {
				t.Fatalf("reports = %v after Flush, want [1 2]", got)
			}
		})
	}
}

// waitForWaiter waits until the throttle has armed its timer on fake, so that stepping the
// clock fires it.
func waitForWaiter(t *testing.T, fake *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !fake.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("the throttle armed no timer")
		}
		time.Sleep(time.Millisecond)
	}
}
