package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// safeBuffer collects output written from several goroutines.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunLocal takes the path of `make run` without KUBECONFIG: local cluster, simulator,
// operator from source, examples/basic; then an interrupt must leave no process behind.
func TestRunLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster and builds the operator")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctrllog.SetLogger(testr.New(t).WithName("envtest"))

	var stdout, stderr safeBuffer
	readyCh := make(chan Ready, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(ctx, Options{
			Root:    root,
			RunDir:  t.TempDir(),
			Stdout:  &stdout,
			Stderr:  &stderr,
			Logger:  testr.New(t).WithName("devrun"),
			OnReady: func(r Ready) { readyCh <- r },
		})
	}()
	defer func() {
		if t.Failed() {
			t.Logf("devrun stderr:\n%s", stderr.String())
			t.Logf("devrun stdout (last 4000 bytes):\n%s", tail(stdout.String(), 4000))
		}
	}()

	var ready Ready
	select {
	case ready = <-readyCh:
	case err := <-runErr:
		t.Fatalf("Run returned before it was ready: %v", err)
	case <-time.After(15 * time.Minute):
		t.Fatal("Run was not ready within 15 minutes")
	}
	t.Logf("ready: operator pid %d, simulator %s, applied %v", ready.OperatorPID, ready.SimulatorURL, ready.Applied)

	for _, want := range []string{
		"kubectl --kubeconfig " + ready.Kubeconfig + " get tc -w",
		"kubectl --kubeconfig " + ready.Kubeconfig + " get pods",
		ready.SimulatorURL,
		"operator.log",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the banner does not say %q", want)
		}
	}

	c, err := client.New(ready.RestConfig, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 3*time.Minute)
	defer waitCancel()

	t.Run("the cluster has six Ready nodes", func(t *testing.T) {
		var last int
		err := wait.PollUntilContextCancel(waitCtx, time.Second, true, func(ctx context.Context) (bool, error) {
			var nodes corev1.NodeList
			if err := c.List(ctx, &nodes); err != nil {
				return false, nil //nolint:nilerr // transient: poll again
			}
			last = 0
			for _, n := range nodes.Items {
				for _, cond := range n.Status.Conditions {
					if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
						last++
					}
				}
			}
			return last == 6, nil
		})
		if err != nil {
			t.Fatalf("%d Ready nodes, want 6: %v", last, err)
		}
	})

	t.Run("the TidbCluster of examples/basic exists", func(t *testing.T) {
		tc := &unstructured.Unstructured{}
		tc.SetGroupVersionKind(schema.GroupVersionKind{Group: "pingcap.com", Version: "v1alpha1", Kind: "TidbCluster"})
		if err := c.Get(waitCtx, client.ObjectKey{Namespace: "default", Name: "basic"}, tc); err != nil {
			t.Fatal(err)
		}
		if len(ready.Applied) == 0 || ready.Applied[0] != "TidbCluster/default/basic" {
			t.Errorf("Applied = %q, want TidbCluster/default/basic first", ready.Applied)
		}
	})

	t.Run("the simulator answers PD requests through the proxy", func(t *testing.T) {
		proxyURL, err := url.Parse(ready.SimulatorURL)
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}, Timeout: 10 * time.Second}
		var last string
		err = wait.PollUntilContextCancel(waitCtx, time.Second, true, func(ctx context.Context) (bool, error) {
			status, body, err := get(ctx, hc, "http://basic-pd.default:2379/pd/api/v1/health")
			switch {
			case err != nil:
				// A reset connection: the simulator knows the Service but no PD runs yet.
				last = err.Error()
				return false, nil //nolint:nilerr // documented transient answer: poll again
			case status == http.StatusOK:
				var members []struct {
					Name   string `json:"name"`
					Health bool   `json:"health"`
				}
				if err := json.Unmarshal(body, &members); err != nil {
					return false, fmt.Errorf("health is not the documented JSON: %w: %s", err, body)
				}
				t.Logf("PD health through the proxy: %d members", len(members))
				return true, nil
			case status == http.StatusBadGateway && strings.Contains(string(body), "no such host"):
				// The documented answer for a cluster the simulator has no PD pods of yet.
				t.Logf("PD not there yet; the simulator answers like a proxy whose DNS lookup failed: %s", strings.TrimSpace(string(body)))
				return true, nil
			default:
				last = fmt.Sprintf("%d %s", status, body)
				return false, nil
			}
		})
		if err != nil {
			t.Fatalf("no documented answer through the proxy (last: %s): %v", last, err)
		}

		calls, err := simapi.NewClient(ready.SimulatorURL).Calls(waitCtx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var seen bool
		for _, call := range calls {
			if call.Host == "basic-pd.default:2379" && call.Path == "/pd/api/v1/health" {
				seen = true
			}
		}
		if !seen {
			t.Errorf("the simulator's call log has no GET basic-pd.default:2379/pd/api/v1/health among %d calls", len(calls))
		}
	})

	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("Run did not return within 2 minutes of cancel")
	}

	pids := map[string]int{"operator": ready.OperatorPID}
	for _, p := range ready.ClusterProcesses {
		pids[p.Name] = p.PID
	}
	if len(pids) < 6 {
		t.Errorf("only %d processes reported (%v); want the operator and the cluster's components", len(pids), pids)
	}
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) is still there after Run returned (kill -0: %v)", name, pid, err)
		}
	}
	if !strings.Contains(stderr.String(), "nothing left running") {
		t.Errorf("devrun did not report a clean stop")
	}
}

func get(ctx context.Context, hc *http.Client, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
