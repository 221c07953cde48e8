package jobrunner

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime; without a logger it prints a warning with a stack
	// trace once the binary has run for 30 seconds.
	ctrllog.SetLogger(logr.Discard())
	code := cluster.RunShared(m, cluster.Options{Full: true, LocalJobs: true})
	if helper.dir != "" {
		_ = os.RemoveAll(helper.dir)
	}
	os.Exit(code)
}

// helper is tests/cmd/jobhelper, built once per test binary: the program the tests' Jobs run in
// place of tidb-backup-manager.
var helper struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func helperBinary(t *testing.T) string {
	t.Helper()
	helper.once.Do(func() {
		_, self, _, ok := runtime.Caller(0)
		if !ok {
			helper.err = fmt.Errorf("cannot locate the test sources")
			return
		}
		// self is .../tests/jobrunner/main_test.go; the tests module is its parent's parent.
		module := filepath.Dir(filepath.Dir(self))
		if helper.dir, helper.err = os.MkdirTemp("", "jobhelper-"); helper.err != nil {
			return
		}
		helper.path = filepath.Join(helper.dir, "jobhelper")
		goTool := "go"
		// `go test` sets GOROOT to the toolchain running the tests; build with the same one.
		if root := os.Getenv("GOROOT"); root != "" {
			if p := filepath.Join(root, "bin", "go"); fileExists(p) {
				goTool = p
			}
		}
		cmd := exec.Command(goTool, "build", "-o", helper.path, "./cmd/jobhelper")
		cmd.Dir = module
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			helper.err = fmt.Errorf("go build ./cmd/jobhelper: %w\n%s", err, out.String())
		}
	})
	if helper.err != nil {
		t.Fatal(helper.err)
	}
	return helper.path
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
