package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// repoRoot is the repository, seen from this package's directory (where go test runs).
const repoRoot = "../.."

// operatorNamespace holds the operator's leader-election lease.
const operatorNamespace = "tidb-admin"

func newScheme(b testing.TB) *runtime.Scheme {
	b.Helper()
	s, err := operator.NewScheme()
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// startCluster starts a local control plane with our CRDs for this benchmark alone and stops
// it when the benchmark ends. The CRDs are installed with a longer wait than envtest's default:
// the TidbCluster CRD is large and a busy two-core machine needs a while to serve it.
func startCluster(b *testing.B, full bool) *cluster.Cluster {
	b.Helper()
	if testing.Short() {
		b.Skip("needs a local control plane, which -short does not start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{
		Full:         full,
		Scheme:       newScheme(b),
		Progress:     os.Stderr,
		ReadyTimeout: 5 * time.Minute,
	})
	if err != nil {
		b.Fatalf("start the local cluster: %v", err)
	}
	b.Cleanup(func() {
		if b.Failed() {
			c.KeepWorkDir()
			b.Logf("cluster logs kept in %s", c.LogDir())
		}
		if err := c.Stop(); err != nil {
			b.Errorf("stop the local cluster: %v", err)
		}
	})
	if _, err := envtest.InstallCRDs(c.Config(), envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(repoRoot, "manifests", "crd")},
		ErrorIfPathMissing: true,
		MaxTime:            3 * time.Minute,
	}); err != nil {
		b.Fatalf("install CRDs: %v", err)
	}
	return c
}

func createNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// basicCluster reads examples/basic, the 3 PD / 3 TiKV / 2 TiDB cluster `make run` applies.
func basicCluster(b testing.TB, namespace string) *v1alpha1.TidbCluster {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "basic", "tidb-cluster.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	tc := &v1alpha1.TidbCluster{}
	if err := yaml.UnmarshalStrict(data, tc); err != nil {
		b.Fatalf("examples/basic/tidb-cluster.yaml: %v", err)
	}
	tc.Namespace = namespace
	return tc
}
