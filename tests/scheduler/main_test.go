package scheduler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/scheduler/extender"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// componentDir is the shipped kustomize component.
const componentDir = "../../manifests/components/tidb-scheduler"

// extenderPort is where the test's extender listens; chosen before the cluster starts because
// the scheduler configuration names it.
var extenderPort int

func TestMain(m *testing.M) {
	// The extender's API client logs through controller-runtime; the tests read events instead.
	ctrllog.SetLogger(logr.Discard())
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	extenderPort = port
	cfg, err := schedulerConfig(port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scheme, err := extender.Scheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster.SharedForTest(m, cluster.Options{Full: true, SchedulerConfig: cfg, Scheme: scheme})
}

// shippedConfig reads the KubeSchedulerConfiguration of the kustomize component.
func shippedConfig() (map[string]any, error) {
	raw, err := os.ReadFile(filepath.Join(componentDir, "scheduler-config.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read the shipped scheduler configuration: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse the shipped scheduler configuration: %w", err)
	}
	return doc, nil
}

// schedulerConfig is the shipped configuration with the extender moved to port; the harness
// adds the kubeconfig and turns leader election off on the command line.
func schedulerConfig(port int) ([]byte, error) {
	doc, err := shippedConfig()
	if err != nil {
		return nil, err
	}
	extenders, _ := doc["extenders"].([]any)
	if len(extenders) != 1 {
		return nil, fmt.Errorf("the shipped scheduler configuration has %d extenders, want 1", len(extenders))
	}
	ext, _ := extenders[0].(map[string]any)
	if ext["urlPrefix"] != "http://127.0.0.1:10262/scheduler" {
		return nil, fmt.Errorf("the shipped extender urlPrefix is %v", ext["urlPrefix"])
	}
	ext["urlPrefix"] = "http://127.0.0.1:" + strconv.Itoa(port) + "/scheduler"
	return yaml.Marshal(doc)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runningExtender is the extender serving the shared cluster's scheduler.
var runningExtender struct {
	mu   sync.Mutex
	stop func() error
}

// startExtender makes sure the extender serves on extenderPort, with the CRDs installed.
func startExtender(t *testing.T) {
	t.Helper()
	installCRDs(t)
	runningExtender.mu.Lock()
	defer runningExtender.mu.Unlock()
	if runningExtender.stop != nil {
		return
	}
	ext, stopEvents, err := extender.NewForConfig(cluster.Shared(t).Config(), true, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{
		Addr: "127.0.0.1:" + strconv.Itoa(extenderPort), MetricsAddr: "0", Extender: ext,
		Logger: logr.Discard(), ShutdownTimeout: 5 * time.Second,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	runningExtender.stop = func() error {
		cancel()
		err := <-done
		stopEvents()
		return err
	}
	// Wait until it answers, so a test never races the listener.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(extenderPort))
		if err == nil {
			_ = conn.Close()
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the extender stopped at once: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the extender does not listen: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopExtender stops the extender, as if its container had crashed.
func stopExtender(t *testing.T) {
	t.Helper()
	runningExtender.mu.Lock()
	defer runningExtender.mu.Unlock()
	if runningExtender.stop == nil {
		return
	}
	err := runningExtender.stop()
	runningExtender.stop = nil
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("stop the extender: %v", err)
	}
}

// installCRDs installs the TidbCluster CRD once per test binary.
func installCRDs(t *testing.T) {
	t.Helper()
	cluster.InstallCRDs(t, "../../manifests/crd/pingcap.com_tidbclusters.yaml")
}
