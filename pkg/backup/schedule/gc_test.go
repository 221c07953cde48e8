package schedule

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// now is the time of every GC case; items are created relative to it.
var now = utc(2024, 5, 10, 12, 0, 0)

func tso(ago time.Duration) uint64 { return v1alpha1.TimeToTSO(now.Add(-ago)) }

// Items created ago before now, whose snapshot was taken then.
func complete(name string, ago time.Duration) Item {
	return Item{Name: name, Created: now.Add(-ago), CommitTs: tso(ago), Finished: true}
}

func failed(name string, ago time.Duration) Item {
	return Item{Name: name, Created: now.Add(-ago), Finished: true, Failed: true}
}

func running(name string, ago time.Duration) Item {
	return Item{Name: name, Created: now.Add(-ago)}
}

// retrying failed and waits for a retry: not finished.
func retrying(name string, ago time.Duration) Item {
	return Item{Name: name, Created: now.Add(-ago), Failed: true}
}

func names(items []Item) []string {
	var n []string
	for _, it := range items {
		n = append(n, it.Name)
	}
	return n
}

const h = time.Hour

func TestByCount(t *testing.T) {
	cases := map[string]struct {
		items []Item
		max   int
		want  []string
	}{
		"the oldest beyond maxBackups, oldest first": {
			items: []Item{complete("c3", 3*h), complete("c1", 5*h), complete("c5", 1*h), complete("c2", 4*h), complete("c4", 2*h)},
			max:   3, want: []string{"c1", "c2"},
		},
		"within the limit": {
			items: []Item{complete("c1", 2*h), complete("c2", 1*h)}, max: 3,
		},
		"ties in creation time go by name": {
			items: []Item{complete("bs-2024-05-10t11-00-01", h), complete("bs-2024-05-10t11-00-00", h), complete("bs-2024-05-10t12-00-00", 0)},
			max:   1, want: []string{"bs-2024-05-10t11-00-00", "bs-2024-05-10t11-00-01"},
		},
		"a running Backup is not counted": {
			items: []Item{complete("c1", 3*h), complete("c2", 2*h), complete("c3", 1*h), running("r4", 0)},
			max:   3,
		},
		"an old unfinished Backup is not chosen": {
			items: []Item{running("r0", 10*h), complete("c1", 4*h), complete("c2", 3*h), complete("c3", 2*h), retrying("f4", 1*h)},
			max:   2, want: []string{"c1"},
		},
		"failures do not push out the last good Backup": {
			items: []Item{complete("c1", 4*h), failed("f2", 3*h), failed("f3", 2*h), failed("f4", 1*h)},
			max:   2, want: []string{"f2"},
		},
		"maxBackups 1 with a failed newest Backup keeps the newest complete one too": {
			items: []Item{complete("c1", 3*h), complete("c2", 2*h), failed("f3", 1*h)},
			max:   1, want: []string{"c1"},
		},
		"no limit": {
			items: []Item{complete("c1", 3*h), complete("c2", 2*h)}, max: 0,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := names(ByCount(tc.items, tc.max)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ByCount = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestByAge(t *testing.T) {
	cases := map[string]struct {
		items []Item
		pitr  bool
		want  []string
	}{
		"older than 24h, oldest first": {
			items: []Item{complete("c1", 72*h), complete("c4", 23*h), complete("c2", 48*h), complete("c3", 25*h), complete("c5", 1*h)},
			want:  []string{"c1", "c2", "c3"},
		},
		"exactly at the cutoff is kept": {
			items: []Item{complete("c1", 24*h+time.Second), complete("c2", 24*h), complete("c3", h)},
			want:  []string{"c1"},
		},
		"unfinished Backups are not chosen": {
			items: []Item{running("r1", 72*h), retrying("f2", 48*h), complete("c3", 30*h), complete("c4", h)},
			want:  []string{"c3"},
		},
		"the newest complete Backup stays when all are old": {
			items: []Item{complete("c1", 72*h), failed("f2", 48*h), failed("f3", 30*h)},
			want:  []string{"f2", "f3"},
		},
		"with a log backup the newest complete Backup before the cutoff stays as the PiTR base": {
			items: []Item{complete("c1", 72*h), complete("c2", 48*h), failed("f3", 30*h), complete("c4", 25*h), complete("c5", 23*h), complete("c6", h)},
			pitr:  true, want: []string{"c1", "c2", "f3"},
		},
		"with a log backup, a failed Backup is no PiTR base": {
			items: []Item{complete("c1", 72*h), failed("f2", 30*h), complete("c3", h)},
			pitr:  true, want: []string{"f2"},
		},
		"ties in creation time go by name": {
			items: []Item{complete("b", 48*h), complete("a", 48*h), complete("c", h)},
			want:  []string{"a", "b"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := names(ByAge(tc.items, 24*h, now, tc.pitr)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ByAge = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseReservedTime(t *testing.T) {
	for s, want := range map[string]time.Duration{"24h": 24 * h, "72h": 72 * h, "168h30m": 168*h + 30*time.Minute, "0": 0} {
		if got, err := ParseReservedTime(s); err != nil || got != want {
			t.Errorf("ParseReservedTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"3d", "", "-1h", "72"} {
		_, err := ParseReservedTime(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "spec.maxReservedTime" {
			t.Errorf("ParseReservedTime(%q) error = %v, want a *FieldError for spec.maxReservedTime", s, err)
		}
	}
}

func TestTruncateUntil(t *testing.T) {
	log := LogRange{Start: tso(100 * h), Checkpoint: tso(time.Minute)}
	cases := map[string]struct {
		kept   []Item
		log    LogRange
		want   uint64
		wantOK bool
	}{
		"at the PiTR base": {
			kept: []Item{complete("c4", 25*h), complete("c5", 23*h), complete("c6", h)}, log: log,
			want: tso(25 * h), wantOK: true,
		},
		"at the smallest commit TSO, whatever the order": {
			kept: []Item{complete("c6", h), complete("c4", 25*h), complete("c5", 23*h)}, log: log,
			want: tso(25 * h), wantOK: true,
		},
		"never later than now-reserved": {
			kept: []Item{complete("c5", 23*h), complete("c6", h)}, log: log,
			want: tso(24 * h), wantOK: true,
		},
		"a snapshot whose commit TSO follows its creation": {
			kept: []Item{{Name: "c4", Created: now.Add(-24*h - time.Second), CommitTs: tso(24*h - 5*time.Second), Finished: true}}, log: log,
			want: tso(24 * h), wantOK: true,
		},
		"failed and unfinished Backups do not hold the log": {
			kept: []Item{failed("f1", 50*h), running("r2", 40*h), complete("c3", 30*h)}, log: log,
			want: tso(30 * h), wantOK: true,
		},
		"a kept complete Backup without a commit TSO": {
			kept: []Item{{Name: "c1", Created: now.Add(-30 * h), Finished: true}, complete("c2", 25*h)}, log: log,
		},
		"no complete Backup is kept": {
			kept: []Item{failed("f1", 30*h)}, log: log,
		},
		"already truncated there": {
			kept: []Item{complete("c4", 25*h)}, log: LogRange{Start: tso(100 * h), Truncated: tso(25 * h), Checkpoint: tso(time.Minute)},
		},
		"further than truncated before": {
			kept: []Item{complete("c4", 25*h)}, log: LogRange{Start: tso(100 * h), Truncated: tso(49 * h), Checkpoint: tso(time.Minute)},
			want: tso(25 * h), wantOK: true,
		},
		"not after the log backup's start": {
			kept: []Item{complete("c4", 25*h)}, log: LogRange{Start: tso(25 * h), Checkpoint: tso(time.Minute)},
		},
		"the checkpoint is unknown": {
			kept: []Item{complete("c4", 25*h)}, log: LogRange{Start: tso(100 * h)},
		},
		"the log backup lags behind the truncate point": {
			kept: []Item{complete("c4", 25*h)}, log: LogRange{Start: tso(100 * h), Checkpoint: tso(26 * h)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := TruncateUntil(tc.kept, 24*h, now, tc.log)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("TruncateUntil = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestGCThenTruncate(t *testing.T) {
	items := []Item{complete("c1", 72*h), complete("c2", 48*h), complete("c3", 25*h), complete("c4", 23*h), running("r5", 0)}
	deleted := ByAge(items, 24*h, now, true)
	kept := Without(items, deleted)
	if got, want := names(kept), []string{"c3", "c4", "r5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	until, ok := TruncateUntil(kept, 24*h, now, LogRange{Start: tso(100 * h), Checkpoint: tso(0)})
	if !ok || until != tso(25*h) {
		t.Errorf("TruncateUntil = %d, %v; want the commit TSO of c3, %d", until, ok, tso(25*h))
	}
}

func TestBlocked(t *testing.T) {
	cases := map[string]struct {
		items    []Item
		want     string
		wantBool bool
	}{
		"nothing":      {},
		"all finished": {items: []Item{complete("a-1", 2*h), failed("b-1", h)}},
		"a running Backup of another schedule of the group": {
			items: []Item{complete("a-1", 2*h), running("b-1", h)}, want: "b-1", wantBool: true,
		},
		"a failed Backup waiting for its retry": {
			items: []Item{retrying("a-1", h)}, want: "a-1", wantBool: true,
		},
		"the oldest of several": {
			items: []Item{running("b-2", h), running("a-2", 2*h), complete("c-1", 3*h)}, want: "a-2", wantBool: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := Blocked(tc.items)
			if got != tc.want || ok != tc.wantBool {
				t.Errorf("Blocked = %q, %v; want %q, %v", got, ok, tc.want, tc.wantBool)
			}
		})
	}
}
