package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// statusMatches compares what the operator wrote in status with what the simulated PD and TiDB
// know: the cluster ID, every PD member with its ID and health, the leader, every TiKV store
// with its ID, pod and state, the tombstones, and the health of every running TiDB. It returns
// every difference, so a failing poll says everything that is off at once.
func statusMatches(tc *v1alpha1.TidbCluster, st simapi.ClusterState) error {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	if want := strconv.FormatUint(st.ClusterID, 10); tc.Status.ClusterID != want {
		add("clusterID %q, simulator %s", tc.Status.ClusterID, want)
	}

	if len(tc.Status.PD.Members) != len(st.Members) {
		add("status lists PD members %v, simulator %v", sortedKeys(tc.Status.PD.Members), memberNames(st.Members))
	}
	for _, m := range st.Members {
		got, ok := tc.Status.PD.Members[m.Name]
		switch {
		case !ok:
			add("PD member %s missing from status", m.Name)
		case got.ID != strconv.FormatUint(m.ID, 10):
			add("PD member %s has id %s, simulator %d", m.Name, got.ID, m.ID)
		case got.Health != m.Healthy:
			add("PD member %s health %v, simulator %v", m.Name, got.Health, m.Healthy)
		}
	}
	switch {
	case tc.Status.PD.Leader == nil:
		add("no PD leader in status, simulator %q", st.Leader)
	case tc.Status.PD.Leader.Name != st.Leader:
		add("PD leader %s, simulator %s", tc.Status.PD.Leader.Name, st.Leader)
	}

	live, tombs := map[string]simapi.Store{}, map[string]simapi.Store{}
	for _, s := range st.Stores {
		if s.Engine != "" && s.Engine != "tikv" {
			continue
		}
		if s.StateName == v1alpha1.TiKVStateTombstone {
			tombs[strconv.FormatUint(s.ID, 10)] = s
		} else {
			live[strconv.FormatUint(s.ID, 10)] = s
		}
	}
	if len(tc.Status.TiKV.Stores) != len(live) {
		add("status lists stores %v, simulator %v", sortedKeys(tc.Status.TiKV.Stores), sortedKeys(live))
	}
	for id, s := range live {
		got, ok := tc.Status.TiKV.Stores[id]
		switch {
		case !ok:
			add("store %s of %s missing from status", id, s.Pod)
		case got.State != s.StateName:
			add("store %s state %s, simulator %s", id, got.State, s.StateName)
		case got.PodName != s.Pod:
			add("store %s on pod %s, simulator %s", id, got.PodName, s.Pod)
		}
	}
	// Leader counts move with every balance step, so they are compared only for being reported
	// at all.
	simLeaders, statusLeaders := 0, int32(0)
	for _, s := range live {
		simLeaders += s.LeaderCount
	}
	for _, s := range tc.Status.TiKV.Stores {
		statusLeaders += s.LeaderCount
	}
	if simLeaders > 0 && statusLeaders == 0 {
		add("status reports no region leaders on any store, the simulator %d", simLeaders)
	}
	for id := range tombs {
		if _, ok := tc.Status.TiKV.TombstoneStores[id]; !ok {
			add("tombstone store %s missing from status.tikv.tombstoneStores %v", id, sortedKeys(tc.Status.TiKV.TombstoneStores))
		}
	}

	running := 0
	for _, d := range st.TiDB {
		if !d.Running {
			continue
		}
		running++
		if m, ok := tc.Status.TiDB.Members[d.Pod]; !ok || !m.Health {
			add("TiDB %s runs but status says %+v", d.Pod, m)
		}
	}
	if len(tc.Status.TiDB.Members) != running {
		add("status lists TiDB members %v, %d run in the simulator", sortedKeys(tc.Status.TiDB.Members), running)
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

func memberNames(ms []simapi.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// podLabelsMatch checks the labels v1.6 keeps on pods from what PD says: cluster-id on every
// PD, TiKV and TiDB pod, member-id on PD pods, store-id on TiKV pods.
func (e *env) podLabelsMatch(ctx context.Context, tcName string, st simapi.ClusterState) error {
	pods := &corev1.PodList{}
	if err := e.c.List(ctx, pods, client.InNamespace(e.ns), client.MatchingLabels{label.InstanceLabelKey: tcName, label.ManagedByLabelKey: label.TiDBOperator}); err != nil {
		return err
	}
	var diffs []string
	counted := 0
	for _, pod := range pods.Items {
		comp := pod.Labels[label.ComponentLabelKey]
		want := map[string]string{}
		switch comp {
		case label.PDComponent:
			m, ok := st.MemberByName(pod.Name)
			if !ok {
				diffs = append(diffs, "PD pod "+pod.Name+" is no member in the simulator")
				continue
			}
			want[label.MemberIDLabelKey] = strconv.FormatUint(m.ID, 10)
		case label.TiKVComponent:
			s, ok := st.StoreByPod(pod.Name)
			if !ok {
				diffs = append(diffs, "TiKV pod "+pod.Name+" has no store in the simulator")
				continue
			}
			want[label.StoreIDLabelKey] = strconv.FormatUint(s.ID, 10)
		case label.TiDBComponent:
		default:
			continue
		}
		counted++
		want[label.ClusterIDLabelKey] = strconv.FormatUint(st.ClusterID, 10)
		for k, v := range want {
			if got := pod.Labels[k]; got != v {
				diffs = append(diffs, fmt.Sprintf("pod %s label %s=%q, want %q", pod.Name, k, got, v))
			}
		}
	}
	if counted == 0 {
		diffs = append(diffs, "no PD, TiKV or TiDB pods found")
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}
