package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// EnvTestbin names the environment variable that points the harness at a folder that already
// holds the control-plane binaries, so hack/testbin.sh is not run.
const EnvTestbin = "TIDB_OPERATOR_TESTBIN"

// testbinScript is the repository's builder of control-plane binaries, relative to the root.
const testbinScript = "hack/testbin.sh"

// kwokStagesDir is the sub-folder of the binary folder holding kwok's stage definitions.
const kwokStagesDir = "kwok-stages"

// requiredBinaries lists what a cluster of the given kind needs in the binary folder.
func requiredBinaries(full bool) []string {
	bins := []string{"etcd", "kube-apiserver"}
	if full {
		bins = append(bins, "kube-controller-manager", "kube-scheduler", "kwok")
	}
	return bins
}

// locateBinaries returns the folder holding the control-plane binaries: EnvTestbin if set,
// otherwise the folder hack/testbin.sh prints after building whatever is missing. The script's
// progress messages go to progress so that a long first build is visible.
func locateBinaries(ctx context.Context, full bool, progress io.Writer) (string, error) {
	want := requiredBinaries(full)
	if dir := os.Getenv(EnvTestbin); dir != "" {
		if err := checkBinaries(dir, want, full); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvTestbin, dir, err)
		}
		return dir, nil
	}

	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	// Test binaries of several packages may start at the same moment; only one of them should
	// build, the others wait and then find everything cached.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "tidb-operator-testbin.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	what := "apiserver"
	if full {
		what = "all"
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, testbinScript), what)
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = progress
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w (set %s to use prebuilt binaries)", testbinScript, what, err, EnvTestbin)
	}
	dir := lastLine(stdout.String())
	if dir == "" {
		return "", fmt.Errorf("%s %s printed no folder", testbinScript, what)
	}
	if err := checkBinaries(dir, want, full); err != nil {
		return "", fmt.Errorf("%s %s printed %s: %w", testbinScript, what, dir, err)
	}
	return dir, nil
}

func checkBinaries(dir string, bins []string, full bool) error {
	var errs []error
	for _, b := range bins {
		st, err := os.Stat(filepath.Join(dir, b))
		switch {
		case err != nil:
			errs = append(errs, err)
		case st.IsDir() || st.Mode().Perm()&0o111 == 0:
			errs = append(errs, fmt.Errorf("%s is not an executable file", filepath.Join(dir, b)))
		}
	}
	if full {
		if st, err := os.Stat(filepath.Join(dir, kwokStagesDir)); err != nil {
			errs = append(errs, err)
		} else if !st.IsDir() {
			errs = append(errs, fmt.Errorf("%s is not a directory", filepath.Join(dir, kwokStagesDir)))
		}
	}
	return errors.Join(errs...)
}

// RepoRoot is the checkout the tests run from: the folder holding hack/testbin.sh above the
// working directory (where `go test` and the CLI run) and, failing that, above this source
// file (for binaries run from elsewhere but built from this checkout).
func RepoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			if st, err := os.Stat(filepath.Join(dir, testbinScript)); err == nil && !st.IsDir() {
				return dir, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find %s above %s; run inside the repository or set %s",
		testbinScript, strings.Join(starts, " or "), EnvTestbin)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// lockFile takes an exclusive advisory lock on path, waiting for other holders.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
