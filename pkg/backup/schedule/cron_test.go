package schedule

import (
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestParse(t *testing.T) {
	valid := []string{
		"*/1 * * * *",
		"0 2 * * *",
		"30 */6 * * MON-FRI",
		"0 0 29 2 *",
		"@daily",
		"@midnight",
		"@every 12h",
		"@every 90s",
		"TZ=Asia/Shanghai 0 2 * * *",
		"CRON_TZ=UTC @hourly",
	}
	for _, expr := range valid {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}

	invalid := map[string]string{ // expression: part of the error
		"":                          "empty spec string",
		"* * * *":                   "expected exactly 5 fields",
		"0 * * * * *":               "expected exactly 5 fields",
		"61 * * * *":                "above maximum",
		"@every":                    "unrecognized descriptor",
		"@every 5 minutes":          "failed to parse duration",
		"@fortnightly":              "unrecognized descriptor",
		"TZ=Mars/Olympus 0 2 * * *": "provided bad location",
		"TZ=UTC":                    "the cron parser cannot read it",
		"0 0 30 2 *":                "never fires",
	}
	for expr, part := range invalid {
		_, err := Parse(expr)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "spec.schedule" {
			t.Errorf("Parse(%q) error = %v, want a *FieldError for spec.schedule", expr, err)
			continue
		}
		if !strings.Contains(err.Error(), part) || !strings.Contains(err.Error(), "spec.schedule") {
			t.Errorf("Parse(%q) error %q does not contain %q", expr, err, part)
		}
	}
}

func mustParse(t *testing.T, expr string) cron.Schedule {
	t.Helper()
	s, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func utc(year int, month time.Month, day, hour, min, sec int) time.Time {
	return time.Date(year, month, day, hour, min, sec, 0, time.UTC)
}

func TestDue(t *testing.T) {
	cases := map[string]struct {
		expr      string
		last, now time.Time
		wantDue   time.Time // zero: nothing due
		wantNext  time.Time
	}{
		"every minute, between ticks": {
			expr: "*/1 * * * *", last: utc(2024, 5, 1, 10, 0, 0), now: utc(2024, 5, 1, 10, 0, 30),
			wantNext: utc(2024, 5, 1, 10, 1, 0),
		},
		"every minute, exactly on the tick": {
			expr: "*/1 * * * *", last: utc(2024, 5, 1, 10, 0, 0), now: utc(2024, 5, 1, 10, 1, 0),
			wantDue: utc(2024, 5, 1, 10, 1, 0), wantNext: utc(2024, 5, 1, 10, 2, 0),
		},
		"every minute, last is the tick just run": {
			expr: "*/1 * * * *", last: utc(2024, 5, 1, 10, 1, 0), now: utc(2024, 5, 1, 10, 1, 0),
			wantNext: utc(2024, 5, 1, 10, 2, 0),
		},
		"operator down for ten ticks: one due tick, the latest": {
			expr: "*/1 * * * *", last: utc(2024, 5, 1, 10, 0, 0), now: utc(2024, 5, 1, 10, 10, 30),
			wantDue: utc(2024, 5, 1, 10, 10, 0), wantNext: utc(2024, 5, 1, 10, 11, 0),
		},
		"hourly, down for three days": {
			expr: "0 * * * *", last: utc(2024, 5, 1, 0, 0, 0), now: utc(2024, 5, 4, 12, 34, 56),
			wantDue: utc(2024, 5, 4, 12, 0, 0), wantNext: utc(2024, 5, 4, 13, 0, 0),
		},
		"daily, counted from the schedule's creation": {
			expr: "0 2 * * *", last: utc(2024, 5, 1, 10, 0, 0), now: utc(2024, 5, 1, 12, 0, 0),
			wantNext: utc(2024, 5, 2, 2, 0, 0),
		},
		"weekdays every six hours over a weekend": {
			expr: "30 */6 * * MON-FRI", last: utc(2024, 5, 3, 18, 30, 0), now: utc(2024, 5, 6, 5, 0, 0), // Friday to Monday
			wantDue: utc(2024, 5, 6, 0, 30, 0), wantNext: utc(2024, 5, 6, 6, 30, 0),
		},
		"last in the future (clock skew): nothing due, next after last": {
			expr: "*/1 * * * *", last: utc(2024, 5, 1, 10, 0, 0), now: utc(2024, 5, 1, 9, 0, 0),
			wantNext: utc(2024, 5, 1, 10, 1, 0),
		},
		"a zone prefix": {
			expr: "TZ=Asia/Shanghai 0 2 * * *", last: utc(2024, 5, 1, 0, 0, 0), now: utc(2024, 5, 3, 0, 0, 0),
			wantDue: utc(2024, 5, 2, 18, 0, 0), wantNext: utc(2024, 5, 3, 18, 0, 0),
		},
		"29 February over ten years": {
			expr: "0 0 29 2 *", last: utc(2020, 3, 1, 0, 0, 0), now: utc(2030, 1, 1, 0, 0, 0),
			wantDue: utc(2028, 2, 29, 0, 0, 0), wantNext: utc(2032, 2, 29, 0, 0, 0),
		},
		"every minute of January, a year and a half later": {
			expr: "* * * 1 *", last: utc(2023, 1, 15, 0, 0, 0), now: utc(2024, 6, 1, 0, 0, 0),
			wantDue: utc(2024, 1, 31, 23, 59, 0), wantNext: utc(2025, 1, 1, 0, 0, 0),
		},
		"every minute since 2000": {
			expr: "*/1 * * * *", last: utc(2000, 1, 1, 0, 0, 0), now: utc(2024, 5, 1, 10, 0, 30),
			wantDue: utc(2024, 5, 1, 10, 0, 0), wantNext: utc(2024, 5, 1, 10, 1, 0),
		},
		"@daily": {
			expr: "@daily", last: utc(2024, 5, 1, 0, 0, 0), now: utc(2024, 5, 2, 0, 0, 0),
			wantDue: utc(2024, 5, 2, 0, 0, 0), wantNext: utc(2024, 5, 3, 0, 0, 0),
		},
		"@every counts from last": {
			expr: "@every 1h", last: utc(2024, 5, 1, 10, 15, 30), now: utc(2024, 5, 1, 13, 35, 30),
			wantDue: utc(2024, 5, 1, 13, 15, 30), wantNext: utc(2024, 5, 1, 14, 15, 30),
		},
		"@every, not yet": {
			expr: "@every 1h", last: utc(2024, 5, 1, 10, 15, 30), now: utc(2024, 5, 1, 10, 45, 0),
			wantNext: utc(2024, 5, 1, 11, 15, 30),
		},
		"@every, exactly on the tick": {
			expr: "@every 90s", last: utc(2024, 5, 1, 10, 0, 0), now: utc(2024, 5, 1, 10, 1, 30),
			wantDue: utc(2024, 5, 1, 10, 1, 30), wantNext: utc(2024, 5, 1, 10, 3, 0),
		},
		"@every drops the sub-second part of last": {
			expr: "@every 1h", last: utc(2024, 5, 1, 10, 0, 0).Add(700 * time.Millisecond), now: utc(2024, 5, 1, 11, 0, 0),
			wantDue: utc(2024, 5, 1, 11, 0, 0), wantNext: utc(2024, 5, 1, 12, 0, 0),
		},
		"@every with last in the future": {
			expr: "@every 1h", last: utc(2024, 5, 1, 12, 0, 0), now: utc(2024, 5, 1, 10, 0, 0),
			wantNext: utc(2024, 5, 1, 13, 0, 0),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			due, ok, next := Due(mustParse(t, tc.expr), tc.last, tc.now)
			if ok != !tc.wantDue.IsZero() || !due.Equal(tc.wantDue) {
				t.Errorf("due = %v, %v; want %v", due, ok, tc.wantDue)
			}
			if !next.Equal(tc.wantNext) {
				t.Errorf("next = %v, want %v", next, tc.wantNext)
			}
		})
	}
}

func TestDueNeverFiring(t *testing.T) {
	// Parse rejects such a schedule, but Due must still terminate on one.
	s, err := cron.ParseStandard("0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	due, ok, next := Due(s, utc(2024, 1, 1, 0, 0, 0), utc(2024, 6, 1, 0, 0, 0))
	if ok || !due.IsZero() || !next.IsZero() {
		t.Errorf("Due = %v, %v, %v; want nothing, ever", due, ok, next)
	}
}

// TestDueMatchesWalkingTheTicks checks the bisection against v1.6's walk over every tick.
func TestDueMatchesWalkingTheTicks(t *testing.T) {
	day := 24 * time.Hour
	exprs := []struct {
		expr   string
		outage time.Duration // the longest tried
	}{
		{"*/1 * * * *", day},
		{"*/7 * * * *", 3 * day},
		{"0 * * * *", 20 * day},
		{"15 2 * * *", 100 * day},
		{"30 */6 * * MON-FRI", 30 * day},
		{"0 0 1 * *", 400 * day},
		{"* 9-17 * * 1-5", 4 * day},
		{"TZ=America/New_York 30 1 * * *", 100 * day}, // crosses daylight-saving changes
	}
	rng := rand.New(rand.NewSource(1))
	start := utc(2024, 1, 1, 0, 0, 0)
	for _, e := range exprs {
		expr, outage := e.expr, e.outage
		s := mustParse(t, expr)
		for i := 0; i < 100; i++ {
			last := start.Add(time.Duration(rng.Int63n(int64(365 * day))))
			now := last.Add(time.Duration(rng.Int63n(int64(outage))))
			var want time.Time
			for tick := s.Next(last); !tick.IsZero() && !tick.After(now); tick = s.Next(tick) {
				want = tick
			}
			due, ok, next := Due(s, last, now)
			if ok != !want.IsZero() || !due.Equal(want) {
				t.Fatalf("%s: Due(%v, %v) = %v, %v; walking the ticks gives %v", expr, last, now, due, ok, want)
			}
			if !next.Equal(s.Next(now)) {
				t.Fatalf("%s: Due(%v, %v) next = %v, want %v", expr, last, now, next, s.Next(now))
			}
		}
	}
}
