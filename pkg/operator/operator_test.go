package operator

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
)

func TestLoadEnvironment(t *testing.T) {
	cases := map[string]struct {
		env       map[string]string // the process environment
		wantLease string            // expected leader-election lease name
		wantErr   error             // expected error, nil for success
	}{
		"without a Helm release the lease has v1.6's plain name": {
			env:       map[string]string{"NAMESPACE": "tidb-admin"},
			wantLease: "tidb-controller-manager",
		},
		"a Helm release is appended to the lease name": {
			env:       map[string]string{"NAMESPACE": "tidb-admin", "HELM_RELEASE": "tidb-operator"},
			wantLease: "tidb-controller-manager-tidb-operator",
		},
		"a missing namespace is refused": {
			env:     map[string]string{"HELM_RELEASE": "tidb-operator"},
			wantErr: ErrNamespaceUnset,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env, err := LoadEnvironment(func(k string) string { return tc.env[k] })
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if env.Namespace != tc.env["NAMESPACE"] {
				t.Errorf("Namespace = %q", env.Namespace)
			}
			if got := env.LeaderElectionID(); got != tc.wantLease {
				t.Errorf("LeaderElectionID() = %q, want %q", got, tc.wantLease)
			}
		})
	}
}

func TestErrNamespaceUnsetTellsWhatToDo(t *testing.T) {
	if msg := ErrNamespaceUnset.Error(); !strings.Contains(msg, "NAMESPACE") || !strings.Contains(msg, "downward API") {
		t.Fatalf("message %q does not explain how to fix it", msg)
	}
}

func testConfig(t *testing.T, args ...string) Config {
	t.Helper()
	o := options.New()
	fs := newFlagSet()
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return Config{
		Options:     o,
		Environment: Environment{Namespace: "tidb-admin", HelmRelease: "ops"},
		// Nothing listens here; the static mapper answers what the cache asks at construction.
		RestConfig:     &rest.Config{Host: "http://127.0.0.1:1"},
		Logger:         logr.Discard(),
		MapperProvider: staticMapper,
	}
}

// staticMapper maps every kind of the operator's scheme without asking an API server.
func staticMapper(*rest.Config, *http.Client) (meta.RESTMapper, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	return testrestmapper.TestOnlyStaticRESTMapper(scheme), nil
}

func TestManagerOptionsCarryTheFlags(t *testing.T) {
	cfg := testConfig(t, "-workers=7", "-resync-duration=45s",
		"-leader-lease-duration=20s", "-leader-renew-deadline=12s", "-leader-retry-period=3s")
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ManagerOptions(cfg, scheme)
	if err != nil {
		t.Fatal(err)
	}

	if !got.LeaderElection || got.LeaderElectionID != "tidb-controller-manager-ops" ||
		got.LeaderElectionNamespace != "tidb-admin" || got.LeaderElectionResourceLock != "leases" {
		t.Errorf("leader election = %v %q in %q lock %q", got.LeaderElection, got.LeaderElectionID,
			got.LeaderElectionNamespace, got.LeaderElectionResourceLock)
	}
	if *got.LeaseDuration != 20*time.Second || *got.RenewDeadline != 12*time.Second || *got.RetryPeriod != 3*time.Second {
		t.Errorf("lease timings = %s/%s/%s", *got.LeaseDuration, *got.RenewDeadline, *got.RetryPeriod)
	}
	if got.Metrics.BindAddress != ":6060" {
		t.Errorf("metrics address = %q, want :6060", got.Metrics.BindAddress)
	}
	if _, ok := got.Metrics.ExtraHandlers["/debug/pprof/"]; !ok {
		t.Errorf("pprof is not served on the metrics port")
	}
	if got.HealthProbeBindAddress != ":8081" {
		t.Errorf("probe address = %q", got.HealthProbeBindAddress)
	}
	if got.Controller.MaxConcurrentReconciles != 7 {
		t.Errorf("MaxConcurrentReconciles = %d, want 7", got.Controller.MaxConcurrentReconciles)
	}
	if got.Cache.SyncPeriod != nil {
		// -resync-duration drives the controller's requeue, not informer replays (see manager.go).
		t.Errorf("SyncPeriod = %v, want the default", *got.Cache.SyncPeriod)
	}
	if got.Cache.DefaultNamespaces != nil {
		t.Errorf("a cluster-scoped operator watches only %v", got.Cache.DefaultNamespaces)
	}
	for obj := range got.Cache.ByObject {
		if gvks, _, _ := scheme.ObjectKinds(obj); len(gvks) > 0 && gvks[0].Group == v1alpha1.GroupName {
			t.Errorf("without -selector %s should not be filtered", gvks[0].Kind)
		}
	}
}

func TestANamespacedOperatorWatchesOnlyItsNamespace(t *testing.T) {
	cfg := testConfig(t, "-cluster-scoped=false")
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ManagerOptions(cfg, scheme)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cache.DefaultNamespaces) != 1 {
		t.Fatalf("DefaultNamespaces = %v, want only tidb-admin", got.Cache.DefaultNamespaces)
	}
	if _, ok := got.Cache.DefaultNamespaces["tidb-admin"]; !ok {
		t.Fatalf("DefaultNamespaces = %v, want only tidb-admin", got.Cache.DefaultNamespaces)
	}
}

func TestTheSelectorFiltersOnlyPingcapKinds(t *testing.T) {
	cfg := testConfig(t, "-selector=team=db")
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ManagerOptions(cfg, scheme)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cache.ByObject) == 0 {
		t.Fatal("no kind is filtered by -selector")
	}
	sawTidbCluster := false
	for obj, by := range got.Cache.ByObject {
		gvks, _, err := scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		if gvks[0].GroupVersion() != v1alpha1.SchemeGroupVersion {
			// Built-in kinds carry the managed-by restriction, never the user's selector.
			if by.Label.Matches(labels.Set{"team": "db"}) {
				t.Errorf("%s is filtered by -selector but is not a pingcap.com kind", gvks[0])
			}
			continue
		}
		if strings.HasSuffix(gvks[0].Kind, "List") {
			t.Errorf("list kind %s got a selector", gvks[0].Kind)
		}
		if gvks[0].Kind == "TidbCluster" {
			sawTidbCluster = true
		}
		if !by.Label.Matches(labels.Set{"team": "db"}) || by.Label.Matches(labels.Set{"team": "web"}) {
			t.Errorf("%s selector %s does not match team=db only", gvks[0].Kind, by.Label)
		}
	}
	if !sawTidbCluster {
		t.Error("TidbCluster is not filtered by -selector")
	}
}

func TestSelectorByObjectSkipsMetaAndListTypes(t *testing.T) {
	// A scheme with one object kind and its list under a test group, plus the meta types
	// AddToGroupVersion brings along, as every real API group has.
	gv := schema.GroupVersion{Group: "example.test", Version: "v1"}
	scheme := runtime.NewScheme()
	scheme.AddKnownTypes(gv, &corev1.ConfigMap{}, &corev1.ConfigMapList{})
	metav1.AddToGroupVersion(scheme, gv)

	o := options.New()
	o.Selector = "a=b"
	got, err := selectorByObject(scheme, gv, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("filtered %d kinds, want only ConfigMap", len(got))
	}
	for obj := range got {
		if _, ok := obj.(*corev1.ConfigMap); !ok {
			t.Fatalf("filtered %T, want *corev1.ConfigMap", obj)
		}
	}
}

func TestNewManagerSetsUpControllersInOrder(t *testing.T) {
	cfg := testConfig(t, "-metrics-bind-address=0", "-health-probe-bind-address=0")
	var order []string
	record := func(name string) Controller {
		return Controller{Name: name, Setup: func(mgr ctrl.Manager, o *options.Options) error {
			if mgr == nil || o != cfg.Options {
				t.Errorf("%s got mgr=%v options=%p", name, mgr, o)
			}
			order = append(order, name)
			return nil
		}}
	}
	cfg.Controllers = []Controller{record("tidbcluster"), record("backup"), record("restore")}

	if _, err := NewManager(cfg); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "tidbcluster,backup,restore" {
		t.Fatalf("setup order = %s", got)
	}
}

func TestNewManagerRejectsBadControllerLists(t *testing.T) {
	boom := errors.New("boom")
	ok := func(ctrl.Manager, *options.Options) error { return nil }
	cases := map[string]struct {
		controllers []Controller // the registration list
		wantErr     string       // substring of the error
		wantIs      error        // an error the result must wrap, if any
	}{
		"a failing setup names the controller and keeps the cause": {
			controllers: []Controller{{Name: "backup", Setup: func(ctrl.Manager, *options.Options) error { return boom }}},
			wantErr:     `setting up controller "backup": boom`,
			wantIs:      boom,
		},
		"the same name twice": {
			controllers: []Controller{{Name: "restore", Setup: ok}, {Name: "restore", Setup: ok}},
			wantErr:     `controller "restore" is registered twice`,
		},
		"an entry without a setup function": {
			controllers: []Controller{{Name: "tidbmonitor"}},
			wantErr:     `controller "tidbmonitor": a controller needs both a name and a setup function`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, "-metrics-bind-address=0", "-health-probe-bind-address=0")
			cfg.Controllers = tc.controllers
			_, err := NewManager(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Fatalf("error %v does not wrap %v", err, tc.wantIs)
			}
		})
	}
}

func TestTheShippedControllerListIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Controllers() {
		if c.Name == "" || c.Setup == nil || seen[c.Name] {
			t.Errorf("bad entry %q", c.Name)
		}
		seen[c.Name] = true
	}
}

func TestApplyThrottling(t *testing.T) {
	cases := map[string]struct {
		qps       float64 // -kube-client-qps
		burst     int     // -kube-client-burst
		wantQPS   float32 // rest.Config.QPS afterwards
		wantBurst int     // rest.Config.Burst afterwards
	}{
		"unset flags turn client-side throttling off": {0, 0, -1, 0},
		"both flags are applied":                      {50, 100, 50, 100},
		"a QPS alone keeps client-go's default burst": {20, 0, 20, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := &rest.Config{}
			o := options.New()
			o.KubeClientQPS, o.KubeClientBurst = tc.qps, tc.burst
			applyThrottling(cfg, o)
			if cfg.QPS != tc.wantQPS || cfg.Burst != tc.wantBurst {
				t.Fatalf("QPS/Burst = %g/%d, want %g/%d", cfg.QPS, cfg.Burst, tc.wantQPS, tc.wantBurst)
			}
		})
	}
}

func TestRestConfigReadsAnExplicitKubeconfig(t *testing.T) {
	path := t.TempDir() + "/kubeconfig"
	writeFile(t, path, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://k8s.example.test:6443"}
users:
- name: u
  user: {token: secret}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`)
	o := options.New()
	o.Kubeconfig = path
	o.KubeClientQPS, o.KubeClientBurst = 30, 60
	cfg, err := RestConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://k8s.example.test:6443" || cfg.QPS != 30 || cfg.Burst != 60 {
		t.Fatalf("config = host %q qps %g burst %d", cfg.Host, cfg.QPS, cfg.Burst)
	}
	if !strings.HasPrefix(cfg.UserAgent, "tidb-controller-manager/") {
		t.Fatalf("UserAgent = %q", cfg.UserAgent)
	}
}

func TestRestConfigReportsAMissingKubeconfig(t *testing.T) {
	o := options.New()
	o.Kubeconfig = t.TempDir() + "/absent"
	if _, err := RestConfig(o); err == nil || !strings.Contains(err.Error(), "loading the Kubernetes client configuration") {
		t.Fatalf("error = %v", err)
	}
}

type fakeCache struct{ synced bool }

func (f fakeCache) WaitForCacheSync(context.Context) bool { return f.synced }

func TestReadinessFollowsTheCache(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	if err := cacheSynced(fakeCache{synced: false})(req); !errors.Is(err, errCacheNotSynced) {
		t.Errorf("unsynced cache: error = %v, want %v", err, errCacheNotSynced)
	}
	if err := cacheSynced(fakeCache{synced: true})(req); err != nil {
		t.Errorf("synced cache: error = %v", err)
	}
}

func TestPprofIsServed(t *testing.T) {
	mux := http.NewServeMux()
	for path, h := range pprofHandlers() {
		mux.Handle(path, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
}

func TestTheCacheMapperToleratesMissingPingcapKinds(t *testing.T) {
	gv := v1alpha1.SchemeGroupVersion
	known := meta.NewDefaultRESTMapper([]schema.GroupVersion{gv, corev1.SchemeGroupVersion})
	known.Add(gv.WithKind("TidbCluster"), meta.RESTScopeNamespace)
	m := groupFallbackMapper{RESTMapper: known, gv: gv}

	served, err := m.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: "TidbCluster"})
	if err != nil || served.Resource.Resource != "tidbclusters" {
		t.Fatalf("served kind: %v, %v", served, err)
	}
	missing, err := m.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: "TidbClusterAutoScaler"}, "v1alpha1")
	if err != nil {
		t.Fatalf("a missing pingcap.com kind failed: %v", err)
	}
	if missing.Scope.Name() != meta.RESTScopeNameNamespace || missing.Resource != gv.WithResource("tidbclusterautoscalers") {
		t.Fatalf("fallback mapping = %+v", missing)
	}
	if _, err := m.RESTMapping(schema.GroupKind{Group: "example.test", Kind: "Widget"}); !meta.IsNoMatchError(err) {
		t.Fatalf("another group's missing kind: error = %v, want a no-match error", err)
	}
}
