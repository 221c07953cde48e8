package tasks

import (
	"slices"
	"testing"
	"time"
)

func TestDecideTiKVFailover(t *testing.T) {
	period := 5 * time.Minute
	down := func(id string, ord int32, d time.Duration) FailoverStore {
		return FailoverStore{ID: id, PodName: "tikv-" + id, Ordinal: ord, Desired: true, Down: true, DownFor: d}
	}
	upStore := func(id string, ord int32) FailoverStore {
		return FailoverStore{ID: id, PodName: "tikv-" + id, Ordinal: ord, Desired: true}
	}
	cases := []struct {
		name      string
		in        TiKVFailoverInput
		add       []string
		clear     bool
		cappedLen int
	}{
		{"down long enough gets a record",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, Stores: []FailoverStore{upStore("1", 0), down("2", 1, 6*time.Minute)}, Recorded: map[string]bool{}},
			[]string{"2"}, false, 0},
		{"not down long enough",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, Stores: []FailoverStore{down("2", 1, 4*time.Minute)}, Recorded: map[string]bool{}},
			nil, false, 0},
		{"waits until every pod started",
			TiKVFailoverInput{Max: 3, Period: period, Stores: []FailoverStore{down("2", 1, time.Hour)}, Recorded: map[string]bool{}},
			nil, false, 0},
		{"off with maxFailoverCount 0",
			TiKVFailoverInput{Max: 0, Period: period, AllPodsStarted: true, Stores: []FailoverStore{down("2", 1, time.Hour)}, Recorded: map[string]bool{}},
			nil, false, 0},
		{"already recorded",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, Stores: []FailoverStore{down("2", 1, time.Hour)}, Recorded: map[string]bool{"tikv-2": true}},
			nil, false, 0},
		{"ordinals being removed are not failed over",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, Stores: []FailoverStore{{ID: "9", PodName: "tikv-9", Ordinal: 5, Down: true, DownFor: time.Hour}}, Recorded: map[string]bool{}},
			nil, false, 0},
		{"capped at maxFailoverCount, lowest ordinals first",
			TiKVFailoverInput{Max: 2, Period: period, AllPodsStarted: true, Stores: []FailoverStore{down("3", 2, time.Hour), down("1", 0, time.Hour), down("2", 1, time.Hour)}, Recorded: map[string]bool{"tikv-x": true}},
			[]string{"1"}, false, 2},
		{"recovery asked and everything Up",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, AllStoresUp: true, Recorded: map[string]bool{"tikv-2": true}, Recover: true, OriginalUp: true},
			nil, true, 0},
		{"recovery not asked: records stay",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, AllStoresUp: true, Recorded: map[string]bool{"tikv-2": true}, OriginalUp: true},
			nil, false, 0},
		{"recovery asked but an original pod is not back",
			TiKVFailoverInput{Max: 3, Period: period, AllPodsStarted: true, AllStoresUp: true, Recorded: map[string]bool{"tikv-2": true}, Recover: true},
			nil, false, 0},
	}
	for _, c := range cases {
		d := DecideTiKVFailover(c.in)
		var got []string
		for _, s := range d.Add {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, c.add) || d.Clear != c.clear || len(d.Capped) != c.cappedLen {
			t.Errorf("%s: got add %v clear %v capped %d", c.name, got, d.Clear, len(d.Capped))
		}
	}
}

func TestDecideTiDBFailover(t *testing.T) {
	period := 5 * time.Minute
	sick := func(name string, d time.Duration) FailoverMember {
		return FailoverMember{PodName: name, UnhealthyFor: d, Scheduled: true}
	}
	well := func(name string) FailoverMember { return FailoverMember{PodName: name, Healthy: true} }
	cases := []struct {
		name      string
		in        TiDBFailoverInput
		add, drop []string
		clear     bool
	}{
		{"unhealthy long enough", TiDBFailoverInput{Max: 3, Period: period, Members: []FailoverMember{well("t-0"), sick("t-1", time.Hour)}, Recorded: map[string]bool{}}, []string{"t-1"}, nil, false},
		{"one per round", TiDBFailoverInput{Max: 3, Period: period, Members: []FailoverMember{sick("t-0", time.Hour), sick("t-1", time.Hour)}, Recorded: map[string]bool{}}, []string{"t-0"}, nil, false},
		{"not scheduled", TiDBFailoverInput{Max: 3, Period: period, Members: []FailoverMember{{PodName: "t-1", UnhealthyFor: time.Hour}}, Recorded: map[string]bool{}}, nil, nil, false},
		{"too recent", TiDBFailoverInput{Max: 3, Period: period, Members: []FailoverMember{sick("t-1", time.Minute)}, Recorded: map[string]bool{}}, nil, nil, false},
		{"capped", TiDBFailoverInput{Max: 1, Period: period, Members: []FailoverMember{sick("t-0", time.Hour), sick("t-1", time.Hour)}, Recorded: map[string]bool{"t-0": true}}, nil, nil, false},
		{"a recovered record goes, freeing room", TiDBFailoverInput{Max: 1, Period: period, Members: []FailoverMember{well("t-0"), sick("t-1", time.Hour)}, Recorded: map[string]bool{"t-0": true}}, []string{"t-1"}, []string{"t-0"}, false},
		{"all original healthy clears", TiDBFailoverInput{Max: 3, Period: period, Members: []FailoverMember{well("t-0"), sick("t-2", time.Hour)}, Recorded: map[string]bool{"t-1": true}, OriginalHealthy: true}, nil, nil, true},
		{"off", TiDBFailoverInput{Max: 0, Period: period, Members: []FailoverMember{sick("t-1", time.Hour)}, Recorded: map[string]bool{}}, nil, nil, false},
	}
	for _, c := range cases {
		d := DecideTiDBFailover(c.in)
		if !slices.Equal(d.Add, c.add) || !slices.Equal(d.Drop, c.drop) || d.Clear != c.clear {
			t.Errorf("%s: got add %v drop %v clear %v", c.name, d.Add, d.Drop, d.Clear)
		}
	}
}

func TestMaxFailover(t *testing.T) {
	zero, five := int32(0), int32(5)
	if MaxFailover(nil) != 3 || MaxFailover(&zero) != 0 || MaxFailover(&five) != 5 {
		t.Fatal("maxFailoverCount defaults")
	}
}
