package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr/funcr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	if err := mainErr(); err != nil {
		_, _ = fmt.Fprintln(os.Stderr, "devrun:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var (
		root    = flag.String("root", "", "root of the repository checkout (default: the nearest parent of the working directory holding go.work)")
		verbose = flag.Bool("v", false, "verbose progress messages")
	)
	flag.Usage = func() {
		_, _ = fmt.Fprint(flag.CommandLine.Output(), `Usage: devrun [-root DIR] [-v]

Without $KUBECONFIG: starts a local simulated cluster (6 kwok nodes), the TiDB simulator and the
operator built from source, and applies examples/basic. With $KUBECONFIG: installs the CRDs into
that cluster and runs the operator from source against it ($NAMESPACE, default "default").
Runs until interrupted; Ctrl-C stops everything it started.

Flags:
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	dir := *root
	if dir == "" {
		found, err := findRoot()
		if err != nil {
			return err
		}
		dir = found
	}

	verbosity := 0
	if *verbose {
		verbosity = 1
	}
	logger := funcr.New(func(prefix, args string) {
		_, _ = fmt.Fprintf(os.Stderr, "%s %s %s\n", time.Now().Format("15:04:05"), prefix, args)
	}, funcr.Options{Verbosity: verbosity})
	// envtest reports through controller-runtime's global logger; without one it complains.
	ctrllog.SetLogger(logger.WithName("envtest"))

	// Installed before anything starts, so that an interrupt during start-up also stops what is
	// already running.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	return Run(ctx, Options{
		Root:       dir,
		Kubeconfig: os.Getenv("KUBECONFIG"),
		Namespace:  os.Getenv("NAMESPACE"),
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Logger:     logger.WithName("devrun"),
	})
}

// findRoot walks up from the working directory to the folder holding go.work, the root of the
// checkout (make runs devrun from tests/).
func findRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.work above %s; pass -root", wd)
		}
	}
}
