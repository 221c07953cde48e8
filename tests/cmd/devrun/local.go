package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/podwatch"
)

// exampleNamespace is where the example's namespaced objects go when they name none.
const exampleNamespace = "default"

// runLocal starts the local cluster, the simulator and the operator, applies the example and
// waits for the end. Whatever was started is stopped, in reverse order, before it returns.
func runLocal(ctx context.Context, opts Options, l layout) (retErr error) {
	log := opts.Logger
	began := time.Now()
	var teardown []func() error
	defer func() {
		say(opts.Stderr, "devrun: stopping…")
		var errs []error
		for i := len(teardown) - 1; i >= 0; i-- {
			if err := teardown[i](); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			retErr = errors.Join(retErr, err)
			return
		}
		say(opts.Stderr, "devrun: stopped; nothing left running")
	}()

	// The operator compiles while the cluster starts: both take a while on a small machine, and
	// the cluster mostly waits on its components.
	log.Info("Building the operator", "output", l.rel(l.operatorBinary))
	build := startBuild(ctx, l, opts.Stderr)
	// First in, so last out: a build still running when start-up fails is stopped and awaited.
	teardown = append(teardown, func() error {
		build.stop()
		return nil
	})

	// A fresh work folder each time: logs of an earlier run would only mislead.
	if err := os.RemoveAll(l.clusterDir); err != nil {
		return fmt.Errorf("clear %s: %w", l.clusterDir, err)
	}
	log.Info("Starting the local cluster (the first run builds the control-plane binaries, which takes minutes)")
	// The CRDs are installed below rather than through Options.CRDDirectoryPaths: envtest gives
	// them ten seconds to show up in discovery, which a busy two-core machine can exceed with
	// our large schemas, and a user's first run should not fail on that.
	c, err := cluster.Start(ctx, cluster.Options{
		Full:           true,
		KubeconfigPath: l.kubeconfig,
		WorkDir:        l.clusterDir,
		Logger:         log.WithName("cluster"),
		Progress:       opts.Stderr,
		ReadyTimeout:   5 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("start the local cluster: %w", err)
	}
	teardown = append(teardown, c.Stop)
	cfg := c.Config()
	log.Info("Local cluster is up", "nodes", len(c.Nodes()), "kubeconfig", l.rel(l.kubeconfig))

	kc, err := newClient(cfg)
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, kc, l, opts.Stderr); err != nil {
		return err
	}
	if _, err := ensureNamespace(ctx, kc, LocalOperatorNamespace); err != nil {
		return err
	}
	simURL, stopSim, err := startSimulator(ctx, cfg, filepath.Join(l.logs, "simulator.log"))
	if err != nil {
		return err
	}
	teardown = append(teardown, stopSim)
	log.Info("Simulator is serving", "url", simURL)

	log.Info("Waiting for the operator build")
	if err := build.wait(ctx); err != nil {
		return err
	}

	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	healthAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	op, err := startOperator(operatorRun{
		binary: l.operatorBinary,
		args: []string{
			"-kubeconfig=" + l.kubeconfig,
			"-metrics-bind-address=" + metricsAddr,
			"-health-probe-bind-address=" + healthAddr,
		},
		env: map[string]string{
			"KUBECONFIG": l.kubeconfig,
			"NAMESPACE":  LocalOperatorNamespace,
			// The operator's PD, TiKV and TiDB clients reach the simulated components through
			// the simulator's proxy, like any Go program behind a proxy. The API server is on
			// loopback, which Go never proxies; NO_PROXY says so for other tools too.
			"HTTP_PROXY":  simURL,
			"http_proxy":  simURL,
			"NO_PROXY":    "127.0.0.1,localhost",
			"no_proxy":    "127.0.0.1,localhost",
			"HTTPS_PROXY": "",
			"https_proxy": "",
		},
		logPath: filepath.Join(l.logs, "operator.log"),
		out:     opts.Stdout,
		prefix:  "operator | ",
	})
	if err != nil {
		return err
	}
	teardown = append(teardown, op.stop)
	log.Info("Operator started", "pid", op.pid(), "namespace", LocalOperatorNamespace)

	examples, err := readManifests(filepath.Join(l.root, "examples", "basic", "*.yaml"))
	if err != nil {
		return err
	}
	applied, err := applyAll(ctx, kc, examples, exampleNamespace)
	if err != nil {
		return err
	}

	printLocalBanner(opts.Stdout, l, localBanner{
		took: time.Since(began), nodes: len(c.Nodes()), simURL: simURL, operatorPID: op.pid(),
		metrics: metricsAddr, health: healthAddr, applied: applied, clusterLogs: c.LogDir(),
	})
	if opts.OnReady != nil {
		opts.OnReady(Ready{
			Kubeconfig: l.kubeconfig, RestConfig: rest.CopyConfig(cfg), SimulatorURL: simURL,
			OperatorPID: op.pid(), ClusterProcesses: c.Processes(), Applied: applied,
		})
	}
	if err := waitForEnd(ctx, op, c.Check); err != nil {
		// Keep the component logs of a cluster that failed.
		c.KeepWorkDir()
		return err
	}
	return nil
}

// startSimulator runs the TiDB simulator in this process: it watches the cluster's pods and
// TidbClusters and serves on a free loopback port. The returned function stops it.
func startSimulator(ctx context.Context, cfg *rest.Config, logPath string) (string, func() error, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", nil, fmt.Errorf("create simulator log: %w", err)
	}
	logger := fileLogger(logFile)

	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		_ = logFile.Close()
		return "", nil, fmt.Errorf("simulator: kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		_ = logFile.Close()
		return "", nil, fmt.Errorf("simulator: dynamic client: %w", err)
	}

	m := model.New(model.Options{})
	watchCtx, stopWatch := context.WithCancel(context.Background())
	w := podwatch.New(kube, dyn, m, podwatch.Options{Logger: logger.WithName("podwatch")})
	// The watch must outlive a cancelled ctx until teardown; start-up still honours ctx.
	startErr := make(chan error, 1)
	go func() { startErr <- w.Start(watchCtx) }()
	select {
	case err = <-startErr:
	case <-ctx.Done():
		stopWatch()
		// The watch's start ends with the cancellation just made; its error says only that.
		if err := <-startErr; err != nil {
			logger.V(1).Info("Simulator watch stopped during start-up", "reason", err.Error())
		}
		_ = logFile.Close()
		return "", nil, ctx.Err()
	}
	if err != nil {
		stopWatch()
		_ = logFile.Close()
		return "", nil, fmt.Errorf("simulator: %w", err)
	}

	srv := sim.New(sim.Options{Model: m, Logger: logger.WithName("server")})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		stopWatch()
		_ = logFile.Close()
		return "", nil, fmt.Errorf("simulator: %w", err)
	}
	logger.Info("simulator listening", "url", url)
	stop := func() error {
		stopWatch()
		err := srv.Close()
		_ = logFile.Close()
		return err
	}
	return url, stop, nil
}

// fileLogger logs to f with timestamps.
func fileLogger(f io.Writer) logr.Logger {
	var mu sync.Mutex
	return funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = fmt.Fprintf(f, "%s %s %s\n", time.Now().Format(time.RFC3339), prefix, args)
	}, funcr.Options{})
}

type localBanner struct {
	took            time.Duration
	nodes           int
	simURL          string
	operatorPID     int
	metrics, health string
	applied         []string
	clusterLogs     string
}

func printLocalBanner(w io.Writer, l layout, b localBanner) {
	kc := l.rel(l.kubeconfig)
	var sb strings.Builder
	fmt.Fprintf(&sb, `
==============================================================================
TiDB Operator is running on a local simulated cluster (ready in %s).

  cluster:    %d kwok nodes, kubeconfig %s
  simulator:  %s  (HTTP proxy for PD/TiKV/TiDB; admin API under /_sim/)
  operator:   pid %d, built from source, namespace %s
              metrics http://%s/metrics, health http://%s/healthz
  applied:    %s (examples/basic)

Watch it (from %s):
  kubectl --kubeconfig %s get tc -w
  kubectl --kubeconfig %s get pods -w
  curl -x %s http://basic-pd.default:2379/pd/api/v1/health
  curl %s/_sim/clusters

Logs:
  operator:   %s (also below, prefixed "operator | ")
  simulator:  %s
  cluster:    %s/

Press Ctrl-C to stop everything.
==============================================================================
`, b.took.Round(100*time.Millisecond),
		b.nodes, kc,
		b.simURL,
		b.operatorPID, LocalOperatorNamespace,
		b.metrics, b.health,
		strings.Join(b.applied, ", "),
		l.root,
		kc, kc,
		b.simURL, b.simURL,
		l.rel(filepath.Join(l.logs, "operator.log")),
		l.rel(filepath.Join(l.logs, "simulator.log")),
		l.rel(b.clusterLogs))
	_, _ = io.WriteString(w, sb.String())
}
