package integration

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
	// The CRDs are installed by installCRDs, with a longer wait than envtest's default ten
	// seconds: the TidbCluster CRD is large and a busy two-core machine needs longer to serve it.
	cluster.SharedForTest(m, cluster.Options{Scheme: testScheme()})
}

// installCRDs installs manifests/crd into the shared cluster once per test binary.
func installCRDs(t *testing.T) {
	t.Helper()
	cluster.InstallCRDs(t, "../../manifests/crd")
}
