package pdetcd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tidbops/tidb-operator/pkg/backup/checkpoint"
	"github.com/tidbops/tidb-operator/tests/brdouble"
	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// advanceEvery is the simulated TiKV's tick in these tests: short, so a moving checkpoint is
// seen quickly, and long enough that "did not move for several ticks" means something.
const advanceEvery = 200 * time.Millisecond

var (
	srv      *sim.Server
	proxyURL string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		srv = sim.New(sim.Options{LogBackupAdvanceInterval: advanceEvery})
		var err error
		if proxyURL, err = srv.Start("127.0.0.1:0"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// Before anything in this process reads the proxy environment (see doc.go). Loopback
		// addresses (the simulator's admin API, etcd's client URL) are never proxied.
		for k, v := range map[string]string{"HTTPS_PROXY": proxyURL, "NO_PROXY": "", "no_proxy": ""} {
			if err := os.Setenv(k, v); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	code := m.Run()
	if srv != nil {
		_ = srv.Close()
	}
	brdouble.Cleanup()
	os.Exit(code)
}

func setup(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real etcd process")
	}
	if _, err := sim.LocateEtcd(""); err != nil {
		t.Fatal(err)
	}
}

// pd makes the model run a PD pod of the cluster, so that its PD addresses resolve.
func pd(t *testing.T, ns, tc string, running bool) {
	t.Helper()
	err := srv.Model().UpsertPod(simapi.Pod{
		Namespace: ns, Name: tc + "-pd-0", UID: tc + "-uid", Cluster: tc, Component: simapi.ComponentPD, Running: running,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// direct is a client of the cluster's etcd on its loopback URL, bypassing the proxy, for
// checking what the code under test wrote.
func direct(t *testing.T, ns, tc string) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := srv.EtcdClientURL(ctx, ns, tc)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{u}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func tso(t time.Time) uint64 { return uint64(t.UnixMilli()) << 18 }

func TestReaderReadsThroughTheSimulatorsConnect(t *testing.T) {
	setup(t)
	pd(t, "reader", "basic", true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	etcd := direct(t, "reader", "basic")
	t.Logf("etcd start: %s", time.Since(start))
	want := tso(time.Now())
	if _, err := etcd.Put(ctx, "/tidb/br-stream/checkpoint/t1", string(binary.BigEndian.AppendUint64(nil, want))); err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.Put(ctx, "/tidb/br-stream/checkpoint/bad", "12345"); err != nil {
		t.Fatal(err)
	}

	r := checkpoint.NewReader(checkpoint.Options{DialTimeout: 2 * time.Second})
	defer func() { _ = r.Close() }()
	ep := checkpoint.Endpoint("basic", "reader")
	start = time.Now()
	got, err := r.Checkpoint(ctx, ep, nil, "t1")
	if err != nil || got != want {
		t.Fatalf("Checkpoint = %d, %v; want %d", got, err, want)
	}
	t.Logf("first read through the proxy (connect included): %s", time.Since(start))
	start = time.Now()
	if _, err := r.Checkpoint(ctx, ep, nil, "t1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("second read on the cached client: %s", time.Since(start))
	if _, err := r.Checkpoint(ctx, ep, nil, "none"); !errors.Is(err, checkpoint.ErrNoCheckpoint) {
		t.Errorf("an absent task: %v", err)
	}
	if _, err := r.Checkpoint(ctx, ep, nil, "bad"); err == nil || errors.Is(err, checkpoint.ErrNoCheckpoint) {
		t.Errorf("a value that is not 8 bytes: %v", err)
	}

	// The operator's etcd client asked the proxy for the simulated name itself.
	calls, err := simapi.NewClient(proxyURL).Calls(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var tunnels int
	for _, c := range calls {
		if c.Method == "CONNECT" && c.Host == ep && c.Status == 200 {
			tunnels++
		}
	}
	if tunnels != 1 {
		t.Errorf("%d CONNECTs to %s, want 1 (one cached client, one connection)", tunnels, ep)
	}

	// A PD that does not run refuses; the error names what was read.
	pd(t, "reader", "down", false)
	start = time.Now()
	_, err = r.Checkpoint(ctx, checkpoint.Endpoint("down", "reader"), nil, "t1")
	if err == nil || !strings.Contains(err.Error(), "down-pd.reader:2379") || errors.Is(err, checkpoint.ErrNoCheckpoint) {
		t.Errorf("a PD that does not run: %v", err)
	}
	t.Logf("failing read of a PD that does not run: %s (%v)", time.Since(start), err)
}

// br runs the double as a backup Job would, with the etcd mode and the proxy set.
func br(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	bin, _ := brdouble.Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	base := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "TMPDIR": os.TempDir(),
		"BR_LOG_TO_TERM": "1", brdouble.EnvStepDelay: "0",
		brdouble.EnvEtcd: "1", "HTTPS_PROXY": proxyURL,
	}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustBR(t *testing.T, env map[string]string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	out, err := br(t, env, args...)
	if err != nil {
		t.Fatalf("br %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// eventually polls cond until it holds or ten seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBRDoubleAndAdvancerDriveTheCheckpoint(t *testing.T) {
	setup(t)
	start := time.Now()
	brdouble.Build(t)
	t.Logf("building the br double: %s", time.Since(start))
	pd(t, "logbk", "basic", true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	etcd := direct(t, "logbk", "basic")
	r := checkpoint.NewReader(checkpoint.Options{})
	defer func() { _ = r.Close() }()
	ep := checkpoint.Endpoint("basic", "logbk")
	read := func() (uint64, error) { return r.Checkpoint(ctx, ep, nil, "lb") }
	storage := "local://" + filepath.Join(t.TempDir(), "log")
	common := []string{"--task-name=lb", "--pd=" + ep, "--storage=" + storage}

	// Without the etcd mode the double leaves PD alone, as the backup-manager tests expect.
	mustBR(t, map[string]string{brdouble.EnvEtcd: "", "HTTPS_PROXY": ""},
		"log", "start", "--task-name=plain", "--pd="+ep, "--storage=local://"+filepath.Join(t.TempDir(), "plain"))
	if resp, err := etcd.Get(ctx, "/tidb/br-stream/", clientv3.WithPrefix()); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("the double wrote PD's etcd without %s: %v %v", brdouble.EnvEtcd, resp, err)
	}

	startTS := tso(time.Now().Add(-time.Minute))
	took := mustBR(t, nil, append([]string{"log", "start", fmt.Sprintf("--start-ts=%d", startTS)}, common...)...)
	t.Logf("br log start (process, etcd over the proxy): %s", took)
	info, err := etcd.Get(ctx, "/tidb/br-stream/info/lb")
	if err != nil || len(info.Kvs) != 1 {
		t.Fatalf("no task info: %v %v", info, err)
	}
	var registered struct {
		Name    string `json:"name"`
		StartTS uint64 `json:"start_ts"`
		Storage string `json:"storage"`
	}
	if err := json.Unmarshal(info.Kvs[0].Value, &registered); err != nil || registered.Name != "lb" || registered.StartTS != startTS || registered.Storage == "" {
		t.Fatalf("task info %s: %v", info.Kvs[0].Value, err)
	}
	if ck, err := read(); err != nil || ck < startTS {
		t.Fatalf("checkpoint after start: %d, %v; want at least the start TS %d", ck, err, startTS)
	}
	began := time.Now()
	var moved uint64
	eventually(t, "the advancer moves the checkpoint past the start TS", func() bool {
		ck, err := read()
		moved = ck
		return err == nil && ck > startTS
	})
	t.Logf("checkpoint moved %s after start, %s behind the clock", time.Since(began), time.Since(time.UnixMilli(int64(moved>>18))))

	if out, err := br(t, nil, append([]string{"log", "start"}, common...)...); err == nil || !strings.Contains(out, "ErrStreamLogTaskExist") {
		t.Fatalf("a second start of a running task: %v\n%s", err, out)
	}

	mustBR(t, nil, append([]string{"log", "pause"}, common...)...)
	paused, err := read()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * advanceEvery)
	if ck, err := read(); err != nil || ck != paused {
		t.Fatalf("a paused task's checkpoint went from %d to %d (%v)", paused, ck, err)
	}

	// Real BR resumes a task it finds in PD; the storage is not needed.
	mustBR(t, nil, "log", "resume", "--task-name=lb", "--pd="+ep)
	eventually(t, "the checkpoint moves again after resume", func() bool {
		ck, err := read()
		return err == nil && ck > paused
	})

	mustBR(t, nil, append([]string{"log", "stop"}, common...)...)
	if _, err := read(); !errors.Is(err, checkpoint.ErrNoCheckpoint) {
		t.Fatalf("checkpoint after stop: %v", err)
	}
	time.Sleep(2 * advanceEvery)
	if resp, err := etcd.Get(ctx, "/tidb/br-stream/", clientv3.WithPrefix()); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("keys left after stop (or brought back by the advancer): %v %v", resp.Kvs, err)
	}
	if out, err := br(t, nil, "log", "pause", "--task-name=lb", "--pd="+ep); err == nil || !strings.Contains(out, "ErrStreamLogTaskNotFound") {
		t.Fatalf("pausing a stopped task: %v\n%s", err, out)
	}
}
