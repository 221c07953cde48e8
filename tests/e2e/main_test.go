package e2e

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
)

// simTick is the simulator's step for gradual processes (regions leaving a store, leaders
// moving). A quarter second keeps a store removal within seconds without making it instant,
// so the operator really has to wait for the tombstone.
const simTick = 250 * time.Millisecond

// simulator is the one TiDB simulator of this test binary. It serves every test namespace: the
// simulated hosts carry the namespace, so clusters of parallel tests never meet.
var simulator *sim.Server

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

func TestMain(m *testing.M) {
	if !flag.Parsed() {
		flag.Parse()
	}
	// The scenarios spend their time waiting on the cluster, not on the CPU; run them all at
	// once unless -parallel says otherwise (its default is GOMAXPROCS, two on the CI machine).
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	// Components that log through controller-runtime's global logger (rather than the
	// manager's) would otherwise print a warning with a stack trace after 30 seconds.
	ctrllog.SetLogger(funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, prefix, args)
	}, funcr.Options{Verbosity: 0}))

	if !testing.Short() {
		if err := startSimulator(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			os.Exit(1)
		}
	}
	// The CRDs are installed by installCRDs rather than through Options.CRDDirectoryPaths: the
	// harness leaves envtest's ten-second wait for them in place, and on a busy two-core machine
	// the large TidbCluster CRD takes longer than that to be served.
	//
	// LocalJobs: the backup scenarios run each Job pod's program as a local process
	// (tests/jobrunner), so kwok must not finish Job pods by itself.
	cluster.SharedForTest(m, cluster.Options{Full: true, LocalJobs: true, Scheme: testScheme()})
}

// startSimulator starts the simulator's listener and points HTTP_PROXY and HTTPS_PROXY at it:
// HTTP_PROXY for the components' HTTP APIs, HTTPS_PROXY for PD's etcd, which grpc-go reaches
// through a CONNECT tunnel that the simulator opens to a real etcd per simulated cluster (the
// log backup checkpoint lives there). This has to
// happen before any HTTP client of the process first consults the proxy settings:
// http.ProxyFromEnvironment reads the environment once and caches it, and the harness builds
// its API-server client while the cluster starts. The kube-apiserver is reached over https on
// a loopback address, which HTTP_PROXY never applies to.
//
// The simulator learns about pods only once the cluster runs (see feedSimulator), so until then it
// simulates nothing.
func startSimulator() error {
	simulator = sim.New(sim.Options{Model: model.New(model.Options{TickInterval: simTick})})
	url, err := simulator.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the TiDB simulator: %w", err)
	}
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		if err := os.Setenv(k, url); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	// A NO_PROXY from the developer's shell could exclude the simulated hosts; say so now
	// rather than through timeouts later.
	req, err := http.NewRequest(http.MethodGet, "http://basic-pd.e2e:2379/pd/api/v1/health", nil)
	if err != nil {
		return err
	}
	proxy, err := http.ProxyFromEnvironment(req)
	if err != nil {
		return fmt.Errorf("read the proxy settings: %w", err)
	}
	if proxy == nil || "http://"+proxy.Host != url {
		return fmt.Errorf("requests to simulated hosts do not go through the simulator at %s but to proxy %v; check NO_PROXY/no_proxy", url, proxy)
	}
	return nil
}
