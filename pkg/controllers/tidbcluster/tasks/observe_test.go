package tasks

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

func observedCluster() *v1alpha1.TidbCluster {
	tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"},
		Spec: v1alpha1.TidbClusterSpec{PD: &v1alpha1.PDSpec{Replicas: 2}, TiKV: &v1alpha1.TiKVSpec{Replicas: 2}}}
	tc.Status.PD.Members = map[string]v1alpha1.PDMember{
		"basic-pd-0": {Name: "basic-pd-0", Health: true, LastTransitionTime: metav1.Unix(100, 0)},
		"basic-pd-1": {Name: "basic-pd-1", Health: true, LastTransitionTime: metav1.Unix(100, 0)},
	}
	tc.Status.TiKV.Stores = map[string]v1alpha1.TiKVStore{
		"1": {ID: "1", State: "Up", LastTransitionTime: metav1.Unix(100, 0)},
	}
	return tc
}

func TestApplyPDMembers(t *testing.T) {
	tc := observedCluster()
	st := tc.Status.DeepCopy()
	applyPDMembers(tc, st, &PDView{
		Health: []pdapi.MemberHealth{
			{Name: "basic-pd-0", MemberID: 11, ClientURLs: []string{"http://basic-pd-0.basic-pd-peer.ns.svc:2379"}, Health: true},
			{Name: "basic-pd-1", MemberID: 12, ClientURLs: []string{"http://basic-pd-1.basic-pd-peer.ns.svc:2379"}, Health: false},
			{Name: "other-pd-0", MemberID: 13, ClientURLs: []string{"http://other-pd-0.other-pd-peer.ns.svc:2379"}, Health: true},
		},
		Leader: &pdapi.Member{Name: "basic-pd-0"},
	})
	if len(st.PD.Members) != 2 || len(st.PD.PeerMembers) != 1 {
		t.Fatalf("members %v peers %v: a member of another cluster must be a peer member", st.PD.Members, st.PD.PeerMembers)
	}
	if m := st.PD.Members["basic-pd-0"]; m.ID != "11" || !m.LastTransitionTime.Equal(&metav1.Time{Time: metav1.Unix(100, 0).Time}) {
		t.Errorf("an unchanged member moved its transition time or lost its ID: %+v", m)
	}
	if m := st.PD.Members["basic-pd-1"]; m.Health || m.LastTransitionTime.Unix() == 100 {
		t.Errorf("a member whose health flipped keeps its old transition time: %+v", m)
	}
	if st.PD.Leader == nil || st.PD.Leader.Name != "basic-pd-0" || !st.PD.Synced {
		t.Errorf("leader %+v synced %v", st.PD.Leader, st.PD.Synced)
	}
}

func TestApplyStores(t *testing.T) {
	store := func(id uint64, addr, state string, labels ...pdapi.StoreLabel) *pdapi.StoreInfo {
		return &pdapi.StoreInfo{Store: &pdapi.MetaStore{ID: id, Address: addr, StateName: state, Labels: labels}, Status: &pdapi.StoreStatus{LeaderCount: int(id) * 10}}
	}
	cases := map[string]struct {
		view  *PDView
		check func(t *testing.T, st *v1alpha1.TidbClusterStatus)
	}{
		"stores split into own, peer and tombstone, TiFlash left out": {
			view: &PDView{
				Stores: &pdapi.StoresInfo{Stores: []*pdapi.StoreInfo{
					store(1, "basic-tikv-0.basic-tikv-peer.ns.svc:20160", "Up"),
					store(2, "basic-tikv-1.basic-tikv-peer.ns.svc:20160", "Offline"),
					store(3, "other-tikv-0.other-tikv-peer.ns.svc:20160", "Up"),
					store(4, "basic-tiflash-0.basic-tiflash-peer.ns.svc:3930", "Up", pdapi.StoreLabel{Key: "engine", Value: "tiflash"}),
				}},
				Tombstones: &pdapi.StoresInfo{Stores: []*pdapi.StoreInfo{store(5, "basic-tikv-2.basic-tikv-peer.ns.svc:20160", "Tombstone")}},
			},
			check: func(t *testing.T, st *v1alpha1.TidbClusterStatus) {
				if len(st.TiKV.Stores) != 2 || len(st.TiKV.PeerStores) != 1 || len(st.TiKV.TombstoneStores) != 1 {
					t.Fatalf("stores %v peers %v tombstones %v", st.TiKV.Stores, st.TiKV.PeerStores, st.TiKV.TombstoneStores)
				}
				s1 := st.TiKV.Stores["1"]
				if s1.PodName != "basic-tikv-0" || s1.IP != "basic-tikv-0.basic-tikv-peer.ns.svc" || s1.LeaderCount != 10 || s1.LastTransitionTime.Unix() != 100 {
					t.Errorf("store 1 %+v", s1)
				}
				if !st.TiKV.Synced || !st.TiKV.BootStrapped {
					t.Errorf("synced %v bootstrapped %v", st.TiKV.Synced, st.TiKV.BootStrapped)
				}
			},
		},
		"an unbootstrapped cluster is synced but not bootstrapped": {
			view: &PDView{StoresErr: &pdapi.HTTPError{Code: 500, Body: `"[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first"` + "\n"}},
			check: func(t *testing.T, st *v1alpha1.TidbClusterStatus) {
				if !st.TiKV.Synced || st.TiKV.BootStrapped {
					t.Errorf("synced %v bootstrapped %v", st.TiKV.Synced, st.TiKV.BootStrapped)
				}
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := observedCluster()
			st := tc.Status.DeepCopy()
			applyStores(tc, st, c.view)
			c.check(t, st)
		})
	}
}
