package brdouble

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// TB is the part of testing.TB that Build uses; taking an interface keeps "testing" out of
// the double's own binary, which imports this package for the names above.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// The paths inside the build directory: the Job's layout, so a test can hand the
// backup-manager the same directories the Job mounts.
const (
	BRRelPath      = "br-bin/br"
	TiKVCtlRelPath = "kvctl-bin/tikv-ctl"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Build compiles the double once per test binary (later calls reuse it) into a fresh
// temporary directory and returns the paths of its br and tikv-ctl names. Call Cleanup
// from TestMain to remove the directory when the test binary is done.
func Build(t TB) (brPath, tikvCtlPath string) {
	t.Helper()
	buildOnce.Do(func() { buildDir, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("build brdouble: %v", buildErr)
	}
	return filepath.Join(buildDir, BRRelPath), filepath.Join(buildDir, TiKVCtlRelPath)
}

// Cleanup removes what Build built. Later Builds in the same process fail.
func Cleanup() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

func build() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the brdouble sources")
	}
	// self is .../tests/brdouble/build.go; the tests module is its parent.
	moduleDir := filepath.Dir(filepath.Dir(self))
	dir, err := os.MkdirTemp("", "brdouble-")
	if err != nil {
		return "", fmt.Errorf("make build dir: %w", err)
	}
	bin := filepath.Join(dir, "brdouble")
	cmd := exec.Command(goTool(), "build", "-o", bin, "./cmd/brdouble")
	cmd.Dir = moduleDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build ./cmd/brdouble in %s: %w\n%s", moduleDir, err, out.String())
	}
	for _, rel := range []string{BRRelPath, TiKVCtlRelPath} {
		if err := linkOrCopy(bin, filepath.Join(dir, rel)); err != nil {
			_ = os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// goTool is the go command of the toolchain running the tests, so the double is built
// with the same Go as the code under test.
func goTool() string {
	// GOROOT is set by `go test` for the tests it runs; it names the toolchain running them.
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// linkOrCopy gives the binary another name. A copy (not a symlink) is what the Job's init
// container makes, and argv[0] then carries the new base name either way.
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("make %s: %w", filepath.Dir(dst), err)
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy brdouble: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copy brdouble: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy brdouble to %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy brdouble to %s: %w", dst, err)
	}
	return nil
}
