package cluster

import (
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// builds remembers the binaries built for tests of this process, one per package path.
var builds struct {
	mu   sync.Mutex
	done map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the command at pkg (a path inside the repository's root module, such as
// "./cmd/tidb-backup-manager") once per test binary, into the cluster's work folder (removed
// with it), and returns the executable's path. Tests that run a product binary as a local
// process, as a pod of the cluster would run it, share one build this way.
func (c *Cluster) Binary(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	if builds.done == nil {
		builds.done = map[string]*buildResult{}
	}
	b := builds.done[pkg]
	if b == nil {
		b = &buildResult{}
		builds.done[pkg] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(c.workDir, path.Base(pkg))
		cmd := exec.Command("go", "build", "-o", b.path, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
