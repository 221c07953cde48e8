package model_test

import (
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

const (
	kv    = simapi.ComponentTiKV
	flash = simapi.ComponentTiFlash
)

func TestNotBootstrappedUntilTheFirstTiKVStore(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.run(pd, 0)
	calls := map[string]func(c *model.Cluster) error{
		"stores":     func(c *model.Cluster) error { _, err := c.Stores(nil); return err },
		"store":      func(c *model.Cluster) error { _, err := c.Store(1); return err },
		"schedulers": func(c *model.Cluster) error { _, err := c.Schedulers(); return err },
		"delete":     func(c *model.Cluster) error { return c.DeleteStore(1) },
	}
	for name, fn := range calls {
		err := e.do(fn)
		wantKind(t, err, model.ErrNotBootstrapped)
		if err.Error() != model.NotBootstrappedMessage {
			t.Fatalf("%s: message %q", name, err.Error())
		}
	}
	e.run(flash, 0)
	if st := e.snap(); st.Bootstrapped || len(st.Stores) != 0 {
		t.Fatalf("TiFlash must not bootstrap the cluster: %+v", st.Stores)
	}
	e.run(kv, 0)
	st := e.snap()
	if !st.Bootstrapped || len(st.Stores) != 2 {
		t.Fatalf("after the first TiKV: bootstrapped=%v stores=%+v", st.Bootstrapped, st.Stores)
	}
	s1 := st.Stores[0]
	if s1.ID != 1 || s1.Engine != kv || s1.Address != "basic-tikv-0.basic-tikv-peer.ns.svc:20160" ||
		s1.RegionCount != 64 || s1.LeaderCount != 64 || s1.StateName != "Up" {
		t.Fatalf("first store: %+v", s1)
	}
	s2 := st.Stores[1]
	if s2.ID != 2 || s2.Engine != flash || s2.Labels["engine"] != "tiflash" || s2.Address != "basic-tiflash-0.basic-tiflash-peer.ns.svc:3930" {
		t.Fatalf("tiflash store: %+v", s2)
	}
}

func TestStoresNeedAPDLeaderToRegister(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.run(kv, 0)
	if st := e.snap(); len(st.Stores) != 0 {
		t.Fatalf("a store registered without PD: %+v", st.Stores)
	}
	e.run(pd, 0)
	if st := e.snap(); len(st.Stores) != 1 {
		t.Fatalf("store did not register once PD was up: %+v", st.Stores)
	}
}

func TestReplicasAndLeadersSpreadOverStores(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	st := e.snap()
	leaders, peers := totals(st)
	if leaders != 64 || peers != 3*64 {
		t.Fatalf("leaders=%d peers=%d, want 64 and 192", leaders, peers)
	}
	for _, s := range st.Stores {
		if s.RegionCount != 64 || s.LeaderCount < 20 || s.LeaderCount > 23 {
			t.Fatalf("store %d: regions=%d leaders=%d", s.ID, s.RegionCount, s.LeaderCount)
		}
	}
	e.run(kv, 3)
	e.step(5 * time.Minute)
	for _, s := range e.snap().Stores {
		if s.RegionCount < 47 || s.RegionCount > 49 || s.LeaderCount < 15 || s.LeaderCount > 17 {
			t.Fatalf("after a 4th store, store %d: regions=%d leaders=%d", s.ID, s.RegionCount, s.LeaderCount)
		}
	}
}

func TestStoreStateFollowsHeartbeats(t *testing.T) {
	e := newEnv(t, model.Options{DisconnectAfter: 20 * time.Second, MaxStoreDownTime: 10 * time.Minute})
	e.startBasic(1, 3)
	e.stop(kv, 1)
	steps := []struct {
		after time.Duration
		want  string
	}{
		{0, "Up"},
		{19 * time.Second, "Up"},
		{time.Second, "Disconnected"},
		{9 * time.Minute, "Disconnected"},
		{40 * time.Second, "Down"},
		{time.Hour, "Down"},
	}
	for _, s := range steps {
		e.step(s.after)
		if got := e.store(kv, 1).StateName; got != s.want {
			t.Fatalf("%v after another %v: state %q, want %q", e.clock.Now().Sub(t0), s.after, got, s.want)
		}
	}
	e.run(kv, 1)
	if got := e.store(kv, 1); got.StateName != "Up" || got.ID != 2 {
		t.Fatalf("a restarted store must come back Up with its ID: %+v", got)
	}
}

func TestMaxStoreDownTimeFromConfigDecidesDown(t *testing.T) {
	e := newEnv(t, model.Options{})
	d := simapi.Duration{Duration: 2 * time.Minute}
	if err := e.m.PatchCluster(key, simapi.ClusterPatch{MaxStoreDownTime: &d}); err != nil {
		t.Fatal(err)
	}
	e.startBasic(1, 3)
	e.del(kv, 2)
	e.step(119 * time.Second)
	if got := e.store(kv, 2).StateName; got != "Disconnected" {
		t.Fatalf("state %q", got)
	}
	e.step(time.Second)
	if got := e.store(kv, 2).StateName; got != "Down" {
		t.Fatalf("state %q", got)
	}
}

func TestLeadersLeaveAStoppedStoreAtOnce(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	e.stop(kv, 0)
	st := e.snap()
	s0, _ := st.StoreByPod("basic-tikv-0")
	if leaders, _ := totals(st); s0.LeaderCount != 0 || leaders != 64 || s0.RegionCount != 64 {
		t.Fatalf("stopped store: %+v, total leaders %d", s0, leaders)
	}
}

func TestDownStoreReplicasAreReplacedWhenAnotherStoreCanTakeThem(t *testing.T) {
	e := newEnv(t, model.Options{MaxStoreDownTime: time.Minute})
	e.startBasic(1, 4)
	e.del(kv, 3)
	e.step(5 * time.Minute)
	st := e.snap()
	s3, _ := st.StoreByPod("basic-tikv-3")
	if s3.StateName != "Down" || s3.RegionCount != 0 {
		t.Fatalf("down store: %+v", s3)
	}
	if _, peers := totals(st); peers != 3*64 {
		t.Fatalf("peers = %d, want every region back at 3 replicas", peers)
	}
}

func TestForceDown(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	id := e.store(kv, 0).ID
	yes, no := true, false
	if err := e.m.PatchStore(key, id, simapi.StorePatch{ForceDown: &yes}); err != nil {
		t.Fatal(err)
	}
	if s := e.store(kv, 0); s.StateName != "Down" || s.LeaderCount != 0 || !s.ForceDown {
		t.Fatalf("forced down store: %+v", s)
	}
	if err := e.m.PatchStore(key, id, simapi.StorePatch{ForceDown: &no}); err != nil {
		t.Fatal(err)
	}
	e.step(time.Minute)
	if s := e.store(kv, 0); s.StateName != "Up" || s.LeaderCount == 0 {
		t.Fatalf("after clearing the fault: %+v", s)
	}
	wantKind(t, e.m.PatchStore(key, 99, simapi.StorePatch{ForceDown: &yes}), model.ErrNotFound)
}

func TestDeleteStoreGoesOfflineThenTombstone(t *testing.T) {
	e := newEnv(t, model.Options{RegionMovesPerTick: 8})
	e.startBasic(1, 4)
	s3 := e.store(kv, 3)
	e.mustDo(func(c *model.Cluster) error { return c.DeleteStore(s3.ID) })
	if s := e.store(kv, 3); s.StateName != "Offline" {
		t.Fatalf("right after DELETE: %+v", s)
	}
	e.mustDo(func(c *model.Cluster) error { return c.DeleteStore(s3.ID) }) // deleting again is fine
	var counts []int
	for e.store(kv, 3).StateName == "Offline" {
		counts = append(counts, e.store(kv, 3).RegionCount)
		if len(counts) > 100 {
			t.Fatalf("never became Tombstone: %v", counts)
		}
		e.step(time.Second)
	}
	if s := e.store(kv, 3); s.StateName != "Tombstone" || s.RegionCount != 0 {
		t.Fatalf("final: %+v", s)
	}
	for i := 1; i < len(counts); i++ {
		if counts[i] > counts[i-1] || counts[i-1]-counts[i] > 8 {
			t.Fatalf("regions must leave at most 8 per tick: %v", counts)
		}
	}
	if len(counts) < 3 {
		t.Fatalf("tombstone came too fast to observe Offline: %v", counts)
	}
	// PD hides tombstones unless asked for state 2.
	e.mustDo(func(c *model.Cluster) error {
		def, _ := c.Stores(nil)
		tomb, _ := c.Stores([]int{model.StateTombstone})
		if len(def) != 3 || len(tomb) != 1 || tomb[0].ID != s3.ID {
			t.Fatalf("default %d stores, tombstone %+v", len(def), tomb)
		}
		return nil
	})
	wantKind(t, e.do(func(c *model.Cluster) error { return c.DeleteStore(s3.ID) }), model.ErrInvalid)
	wantKind(t, e.do(func(c *model.Cluster) error { return c.DeleteStore(77) }), model.ErrNotFound)
}

func TestDeleteStoreIsRefusedWithoutEnoughOtherUpStores(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	id := e.store(kv, 2).ID
	err := e.do(func(c *model.Cluster) error { return c.DeleteStore(id) })
	wantKind(t, err, model.ErrInvalid)
	if s := e.store(kv, 2); s.StateName != "Up" {
		t.Fatalf("refused delete changed the store: %+v", s)
	}
}

func TestDeleteStoreIsRefusedWhenEveryOtherStoreEvictsLeaders(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 4)
	for i := range 3 {
		id := e.store(kv, i).ID
		e.mustDo(func(c *model.Cluster) error { return c.AddScheduler("evict-leader-scheduler", id) })
	}
	id := e.store(kv, 3).ID
	wantKind(t, e.do(func(c *model.Cluster) error { return c.DeleteStore(id) }), model.ErrInvalid)
}

func TestOfflineStoreStaysOfflineWhileItsRegionsHaveNowhereToGo(t *testing.T) {
	e := newEnv(t, model.Options{MaxStoreDownTime: time.Hour})
	e.startBasic(1, 4)
	id := e.store(kv, 3).ID
	e.mustDo(func(c *model.Cluster) error { return c.DeleteStore(id) })
	e.stop(kv, 0) // only 2 placeable stores left for 3 replicas
	e.step(10 * time.Minute)
	if s := e.store(kv, 3); s.StateName != "Offline" || s.RegionCount == 0 {
		t.Fatalf("store: %+v", s)
	}
	e.run(kv, 0)
	e.step(time.Minute)
	if s := e.store(kv, 3); s.StateName != "Tombstone" {
		t.Fatalf("store after a third store came back: %+v", s)
	}
}

func TestTombstoneStuckFault(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 4)
	s3 := e.store(kv, 3)
	yes, no := true, false
	if err := e.m.PatchStore(key, s3.ID, simapi.StorePatch{TombstoneStuck: &yes}); err != nil {
		t.Fatal(err)
	}
	e.mustDo(func(c *model.Cluster) error { return c.DeleteStore(s3.ID) })
	e.step(time.Hour)
	if s := e.store(kv, 3); s.StateName != "Offline" || s.RegionCount != s3.RegionCount || s.RegionCount == 0 || !s.TombstoneStuck {
		t.Fatalf("stuck store: %+v", s)
	}
	if err := e.m.PatchStore(key, s3.ID, simapi.StorePatch{TombstoneStuck: &no}); err != nil {
		t.Fatal(err)
	}
	e.step(time.Minute)
	if s := e.store(kv, 3); s.StateName != "Tombstone" {
		t.Fatalf("after clearing the fault: %+v", s)
	}
}

func TestANewPodInstanceAtATombstoneAddressRegistersANewStore(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 4)
	old := e.store(kv, 3)
	e.mustDo(func(c *model.Cluster) error { return c.DeleteStore(old.ID) })
	e.step(time.Minute)
	if e.store(kv, 3).StateName != "Tombstone" {
		t.Fatal("not tombstone")
	}
	e.stop(kv, 3)
	e.run(kv, 3) // same pod instance: TiKV refuses to start on a tombstone, nothing new
	if got := e.store(kv, 3); got.ID != old.ID {
		t.Fatalf("the same pod instance registered store %d", got.ID)
	}
	e.recreate(kv, 3) // scale out again with a fresh volume
	got := e.store(kv, 3)
	if got.ID == old.ID || got.StateName != "Up" || got.Address != old.Address {
		t.Fatalf("new store %+v (old %d)", got, old.ID)
	}
}

func TestTiFlashStoreGoesTombstoneWithoutRegions(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 3)
	e.run(flash, 0)
	s := e.store(flash, 0)
	if s.RegionCount != 0 || s.LeaderCount != 0 {
		t.Fatalf("tiflash store holds regions: %+v", s)
	}
	e.mustDo(func(c *model.Cluster) error { return c.DeleteStore(s.ID) })
	e.step(time.Second)
	if got := e.store(flash, 0).StateName; got != "Tombstone" {
		t.Fatalf("state %q", got)
	}
}

func TestStoreLabelsMerge(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 1)
	id := e.store(kv, 0).ID
	e.mustDo(func(c *model.Cluster) error {
		return c.SetStoreLabels(id, map[string]string{"zone": "z1", "host": "h1"})
	})
	e.mustDo(func(c *model.Cluster) error { return c.SetStoreLabels(id, map[string]string{"zone": "z2"}) })
	var labels []model.Label
	e.mustDo(func(c *model.Cluster) error { st, err := c.Store(id); labels = st.Labels; return err })
	want := []model.Label{{Key: "host", Value: "h1"}, {Key: "zone", Value: "z2"}}
	if len(labels) != 2 || labels[0] != want[0] || labels[1] != want[1] {
		t.Fatalf("labels %+v, want %+v", labels, want)
	}
	wantKind(t, e.do(func(c *model.Cluster) error { return c.SetStoreLabels(id, map[string]string{"bad key!": "x"}) }), model.ErrInvalid)
	wantKind(t, e.do(func(c *model.Cluster) error { return c.SetStoreLabels(9, map[string]string{"zone": "x"}) }), model.ErrNotFound)
}

func TestSetStoreState(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 4)
	id := e.store(kv, 3).ID
	e.mustDo(func(c *model.Cluster) error { return c.SetStoreState(id, "Offline") })
	e.mustDo(func(c *model.Cluster) error { return c.SetStoreState(id, "Up") })
	if s := e.store(kv, 3); s.StateName != "Up" {
		t.Fatalf("state %q after setting Up again", s.StateName)
	}
	wantKind(t, e.do(func(c *model.Cluster) error { return c.SetStoreState(id, "Tombstone") }), model.ErrInvalid)
	wantKind(t, e.do(func(c *model.Cluster) error { return c.SetStoreState(id, "Sideways") }), model.ErrInvalid)
}
