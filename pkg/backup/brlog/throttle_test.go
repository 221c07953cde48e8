package brlog

import (
	"slices"
	"sync"
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
			{flush: true, want: nil},
			{offer: 1, want: []int{1}},
			{flush: true, want: []int{1}},
		}},
		{"values offered after a flush are throttled from the flush", interval, []op{
			{offer: 1, want: []int{1}},
			{offer: 2, want: []int{1}},
			{flush: true, want: []int{1, 2}},
			{offer: 3, want: []int{1, 2}},
			{step: interval, want: []int{1, 2, 3}},
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
	t.Run("reports keep the order of the offers with the real clock and Flush from another goroutine", func(t *testing.T) {
		var r recorder
		th := NewThrottle(time.Millisecond, nil, r.report)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				th.Flush()
				time.Sleep(100 * time.Microsecond)
			}
		}()
		for v := 1; v <= n; v++ {
			th.Offer(v)
		}
		wg.Wait()
		th.Flush()
		check(t, r.reports())
	})
}
