package sim_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// needEtcd skips tests that run a real etcd in -short mode and fails, naming the fix, when
// there is no etcd binary.
func needEtcd(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real etcd process")
	}
	if _, err := sim.LocateEtcd(""); err != nil {
		t.Fatal(err)
	}
}

// connect sends a CONNECT for host to the simulator and returns the response and the
// connection, whose reader holds whatever followed the response.
func connect(t *testing.T, proxyURL, host string) (int, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(proxyURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return 0, conn, br
	}
	// Callers look at the status only; a successful CONNECT has no body anyway.
	_ = resp.Body.Close()
	return resp.StatusCode, conn, br
}

// connectStatus is connect's answer status, 0 when the connection was reset without one.
func connectStatus(t *testing.T, proxyURL, host string) int {
	t.Helper()
	status, _, _ := connect(t, proxyURL, host)
	return status
}

func TestConnectAnswersLikeTheNetworkWouldWithoutATunnel(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentPD, 1, false)
	cases := map[string]struct {
		host       string
		wantStatus int // 0: the connection must be reset without an answer
	}{
		"an unrelated host is a DNS failure":         {"example.invalid:443", http.StatusBadGateway},
		"a PD of an unknown cluster is unknown":      {"other-pd.ns:2379", http.StatusBadGateway},
		"an unknown PD member is unknown":            {"basic-pd-7.basic-pd-peer.ns:2379", http.StatusBadGateway},
		"TiKV's status port is not tunnelled":        {"basic-tikv-0.basic-tikv-peer.ns:20180", http.StatusMethodNotAllowed},
		"the TSO service is not etcd":                {"basic-tso.ns:2379", http.StatusMethodNotAllowed},
		"a PD member that does not run refuses":      {"basic-pd-1.basic-pd-peer.ns.svc:2379", 0},
		"a port of PD that nothing listens on fails": {"basic-pd.ns:2380", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := connectStatus(t, f.url, tc.host); got != tc.wantStatus {
				t.Fatalf("got status %d (0: reset), want %d", got, tc.wantStatus)
			}
		})
	}
}

func TestConnectHonoursFaults(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	if _, err := f.admin.AddFault(f.ctx(), simapi.Fault{Kind: simapi.FaultError, Component: "pd", Status: 503, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if got := connectStatus(t, f.url, "basic-pd.ns:2379"); got != 503 {
		t.Fatalf("an error fault answered %d", got)
	}
	if _, err := f.admin.AddFault(f.ctx(), simapi.Fault{Kind: simapi.FaultUnreachable, Cluster: "basic", Times: 1}); err != nil {
		t.Fatal(err)
	}
	if got := connectStatus(t, f.url, "basic-pd.ns:2379"); got != 0 {
		t.Fatalf("an unreachable fault answered %d", got)
	}
	// A fault limited to a path is about PD's HTTP API; it must not cut etcd off.
	if _, err := f.admin.AddFault(f.ctx(), simapi.Fault{Kind: simapi.FaultUnreachable, Component: "pd", Path: "/pd/api/v1/"}); err != nil {
		t.Fatal(err)
	}
	calls, err := f.admin.Calls(f.ctx(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var connects int
	for _, c := range calls {
		if c.Method == http.MethodConnect {
			connects++
			if c.Fault == "" || c.Cluster != "basic" || c.Component != "pd" {
				t.Errorf("CONNECT call recorded as %+v", c)
			}
		}
	}
	if connects != 2 {
		t.Errorf("%d CONNECT calls recorded, want 2", connects)
	}
	needEtcd(t)
	if got := connectStatus(t, f.url, "basic-pd.ns:2379"); got != 200 {
		t.Fatalf("a path fault affected CONNECT: status %d", got)
	}
}

// tunnelDialer is a gRPC dialer that reaches addr through the simulator's CONNECT, as grpc-go
// does for HTTPS_PROXY, without touching the process environment.
func tunnelDialer(proxyURL string) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", strings.TrimPrefix(proxyURL, "http://"))
		if err != nil {
			return nil, err
		}
		if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr); err != nil {
			_ = conn.Close()
			return nil, err
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			_ = conn.Close()
			return nil, fmt.Errorf("CONNECT %s: %s", addr, resp.Status)
		}
		return &bufferedConn{Conn: conn, r: br}, nil
	}
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func etcdVia(t *testing.T, proxyURL, endpoint string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithContextDialer(tunnelDialer(proxyURL))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func TestConnectTunnelsEveryPDFormToTheClustersEtcd(t *testing.T) {
	needEtcd(t)
	f := newFixture(t, model.Options{})
	f.start(3, 0)
	// Plain HTTP through the tunnel reaches etcd itself.
	start := time.Now()
	status, conn, br := connect(t, f.url, "basic-pd.ns:2379")
	if status != 200 {
		t.Fatalf("CONNECT: status %d", status)
	}
	t.Logf("first CONNECT, etcd start included: %s", time.Since(start))
	fmt.Fprintf(conn, "GET /version HTTP/1.1\r\nHost: basic-pd.ns:2379\r\n\r\n")
	vresp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(vresp.Body)
	_ = vresp.Body.Close()
	if !strings.Contains(string(body), `"etcdserver"`) {
		t.Fatalf("GET /version through the tunnel: %s", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	writer := etcdVia(t, f.url, "basic-pd.ns:2379")
	if _, err := writer.Put(ctx, "/k", "v"); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{
		"basic-pd.ns.svc:2379", "basic-pd.ns.svc.cluster.local:2379", "basic-pd-peer.ns:2379",
		"basic-pd-2.basic-pd-peer.ns.svc:2379", "basic-pd-0.basic-pd-peer.ns.svc.cluster.local:2379",
	} {
		got, err := etcdVia(t, f.url, ep).Get(ctx, "/k")
		if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v" {
			t.Fatalf("%s: %v %v", ep, got, err)
		}
	}

	// Another cluster has an etcd of its own.
	if err := f.admin.PutPod(f.ctx(), simapi.Pod{Namespace: "ns", Name: "other-pd-0", UID: "u", Cluster: "other", Component: "pd", Running: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := etcdVia(t, f.url, "other-pd.ns:2379").Get(ctx, "/k"); err != nil || len(got.Kvs) != 0 {
		t.Fatalf("the other cluster shares the first one's etcd: %v %v", got, err)
	}
}

func TestCloseStopsEtcdAndRemovesItsData(t *testing.T) {
	needEtcd(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	srv := sim.New(sim.Options{LogBackupAdvanceInterval: -1})
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Model().UpsertPod(simapi.Pod{Namespace: "ns", Name: "basic-pd-0", UID: "u", Cluster: "basic", Component: "pd", Running: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cli := etcdVia(t, base, "basic-pd.ns:2379")
	if _, err := cli.Put(ctx, "/k", "v"); err != nil {
		t.Fatal(err)
	}
	clientURL, err := srv.EtcdClientURL(ctx, "ns", "basic")
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, "tidbsim-etcd-ns-basic-*"))
	if len(dirs) != 1 {
		t.Fatalf("etcd data dirs: %v", dirs)
	}
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close with one etcd and one tunnel: %s", time.Since(start))
	if resp, err := (&http.Client{Timeout: time.Second}).Get(clientURL + "/health"); err == nil {
		_ = resp.Body.Close()
		t.Error("etcd still answers after Close")
	}
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Errorf("etcd data dir left behind: %v", err)
	}
	if _, err := srv.EtcdClientURL(ctx, "ns", "basic"); err == nil {
		t.Error("an etcd was started after Close")
	}
}

func TestAdvancerMovesRunningTasksOnly(t *testing.T) {
	needEtcd(t)
	clock := model.NewFakeClock(time.Now().Add(-time.Hour).Truncate(time.Millisecond))
	srv := sim.New(sim.Options{Model: model.New(model.Options{Clock: clock}), LogBackupAdvanceInterval: -1})
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clientURL, err := srv.EtcdClientURL(ctx, "ns", "basic")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{clientURL}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cli.Close() }()
	tso := func(t time.Time) uint64 { return uint64(t.UnixMilli()) << 18 }
	checkpoint := func(task string) (uint64, bool) {
		t.Helper()
		resp, err := cli.Get(ctx, sim.LogBackupCheckpointPrefix+task)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 {
			return 0, false
		}
		return binary.BigEndian.Uint64(resp.Kvs[0].Value), true
	}
	put := func(k string, v []byte) {
		t.Helper()
		if _, err := cli.Put(ctx, k, string(v)); err != nil {
			t.Fatal(err)
		}
	}
	advance := func() {
		t.Helper()
		if err := srv.AdvanceLogBackups(ctx); err != nil {
			t.Fatal(err)
		}
	}

	put(sim.LogBackupInfoPrefix+"run", []byte(`{}`))
	put(sim.LogBackupInfoPrefix+"paused", []byte(`{}`))
	put(sim.LogBackupPausePrefix+"paused", []byte(`{}`))
	put(sim.LogBackupCheckpointPrefix+"paused", binary.BigEndian.AppendUint64(nil, 42))
	put(sim.LogBackupInfoPrefix+"ahead", []byte(`{}`))
	future := tso(clock.Now().Add(time.Hour))
	put(sim.LogBackupCheckpointPrefix+"ahead", binary.BigEndian.AppendUint64(nil, future))
	put(sim.LogBackupCheckpointPrefix+"gone", binary.BigEndian.AppendUint64(nil, 7))

	advance()
	if got, ok := checkpoint("run"); !ok || got != tso(clock.Now()) {
		t.Fatalf("a new task's checkpoint: %d %v, want %d", got, ok, tso(clock.Now()))
	}
	clock.Step(time.Minute)
	advance()
	if got, _ := checkpoint("run"); got != tso(clock.Now()) {
		t.Fatalf("after a minute: %d, want %d", got, tso(clock.Now()))
	}
	if got, _ := checkpoint("paused"); got != 42 {
		t.Errorf("a paused task moved to %d", got)
	}
	if got, _ := checkpoint("ahead"); got != future {
		t.Errorf("a checkpoint ahead of the clock went back to %d", got)
	}
	if got, _ := checkpoint("gone"); got != 7 {
		t.Errorf("a checkpoint without a task moved to %d", got)
	}
	if _, err := cli.Delete(ctx, sim.LogBackupPausePrefix+"paused"); err != nil {
		t.Fatal(err)
	}
	clock.Step(time.Second)
	advance()
	if got, _ := checkpoint("paused"); got != tso(clock.Now()) {
		t.Errorf("a resumed task's checkpoint: %d, want %d", got, tso(clock.Now()))
	}
}
