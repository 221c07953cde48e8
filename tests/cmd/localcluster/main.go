// Command localcluster runs the test harness's local Kubernetes cluster (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok fake nodes) in the foreground, for trying the
// operator by hand. It stops everything on Ctrl-C or SIGTERM.
//
//	go run ./cmd/localcluster up --kubeconfig-out /tmp/kubeconfig [--zones 3 --nodes-per-zone 2]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

const usage = `Usage: localcluster up --kubeconfig-out PATH [flags]

Starts a local cluster (API server, controller manager, scheduler and kwok fake nodes spread over
zones), writes an admin kubeconfig to PATH and keeps running until interrupted.

Flags:
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

// stringList collects a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type upFlags struct {
	kubeconfigOut   string
	zones           int
	nodesPerZone    int
	crdDirs         stringList
	schedulerConfig string
	keepLogs        bool
	verbose         bool
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "up" {
		newFlagSet(stderr, &upFlags{}).Usage()
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("expected the subcommand \"up\"")
	}
	var f upFlags
	fs := newFlagSet(stderr, &f)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if f.kubeconfigOut == "" {
		return errors.New("--kubeconfig-out is required")
	}
	if f.zones < 1 || f.nodesPerZone < 1 {
		return errors.New("--zones and --nodes-per-zone must be at least 1")
	}
	kubeconfig, err := filepath.Abs(f.kubeconfigOut)
	if err != nil {
		return err
	}

	verbosity := 0
	if f.verbose {
		verbosity = 1
	}
	logger := funcr.New(func(prefix, args string) {
		fmt.Fprintf(stderr, "%s %s %s\n", time.Now().Format("15:04:05"), prefix, args)
	}, funcr.Options{Verbosity: verbosity})
	// envtest logs through controller-runtime's logger.
	ctrllog.SetLogger(logger.WithName("envtest"))

	opts := cluster.Options{
		Full:              true,
		Zones:             f.zones,
		NodesPerZone:      f.nodesPerZone,
		CRDDirectoryPaths: f.crdDirs,
		KubeconfigPath:    kubeconfig,
		Logger:            logger.WithName("localcluster"),
		Progress:          stderr,
	}
	if f.schedulerConfig != "" {
		if opts.SchedulerConfig, err = os.ReadFile(f.schedulerConfig); err != nil {
			return fmt.Errorf("read scheduler configuration: %w", err)
		}
	}

	// The signal handler is installed before anything starts, so an interrupt during start-up
	// also tears down what is already running (Start stops it when its context ends).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	began := time.Now()
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		return err
	}
	if f.keepLogs {
		c.KeepWorkDir()
	}
	printReady(stdout, c, f, time.Since(began))

	err = watch(ctx, c, logger)
	fmt.Fprintln(stderr, "localcluster: stopping…")
	if err != nil {
		c.KeepWorkDir()
	}
	if stopErr := c.Stop(); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	if err == nil {
		fmt.Fprintln(stderr, "localcluster: stopped")
	}
	return err
}

func newFlagSet(out io.Writer, f *upFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("localcluster up", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.kubeconfigOut, "kubeconfig-out", "", "where to write the admin kubeconfig (required)")
	fs.IntVar(&f.zones, "zones", 3, "number of zones (topology.kubernetes.io/zone) of fake nodes")
	fs.IntVar(&f.nodesPerZone, "nodes-per-zone", 2, "fake nodes in each zone")
	fs.Var(&f.crdDirs, "crd-dir", "directory or file of CRD manifests to install (repeatable)")
	fs.StringVar(&f.schedulerConfig, "scheduler-config", "", "KubeSchedulerConfiguration file for kube-scheduler (profiles, extenders)")
	fs.BoolVar(&f.keepLogs, "keep-logs", false, "keep the work directory with component logs after stopping")
	fs.BoolVar(&f.verbose, "v", false, "verbose harness logging")
	return fs
}

func printReady(w io.Writer, c *cluster.Cluster, f upFlags, took time.Duration) {
	t := c.Timings()
	fmt.Fprintf(w, `Local cluster is up in %s (API server %s, nodes ready %s later).
  nodes:      %d (%d zones x %d)
  kubeconfig: %s
  logs:       %s

Use it with:
  export KUBECONFIG=%s
  kubectl get nodes -L topology.kubernetes.io/zone

Press Ctrl-C to stop the cluster.
`, took.Round(100*time.Millisecond), t.APIServer.Round(100*time.Millisecond), t.Ready.Round(100*time.Millisecond),
		len(c.Nodes()), f.zones, f.nodesPerZone, c.KubeconfigPath(), c.LogDir(), c.KubeconfigPath())
}

// watch blocks until ctx ends (an interrupt) or a component dies.
func watch(ctx context.Context, c *cluster.Cluster, log logr.Logger) error {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := c.Check(); err != nil {
				log.Error(err, "A cluster component stopped; tearing down")
				return err
			}
		}
	}
}
