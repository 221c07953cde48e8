package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// failoverPeriod stands in for the 5-minute default so that the scenarios stay short.
const failoverPeriod = 10 * time.Second

func shortFailover(o *options.Options) {
	o.AutoFailover = true
	o.TiKVFailoverPeriod = failoverPeriod
	o.TiDBFailoverPeriod = failoverPeriod
}

// A store Down for longer than the failover period gets a failure record and a fourth TiKV pod;
// the failed store is kept. When it is back and the user asks for recovery, the record goes and
// the added pod is scaled in through PD like any other.
func TestTiKVFailoverAddsAStoreAndRecovers(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, shortFailover)
	tc := basicCluster(t, 1, 3, 1)
	// examples/basic turns failover off (maxFailoverCount: 0), as v1.6's example does.
	tc.Spec.TiKV.MaxFailoverCount = nil
	e.create(tc)
	e.waitReady(tcName, readyTimeout)
	ctx := t.Context()

	failed := e.simStore(tikvSet + "-1")
	down := true
	if err := e.sim.PatchStore(ctx, e.ns, tcName, failed.ID, simapi.StorePatch{ForceDown: &down}); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatUint(failed.ID, 10)
	e.eventually("a failure record and a fourth TiKV pod", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		f, ok := tc.Status.TiKV.FailureStores[id]
		if !ok || f.PodName != tikvSet+"-1" || len(f.PVCUIDSet) == 0 {
			return fmt.Errorf("failure stores %+v", tc.Status.TiKV.FailureStores)
		}
		if tc.Status.TiKV.FailoverUID == "" {
			return fmt.Errorf("no failoverUID")
		}
		if err := e.hasReplicas(ctx, tikvSet, 4); err != nil {
			return err
		}
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		up := 0
		for _, s := range st.Stores {
			if s.StateName == "Up" {
				up++
			}
		}
		if up != 3 {
			return fmt.Errorf("%d stores Up, want 3 (the new one included)", up)
		}
		return nil
	})
	e.waitEvent(tcName, corev1.EventTypeWarning, "has been Down for over")
	seq := e.lastSeq()
	e.consistently("the failed store is kept and no other pod added", 2*resync, func(ctx context.Context) error {
		if err := e.hasReplicas(ctx, tikvSet, 4); err != nil {
			return err
		}
		return e.noStoreDeleted(ctx, seq, 3) // the failed one is Down, the three others Up
	})

	// Back, and recovery asked for: the added pod goes through PD's store removal.
	down = false
	if err := e.sim.PatchStore(ctx, e.ns, tcName, failed.ID, simapi.StorePatch{ForceDown: &down}); err != nil {
		t.Fatal(err)
	}
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.RecoverFailover = true })
	e.waitReplicas(tikvSet, 3)
	tc = e.waitReady(tcName, changeTimeout)
	if len(tc.Status.TiKV.FailureStores) != 0 || tc.Status.TiKV.FailoverUID != "" {
		t.Errorf("failover state left after recovery: %+v uid %q", tc.Status.TiKV.FailureStores, tc.Status.TiKV.FailoverUID)
	}
	if _, ok := tc.Status.TiKV.Stores[id]; !ok {
		t.Errorf("the store that failed (%s) is gone; it should have been kept", id)
	}
}

// A TiDB server unhealthy for longer than the failover period gets a second pod beside it; once
// it answers again the record goes and the extra pod is removed.
func TestTiDBFailoverAddsAServerAndRecovers(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, shortFailover)
	tc := basicCluster(t, 1, 1, 1)
	tc.Spec.TiDB.MaxFailoverCount = nil // 3, v1.6's default
	e.create(tc)
	e.waitReady(tcName, readyTimeout)
	ctx := t.Context()

	fault, err := e.sim.AddFault(ctx, simapi.Fault{Kind: simapi.FaultError, Status: 500, Namespace: e.ns, Cluster: tcName,
		Component: simapi.ComponentTiDB, Pod: tidbSet + "-0", Path: "/status"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.sim.RemoveFault(context.Background(), fault.ID) })
	e.eventually("a failure record and a second TiDB pod", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		if _, ok := tc.Status.TiDB.FailureMembers[tidbSet+"-0"]; !ok {
			return fmt.Errorf("failure members %+v", tc.Status.TiDB.FailureMembers)
		}
		return e.hasReplicas(ctx, tidbSet, 2)
	})
	e.waitEvent(tcName, corev1.EventTypeWarning, "TiDB "+tidbSet+"-0 has been unhealthy")

	if err := e.sim.RemoveFault(ctx, fault.ID); err != nil {
		t.Fatal(err)
	}
	e.waitReplicas(tidbSet, 1)
	tc = e.waitReady(tcName, changeTimeout)
	if len(tc.Status.TiDB.FailureMembers) != 0 {
		t.Errorf("failure members left: %+v", tc.Status.TiDB.FailureMembers)
	}
}
