package cluster

import (
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// crdInstalls remembers, per set of paths, the one install into the shared cluster.
var crdInstalls sync.Map // string → *crdInstall

type crdInstall struct {
	once sync.Once
	err  error
}

// InstallCRDs installs the CRDs at paths (files or directories) into the shared cluster once per
// test binary, however many tests ask, and fails the test if that install failed. It waits up to
// three minutes for them to be served: the TidbCluster CRD is large and a busy two-core machine
// needs longer than envtest's default.
func InstallCRDs(t testing.TB, paths ...string) {
	t.Helper()
	cl := Shared(t)
	v, _ := crdInstalls.LoadOrStore(strings.Join(paths, "\x00"), &crdInstall{})
	in := v.(*crdInstall)
	in.once.Do(func() {
		_, in.err = envtest.InstallCRDs(cl.Config(), envtest.CRDInstallOptions{
			Paths: paths, ErrorIfPathMissing: true, MaxTime: 3 * time.Minute,
		})
	})
	if in.err != nil {
		t.Fatalf("install the CRDs of %v: %v", paths, in.err)
	}
}
