package e2e

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// With replication.location-labels set in PD's config, every TiKV store carries the zone and
// host of the node its pod runs on, as PD needs to keep a Region's replicas apart, and every TiDB
// server the same labels (it prefers replicas in its own zone).
func TestStoresAndTiDBServersCarryTheirNodesTopology(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tc := basicCluster(t, 1, 3, 1)
	tc.Spec.PD.Config = v1alpha1.NewConfigTOML("[replication]\nlocation-labels = [\"zone\", \"host\"]\n")
	e.create(tc)
	e.waitReady(tcName, readyTimeout)

	e.eventually("stores labelled with their nodes' zone and host", changeTimeout, func(ctx context.Context) error {
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		if len(st.Stores) != 3 {
			return fmt.Errorf("%d stores", len(st.Stores))
		}
		for _, s := range st.Stores {
			pod := &corev1.Pod{}
			if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: s.Pod}, pod); err != nil {
				return err
			}
			node := &corev1.Node{}
			if err := e.c.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node); err != nil {
				return err
			}
			want := map[string]string{"zone": node.Labels[corev1.LabelTopologyZone], "host": node.Name}
			for k, v := range want {
				if s.Labels[k] != v {
					return fmt.Errorf("store %d of pod %s on node %s has labels %v, want %v", s.ID, s.Pod, node.Name, s.Labels, want)
				}
			}
		}
		return nil
	})
	e.waitEvent(tcName, corev1.EventTypeNormal, "with its node's topology")

	e.eventually("TiDB servers labelled with their nodes' zone and host", changeTimeout, func(ctx context.Context) error {
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		if len(st.TiDB) != 1 {
			return fmt.Errorf("%d TiDB servers", len(st.TiDB))
		}
		for _, srv := range st.TiDB {
			zone, host, err := e.nodeOf(ctx, srv.Pod)
			if err != nil {
				return err
			}
			if srv.Labels["zone"] != zone || srv.Labels["host"] != host {
				return fmt.Errorf("TiDB %s has labels %v, want zone %s host %s", srv.Pod, srv.Labels, zone, host)
			}
		}
		return nil
	})
}

// nodeOf returns the zone and name of the node a pod runs on.
func (e *env) nodeOf(ctx context.Context, podName string) (zone, host string, err error) {
	pod := &corev1.Pod{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: podName}, pod); err != nil {
		return "", "", err
	}
	node := &corev1.Node{}
	if err := e.c.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node); err != nil {
		return "", "", err
	}
	return node.Labels[corev1.LabelTopologyZone], node.Name, nil
}
