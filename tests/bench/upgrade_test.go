package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// upgradeTimeout bounds a rolling upgrade of the basic cluster on a loaded two-core machine.
const upgradeTimeout = 10 * time.Minute

// BenchmarkRollingUpgrade measures a rolling upgrade of examples/basic (3 PD, 3 TiKV, 2 TiDB) from
// v8.5.0 to v8.5.1 on the simulated cluster, driven by the operator one pod at a time (PD leader
// transfer, TiKV leader eviction): the time from the spec change to every component reporting the
// new image with Ready=True, the operator's reconciles, its API requests (all and writes) and its
// calls to PD, TiKV and TiDB over that time.
func BenchmarkRollingUpgrade(b *testing.B) {
	const ns = "bench-upgrade"
	ctx, kc, counter, _ := startOperatorBench(b, "operator-upgrade.log", ns)
	tc := basicCluster(b, ns)
	if err := kc.Create(ctx, tc); err != nil {
		b.Fatalf("create TidbCluster: %v", err)
	}
	key := client.ObjectKeyFromObject(tc)
	if err := waitReady(ctx, kc, key, readyTimeout, nil); err != nil {
		b.Fatal(err)
	}
	// Let the status settle (labels, leader counts) before measuring.
	time.Sleep(10 * time.Second)

	admin := simapi.NewClient(simulator.URL())
	simSeq := lastCallSeq(ctx, b, admin)
	reconcile0, err := GatherReconcileTime(metrics.Registry, tidbcluster.Name)
	if err != nil {
		b.Fatal(err)
	}
	counter.Reset()
	b.ResetTimer()
	began := time.Now()
	const version = "v8.5.1"
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &v1alpha1.TidbCluster{}
		if err := kc.Get(ctx, key, cur); err != nil {
			return err
		}
		cur.Spec.Version = version
		return kc.Update(ctx, cur)
	}); err != nil {
		b.Fatalf("change the version: %v", err)
	}
	if err := waitUpgraded(ctx, kc, key, version); err != nil {
		b.Fatal(err)
	}
	took := time.Since(began)
	b.StopTimer()
	requests := counter.Reset()
	reconcile1, err := GatherReconcileTime(metrics.Registry, tidbcluster.Name)
	if err != nil {
		b.Fatal(err)
	}
	calls, _ := simCallsSince(ctx, b, admin, simSeq)
	ops := reconcile1.Sub(reconcile0)

	b.ReportMetric(took.Seconds(), "s-to-upgraded")
	b.ReportMetric(ops.Total.Seconds(), "reconcile-s")
	b.ReportMetric(float64(ops.Count), "reconciles")
	b.ReportMetric(float64(requests.Total(NotLeaderElection)), "requests-nolease")
	b.ReportMetric(float64(requests.Total(func(k RequestKey) bool { return k.IsWrite() && NotLeaderElection(k) })), "writes-nolease")
	b.ReportMetric(float64(len(calls)), "tidb-calls")
	b.Logf("upgraded to %s in %s; %d reconciles took %s", version, took.Round(time.Millisecond), ops.Count, ops.Total.Round(time.Millisecond))
	b.Logf("API requests during the upgrade:\n%s", requests.Table())
	b.Logf("PD/TiKV/TiDB calls during the upgrade:\n%s", callTable(calls))
}

// waitUpgraded polls until the status is of the latest generation, every component reports an
// image of the version, and Ready is True.
func waitUpgraded(ctx context.Context, kc client.Client, key types.NamespacedName, version string) error {
	deadline := time.Now().Add(upgradeTimeout)
	last := ""
	for time.Now().Before(deadline) {
		tc := &v1alpha1.TidbCluster{}
		if err := kc.Get(ctx, key, tc); err != nil {
			last = err.Error()
		} else {
			last = upgradedError(tc, version)
			if last == "" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("TidbCluster %s not upgraded to %s within %s: %s", key, version, upgradeTimeout, last)
}

func upgradedError(tc *v1alpha1.TidbCluster, version string) string {
	if tc.Status.ObservedGeneration != tc.Generation {
		return "status of an older generation"
	}
	for _, img := range []string{tc.Status.PD.Image, tc.Status.TiKV.Image, tc.Status.TiDB.Image} {
		if !strings.HasSuffix(img, ":"+version) {
			return "image " + img
		}
	}
	c := tc.Status.Condition(v1alpha1.TidbClusterReady)
	if c == nil || c.Status != "True" {
		return "not Ready"
	}
	return ""
}
