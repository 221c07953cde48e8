// Package discovery runs the operator binary in its tidb-discovery mode as a separate process,
// against a real API server (the API-server-only mode of tests/cluster, with the CRDs of
// manifests/crd) and the TiDB simulator, which the process reaches as its HTTP proxy exactly as
// the discovery pod reaches PD in a cluster. It needs no kubelet: the test plays the PD pods'
// start scripts and tells the simulator which PD members run.
package discovery

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

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
	cluster.SharedForTest(m, cluster.Options{Scheme: testScheme()})
}

// installCRDs installs manifests/crd into the shared cluster once per test binary.
func installCRDs(t *testing.T) {
	t.Helper()
	cluster.InstallCRDs(t, "../../manifests/crd")
}
