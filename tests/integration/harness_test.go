package integration

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster"
	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// resync is short so that state only PD knows (members, stores) is picked up quickly.
const resync = 2 * time.Second

// writeCounter counts the API writes that go through a rest.Config.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
	n      atomic.Int64
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			w.n.Add(1)
			w.mu.Lock()
			w.writes = append(w.writes, r.Method+" "+r.URL.Path)
			w.mu.Unlock()
		}
		return rt.RoundTrip(r)
	})
}

func (w *writeCounter) reset() {
	w.mu.Lock()
	w.writes = nil
	w.mu.Unlock()
	w.n.Store(0)
}

func (w *writeCounter) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// env is one operator (the TidbCluster controller in a manager built like the real one) and one
// simulator, for one test namespace.
type env struct {
	t      *testing.T
	ns     string
	c      client.Client
	sim    *sim.Server
	admin  *simapi.Client
	writes *writeCounter
	uids   map[string]int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cl := cluster.Shared(t)
	installCRDs(t)
	ns := cluster.Namespace(t)

	srv := sim.New(sim.Options{Model: model.New(model.Options{TickInterval: 200 * time.Millisecond})})
	simURL, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	proxy, err := url.Parse(simURL)
	if err != nil {
		t.Fatal(err)
	}

	counter := &writeCounter{}
	cfg := cl.Config()
	cfg.WrapTransport = counter.wrap
	cfg.QPS, cfg.Burst = -1, 0

	opts := options.New()
	opts.ResyncDuration = resync
	opts.ClusterScoped = false
	scheme, err := operator.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	mgrOpts, err := operator.ManagerOptions(operator.Config{
		Options:     opts,
		Environment: operator.Environment{Namespace: ns},
		RestConfig:  cfg,
		Logger:      testr.New(t),
	}, scheme)
	if err != nil {
		t.Fatal(err)
	}
	mgrOpts.LeaderElection = false
	mgrOpts.Metrics.BindAddress = "0"
	mgrOpts.HealthProbeBindAddress = "0"
	mgrOpts.Controller.SkipNameValidation = ptrTo(true)
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		t.Fatal(err)
	}
	err = tidbcluster.SetupWithManager(mgr, tidbcluster.Options{
		DiscoveryImage: "tidbops/tidb-operator:test",
		Resync:         resync,
		PD:             pdapi.NewFactory(pdapi.WithProxy(http.ProxyURL(proxy)), pdapi.WithTimeout(time.Second)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return &env{t: t, ns: ns, c: cl.Client(), sim: srv, admin: simapi.NewClient(simURL), writes: counter, uids: map[string]int{}}
}

func ptrTo[T any](v T) *T { return &v }

// runPods tells the simulator that pods <tc>-<component>-0..n-1 run (and no others of that
// component).
func (e *env) runPods(tc, component string, n int) {
	e.t.Helper()
	for _, p := range e.sim.Model().Pods() {
		if p.Namespace == e.ns && p.Cluster == tc && p.Component == component {
			e.sim.Model().DeletePod(p.Namespace, p.Name)
		}
	}
	for i := 0; i < n; i++ {
		name := tc + "-" + component + "-" + itoa(i)
		if err := e.sim.Model().UpsertPod(simapi.Pod{Namespace: e.ns, Name: name, UID: "uid-" + name, Cluster: tc,
			Component: component, Instance: tc, Running: true, Ready: true, Image: "pingcap/" + component + ":v8.5.0"}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// settleStatefulSet writes the status the StatefulSet controller would write once every pod
// runs at the current revision.
func (e *env) settleStatefulSet(name string) {
	e.t.Helper()
	e.eventually("StatefulSet "+name+" settles", func() error {
		sts := &appsv1.StatefulSet{}
		if err := e.c.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: name}, sts); err != nil {
			return err
		}
		n := *sts.Spec.Replicas
		want := appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: n, AvailableReplicas: n,
			CurrentReplicas: n, UpdatedReplicas: n, CurrentRevision: name + "-r1", UpdateRevision: name + "-r1"}
		if equality.Semantic.DeepEqual(sts.Status, want) {
			return nil
		}
		sts.Status = want
		return e.c.Status().Update(context.Background(), sts)
	})
}

func (e *env) eventually(what string, check func() error) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if last = check(); last == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting until %s: %v", what, last)
}
