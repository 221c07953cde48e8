package model_test

import (
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

const pd = simapi.ComponentPD

func TestFirstRunningPDPodBecomesMemberAndLeader(t *testing.T) {
	e := newEnv(t, model.Options{})
	if err := e.m.UpsertPod(e.podSpec(pd, 0, false)); err != nil {
		t.Fatal(err)
	}
	if st := e.snap(); len(st.Members) != 0 || st.Leader != "" {
		t.Fatalf("a PD pod that is not running must not be a member: %+v", st.Members)
	}
	e.run(pd, 0)
	st := e.snap()
	if len(st.Members) != 1 || st.Leader != "basic-pd-0" || !st.Members[0].Healthy {
		t.Fatalf("members=%+v leader=%q", st.Members, st.Leader)
	}
	m := st.Members[0]
	if m.ClientURLs[0] != "http://basic-pd-0.basic-pd-peer.ns.svc:2379" || m.PeerURLs[0] != "http://basic-pd-0.basic-pd-peer.ns.svc:2380" {
		t.Fatalf("urls: %v %v", m.ClientURLs, m.PeerURLs)
	}
	if st.ClusterID == 0 || m.ID == 0 {
		t.Fatalf("IDs must be non-zero: cluster %d member %d", st.ClusterID, m.ID)
	}
}

func TestClusterIDIsStableAndIDsAreReproducibleFromTheSeed(t *testing.T) {
	a, b := newEnv(t, model.Options{Seed: 7}), newEnv(t, model.Options{Seed: 7})
	for _, e := range []*env{a, b} {
		e.startBasic(3, 3)
	}
	sa, sb := a.snap(), b.snap()
	if sa.ClusterID != sb.ClusterID || sa.Members[1].ID != sb.Members[1].ID {
		t.Fatalf("same seed, different IDs: %d/%d %d/%d", sa.ClusterID, sb.ClusterID, sa.Members[1].ID, sb.Members[1].ID)
	}
	a.recreate(pd, 0)
	a.step(time.Hour)
	if got := a.snap().ClusterID; got != sa.ClusterID {
		t.Fatalf("cluster ID changed from %d to %d", sa.ClusterID, got)
	}
	if c := newEnv(t, model.Options{Seed: 8}); func() uint64 { c.run(pd, 0); return c.snap().ClusterID }() == sa.ClusterID {
		t.Fatal("a different seed gave the same cluster ID")
	}
}

func TestLeaderNeedsAHealthyQuorum(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(3, 0)
	if got := e.snap().Leader; got != "basic-pd-0" {
		t.Fatalf("leader = %q, want the lowest-named healthy member", got)
	}
	e.stop(pd, 0)
	if got := e.snap().Leader; got != "basic-pd-1" {
		t.Fatalf("after the leader stopped, leader = %q, want basic-pd-1", got)
	}
	e.stop(pd, 1)
	st := e.snap()
	if st.Leader != "" {
		t.Fatalf("1 of 3 healthy must leave PD without a leader, got %q", st.Leader)
	}
	if len(st.Members) != 3 || st.Members[0].Healthy || st.Members[1].Healthy || !st.Members[2].Healthy {
		t.Fatalf("stopped members must stay members, unhealthy: %+v", st.Members)
	}
	e.run(pd, 0)
	if got := e.snap().Leader; got != "basic-pd-0" {
		t.Fatalf("leader after quorum returned = %q, want basic-pd-0 (lowest healthy)", got)
	}
}

func TestMemberKeepsItsIDAcrossPodRestarts(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(3, 0)
	before, _ := e.snap().MemberByName("basic-pd-1")
	e.recreate(pd, 1)
	after, _ := e.snap().MemberByName("basic-pd-1")
	if before.ID != after.ID || !after.Healthy {
		t.Fatalf("member changed across a restart with the same volume: %+v -> %+v", before, after)
	}
}

func TestTransferLeader(t *testing.T) {
	cases := map[string]struct {
		target  string
		stop    int // ordinal to stop first, -1 none
		wantErr *model.Error
		leader  string
	}{
		"to a healthy member moves the leader":               {target: "basic-pd-2", stop: -1, leader: "basic-pd-2"},
		"to an unhealthy member fails":                       {target: "basic-pd-2", stop: 2, wantErr: model.ErrInvalid, leader: "basic-pd-0"},
		"to an unknown member fails":                         {target: "nope", stop: -1, wantErr: model.ErrInvalid, leader: "basic-pd-0"},
		"to the current leader succeeds and changes nothing": {target: "basic-pd-0", stop: -1, leader: "basic-pd-0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, model.Options{})
			e.startBasic(3, 0)
			if tc.stop >= 0 {
				e.stop(pd, tc.stop)
			}
			err := e.do(func(c *model.Cluster) error { return c.TransferLeader(tc.target) })
			if tc.wantErr != nil {
				wantKind(t, err, tc.wantErr)
			} else if err != nil {
				t.Fatal(err)
			}
			if got := e.snap().Leader; got != tc.leader {
				t.Fatalf("leader = %q, want %q", got, tc.leader)
			}
		})
	}
}

func TestDeletedMemberRejoinsOnlyAsANewPodInstance(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(3, 0)
	old, _ := e.snap().MemberByName("basic-pd-0")
	e.mustDo(func(c *model.Cluster) error { return c.DeleteMemberByName("basic-pd-0") })
	st := e.snap()
	if _, ok := st.MemberByName("basic-pd-0"); ok || st.Leader != "basic-pd-1" {
		t.Fatalf("after deleting the leader: members=%+v leader=%q", st.Members, st.Leader)
	}
	e.step(time.Minute)
	if _, ok := e.snap().MemberByName("basic-pd-0"); ok {
		t.Fatal("the same pod instance rejoined after its member was deleted")
	}
	e.recreate(pd, 0) // failover: new PVC, new pod
	now, ok := e.snap().MemberByName("basic-pd-0")
	if !ok || now.ID == old.ID {
		t.Fatalf("a new pod instance must join with a new member ID: %+v (old ID %d)", now, old.ID)
	}
}

func TestDeleteMemberByIDAndNotFound(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(3, 0)
	m2, _ := e.snap().MemberByName("basic-pd-2")
	e.mustDo(func(c *model.Cluster) error { return c.DeleteMemberByID(m2.ID) })
	if _, ok := e.snap().MemberByName("basic-pd-2"); ok {
		t.Fatal("member still listed after delete by ID")
	}
	wantKind(t, e.do(func(c *model.Cluster) error { return c.DeleteMemberByID(m2.ID) }), model.ErrNotFound)
	wantKind(t, e.do(func(c *model.Cluster) error { return c.DeleteMemberByName("basic-pd-9") }), model.ErrNotFound)
}

func TestNewMembersCannotJoinWithoutALeader(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(2, 0)
	e.stop(pd, 0)
	e.stop(pd, 1)
	e.run(pd, 2)
	if _, ok := e.snap().MemberByName("basic-pd-2"); ok {
		t.Fatal("a member joined a PD without quorum")
	}
	e.run(pd, 0)
	e.run(pd, 1)
	if _, ok := e.snap().MemberByName("basic-pd-2"); !ok {
		t.Fatal("the waiting member did not join once PD had a leader again")
	}
}

func TestForcedUnhealthyMember(t *testing.T) {
	e := newEnv(t, model.Options{})
	e.startBasic(3, 0)
	yes := true
	if err := e.m.PatchMember(key, "basic-pd-0", simapi.MemberPatch{Unhealthy: &yes}); err != nil {
		t.Fatal(err)
	}
	st := e.snap()
	m, _ := st.MemberByName("basic-pd-0")
	if m.Healthy || !m.ForcedUnhealthy || st.Leader != "basic-pd-1" {
		t.Fatalf("member=%+v leader=%q", m, st.Leader)
	}
	var ready bool
	e.mustDo(func(c *model.Cluster) error {
		ready, _ = c.MemberReady(model.PodKey{Namespace: "ns", Name: "basic-pd-0"})
		return nil
	})
	if ready {
		t.Fatal("an unhealthy member must not be ready")
	}
}

func TestSeededConfigAppliesOnlyUntilPDStarts(t *testing.T) {
	e := newEnv(t, model.Options{})
	five, labels := 5, []string{"zone", "host"}
	e.m.SeedConfig(key, simapi.ClusterPatch{MaxReplicas: &five, LocationLabels: &labels})
	e.run(pd, 0)
	if cfg := e.snap().Config; cfg.MaxReplicas != 5 || len(cfg.LocationLabels) != 2 {
		t.Fatalf("seed not applied: %+v", cfg)
	}
	one := 1
	e.m.SeedConfig(key, simapi.ClusterPatch{MaxReplicas: &one})
	if cfg := e.snap().Config; cfg.MaxReplicas != 5 {
		t.Fatalf("a seed after PD started changed the config: %+v", cfg)
	}
}
