package model_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func schedulers(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	e.mustDo(func(c *model.Cluster) error { var err error; out, err = c.Schedulers(); return err })
	return out
}

func TestEvictLeaderDrainsAtTheConfiguredRate(t *testing.T) {
	e := newEnv(t, model.Options{EvictLeaderPerTick: 5})
	e.startBasic(1, 3)
	s := e.store(kv, 1)
	e.mustDo(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", s.ID) })
	if got := schedulers(t, e); !slices.Contains(got, "evict-leader-scheduler-2") {
		t.Fatalf("schedulers %v", got)
	}
	prev := s.LeaderCount
	for prev > 0 {
		e.step(time.Second)
		now := e.store(kv, 1).LeaderCount
		if prev-now != min(5, prev) {
			t.Fatalf("leaders went %d -> %d in one tick, want -%d", prev, now, min(5, prev))
		}
		prev = now
	}
	e.step(time.Minute)
	if got := e.store(kv, 1).LeaderCount; got != 0 {
		t.Fatalf("leaders came back under the scheduler: %d", got)
	}
	// Restarting the evicted store keeps it at zero.
	e.recreate(kv, 1)
	e.step(time.Minute)
	if got := e.store(kv, 1).LeaderCount; got != 0 {
		t.Fatalf("leaders after restart under the scheduler: %d", got)
	}
	e.mustDo(func(c *model.Cluster) error { return c.RemoveScheduler("evict-leader-scheduler-2") })
	e.step(time.Minute)
	if got := e.store(kv, 1).LeaderCount; got < 20 {
		t.Fatalf("leaders did not balance back after the scheduler was removed: %d", got)
	}
}

func TestEvictionStuckFault(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	s := e.store(kv, 0)
	yes := true
	if err := e.m.PatchStore(key, s.ID, simapi.StorePatch{EvictionStuck: &yes}); err != nil {
		t.Fatal(err)
	}
	e.mustDo(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", s.ID) })
	e.step(time.Hour)
	if got := e.store(kv, 0); got.LeaderCount != s.LeaderCount || !got.EvictLeader {
		t.Fatalf("leaders moved despite the fault: %+v (was %d)", got, s.LeaderCount)
	}
}

func TestSchedulerCreateListDelete(t *testing.T) {
	cases := map[string]struct {
		combined bool
		listed   []string
	}{
		"per-store schedulers are listed by store": {listed: []string{"evict-leader-scheduler-1", "evict-leader-scheduler-3"}},
		"combined mode lists one bare scheduler":   {combined: true, listed: []string{"evict-leader-scheduler"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, model.Options{})
			if err := e.m.PatchCluster(key, simapi.ClusterPatch{CombinedEvictLeader: &tc.combined}); err != nil {
				t.Fatal(err)
			}
			e.startBasic(1, 3)
			for _, id := range []uint64{1, 3} {
				e.mustDo(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", id) })
			}
			again := e.do(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", 1) })
			if tc.combined && again != nil {
				t.Fatalf("combined mode re-adding a store: %v", again)
			}
			if !tc.combined {
				wantKind(t, again, model.ErrExists)
			}
			want := append([]string{"balance-hot-region-scheduler", "balance-leader-scheduler", "balance-region-scheduler"}, tc.listed...)
			if got := schedulers(t, e); !slices.Equal(got, want) {
				t.Fatalf("schedulers %v, want %v", got, want)
			}
			var ids []uint64
			e.mustDo(func(c *model.Cluster) error { var err error; ids, err = c.EvictLeaderStores(); return err })
			if !slices.Equal(ids, []uint64{1, 3}) {
				t.Fatalf("evict stores %v", ids)
			}
			e.mustDo(func(c *model.Cluster) error { return c.RemoveScheduler("evict-leader-scheduler-1") })
			wantKind(t, e.do(func(c *model.Cluster) error { return c.RemoveScheduler("evict-leader-scheduler-1") }), model.ErrNotFound)
			e.mustDo(func(c *model.Cluster) error { return c.RemoveScheduler("evict-leader-scheduler-3") })
			wantKind(t, e.do(func(c *model.Cluster) error { _, err := c.EvictLeaderStores(); return err }), model.ErrNotFound)
			wantKind(t, e.do(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", 42) }), model.ErrNotFound)
			wantKind(t, e.do(func(c *model.Cluster) error { return c.AddScheduler("shuffle-everything", 0) }), model.ErrInvalid)
		})
	}
}

func TestBalanceSchedulersCanBeTurnedOff(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	e.mustDo(func(c *model.Cluster) error { return c.RemoveScheduler("balance-leader-scheduler") })
	s := e.store(kv, 2)
	e.mustDo(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", s.ID) })
	e.step(time.Minute)
	e.mustDo(func(c *model.Cluster) error { return c.RemoveScheduler("evict-leader-scheduler-3") })
	e.step(time.Minute)
	if got := e.store(kv, 2).LeaderCount; got != 0 {
		t.Fatalf("leaders moved back with balance-leader off: %d", got)
	}
	e.mustDo(func(c *model.Cluster) error { return c.AddScheduler("balance-leader-scheduler", 0) })
	e.step(time.Minute)
	if got := e.store(kv, 2).LeaderCount; got < 20 {
		t.Fatalf("leaders did not come back with balance-leader on: %d", got)
	}
}
