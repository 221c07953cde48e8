package model_test

import (
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

const (
	cdc  = simapi.ComponentTiCDC
	tidb = simapi.ComponentTiDB
	tso  = simapi.ComponentTSO
)

func podKey(comp string, ord int) model.PodKey {
	return model.PodKey{Namespace: "ns", Name: podName(comp, ord)}
}

func TestCapturesOwnerResignAndDrain(t *testing.T) {
	e := newEnv(t, model.Options{CDCTables: 9, CDCTablesPerTick: 2})
	e.startBasic(1, 3)
	for i := range 3 {
		e.run(cdc, i)
	}
	e.step(time.Minute)
	st := e.snap()
	if len(st.Captures) != 3 || !st.Captures[0].Owner || st.Captures[0].ID == "" {
		t.Fatalf("captures %+v", st.Captures)
	}
	for _, c := range st.Captures {
		if c.Tables != 3 {
			t.Fatalf("tables not spread evenly: %+v", st.Captures)
		}
	}
	var left int
	wantKind(t, e.do(func(c *model.Cluster) error { _, err := c.DrainCapture(st.Captures[0].ID); return err }), model.ErrUnavailable)
	wantKind(t, e.do(func(c *model.Cluster) error { _, err := c.DrainCapture("no-such-capture"); return err }), model.ErrNotFound)

	e.mustDo(func(c *model.Cluster) error { c.ResignOwner(); return nil })
	st = e.snap()
	if st.Captures[0].Owner || !st.Captures[1].Owner {
		t.Fatalf("after resign: %+v", st.Captures)
	}
	e.mustDo(func(c *model.Cluster) error { var err error; left, err = c.DrainCapture(st.Captures[0].ID); return err })
	if left != 3 {
		t.Fatalf("first drain answer %d, want 3", left)
	}
	e.step(time.Second)
	e.mustDo(func(c *model.Cluster) error { var err error; left, err = c.DrainCapture(st.Captures[0].ID); return err })
	if left != 1 {
		t.Fatalf("after one tick at 2 tables per tick: %d left, want 1", left)
	}
	e.step(time.Second)
	if got, _ := e.snap().CaptureByPod("basic-ticdc-0"); got.Tables != 0 || !got.Draining {
		t.Fatalf("drained capture %+v", got)
	}
	// A restart is a new capture with a new ID.
	old := st.Captures[0].ID
	e.recreate(cdc, 0)
	e.step(time.Minute)
	got, _ := e.snap().CaptureByPod("basic-ticdc-0")
	if got.ID == old || got.Draining || got.Tables == 0 {
		t.Fatalf("restarted capture %+v (old ID %s)", got, old)
	}
	// Stopping the owner elects another.
	e.stop(cdc, 1)
	st = e.snap()
	if _, ok := st.CaptureByPod("basic-ticdc-1"); ok || !st.Captures[0].Owner {
		t.Fatalf("after the owner stopped: %+v", st.Captures)
	}
	total := 0
	for _, c := range st.Captures {
		total += c.Tables
	}
	if total != 9 {
		t.Fatalf("tables of a stopped capture were lost: %d of 9", total)
	}
}

func TestTiDBOwnerAndLabels(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 1)
	e.run(tidb, 0)
	e.run(tidb, 1)
	e.mustDo(func(c *model.Cluster) error {
		if !c.TiDBIsOwner(podKey(tidb, 0)) || c.TiDBIsOwner(podKey(tidb, 1)) {
			t.Fatal("tidb-0 should be the DDL owner")
		}
		return c.SetTiDBLabels(podKey(tidb, 1), map[string]string{"zone": "z1"})
	})
	if l := e.snap().TiDB[1].Labels; l["zone"] != "z1" {
		t.Fatalf("labels %v", l)
	}
	e.stop(tidb, 0)
	e.mustDo(func(c *model.Cluster) error {
		if !c.TiDBIsOwner(podKey(tidb, 1)) {
			t.Fatal("ownership did not move when the owner stopped")
		}
		return nil
	})
	e.recreate(tidb, 1)
	if l := e.snap().TiDB[1].Labels; len(l) != 0 {
		t.Fatalf("labels survived a new TiDB process: %v", l)
	}
}

func TestMicroServicePrimary(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 0)
	e.run(tso, 0)
	e.run(tso, 1)
	e.mustDo(func(c *model.Cluster) error {
		addr, err := c.MicroServicePrimary(tso)
		if err != nil || addr != "http://basic-tso-0.basic-tso-peer.ns.svc:2379" {
			t.Fatalf("primary %q %v", addr, err)
		}
		if err := c.TransferMicroServicePrimary(tso, "basic-tso-1"); err != nil {
			return err
		}
		if addr, _ := c.MicroServicePrimary(tso); addr != "http://basic-tso-1.basic-tso-peer.ns.svc:2379" {
			t.Fatalf("after transfer %q", addr)
		}
		if err := c.TransferMicroServicePrimary(tso, ""); err != nil {
			return err
		}
		if addr, _ := c.MicroServicePrimary(tso); addr != "http://basic-tso-0.basic-tso-peer.ns.svc:2379" {
			t.Fatalf("after transfer to any other %q", addr)
		}
		return nil
	})
	wantKind(t, e.do(func(c *model.Cluster) error { return c.TransferMicroServicePrimary(tso, "nope") }), model.ErrNotFound)
}

func TestTiFlashStoreStatus(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.run(pd, 0)
	e.run(flash, 0)
	status := func() (s string) {
		e.mustDo(func(c *model.Cluster) error { s = c.TiFlashStoreStatus(podKey(flash, 0)); return nil })
		return s
	}
	if got := status(); got != "Idle" {
		t.Fatalf("before the store registered: %q", got)
	}
	e.run(kv, 0)
	if got := status(); got != "Running" {
		t.Fatalf("registered store: %q", got)
	}
	stopping := "Stopping"
	if err := e.m.PatchPod("ns", podName(flash, 0), simapi.PodPatch{TiFlashStoreStatus: &stopping}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "Stopping" {
		t.Fatalf("override: %q", got)
	}
}

func TestHeterogeneousPodsJoinTheReferencedPD(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 1)
	p := simapi.Pod{Namespace: "other", Name: "hetero-tikv-0", UID: "u1", Cluster: "hetero", Component: kv, Running: true,
		PDCluster: &simapi.ClusterRef{Namespace: "ns", Name: "basic"}}
	if err := e.m.UpsertPod(p); err != nil {
		t.Fatal(err)
	}
	s, ok := e.snap().StoreByPod("hetero-tikv-0")
	if !ok || s.Address != "hetero-tikv-0.hetero-tikv-peer.other.svc:20160" {
		t.Fatalf("store %+v %v", s, ok)
	}
	if _, err := e.m.Snapshot(model.ClusterKey{Namespace: "other", Name: "hetero"}); err == nil {
		t.Fatal("a cluster without its own PD must not get a PD of its own")
	}
}

func TestClusterDomainGoesIntoAdvertisedNames(t *testing.T) {
	e := newEnv(t, model.Options{})
	p := e.podSpec(pd, 0, true)
	p.ClusterDomain = "cluster.local"
	if err := e.m.UpsertPod(p); err != nil {
		t.Fatal(err)
	}
	m := e.snap().Members[0]
	if m.Name != "basic-pd-0.basic-pd-peer.ns.svc.cluster.local" || m.ClientURLs[0] != "http://basic-pd-0.basic-pd-peer.ns.svc.cluster.local:2379" {
		t.Fatalf("member %+v", m)
	}
}

func TestRemoveClusterForgetsEverything(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(1, 1)
	id := e.snap().ClusterID
	e.m.RemoveCluster(key)
	if len(e.m.Pods()) != 0 || len(e.m.Clusters()) != 0 {
		t.Fatalf("left: pods %v clusters %v", e.m.Pods(), e.m.Clusters())
	}
	e.uids = map[string]int{"basic-pd-0": 5}
	e.run(pd, 0)
	if st := e.snap(); st.ClusterID == id || st.Bootstrapped {
		t.Fatalf("a re-created cluster kept old state: %+v", st)
	}
}

func TestPodsOfOtherComponentsAreIgnored(t *testing.T) {
	e := newEnv(t, model.Options{})
	if err := e.m.UpsertPod(simapi.Pod{Namespace: "ns", Name: "basic-discovery-abc", Cluster: "basic", Component: "discovery", Running: true}); err != nil {
		t.Fatal(err)
	}
	if len(e.m.Pods()) != 0 || len(e.m.Clusters()) != 0 {
		t.Fatal("a discovery pod was simulated")
	}
	if err := e.m.UpsertPod(simapi.Pod{Namespace: "ns", Name: "x", Component: pd}); err == nil {
		t.Fatal("a pod without a cluster was accepted")
	}
}
