package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/sim/podwatch"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// resync is the operator's -resync-duration in these tests: short, so that what only PD knows
// (a member's health, a store turning Tombstone) reaches status within seconds, and so that a
// steady-state window of a few resyncs stays short.
const resync = 5 * time.Second

// Bounds of the polling helpers. They are generous because parallel scenarios share two cores
// with the API server, the controller manager, the scheduler and kwok.
const (
	pollInterval = 500 * time.Millisecond
	// readyTimeout bounds a new cluster's way to Ready=True.
	readyTimeout = 4 * time.Minute
	// changeTimeout bounds one scaling step or one recreated object.
	changeTimeout = 3 * time.Minute
)

// crdDir holds the CustomResourceDefinitions the operator serves.
const crdDir = "../../manifests/crd"

// installCRDs installs the CRDs into the shared cluster, once per test binary.
func installCRDs(t *testing.T) {
	t.Helper()
	cluster.InstallCRDs(t, crdDir)
}

// feed is the watch that tells the simulator which pods run. It runs while any scenario does
// and stops with the last one, so that no watch is left open on the API server when the
// harness stops it.
var feed struct {
	mu    sync.Mutex
	users int
	stop  context.CancelFunc
}

// feedSimulator makes sure the simulator follows the shared cluster's pods and TidbClusters
// until the test ends.
func feedSimulator(t *testing.T) {
	t.Helper()
	feed.mu.Lock()
	defer feed.mu.Unlock()
	if feed.users == 0 {
		stop, err := startFeed(cluster.Shared(t))
		if err != nil {
			t.Fatal(err)
		}
		feed.stop = stop
	}
	feed.users++
	t.Cleanup(func() {
		feed.mu.Lock()
		defer feed.mu.Unlock()
		feed.users--
		if feed.users == 0 {
			feed.stop()
			feed.stop = nil
		}
	})
}

func startFeed(cl *cluster.Cluster) (context.CancelFunc, error) {
	cfg := cl.Config()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	w := podwatch.New(kube, dyn, simulator.Model(), podwatch.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	// Start returns once the first listing is fed; its context is also the watch's lifetime,
	// so the start-up bound cancels it rather than a derived context.
	tooSlow := time.AfterFunc(time.Minute, cancel)
	err = w.Start(ctx)
	if !tooSlow.Stop() && err == nil {
		err = errors.New("took more than a minute")
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start the simulator's pod watch: %w", err)
	}
	return cancel, nil
}

// requestCounter counts the API requests of one operator by verb, and remembers the writes.
type requestCounter struct {
	mu     sync.Mutex
	byVerb map[string]int
	writes []string
}

func newRequestCounter() *requestCounter { return &requestCounter{byVerb: map[string]int{}} }

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.byVerb[r.Method]++
		if isWrite(r.Method) {
			c.writes = append(c.writes, r.Method+" "+r.URL.Path)
		}
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// reset forgets everything counted so far.
func (c *requestCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byVerb = map[string]int{}
	c.writes = nil
}

// snapshot returns the counts by verb and the writes since the last reset.
func (c *requestCounter) snapshot() (map[string]int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	verbs := make(map[string]int, len(c.byVerb))
	for k, v := range c.byVerb {
		verbs[k] = v
	}
	return verbs, append([]string(nil), c.writes...)
}

// writeSummary groups writes by verb and resource ("PUT tidbclusters/status": 12), for logs.
func writeSummary(writes []string) map[string]int {
	out := map[string]int{}
	for _, w := range writes {
		verb, path, _ := strings.Cut(w, " ")
		parts := strings.Split(strings.Trim(path, "/"), "/")
		key := path
		for i := 0; i+2 < len(parts); i++ {
			if parts[i] != "namespaces" {
				continue
			}
			rest := parts[i+2:]
			key = rest[0]
			if len(rest) > 2 {
				key += "/" + rest[2]
			}
			break
		}
		out[verb+" "+key]++
	}
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// env is one scenario: a namespace, an operator watching only it, and the shared simulator.
type env struct {
	t  *testing.T
	ns string
	// c is the harness's admin client; the operator's own requests do not go through it.
	c client.Client
	// api counts the operator's API requests.
	api *requestCounter
	sim *simapi.Client
}

// newEnv creates the scenario's namespace and starts an operator for it.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the operator's flags changed by configure before it starts.
func newEnvWith(t *testing.T, configure func(*options.Options)) *env {
	t.Helper()
	return newEnvIn(t, "", configure)
}

// newEnvIn is newEnvWith in the namespace of that name, for scenarios that apply manifests
// naming their namespace (the examples use "tidb"); empty means a fresh generated name.
func newEnvIn(t *testing.T, namespace string, configure func(*options.Options)) *env {
	t.Helper()
	cl := cluster.Shared(t)
	installCRDs(t)
	feedSimulator(t)
	ns := namespace
	if ns == "" {
		ns = cl.NewNamespace(t)
	} else {
		createNamespace(t, cl, ns)
	}
	e := &env{t: t, ns: ns, c: cl.Client(), api: newRequestCounter(), sim: simapi.NewClient(simulator.URL())}
	e.startOperator(cl, configure)
	return e
}

// createNamespace creates a namespace of a fixed name, deleted when the test ends.
func createNamespace(t *testing.T, cl *cluster.Cluster, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := cl.Client().Create(ctx, ns); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.Client().Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", name, err)
		}
	})
}

// startOperator runs the operator's manager in this process the way the tidb-operator binary
// builds it (its flags' defaults, NAMESPACE, the cache restrictions, the registered
// controllers), except that leader election and the metrics and probe listeners are off, it
// acts as the ServiceAccount of the scenario's namespace holding the generated RBAC, and every
// request it makes to the API server is counted.
func (e *env) startOperator(cl *cluster.Cluster, configure func(*options.Options)) {
	t := e.t
	opts := options.New()
	opts.Kubeconfig = cl.KubeconfigPath()
	opts.ResyncDuration = resync
	// v1.6's default is cluster scoped; each scenario's operator must see its namespace only.
	opts.ClusterScoped = false
	// As the manifests (and v1.6's chart) run it: allowed to read Nodes (store labels) and
	// PersistentVolumes (their labels and reclaim policy).
	opts.ClusterPermissionNode = true
	opts.ClusterPermissionPV = true
	opts.MetricsBindAddress = "0"
	opts.HealthProbeBindAddress = "0"
	if configure != nil {
		configure(opts)
	}
	if err := opts.Validate(); err != nil {
		t.Fatalf("operator options: %v", err)
	}
	environment, err := operator.LoadEnvironment(func(k string) string {
		if k == operator.EnvNamespace {
			return e.ns
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := operator.RestConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	// The operator acts as its ServiceAccount with the generated RBAC, not as the admin the
	// kubeconfig names; its requests are counted and checked for refusals.
	cfg = grantOperatorRBAC(t, cl, cfg, e.ns)
	cfg.WrapTransport = e.api.wrap
	recordOperator(t, cfg)
	scheme, err := operator.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	controllers := operator.Controllers()
	mgrOpts, err := operator.ManagerOptions(operator.Config{
		Options: opts, Environment: environment, RestConfig: cfg, Controllers: controllers,
		Logger: testr.NewWithOptions(t, testr.Options{LogTimestamp: true}),
	}, scheme)
	if err != nil {
		t.Fatal(err)
	}
	mgrOpts.LeaderElection = false
	// Every scenario runs its own copy of the same controllers in this process.
	skip := true
	mgrOpts.Controller.SkipNameValidation = &skip
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		t.Fatalf("create the manager: %v", err)
	}
	for _, c := range controllers {
		if err := c.Setup(mgr, opts); err != nil {
			t.Fatalf("set up controller %s: %v", c.Name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator manager: %v", err)
		}
	})
}

// ctx is a context for one API call or one poll.
func (e *env) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// eventually polls check until it succeeds or timeout passes, then fails the test with the
// last error.
func (e *env) eventually(what string, timeout time.Duration, check func(ctx context.Context) error) {
	e.t.Helper()
	if err := poll(timeout, check); err != nil {
		e.t.Fatalf("%s: not within %s: %v", what, timeout, err)
	}
}

func poll(timeout time.Duration, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollInterval)
	}
}

// consistently checks for the whole duration that check keeps succeeding.
func (e *env) consistently(what string, d time.Duration, check func(ctx context.Context) error) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := check(ctx)
		cancel()
		if err != nil {
			e.t.Fatalf("%s: stopped holding: %v", what, err)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(pollInterval)
	}
}

// loadExample reads a TidbCluster manifest of the repository's examples.
func loadExample(t *testing.T, path string) *v1alpha1.TidbCluster {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tc := &v1alpha1.TidbCluster{}
	if err := yaml.UnmarshalStrict(raw, tc); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return tc
}

// basicCluster is examples/basic (3 PD, 3 TiKV, 2 TiDB) with the given replica counts.
func basicCluster(t *testing.T, pd, tikv, tidb int32) *v1alpha1.TidbCluster {
	t.Helper()
	tc := loadExample(t, "../../examples/basic/tidb-cluster.yaml")
	tc.Spec.PD.Replicas, tc.Spec.TiKV.Replicas, tc.Spec.TiDB.Replicas = pd, tikv, tidb
	return tc
}

// create stores tc in the scenario's namespace.
func (e *env) create(tc *v1alpha1.TidbCluster) {
	e.t.Helper()
	tc.Namespace = e.ns
	ctx, cancel := e.ctx()
	defer cancel()
	if err := e.c.Create(ctx, tc); err != nil {
		e.t.Fatalf("create TidbCluster %s: %v", tc.Name, err)
	}
}

// get reads a TidbCluster straight from the API server.
func (e *env) get(ctx context.Context, name string) (*v1alpha1.TidbCluster, error) {
	tc := &v1alpha1.TidbCluster{}
	err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, tc)
	return tc, err
}

// update changes the spec of a TidbCluster, retrying on conflicts with the operator's status
// writes. It returns the API server's error, so that a test can look at a rejection.
func (e *env) update(name string, change func(tc *v1alpha1.TidbCluster)) error {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		tc, err := e.get(ctx, name)
		if err != nil {
			return err
		}
		change(tc)
		return e.c.Update(ctx, tc)
	})
}

func (e *env) mustUpdate(name string, change func(tc *v1alpha1.TidbCluster)) {
	e.t.Helper()
	if err := e.update(name, change); err != nil {
		e.t.Fatalf("update TidbCluster %s: %v", name, err)
	}
}

// readyCondition returns the cluster's Ready condition, if any.
func readyCondition(tc *v1alpha1.TidbCluster) *v1alpha1.TidbClusterCondition {
	for i := range tc.Status.Conditions {
		if tc.Status.Conditions[i].Type == v1alpha1.TidbClusterReady {
			return &tc.Status.Conditions[i]
		}
	}
	return nil
}

// isReady succeeds when Ready is True for the current generation.
func isReady(tc *v1alpha1.TidbCluster) error {
	c := readyCondition(tc)
	if c == nil {
		return errors.New("no Ready condition yet")
	}
	if c.Status != corev1.ConditionTrue {
		return fmt.Errorf("Ready=%s reason %s: %s", c.Status, c.Reason, c.Message)
	}
	return nil
}

// waitReady waits for Ready=True and the simulator agreeing with status.
func (e *env) waitReady(name string, timeout time.Duration) *v1alpha1.TidbCluster {
	e.t.Helper()
	var tc *v1alpha1.TidbCluster
	e.eventually("TidbCluster "+name+" Ready and in line with the simulator", timeout, func(ctx context.Context) error {
		var err error
		if tc, err = e.get(ctx, name); err != nil {
			return err
		}
		if err := isReady(tc); err != nil {
			return err
		}
		st, err := e.sim.Cluster(ctx, e.ns, name)
		if err != nil {
			return err
		}
		return statusMatches(tc, st)
	})
	return tc
}

// componentCondition finds a condition in status.<component>.conditions.
func componentCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	return meta.FindStatusCondition(conds, typ)
}

// statefulSet reads a StatefulSet; nil when it does not exist.
func (e *env) statefulSet(ctx context.Context, name string) (*appsv1.StatefulSet, error) {
	sts := &appsv1.StatefulSet{}
	err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, sts)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return sts, err
}

// replicas is a StatefulSet's spec.replicas, -1 when it does not exist.
func (e *env) replicas(ctx context.Context, name string) (int32, error) {
	sts, err := e.statefulSet(ctx, name)
	if err != nil || sts == nil {
		return -1, err
	}
	if sts.Spec.Replicas == nil {
		return 1, nil
	}
	return *sts.Spec.Replicas, nil
}

// hasReplicas checks that a StatefulSet asks for n pods.
func (e *env) hasReplicas(ctx context.Context, name string, n int32) error {
	got, err := e.replicas(ctx, name)
	if err != nil {
		return fmt.Errorf("read StatefulSet %s: %w", name, err)
	}
	if got != n {
		return fmt.Errorf("StatefulSet %s asks for %d replicas, want %d", name, got, n)
	}
	return nil
}

// waitReplicas waits for a StatefulSet to ask for n pods and have them all ready.
func (e *env) waitReplicas(name string, n int32) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("StatefulSet %s at %d ready replicas", name, n), changeTimeout, func(ctx context.Context) error {
		sts, err := e.statefulSet(ctx, name)
		if err != nil {
			return err
		}
		if sts == nil {
			return errors.New("does not exist")
		}
		if sts.Spec.Replicas == nil || *sts.Spec.Replicas != n || sts.Status.ReadyReplicas != n || sts.Status.Replicas != n {
			return fmt.Errorf("spec.replicas %v, status replicas %d ready %d", ptrString(sts.Spec.Replicas), sts.Status.Replicas, sts.Status.ReadyReplicas)
		}
		return nil
	})
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

// calls returns the simulator's call log for this scenario's namespace after seq.
func (e *env) calls(ctx context.Context, since uint64) ([]simapi.Call, error) {
	all, err := e.sim.Calls(ctx, since)
	if err != nil {
		return nil, err
	}
	var mine []simapi.Call
	for _, c := range all {
		if c.Namespace == e.ns {
			mine = append(mine, c)
		}
	}
	return mine, nil
}

// seenSeq is the highest call sequence number any scenario has read, so that finding the
// newest call never downloads the whole log again.
var seenSeq atomic.Uint64

// lastSeq is the sequence number of the newest recorded call, to look at later calls only.
func (e *env) lastSeq() uint64 {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	since := seenSeq.Load()
	newer, err := e.sim.Calls(ctx, since)
	if err != nil {
		e.t.Fatalf("read the simulator's call log: %v", err)
	}
	last := since
	if len(newer) > 0 {
		last = newer[len(newer)-1].Seq
	}
	for {
		cur := seenSeq.Load()
		if cur >= last || seenSeq.CompareAndSwap(cur, last) {
			return last
		}
	}
}

// matchingCalls filters calls by method and path prefix.
func matchingCalls(calls []simapi.Call, method, pathPrefix string) []simapi.Call {
	var out []simapi.Call
	for _, c := range calls {
		if c.Method == method && strings.HasPrefix(c.Path, pathPrefix) {
			out = append(out, c)
		}
	}
	return out
}

// events lists the events recorded on a TidbCluster of this namespace.
func (e *env) events(ctx context.Context, tcName string) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := e.c.List(ctx, list, client.InNamespace(e.ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, ev := range list.Items {
		if ev.Regarding.Kind == "TidbCluster" && ev.Regarding.Name == tcName {
			out = append(out, ev)
		}
	}
	return out, nil
}

// waitEvent waits for an event of the given type whose note contains text.
func (e *env) waitEvent(tcName, eventType, text string) eventsv1.Event {
	e.t.Helper()
	var found eventsv1.Event
	e.eventually(fmt.Sprintf("a %s event saying %q", eventType, text), changeTimeout, func(ctx context.Context) error {
		evs, err := e.events(ctx, tcName)
		if err != nil {
			return err
		}
		var seen []string
		for _, ev := range evs {
			if ev.Type == eventType && strings.Contains(ev.Note, text) {
				found = ev
				return nil
			}
			seen = append(seen, ev.Type+" "+ev.Reason+": "+ev.Note)
		}
		return fmt.Errorf("events so far: %s", strings.Join(seen, " | "))
	})
	return found
}

// quiet waits until the operator has made no write for a few seconds, so that a steady-state
// window starts after the work that led to Ready has settled.
func (e *env) quiet() {
	e.t.Helper()
	e.eventually("the operator stops writing", changeTimeout, func(context.Context) error {
		_, before := e.api.snapshot()
		time.Sleep(3 * time.Second)
		_, after := e.api.snapshot()
		if len(after) != len(before) {
			return fmt.Errorf("still writing: %s", strings.Join(after[len(before):], ", "))
		}
		return nil
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
