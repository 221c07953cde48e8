package crd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

// The API server is started on first use, not in TestMain, so that the schema tests (pure YAML)
// stay fast when run alone; TestMain only stops it.
var (
	startOnce sync.Once
	testEnv   *cluster.Cluster
	restCfg   *rest.Config
	startErr  error
)

func TestMain(m *testing.M) {
	// Warnings (e.g. about pruned fields) are asserted through the stored objects instead.
	logf.SetLogger(logr.Discard())
	code := m.Run()
	if testEnv != nil {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the test API server: %v\n", err)
		}
	}
	os.Exit(code)
}

// repoRoot finds the repository root (the folder with go.work) from the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test directory")
		}
		dir = parent
	}
}

// ourCRDDir is where the CRDs generated from the Go types live. CRD_DIR overrides it, to check
// freshly generated CRDs before they replace the committed ones.
func ourCRDDir(t testing.TB) string {
	if dir := os.Getenv("CRD_DIR"); dir != "" {
		return dir
	}
	return filepath.Join(repoRoot(t), "manifests", "crd")
}

// upstreamCRDDirs are where PingCAP TiDB Operator v1.6.3's CRDs live on the development and CI
// machines: shared/ beside the checkout (CI lays it there), or the development machines' copy.
// They are read as data only and deliberately not copied into this repository.
func upstreamCRDDirs(t *testing.T) []string {
	return []string{
		filepath.Join(repoRoot(t), "..", "shared", "reference", "upstream-v1.6.3-crds"),
		"/work/shared/reference/upstream-v1.6.3-crds",
	}
}

// upstreamCRDs loads the v1.6.3 CRDs from UPSTREAM_CRD_DIR or the first folder that exists. The
// comparison tests are skipped, loudly, only when none exists at all.
func upstreamCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	dir := os.Getenv("UPSTREAM_CRD_DIR")
	if dir == "" {
		for _, d := range upstreamCRDDirs(t) {
			if _, err := os.Stat(d); err == nil {
				dir = d
				break
			}
		}
	}
	if dir == "" {
		t.Skipf("the v1.6.3 CRDs are in none of %v; set UPSTREAM_CRD_DIR to compare against them", upstreamCRDDirs(t))
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		t.Skipf("the v1.6.3 CRDs are not at %s; set UPSTREAM_CRD_DIR to compare against them", dir)
	}
	crds, err := LoadCRDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return crds
}

// apiServer returns a config for a kube-apiserver that has our CRDs installed, starting it on
// first use. Tests that need it are skipped with -short.
func apiServer(t *testing.T) *rest.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a kube-apiserver (envtest); skipped with -short")
	}
	crdDir := ourCRDDir(t)
	startOnce.Do(func() {
		// The shared harness builds the binaries once (hack/testbin.sh) and guarantees that
		// etcd and kube-apiserver die with the test binary, even when it is killed.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var env *cluster.Cluster
		env, startErr = cluster.Start(ctx, cluster.Options{CRDDirectoryPaths: []string{crdDir}})
		if startErr == nil {
			testEnv, restCfg = env, env.Config()
		}
	})
	if startErr != nil {
		t.Fatalf("starting kube-apiserver with the CRDs of %s: %v", crdDir, startErr)
	}
	return restCfg
}

// newClient returns a controller-runtime client for unstructured objects.
func newClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatalf("creating a client: %v", err)
	}
	return c
}

// testContext is a context bounded so that a hung API server fails the test instead of the run.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// createNamespace creates a namespace for one group of objects so names never collide.
func createNamespace(t *testing.T, c client.Client, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(testContext(t), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}
