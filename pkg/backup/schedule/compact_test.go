package schedule

import (
	"errors"
	"testing"
	"time"
)

func TestCompactDue(t *testing.T) {
	cases := map[string]struct {
		interval          string
		lastEnd, logStart uint64
		lastRun           time.Time
		wantFrom          uint64
		wantUntil         uint64 // with wantFrom 0: not due
		wantNext          time.Time
	}{
		"the first compaction starts at the log backup's start": {
			interval: "1h", logStart: tso(30 * time.Minute),
			wantFrom: tso(30 * time.Minute), wantUntil: tso(0), wantNext: now.Add(h),
		},
		"not due before the interval passed": {
			interval: "1h", lastEnd: tso(30 * time.Minute), logStart: tso(10 * h), lastRun: now.Add(-30 * time.Minute),
			wantNext: now.Add(30 * time.Minute),
		},
		"due exactly when the interval passed, from the last end": {
			interval: "1h", lastEnd: tso(h), logStart: tso(10 * h), lastRun: now.Add(-h),
			wantFrom: tso(h), wantUntil: tso(0), wantNext: now.Add(h),
		},
		"a backlog is compacted three intervals at a time": {
			interval: "1h", lastEnd: tso(10 * h), logStart: tso(20 * h), lastRun: now.Add(-9 * h),
			wantFrom: tso(10 * h), wantUntil: tso(7 * h), wantNext: now.Add(h),
		},
		"a log backup started after the last compaction": {
			interval: "2h", lastEnd: tso(5 * h), logStart: tso(3 * h), lastRun: now.Add(-4 * h),
			wantFrom: tso(3 * h), wantUntil: tso(0), wantNext: now.Add(2 * h),
		},
		"no log backup yet": {
			interval: "1h", wantNext: now.Add(h),
		},
		"the last run is in the future (clock skew)": {
			interval: "1h", lastEnd: tso(h), logStart: tso(10 * h), lastRun: now.Add(10 * time.Minute),
			wantNext: now.Add(h + 10*time.Minute),
		},
		"the last end is in the future (clock skew)": {
			interval: "1h", lastEnd: tso(-time.Minute), logStart: tso(10 * h), lastRun: now.Add(-2 * h),
			wantNext: now.Add(h),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			from, until, ok, next, err := CompactDue(tc.interval, tc.lastEnd, tc.logStart, tc.lastRun, now)
			if err != nil {
				t.Fatal(err)
			}
			if from != tc.wantFrom || until != tc.wantUntil || ok != (tc.wantFrom != 0) {
				t.Errorf("window = [%d, %d), %v; want [%d, %d)", from, until, ok, tc.wantFrom, tc.wantUntil)
			}
			if !next.Equal(tc.wantNext) {
				t.Errorf("next = %v, want %v", next, tc.wantNext)
			}
		})
	}
}

func TestCompactDueRejectsInterval(t *testing.T) {
	for _, s := range []string{"1 hour", "", "0s", "-1h"} {
		_, _, ok, _, err := CompactDue(s, 0, tso(h), time.Time{}, now)
		var fe *FieldError
		if ok || !errors.As(err, &fe) || fe.Field != "spec.compactInterval" {
			t.Errorf("CompactDue(%q) = %v, %v; want a *FieldError for spec.compactInterval", s, ok, err)
		}
	}
}

func TestWithout(t *testing.T) {
	items := []Item{complete("a", 3*h), complete("b", 2*h), complete("c", h)}
	if got := names(Without(items, []Item{{Name: "b"}, {Name: "x"}})); len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("Without = %v, want [a c]", got)
	}
}
