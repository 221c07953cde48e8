package tasks

import (
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestNextReplicas(t *testing.T) {
	cases := map[string]struct {
		current, desired, step int32
		want                   ReplicaStep
	}{
		"equal counts stay":                              {3, 3, 1, ReplicaStep{Replicas: 3}},
		"scale-out goes one pod at a time":               {3, 5, 1, ReplicaStep{Replicas: 4, Direction: "out"}},
		"scale-out with parallelism stops at the target": {3, 5, 4, ReplicaStep{Replicas: 5, Direction: "out"}},
		"scale-in goes one pod at a time":                {5, 3, 1, ReplicaStep{Replicas: 4, Direction: "in"}},
		"scale-in with parallelism stops at the target":  {5, 3, 3, ReplicaStep{Replicas: 3, Direction: "in"}},
		"a step below one counts as one":                 {1, 3, 0, ReplicaStep{Replicas: 2, Direction: "out"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := NextReplicas(c.current, c.desired, c.step); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func pdCluster(replicas int32, members map[string]bool, peers map[string]bool) *v1alpha1.TidbCluster {
	tc := &v1alpha1.TidbCluster{Spec: v1alpha1.TidbClusterSpec{PD: &v1alpha1.PDSpec{Replicas: replicas}}}
	tc.Status.PD.Members = map[string]v1alpha1.PDMember{}
	for n, h := range members {
		tc.Status.PD.Members[n] = v1alpha1.PDMember{Name: n, Health: h}
	}
	tc.Status.PD.PeerMembers = map[string]v1alpha1.PDMember{}
	for n, h := range peers {
		tc.Status.PD.PeerMembers[n] = v1alpha1.PDMember{Name: n, Health: h}
	}
	return tc
}

func TestPDAvailable(t *testing.T) {
	cases := map[string]struct {
		tc    *v1alpha1.TidbCluster
		ready int32
		want  bool
	}{
		"a cluster without PD never waits": {
			tc: &v1alpha1.TidbCluster{}, want: true,
		},
		"two healthy and ready of three is a majority": {
			tc: pdCluster(3, map[string]bool{"a": true, "b": true, "c": false}, nil), ready: 2, want: true,
		},
		"one healthy of three is not": {
			tc: pdCluster(3, map[string]bool{"a": true, "b": false, "c": false}, nil), ready: 3, want: false,
		},
		"healthy members without ready pods are not enough": {
			tc: pdCluster(3, map[string]bool{"a": true, "b": true, "c": true}, nil), ready: 1, want: false,
		},
		"healthy peer members of another cluster count towards the majority": {
			tc: pdCluster(1, map[string]bool{}, map[string]bool{"x": true, "y": true}), ready: 0, want: true,
		},
		"no members known yet means not available": {
			tc: pdCluster(1, nil, nil), ready: 1, want: false,
		},
		"a suspended PD is not available": {
			tc: func() *v1alpha1.TidbCluster {
				tc := pdCluster(1, map[string]bool{"a": true}, nil)
				tc.Status.PD.Phase = v1alpha1.SuspendPhase
				return tc
			}(), ready: 1, want: false,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := PDAvailable(c.tc, c.ready); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestTiKVAvailable(t *testing.T) {
	withStores := func(states ...string) *v1alpha1.TidbCluster {
		tc := &v1alpha1.TidbCluster{Spec: v1alpha1.TidbClusterSpec{TiKV: &v1alpha1.TiKVSpec{Replicas: 3}}}
		tc.Status.TiKV.Stores = map[string]v1alpha1.TiKVStore{}
		for i, s := range states {
			tc.Status.TiKV.Stores[string(rune('1'+i))] = v1alpha1.TiKVStore{State: s}
		}
		return tc
	}
	cases := map[string]struct {
		tc    *v1alpha1.TidbCluster
		ready int32
		want  bool
	}{
		"one Up store and one ready pod is enough":  {withStores("Up", "Down"), 1, true},
		"no Up store is not":                        {withStores("Down", "Offline"), 3, false},
		"an Up store without a ready pod is not":    {withStores("Up"), 0, false},
		"no stores yet (not bootstrapped) is not":   {withStores(), 3, false},
		"a cluster without TiKV does not hold TiDB": {&v1alpha1.TidbCluster{}, 0, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := TiKVAvailable(c.tc, c.ready); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDecidePDScaleIn(t *testing.T) {
	healthy3 := map[string]bool{"basic-pd-0": true, "basic-pd-1": true, "basic-pd-2": true}
	base := func(mod func(*PDScaleInInput)) PDScaleInInput {
		in := PDScaleInInput{Current: 3, Desired: 2, PDReachable: true, Synced: true, OtherComponents: true,
			Leaving: "basic-pd-2", Leader: "basic-pd-0", Members: healthy3, SetName: "basic-pd"}
		if mod != nil {
			mod(&in)
		}
		return in
	}
	cases := map[string]struct {
		in         PDScaleInInput
		wantAction PDScaleInAction
		wantTarget string
		wantReason string
	}{
		"a follower member is deleted from PD": {
			in: base(nil), wantAction: PDScaleInDeleteMember,
		},
		"a leaving leader first hands leadership to the lowest ordinal": {
			in: base(func(in *PDScaleInInput) { in.Leader = "basic-pd-2" }), wantAction: PDScaleInTransferLeader, wantTarget: "basic-pd-0",
		},
		"a leaving leader at ordinal zero hands leadership to the highest remaining ordinal": {
			in: base(func(in *PDScaleInInput) {
				in.Current, in.Desired, in.Leaving, in.Leader = 2, 1, "basic-pd-0", "basic-pd-0"
				in.Members = map[string]bool{"basic-pd-0": true, "basic-pd-1": true}
			}),
			wantAction: PDScaleInTransferLeader, wantTarget: "basic-pd-1",
		},
		"an unhealthy preferred target is skipped for another healthy member": {
			in: base(func(in *PDScaleInInput) {
				in.Leader = "basic-pd-2"
				in.Members = map[string]bool{"basic-pd-0": false, "basic-pd-1": true, "basic-pd-2": true}
			}),
			wantAction: PDScaleInTransferLeader, wantTarget: "basic-pd-1",
		},
		"no healthy member to take over refuses": {
			in: base(func(in *PDScaleInInput) {
				in.Leader = "basic-pd-2"
				in.Members = map[string]bool{"basic-pd-0": false, "basic-pd-1": false, "basic-pd-2": true}
			}),
			wantAction: PDScaleInRefuse, wantReason: "NoLeaderTransferTarget",
		},
		"a member already gone from PD lets the pod go": {
			in: base(func(in *PDScaleInInput) {
				in.Members = map[string]bool{"basic-pd-0": true, "basic-pd-1": true}
			}),
			wantAction: PDScaleInShrink,
		},
		"PD unreachable refuses, nothing is deleted": {
			in: base(func(in *PDScaleInInput) { in.PDReachable = false }), wantAction: PDScaleInRefuse, wantReason: "PDStatusNotSynced",
		},
		"PD status not synced refuses": {
			in: base(func(in *PDScaleInInput) { in.Synced = false }), wantAction: PDScaleInRefuse, wantReason: "PDStatusNotSynced",
		},
		"PD to zero while other components exist is refused even when PD is unreachable": {
			in: base(func(in *PDScaleInInput) { in.Desired, in.PDReachable = 0, false }), wantAction: PDScaleInRefuse, wantReason: "OtherComponentsNeedPD",
		},
		"PD to zero without other components proceeds": {
			in: base(func(in *PDScaleInInput) {
				in.Current, in.Desired, in.OtherComponents, in.Leaving, in.Leader = 1, 0, false, "basic-pd-0", "basic-pd-0"
				in.Members = map[string]bool{"basic-pd-0": true}
			}),
			wantAction: PDScaleInDeleteMember,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := DecidePDScaleIn(c.in)
			if got.Action != c.wantAction || got.Target != c.wantTarget || got.Reason != c.wantReason {
				t.Fatalf("got %+v, want action %v target %q reason %q", got, c.wantAction, c.wantTarget, c.wantReason)
			}
			if got.Action == PDScaleInRefuse && got.Message == "" {
				t.Fatal("a refusal must explain itself")
			}
		})
	}
}

func TestDecideStoreScaleIn(t *testing.T) {
	cases := map[string]struct {
		in         StoreScaleInInput
		wantAction StoreScaleInAction
		wantReason string
	}{
		"an Up store is deleted while more Up stores than max-replicas remain": {
			in: StoreScaleInInput{PDReachable: true, StoreState: "Up", UpStores: 4, MaxReplicas: 3}, wantAction: StoreScaleInDeleteStore,
		},
		"an Up store is kept when exactly max-replicas Up stores exist": {
			in: StoreScaleInInput{PDReachable: true, StoreState: "Up", UpStores: 3, MaxReplicas: 3}, wantAction: StoreScaleInRefuse, wantReason: "TooFewUpStores",
		},
		"a Down store may go when exactly max-replicas Up stores remain": {
			in: StoreScaleInInput{PDReachable: true, StoreState: "Down", UpStores: 3, MaxReplicas: 3}, wantAction: StoreScaleInDeleteStore,
		},
		"a Down store is kept when fewer than max-replicas Up stores exist": {
			in: StoreScaleInInput{PDReachable: true, StoreState: "Down", UpStores: 2, MaxReplicas: 3}, wantAction: StoreScaleInRefuse, wantReason: "TooFewUpStores",
		},
		"an Up store with leaders has them evicted first": {
			in:         StoreScaleInInput{PDReachable: true, StoreState: "Up", UpStores: 4, MaxReplicas: 3, LeaderCount: 5, Evicting: true, EvictingFor: time.Minute},
			wantAction: StoreScaleInEvictLeaders,
		},
		"a store whose leaders are gone is deleted": {
			in:         StoreScaleInInput{PDReachable: true, StoreState: "Up", UpStores: 4, MaxReplicas: 3, LeaderCount: 0, Evicting: true, EvictingFor: time.Minute},
			wantAction: StoreScaleInDeleteStore,
		},
		"after five minutes of eviction the store is deleted anyway": {
			in:         StoreScaleInInput{PDReachable: true, StoreState: "Up", UpStores: 4, MaxReplicas: 3, LeaderCount: 5, Evicting: true, EvictingFor: 6 * time.Minute},
			wantAction: StoreScaleInDeleteStore,
		},
		"eviction never starts when the scale-in would be unsafe": {
			in:         StoreScaleInInput{PDReachable: true, StoreState: "Up", UpStores: 3, MaxReplicas: 3, LeaderCount: 5, Evicting: true},
			wantAction: StoreScaleInRefuse, wantReason: "TooFewUpStores",
		},
		"an Offline store is waited for": {
			in: StoreScaleInInput{PDReachable: true, StoreState: "Offline", UpStores: 3, MaxReplicas: 3}, wantAction: StoreScaleInWaitTombstone,
		},
		"a tombstone lets the pod go": {
			in: StoreScaleInInput{PDReachable: true, Tombstone: true}, wantAction: StoreScaleInShrink,
		},
		"a pod that never registered a store goes": {
			in: StoreScaleInInput{PDReachable: true}, wantAction: StoreScaleInShrink,
		},
		"PD unreachable refuses and deletes nothing": {
			in: StoreScaleInInput{PDReachable: false, StoreState: "Up", UpStores: 5, MaxReplicas: 3}, wantAction: StoreScaleInRefuse, wantReason: "PDStatusNotSynced",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := DecideStoreScaleIn(c.in)
			if got.Action != c.wantAction || got.Reason != c.wantReason {
				t.Fatalf("got %+v, want action %v reason %q", got, c.wantAction, c.wantReason)
			}
		})
	}
}

func TestDecideReady(t *testing.T) {
	healthy := func() *v1alpha1.TidbClusterStatus {
		st := &v1alpha1.TidbClusterStatus{}
		st.PD.Members = map[string]v1alpha1.PDMember{"p0": {Health: true}}
		st.TiKV.Stores = map[string]v1alpha1.TiKVStore{"1": {State: "Up"}}
		st.TiDB.Members = map[string]v1alpha1.TiDBMember{"t0": {Health: true}}
		return st
	}
	in := func(mod func(*ReadyInput)) ReadyInput {
		r := ReadyInput{StatefulSetsUpToDate: true, HasPD: true, HasTiKV: true, HasTiDB: true, PDDesired: 1, TiKVDesired: 1, TiDBDesired: 1, Status: healthy()}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	cases := map[string]struct {
		in         ReadyInput
		wantReady  bool
		wantReason string
	}{
		"everything healthy is Ready": {in: in(nil), wantReady: true, wantReason: v1alpha1.ReasonReady},
		"a rolling StatefulSet wins over everything else": {
			in: in(func(r *ReadyInput) { r.StatefulSetsUpToDate = false; r.Status.PD.Members["p0"] = v1alpha1.PDMember{} }), wantReason: v1alpha1.ReasonStatefulSetNotUpToDate,
		},
		"an unhealthy PD member": {
			in: in(func(r *ReadyInput) { r.Status.PD.Members["p0"] = v1alpha1.PDMember{} }), wantReason: v1alpha1.ReasonPDUnhealthy,
		},
		"fewer PD members than desired": {
			in: in(func(r *ReadyInput) { r.PDDesired = 3 }), wantReason: v1alpha1.ReasonPDUnhealthy,
		},
		"a store that is not Up": {
			in: in(func(r *ReadyInput) { r.Status.TiKV.Stores["1"] = v1alpha1.TiKVStore{State: "Down"} }), wantReason: v1alpha1.ReasonTiKVStoreNotUp,
		},
		"an unhealthy TiDB": {
			in: in(func(r *ReadyInput) { r.Status.TiDB.Members["t0"] = v1alpha1.TiDBMember{} }), wantReason: v1alpha1.ReasonTiDBUnhealthy,
		},
		"a PD-only cluster ignores TiKV and TiDB": {
			in: in(func(r *ReadyInput) { r.HasTiKV, r.HasTiDB = false, false; r.Status.TiKV.Stores = nil }), wantReady: true, wantReason: v1alpha1.ReasonReady,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := DecideReady(c.in)
			if got.Ready != c.wantReady || got.Reason != c.wantReason || got.Message == "" {
				t.Fatalf("got %+v, want ready=%v reason %q with a message", got, c.wantReady, c.wantReason)
			}
		})
	}
}

func TestDecidePhase(t *testing.T) {
	cases := map[string]struct {
		desired int32
		sts     StatefulSetFacts
		blocked bool
		want    v1alpha1.MemberPhase
	}{
		"no StatefulSet yet is Normal":                          {3, StatefulSetFacts{}, false, v1alpha1.NormalPhase},
		"replicas moving is Scale":                              {3, StatefulSetFacts{Exists: true, SpecReplicas: 2}, false, v1alpha1.ScalePhase},
		"scaling wins over upgrading":                           {3, StatefulSetFacts{Exists: true, SpecReplicas: 2, Upgrading: true}, false, v1alpha1.ScalePhase},
		"pods rolling is Upgrade":                               {3, StatefulSetFacts{Exists: true, SpecReplicas: 3, Upgrading: true}, false, v1alpha1.UpgradePhase},
		"rolling while a component before is busy stays Normal": {3, StatefulSetFacts{Exists: true, SpecReplicas: 3, Upgrading: true}, true, v1alpha1.NormalPhase},
		"settled is Normal":                                     {3, StatefulSetFacts{Exists: true, SpecReplicas: 3}, false, v1alpha1.NormalPhase},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := DecidePhase(c.desired, c.sts, c.blocked); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestDecideSuspend(t *testing.T) {
	const (
		normal  = v1alpha1.NormalPhase
		suspend = v1alpha1.SuspendPhase
		upgrade = v1alpha1.UpgradePhase
		scale   = v1alpha1.ScalePhase
	)
	cases := []struct {
		name string
		in   SuspendInput
		want SuspendStep
	}{
		{"not asked", SuspendInput{Phase: normal, EarlierSuspended: true, StatefulSetExists: true}, SuspendNone},
		{"asked, first in order", SuspendInput{Want: true, Phase: normal, EarlierSuspended: true, StatefulSetExists: true}, SuspendDelete},
		{"asked before the first status", SuspendInput{Want: true, EarlierSuspended: true, StatefulSetExists: true}, SuspendDelete},
		{"asked while upgrading", SuspendInput{Want: true, Phase: upgrade, EarlierSuspended: true, StatefulSetExists: true}, SuspendWait},
		{"asked while scaling", SuspendInput{Want: true, Phase: scale, EarlierSuspended: true, StatefulSetExists: true}, SuspendWait},
		{"waits for an earlier component", SuspendInput{Want: true, Phase: normal, StatefulSetExists: true}, SuspendWait},
		{"keeps deleting once begun", SuspendInput{Want: true, Phase: suspend, StatefulSetExists: true}, SuspendDelete},
		{"gone", SuspendInput{Want: true, Phase: suspend, EarlierSuspended: true}, SuspendDone},
		{"gone, even if an earlier one resumed", SuspendInput{Want: true, Phase: suspend}, SuspendDone},
		{"resume", SuspendInput{Phase: suspend}, SuspendResume},
		{"only this component asked, nothing before it suspends", SuspendInput{Want: true, Phase: normal, EarlierSuspended: true, StatefulSetExists: true}, SuspendDelete},
	}
	for _, c := range cases {
		if got := DecideSuspend(c.in); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestBlocksLater(t *testing.T) {
	for step, want := range map[SuspendStep]bool{SuspendNone: false, SuspendWait: true, SuspendDelete: true, SuspendDone: false, SuspendResume: false} {
		if got := BlocksLater(step); got != want {
			t.Errorf("step %d: got %v", step, got)
		}
	}
}
