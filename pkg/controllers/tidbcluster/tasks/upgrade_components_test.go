package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// evictionPD answers the two calls endAbandonedEvictions makes; any other call panics through
// the nil embedded interface, which is how the test sees that a settled cluster costs none.
type evictionPD struct {
	pdapi.Client
	running map[uint64]bool
	ended   []uint64
	listed  int
	// listErr is what listing the schedulers answers.
	listErr error
}

func (f *evictionPD) EvictLeaderSchedulersForStores(_ context.Context, ids ...uint64) (map[uint64]string, error) {
	f.listed++
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := map[uint64]string{}
	for _, id := range ids {
		if f.running[id] {
			out[id] = pdapi.EvictLeaderSchedulerFor(id)
		}
	}
	return out, nil
}

func (f *evictionPD) EndEvictLeader(_ context.Context, id uint64) error {
	f.ended = append(f.ended, id)
	delete(f.running, id)
	return nil
}

func TestEndAbandonedEvictions(t *testing.T) {
	three := int32(3)
	live := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic-tikv"}, Spec: appsv1.StatefulSetSpec{Replicas: &three}}
	before := int32(40)
	cases := []struct {
		name      string
		phase     v1alpha1.MemberPhase
		recorded  string // store ID with leaderCountBeforeUpgrade
		markedPod string // pod with evictLeaderBeginTime
		running   []uint64
		reachable bool
		wantEnded []uint64
		// noStores: PD knows no store yet; listErr: PD's answer to the scheduler listing.
		noStores bool
		listErr  error
	}{
		{name: "a cluster being created: no stores, no call", phase: v1alpha1.UpgradePhase, reachable: true, noStores: true},
		{name: "PD not bootstrapped yet is no error", phase: v1alpha1.UpgradePhase, reachable: true, listErr: fmt.Errorf("list schedulers: %w", pdapi.ErrNotBootstrapped)},
		{name: "settled: no call", phase: v1alpha1.NormalPhase, running: []uint64{1}, reachable: true},
		{name: "the round the upgrade ends sweeps every scheduler of the cluster's stores", phase: v1alpha1.UpgradePhase, running: []uint64{1, 3}, reachable: true, wantEnded: []uint64{1, 3}},
		{name: "a store still recording leaders before the upgrade", phase: v1alpha1.NormalPhase, recorded: "2", running: []uint64{2}, reachable: true, wantEnded: []uint64{2}},
		{name: "a pod prepared for an upgrade that did not happen", phase: v1alpha1.NormalPhase, markedPod: "basic-tikv-2", running: []uint64{3}, reachable: true, wantEnded: []uint64{3}},
		{name: "PD unreachable: nothing, the marks stay", phase: v1alpha1.NormalPhase, recorded: "2", markedPod: "basic-tikv-2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sch := runtime.NewScheme()
			_ = clientgoscheme.AddToScheme(sch)
			var objs []client.Object
			for _, name := range []string{"basic-tikv-0", "basic-tikv-1", "basic-tikv-2"} {
				pod := podWithClaim(name, "tikv", "tikv-"+name)
				if name == c.markedPod {
					pod.Annotations = map[string]string{label.EvictLeaderBeginTimeAnnKey: "2026-11-26T00:00:00Z"}
				}
				objs = append(objs, pod)
			}
			cl := fake.NewClientBuilder().WithScheme(sch).WithObjects(objs...).Build()
			tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"}}
			tc.Status.TiKV.Phase = c.phase
			st := NewState(Deps{Client: cl}, testLogger(), tc)
			st.Status.TiKV.Stores = map[string]v1alpha1.TiKVStore{
				"1": {ID: "1", PodName: "basic-tikv-0", State: "Up"},
				"2": {ID: "2", PodName: "basic-tikv-1", State: "Up"},
				"3": {ID: "3", PodName: "basic-tikv-2", State: "Up"},
			}
			if c.noStores {
				st.Status.TiKV.Stores = nil
			}
			if c.recorded != "" {
				s := st.Status.TiKV.Stores[c.recorded]
				s.LeaderCountBeforeUpgrade = &before
				st.Status.TiKV.Stores[c.recorded] = s
			}
			pd := &evictionPD{running: map[uint64]bool{}, listErr: c.listErr}
			for _, id := range c.running {
				pd.running[id] = true
			}
			st.PD = pd
			st.PDView = &PDView{}
			if !c.reachable {
				st.PDView.Err = errors.New("unreachable")
			}
			if err := st.endAbandonedEvictions(context.Background(), live); err != nil {
				t.Fatal(err)
			}
			if c.noStores && pd.listed != 0 {
				t.Errorf("PD asked for schedulers of no stores")
			}
			slices.Sort(pd.ended)
			if !slices.Equal(pd.ended, c.wantEnded) {
				t.Errorf("ended %v, want %v", pd.ended, c.wantEnded)
			}
			if c.phase == v1alpha1.NormalPhase && c.recorded == "" && c.markedPod == "" && pd.listed+len(pd.ended) != 0 {
				t.Errorf("a settled cluster made %d PD calls", pd.listed+len(pd.ended))
			}
			recordedLeft := st.Status.TiKV.Stores["2"].LeaderCountBeforeUpgrade != nil
			pod := &corev1.Pod{}
			_ = cl.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "basic-tikv-2"}, pod)
			_, markLeft := pod.Annotations[label.EvictLeaderBeginTimeAnnKey]
			if c.reachable && (recordedLeft || markLeft) {
				t.Errorf("marks left after ending: recorded %v, annotation %v", recordedLeft, markLeft)
			}
			if !c.reachable && c.recorded != "" && (!recordedLeft || !markLeft) {
				t.Errorf("marks dropped while PD could not be told: recorded %v, annotation %v", recordedLeft, markLeft)
			}
		})
	}
}
