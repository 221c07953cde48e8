package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster"
	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/tests/sim/podwatch"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// readyTimeout bounds the wait for Ready=True; a loaded two-core machine needs minutes.
const readyTimeout = 10 * time.Minute

// steadyWindowEnv overrides how long steady state is observed (a Go duration; default 60s).
const steadyWindowEnv = "TIDB_BENCH_STEADY"

func steadyWindow(b *testing.B) time.Duration {
	v := os.Getenv(steadyWindowEnv)
	if v == "" {
		return time.Minute
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 60s", steadyWindowEnv, v)
	}
	return d
}

// BenchmarkCreateToReady creates examples/basic (3 PD, 3 TiKV, 2 TiDB) on the simulated
// cluster (API server, controller manager, scheduler, kwok nodes, and the TiDB simulator fed
// from the pods) with the operator running in this process, built by operator.NewManager as the
// binary builds it, and measures:
//
//   - s-to-ready: from the create call to Ready=True in the TidbCluster's status;
//   - reconcile-s and reconciles: the operator's own time, the sum of the TidbCluster
//     controller's reconcile durations (controller-runtime's reconcile-time histogram);
//   - pod-wait-s: the time at least one of the cluster's pods was between creation and Ready,
//     from the pods' creation timestamps and Ready conditions (whole seconds, as the API
//     stores them); pod-wait-sum-s adds every pod's wait;
//   - the operator's API requests during creation and per minute in steady state afterwards,
//     all and writes only, with and without the leader-election lease renewals, counted by a
//     round tripper on the operator's rest.Config and logged by verb and resource;
//   - its calls to the simulated PD, TiKV and TiDB in the same two periods.
func BenchmarkCreateToReady(b *testing.B) {
	const ns = "bench"
	ctx, kc, counter, mgr := startOperatorBench(b, "operator.log", ns)
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		b.Fatal("the operator's cache did not sync")
	}
	admin := simapi.NewClient(simulator.URL())
	simSeq := lastCallSeq(ctx, b, admin)

	// Creation.
	tc := basicCluster(b, ns)
	reconcile0, err := GatherReconcileTime(metrics.Registry, tidbcluster.Name)
	if err != nil {
		b.Fatal(err)
	}
	counter.Reset()
	counter.ResetConflicts()
	b.ResetTimer()
	began := time.Now()
	if err := kc.Create(ctx, tc); err != nil {
		b.Fatalf("create TidbCluster: %v", err)
	}
	creationChurn := newStatusChurn()
	if err := waitReady(ctx, kc, client.ObjectKeyFromObject(tc), readyTimeout, creationChurn); err != nil {
		b.Fatal(err)
	}
	toReady := time.Since(began)
	b.StopTimer()
	creation, creationConflicts := counter.Reset(), counter.ResetConflicts()
	reconcile1, err := GatherReconcileTime(metrics.Registry, tidbcluster.Name)
	if err != nil {
		b.Fatal(err)
	}
	creationSim, simSeq := simCallsSince(ctx, b, admin, simSeq)
	waits, err := podWaits(ctx, kc, ns, tc.Name)
	if err != nil {
		b.Fatal(err)
	}

	// Steady state.
	window := steadyWindow(b)
	steadyChurn := newStatusChurn()
	if err := observeFor(ctx, kc, client.ObjectKeyFromObject(tc), window, steadyChurn); err != nil {
		b.Fatal(err)
	}
	steady, steadyConflicts := counter.Reset(), counter.ResetConflicts()
	reconcile2, err := GatherReconcileTime(metrics.Registry, tidbcluster.Name)
	if err != nil {
		b.Fatal(err)
	}
	steadySim, _ := simCallsSince(ctx, b, admin, simSeq)
	if err := waitReady(ctx, kc, client.ObjectKeyFromObject(tc), time.Second, nil); err != nil {
		b.Errorf("the cluster left Ready during the steady-state window: %v", err)
	}

	ops := reconcile1.Sub(reconcile0)
	b.ReportMetric(toReady.Seconds(), "s-to-ready")
	b.ReportMetric(ops.Total.Seconds(), "reconcile-s")
	b.ReportMetric(float64(ops.Count), "reconciles")
	b.ReportMetric(UnionLength(waits).Seconds(), "pod-wait-s")
	b.ReportMetric(sumLength(waits).Seconds(), "pod-wait-sum-s")
	b.ReportMetric(float64(creation.Total(nil)), "requests-create")
	b.ReportMetric(float64(creation.Total(Writes)), "writes-create")
	b.ReportMetric(float64(creation.Total(NotLeaderElection)), "requests-create-nolease")
	b.ReportMetric(float64(creationConflicts.Total(nil)), "conflicts-create")
	b.ReportMetric(float64(len(creationSim)), "tidb-calls-create")
	perMin := func(n int) float64 { return float64(n) / window.Minutes() }
	b.ReportMetric(perMin(steady.Total(nil)), "requests/min-steady")
	b.ReportMetric(perMin(steady.Total(Writes)), "writes/min-steady")
	b.ReportMetric(perMin(steady.Total(func(k RequestKey) bool { return k.IsWrite() && NotLeaderElection(k) })), "writes/min-steady-nolease")
	b.ReportMetric(perMin(steady.Total(NotLeaderElection)), "requests/min-steady-nolease")
	b.ReportMetric(perMin(int(reconcile2.Sub(reconcile1).Count)), "reconciles/min-steady")
	b.ReportMetric(perMin(len(steadySim)), "tidb-calls/min-steady")

	b.Logf("to Ready in %s; %d reconciles took %s; pods waited %s (sum %s over %d pods)",
		toReady.Round(time.Millisecond), ops.Count, ops.Total.Round(time.Millisecond),
		UnionLength(waits), sumLength(waits), len(waits))
	b.Logf("API requests during creation:\n%s", creation.Table())
	b.Logf("of which answered 409 Conflict:\n%s", creationConflicts.Table())
	b.Logf("API requests in %s of steady state:\n%s", window, steady.Table())
	b.Logf("of which answered 409 Conflict:\n%s", steadyConflicts.Table())
	b.Logf("TidbCluster versions seen while polling during creation: %d; status fields that changed between them:\n%s",
		creationChurn.versions, creationChurn.table())
	b.Logf("TidbCluster versions seen in %s of steady state: %d; status fields that changed:\n%s",
		window, steadyChurn.versions-1, steadyChurn.table())
	b.Logf("PD/TiKV/TiDB calls during creation:\n%s", callTable(creationSim))
	b.Logf("PD/TiKV/TiDB calls in %s of steady state:\n%s", window, callTable(steadySim))
}

// startOperatorBench starts the full simulated cluster, the pod feed of the simulator, the
// namespaces and the operator (its log in logName under the cluster's log directory, its API
// requests counted), and waits until the operator leads.
func startOperatorBench(b *testing.B, logName, ns string) (context.Context, client.Client, *RequestCounter, ctrl.Manager) {
	b.Helper()
	c := startCluster(b, true)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	kc := c.Client()
	logs, err := os.Create(filepath.Join(c.LogDir(), logName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = logs.Close() })
	log := fileLogger(logs)
	startPodWatch(ctx, b, c.Config(), log.WithName("podwatch"))
	for _, n := range []string{operatorNamespace, ns} {
		if err := createNamespace(ctx, kc, n); err != nil {
			b.Fatal(err)
		}
	}
	counter := NewRequestCounter()
	mgr := startOperator(ctx, b, c.Config(), counter, log.WithName("operator"))
	select {
	case <-mgr.Elected():
	case <-time.After(2 * time.Minute):
		b.Fatal("the operator did not become leader within two minutes")
	}
	return ctx, kc, counter, mgr
}

// startPodWatch feeds the simulator's model from the cluster's pods and TidbClusters.
func startPodWatch(ctx context.Context, b *testing.B, cfg *rest.Config, log logr.Logger) {
	b.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	w := podwatch.New(kube, dyn, simulator.Model(), podwatch.Options{Logger: log})
	if err := w.Start(ctx); err != nil {
		b.Fatalf("start the simulator's pod watch: %v", err)
	}
}

// startOperator builds the operator's manager with operator.NewManager, every registered
// controller included, and runs it until the benchmark ends. Only the listening addresses
// differ from the binary's defaults, so that nothing binds fixed ports.
func startOperator(ctx context.Context, b *testing.B, cfg *rest.Config, counter *RequestCounter, log logr.Logger) ctrl.Manager {
	b.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.WrapTransport = counter.Wrap
	cfg.UserAgent = "tidb-controller-manager/bench"
	// RestConfig applies the same when no -kube-client-qps is given.
	cfg.QPS, cfg.Burst = -1, 0
	opts := options.New()
	opts.MetricsBindAddress = "0"
	opts.HealthProbeBindAddress = "0"
	if err := opts.Validate(); err != nil {
		b.Fatal(err)
	}
	mgr, err := operator.NewManager(operator.Config{
		Options:     opts,
		Environment: operator.Environment{Namespace: operatorNamespace},
		RestConfig:  cfg,
		Controllers: operator.Controllers(),
		Logger:      log,
	})
	if err != nil {
		b.Fatalf("build the operator: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(runCtx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("operator: %v", err)
		}
	})
	return mgr
}

// waitReady polls the TidbCluster until its Ready condition is True, showing every version it
// sees to churn (when not nil).
func waitReady(ctx context.Context, kc client.Client, key types.NamespacedName, timeout time.Duration, churn *statusChurn) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		tc := &v1alpha1.TidbCluster{}
		if err := kc.Get(ctx, key, tc); err != nil {
			last = err.Error()
		} else {
			if churn != nil {
				churn.observe(tc)
			}
			last = "no Ready condition yet"
			for _, cond := range tc.Status.Conditions {
				if cond.Type != v1alpha1.TidbClusterReady {
					continue
				}
				if cond.Status == corev1.ConditionTrue {
					return nil
				}
				last = fmt.Sprintf("Ready=%s %s: %s", cond.Status, cond.Reason, cond.Message)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("TidbCluster %s not Ready after %s: %s", key, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// podWaits is, for every pod of the cluster, the span from its creation to its Ready
// condition turning True.
func podWaits(ctx context.Context, kc client.Client, ns, tcName string) ([]Interval, error) {
	pods := &corev1.PodList{}
	if err := kc.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{
		label.ManagedByLabelKey: label.TiDBOperator, label.InstanceLabelKey: tcName,
	}); err != nil {
		return nil, fmt.Errorf("list the cluster's pods: %w", err)
	}
	var out []Interval
	for _, p := range pods.Items {
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				out = append(out, Interval{From: p.CreationTimestamp.Time, To: cond.LastTransitionTime.Time})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Ready pod of %s/%s found", ns, tcName)
	}
	return out, nil
}

func sumLength(spans []Interval) time.Duration {
	var d time.Duration
	for _, s := range spans {
		if s.To.After(s.From) {
			d += s.To.Sub(s.From)
		}
	}
	return d
}

func lastCallSeq(ctx context.Context, b *testing.B, admin *simapi.Client) uint64 {
	b.Helper()
	calls, err := admin.Calls(ctx, 0)
	if err != nil {
		b.Fatalf("read the simulator's call log: %v", err)
	}
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// simCallsSince returns the simulator calls after seq and the sequence number to continue from.
func simCallsSince(ctx context.Context, b *testing.B, admin *simapi.Client, seq uint64) ([]simapi.Call, uint64) {
	b.Helper()
	calls, err := admin.Calls(ctx, seq)
	if err != nil {
		b.Fatalf("read the simulator's call log: %v", err)
	}
	if len(calls) > 0 {
		seq = calls[len(calls)-1].Seq
	}
	return calls, seq
}

// callTable counts calls by component, method and path (without the query).
func callTable(calls []simapi.Call) string {
	counts := map[string]int{}
	for _, c := range calls {
		path, _, _ := strings.Cut(c.Path, "?")
		counts[fmt.Sprintf("%-5s %-6s %s", c.Component, c.Method, path)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%6d  %s\n", counts[k], k)
	}
	return sb.String()
}

// fileLogger writes timestamped log lines to w.
func fileLogger(w io.Writer) logr.Logger {
	var mu sync.Mutex
	return funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = fmt.Fprintf(w, "%s %s %s\n", time.Now().Format(time.RFC3339Nano), prefix, args)
	}, funcr.Options{Verbosity: 1})
}

// statusChurn records which status fields change from one TidbCluster version to the next, as
// far as polling sees them (versions written between two polls are seen as one change).
type statusChurn struct {
	rv       string
	last     []byte
	versions int
	paths    map[string]int
	errs     int
}

func newStatusChurn() *statusChurn { return &statusChurn{paths: map[string]int{}} }

func (c *statusChurn) observe(tc *v1alpha1.TidbCluster) {
	if tc.ResourceVersion == c.rv {
		return
	}
	data, err := json.Marshal(tc.Status)
	if err != nil {
		c.errs++
		return
	}
	if c.rv != "" {
		paths, err := ChangedPaths(c.last, data)
		if err != nil {
			c.errs++
		}
		for _, p := range paths {
			c.paths[p]++
		}
	}
	c.versions++
	c.rv, c.last = tc.ResourceVersion, data
}

// table lists the changed paths, most frequent first.
func (c *statusChurn) table() string {
	keys := make([]string, 0, len(c.paths))
	for k := range c.paths {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c.paths[keys[i]] != c.paths[keys[j]] {
			return c.paths[keys[i]] > c.paths[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%6d  status.%s\n", c.paths[k], k)
	}
	if c.errs > 0 {
		fmt.Fprintf(&sb, "(%d versions could not be compared)\n", c.errs)
	}
	return sb.String()
}

// observeFor polls the TidbCluster for d, showing every version to churn.
func observeFor(ctx context.Context, kc client.Client, key types.NamespacedName, d time.Duration, churn *statusChurn) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		tc := &v1alpha1.TidbCluster{}
		if err := kc.Get(ctx, key, tc); err != nil {
			return fmt.Errorf("get TidbCluster %s: %w", key, err)
		}
		churn.observe(tc)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
