package bench

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
)

// simulator plays PD, TiKV and TiDB for the operator under test. It runs for the whole test
// binary because its address must be in HTTP_PROXY before the first HTTP client of the process
// is used; BenchmarkCreateToReady feeds its model from the cluster's pods.
var simulator *sim.Server

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Loggers are handed to each manager; controller-runtime's global one, which a few of its
	// parts use directly, stays quiet (unset, it prints a warning with a stack trace).
	ctrl.SetLogger(logr.Discard())
	simulator = sim.New(sim.Options{Model: model.New(model.Options{})})
	url, err := simulator.Start("127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: start the simulator: %v\n", err)
		return 1
	}
	defer func() { _ = simulator.Close() }()
	// http.ProxyFromEnvironment reads these once per process, on its first call. The API server
	// listens on loopback, which Go never sends through a proxy.
	for k, v := range map[string]string{
		"HTTP_PROXY": url, "http_proxy": url,
		"HTTPS_PROXY": "", "https_proxy": "",
		"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
	} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintf(os.Stderr, "bench: set %s: %v\n", k, err)
			return 1
		}
	}
	return m.Run()
}
