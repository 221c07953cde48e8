package manifests

import (
	"flag"
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

// TestMain starts one simulated cluster (API server, controller manager, scheduler, kwok nodes
// in three zones) with our CRDs and Istio's installed, shared by the tests that need a server.
// With -short only the build tests run.
func TestMain(m *testing.M) {
	flag.Parse()
	// The harness and the operator log through controller-runtime; tests report through t.
	ctrllog.SetLogger(logr.Discard())
	if testing.Short() {
		os.Exit(m.Run())
	}
	// The CRDs are installed by the tests themselves (withCRDs): envtest's own installation
	// waits only seconds for them to be served, too little for Istio's on a busy machine.
	cluster.SharedForTest(m, cluster.Options{Full: true, Zones: 3, NodesPerZone: 2})
}
