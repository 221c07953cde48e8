package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// spec.suspendAction.suspendStatefulSet deletes the StatefulSets TiDB first and PD last, keeps
// every volume, and leaves the operator quiet; removing it brings the same PD members and TiKV
// stores back and the cluster Ready again.
func TestSuspendAndResumeKeepVolumesAndIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 3, 3, 1))
	before := e.waitReady(tcName, readyTimeout)
	claimsBefore := e.claimNames()

	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.SuspendAction = &v1alpha1.SuspendAction{SuspendStatefulSet: true}
	})
	e.eventually("every component suspended", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		for comp, phase := range map[string]v1alpha1.MemberPhase{"pd": tc.Status.PD.Phase, "tikv": tc.Status.TiKV.Phase, "tidb": tc.Status.TiDB.Phase} {
			if phase != v1alpha1.SuspendPhase {
				return fmt.Errorf("%s phase %q", comp, phase)
			}
		}
		if tc.Status.PD.StatefulSet != nil || tc.Status.TiKV.StatefulSet != nil || tc.Status.TiDB.StatefulSet != nil {
			return fmt.Errorf("status still shows a StatefulSet")
		}
		if len(tc.Status.PD.Members) != 0 || tc.Status.PD.Leader != nil || len(tc.Status.TiKV.Stores) != 0 || len(tc.Status.TiDB.Members) != 0 {
			return fmt.Errorf("status still lists members or stores: pd %d, tikv %d, tidb %d", len(tc.Status.PD.Members), len(tc.Status.TiKV.Stores), len(tc.Status.TiDB.Members))
		}
		sets := &appsv1.StatefulSetList{}
		if err := e.c.List(ctx, sets, client.InNamespace(e.ns)); err != nil {
			return err
		}
		if len(sets.Items) != 0 {
			return fmt.Errorf("%d StatefulSets left", len(sets.Items))
		}
		pods := &corev1.PodList{}
		if err := e.c.List(ctx, pods, client.InNamespace(e.ns), client.HasLabels{label.ComponentLabelKey}); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if c := p.Labels[label.ComponentLabelKey]; c == "pd" || c == "tikv" || c == "tidb" {
				return fmt.Errorf("pod %s still there", p.Name)
			}
		}
		return nil
	})

	// TiDB first, PD last: each StatefulSet went only after the ones before it were gone.
	ctx, cancel := e.ctx()
	defer cancel()
	evs, err := e.events(ctx, tcName)
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].EventTime.Before(&evs[j].EventTime) })
	var order []string
	for _, ev := range evs {
		if ev.Reason == "SuspendComponent" {
			order = append(order, strings.Fields(strings.TrimPrefix(ev.Note, "suspending "))[0])
		}
	}
	if want := []string{"tidb:", "tikv:", "pd:"}; !slices.Equal(order, want) {
		t.Errorf("components suspended in the order %v, want %v", order, want)
	}
	if got := e.claimNames(); !slices.Equal(got, claimsBefore) {
		t.Errorf("volume claims changed while suspended: %v, before %v", got, claimsBefore)
	}

	e.quiet()
	e.api.reset()
	window := 2*resync + time.Second
	time.Sleep(window)
	if _, writes := e.api.snapshot(); len(writes) > 0 {
		t.Errorf("a suspended cluster made %d writes in %s, want none: %s", len(writes), window, strings.Join(writes, ", "))
	}

	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.SuspendAction = nil })
	after := e.waitReady(tcName, readyTimeout)
	if after.Status.ClusterID != before.Status.ClusterID {
		t.Errorf("cluster ID %s after resuming, was %s", after.Status.ClusterID, before.Status.ClusterID)
	}
	if got, want := sortedKeys(after.Status.TiKV.Stores), sortedKeys(before.Status.TiKV.Stores); !slices.Equal(got, want) {
		t.Errorf("stores %v after resuming, were %v: the volumes should have brought the same stores back", got, want)
	}
	if got, want := sortedKeys(after.Status.PD.Members), sortedKeys(before.Status.PD.Members); !slices.Equal(got, want) {
		t.Errorf("PD members %v after resuming, were %v", got, want)
	}
	if got := e.claimNames(); !slices.Equal(got, claimsBefore) {
		t.Errorf("volume claims after resuming: %v, before %v", got, claimsBefore)
	}
}

// claimNames lists the namespace's PVCs, sorted.
func (e *env) claimNames() []string {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	list := &corev1.PersistentVolumeClaimList{}
	if err := e.c.List(ctx, list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, c := range list.Items {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}
