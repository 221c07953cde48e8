package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

// FieldManager owns everything devrun applies, so that a later `kubectl apply --server-side`
// by the user shows who set a field.
const FieldManager = "tidb-operator-devrun"

// LocalOperatorNamespace is where the operator "runs" in the local cluster: it holds the
// leader-election lease, as the operator's own namespace would in a real installation.
const LocalOperatorNamespace = "tidb-operator-system"

// Options say what Run does. Only Root is required.
type Options struct {
	// Root is the repository checkout: the operator is built from it, the CRDs come from
	// Root/manifests/crd, the example from Root/examples/basic, and output goes to Root/.run.
	Root string
	// RunDir holds what devrun writes: kubeconfig, operator binary, logs. Empty means
	// Root/.run, where `make run` documents them; tests use a folder of their own.
	RunDir string
	// Kubeconfig, when set, selects an existing cluster (the value of $KUBECONFIG: one path or
	// a list). Empty starts the local simulated cluster.
	Kubeconfig string
	// Namespace is the operator's namespace in an existing cluster (default "default"); the
	// local cluster always uses LocalOperatorNamespace.
	Namespace string
	// Stdout receives the banner and the operator's prefixed output; Stderr build progress.
	// Nil means os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Logger receives progress messages.
	Logger logr.Logger
	// OnReady, if set, is called once everything is running and the banner is printed.
	OnReady func(Ready)
}

// Ready describes what Run started, for OnReady.
type Ready struct {
	// Kubeconfig is the absolute path of the kubeconfig written to RunDir/kubeconfig.
	Kubeconfig string
	// RestConfig reaches the cluster the operator manages.
	RestConfig *rest.Config
	// SimulatorURL is the simulator's proxy and admin URL; empty with an existing cluster.
	SimulatorURL string
	// OperatorPID is the process id of the operator child process.
	OperatorPID int
	// ClusterProcesses are the local cluster's processes; nil with an existing cluster.
	ClusterProcesses []cluster.Process
	// Applied names the objects applied from examples/basic ("kind/namespace/name").
	Applied []string
}

// layout is where devrun puts its files.
type layout struct {
	root, run, bin, logs, clusterDir, kubeconfig, operatorBinary string
}

func newLayout(root, run string) layout {
	return layout{
		root:           root,
		run:            run,
		bin:            filepath.Join(run, "bin"),
		logs:           filepath.Join(run, "logs"),
		clusterDir:     filepath.Join(run, "cluster"),
		kubeconfig:     filepath.Join(run, "kubeconfig"),
		operatorBinary: filepath.Join(run, "bin", "tidb-operator"),
	}
}

// rel shows a path relative to the root when it is inside it: the user typed `make run` there.
func (l layout) rel(path string) string {
	if r, err := filepath.Rel(l.root, path); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
		return r
	}
	return path
}

// Run does what `make run` promises and blocks until ctx ends (Ctrl-C) or a part it started
// fails. Before returning it stops everything it started: the operator, the simulator and the
// local cluster. A cancelled ctx is a normal end and returns nil.
func Run(ctx context.Context, opts Options) error {
	if opts.Root == "" {
		return errors.New("the repository root is required")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return err
	}
	opts.Root = root
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	// The banner and the operator's lines share stdout; whole lines keep them readable.
	opts.Stdout = &lineWriter{w: opts.Stdout}

	run := opts.RunDir
	if run == "" {
		run = filepath.Join(root, ".run")
	}
	if run, err = filepath.Abs(run); err != nil {
		return err
	}
	l := newLayout(root, run)
	for _, dir := range []string{l.bin, l.logs} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if opts.Kubeconfig != "" {
		err = runExisting(ctx, opts, l)
	} else {
		err = runLocal(ctx, opts, l)
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Interrupted during start-up: not a failure of anything.
		return nil
	}
	return err
}

// waitForEnd blocks until ctx ends, returning nil, or until the operator exits or check
// reports a failure, returning why.
func waitForEnd(ctx context.Context, op *operatorProcess, check func() error) error {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-op.done:
			return fmt.Errorf("the operator exited: %w", op.exitErr())
		case <-tick.C:
			if check == nil {
				continue
			}
			if err := check(); err != nil {
				return err
			}
		}
	}
}
