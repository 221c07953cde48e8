// Command tidbsim runs the TiDB simulator: the HTTP APIs of PD, TiKV, TiDB, TiFlash and TiCDC
// for the pods of a Kubernetes cluster whose pods are fake (kwok), served as an HTTP forward
// proxy.
//
// It prints the proxy URL as the first line of its standard output; point the operator's
// HTTP_PROXY at it. The same URL serves the admin API under /_sim/ (package
// github.com/tidbops/tidb-operator/tests/sim/simapi has a client). Without a kubeconfig it
// runs with no pods, to be fed through PUT /_sim/pods/{ns}/{name}.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/podwatch"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tidbsim:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		kubeconfig = flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster whose pods to simulate; empty runs without Kubernetes")
		listen     = flag.String("listen", "127.0.0.1:0", "address to listen on (proxy and admin API)")
		namespace  = flag.String("namespace", "", "watch pods of this namespace only (default all)")
		urlFile    = flag.String("url-file", "", "also write the proxy URL to this file")
		verbosity  = flag.Int("v", 0, "log verbosity")
		seed       = flag.Uint64("seed", 0, "seed for IDs and fractional faults (0: from the clock)")
		opts       model.Options
	)
	flag.DurationVar(&opts.TickInterval, "tick", time.Second, "step of gradual processes (region and leader moves, table draining)")
	flag.DurationVar(&opts.DisconnectAfter, "disconnect-after", 20*time.Second, "missed heartbeats before a store is Disconnected")
	flag.DurationVar(&opts.MaxStoreDownTime, "max-store-down-time", 30*time.Minute, "initial PD schedule.max-store-down-time: missed heartbeats before a store is Down")
	flag.IntVar(&opts.MaxReplicas, "max-replicas", 3, "initial PD replication.max-replicas")
	flag.IntVar(&opts.Regions, "regions", 64, "regions created when a cluster bootstraps")
	flag.IntVar(&opts.EvictLeaderPerTick, "evict-leader-rate", 8, "leaders moved off an evicted store per tick")
	flag.IntVar(&opts.RegionMovesPerTick, "region-move-rate", 8, "peers moved off an Offline or Down store per tick")
	flag.IntVar(&opts.BalancePerTick, "balance-rate", 4, "regions and leaders moved by balancing per tick")
	flag.IntVar(&opts.CDCTables, "cdc-tables", 8, "tables replicated by the TiCDC captures of each cluster")
	flag.IntVar(&opts.CDCTablesPerTick, "cdc-drain-rate", 4, "tables moved off a draining capture per tick")
	flag.Parse()

	log := funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, time.Now().Format(time.RFC3339), prefix, args)
	}, funcr.Options{Verbosity: *verbosity})

	opts.Seed = *seed
	m := model.New(opts)
	srv := sim.New(sim.Options{Model: m, Logger: log.WithName("server"), Seed: *seed})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *kubeconfig != "" {
		if err := watch(ctx, *kubeconfig, *namespace, m, log); err != nil {
			return err
		}
	} else {
		log.Info("no kubeconfig: pods must be fed through the admin API")
	}

	url, err := srv.Start(*listen)
	if err != nil {
		return err
	}
	fmt.Println(url)
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o644); err != nil {
			return fmt.Errorf("write URL file: %w", err)
		}
	}
	log.Info("simulator listening", "url", url)
	<-ctx.Done()
	log.Info("shutting down")
	return srv.Close()
}

func watch(ctx context.Context, kubeconfig, namespace string, m *model.Model, log logr.Logger) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	w := podwatch.New(kube, dyn, m, podwatch.Options{Namespace: namespace, Logger: log.WithName("podwatch")})
	if err := w.Start(ctx); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	return nil
}
