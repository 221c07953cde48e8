package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tidbops/tidb-operator/tests/sim/model"
)

// EnvTestbin is the variable the test harness (tests/cluster) reads for a folder of prebuilt
// control-plane binaries; the simulator finds etcd there too. The name is repeated rather than
// imported because tests/cluster pulls in the whole Kubernetes client, which the simulator's
// binary has no use for.
const EnvTestbin = "TIDB_OPERATOR_TESTBIN"

// etcdStartTimeout bounds one etcd start; a healthy one takes well under a second.
const etcdStartTimeout = 30 * time.Second

// LocateEtcd returns the etcd binary the simulator runs: explicit if not empty, else etcd in
// $TIDB_OPERATOR_TESTBIN, else the newest one hack/testbin.sh cached
// (${TIDB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-~/.cache}/tidb-operator}/bin/*/etcd, which
// `make testbin` fills), else etcd on PATH. It does not build anything: building etcd from
// source is hack/testbin.sh's job.
func LocateEtcd(explicit string) (string, error) {
	if explicit != "" {
		if err := checkExecutable(explicit); err != nil {
			return "", fmt.Errorf("etcd binary %s: %w", explicit, err)
		}
		return explicit, nil
	}
	if dir := os.Getenv(EnvTestbin); dir != "" {
		p := filepath.Join(dir, "etcd")
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvTestbin, dir, err)
		}
		return p, nil
	}
	cache := os.Getenv("TIDB_OPERATOR_CACHE")
	if cache == "" {
		if base, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(base, "tidb-operator")
		}
	}
	if cache != "" {
		matches, _ := filepath.Glob(filepath.Join(cache, "bin", "*", "etcd"))
		var newest string
		var newestTime time.Time
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil || checkExecutable(m) != nil {
				continue
			}
			if newest == "" || st.ModTime().After(newestTime) {
				newest, newestTime = m, st.ModTime()
			}
		}
		if newest != "" {
			return newest, nil
		}
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no etcd binary for the simulated PD: run `make testbin`, set %s, or set sim.Options.EtcdBinary", EnvTestbin)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// etcdSet holds the etcd processes behind the simulated PDs, one per cluster, started on first
// use, and the tunnels into them.
type etcdSet struct {
	binary   string
	log      logr.Logger
	interval time.Duration
	now      func() time.Time
	// ctx ends when the set closes, which aborts starts and advancers.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	members map[model.ClusterKey]*etcdMember
	tunnels map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// etcdMember is one cluster's etcd: ready is closed once the start ended, after which err or
// proc and cli are set.
type etcdMember struct {
	key   model.ClusterKey
	ready chan struct{}
	err   error
	proc  *etcdProcess
	// cli talks to the process directly (loopback, no proxy) for the log backup advancer.
	cli *clientv3.Client
}

func newEtcdSet(opts Options, now func() time.Time) *etcdSet {
	ctx, cancel := context.WithCancel(context.Background())
	return &etcdSet{
		binary: opts.EtcdBinary, log: opts.Logger.WithName("etcd"), interval: opts.LogBackupAdvanceInterval, now: now,
		ctx: ctx, cancel: cancel,
		members: map[model.ClusterKey]*etcdMember{}, tunnels: map[net.Conn]struct{}{},
	}
}

var errSimulatorClosed = errors.New("the simulator is closed")

// member returns the cluster's running etcd, starting it if this is the first use. Concurrent
// callers share one start; a failed start is forgotten so that the next call tries again (after
// `make testbin` finished, say).
func (e *etcdSet) member(ctx context.Context, key model.ClusterKey) (*etcdMember, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errSimulatorClosed
	}
	m := e.members[key]
	starter := m == nil
	if starter {
		m = &etcdMember{key: key, ready: make(chan struct{})}
		e.members[key] = m
		e.wg.Add(1)
	}
	e.mu.Unlock()

	if starter {
		// The start is not tied to ctx: other callers may be waiting for it.
		go e.start(m)
	}
	select {
	case <-m.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the etcd of %s: %w", key, ctx.Err())
	}
	if m.err != nil {
		return nil, m.err
	}
	return m, nil
}

func (e *etcdSet) start(m *etcdMember) {
	defer e.wg.Done()
	defer close(m.ready)
	begin := time.Now()
	ctx, cancel := context.WithTimeout(e.ctx, etcdStartTimeout)
	defer cancel()
	proc, err := e.startProcess(ctx, m.key)
	if err == nil {
		m.cli, err = clientv3.New(clientv3.Config{
			Endpoints: []string{proc.clientAddr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		})
		if err != nil {
			proc.stop()
			err = fmt.Errorf("make a client of the etcd of %s: %w", m.key, err)
		}
	}
	if err != nil {
		m.err = err
		e.mu.Lock()
		if e.members[m.key] == m {
			delete(e.members, m.key)
		}
		e.mu.Unlock()
		e.log.Error(err, "start etcd", "cluster", m.key.String())
		return
	}
	m.proc = proc
	e.log.Info("started etcd", "cluster", m.key.String(), "clientURL", "http://"+proc.clientAddr, "took", time.Since(begin).String())
	if e.interval > 0 {
		e.wg.Add(1)
		go e.runAdvancer(m)
	}
}

func (e *etcdSet) startProcess(ctx context.Context, key model.ClusterKey) (*etcdProcess, error) {
	bin, err := LocateEtcd(e.binary)
	if err != nil {
		return nil, err
	}
	var errs []error
	// Ports are picked free and then handed to etcd, so another process may take one in
	// between; a few attempts make that race harmless.
	for range 3 {
		p, err := startEtcdProcess(ctx, bin, key)
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("start etcd for %s: %w", key, errors.Join(errs...))
}

// clientURL is the loopback client URL of the cluster's etcd, starting it if needed.
func (e *etcdSet) clientURL(ctx context.Context, key model.ClusterKey) (string, error) {
	m, err := e.member(ctx, key)
	if err != nil {
		return "", err
	}
	return "http://" + m.proc.clientAddr, nil
}

// running lists the etcds that started.
func (e *etcdSet) running() []*etcdMember {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*etcdMember
	for _, m := range e.members {
		select {
		case <-m.ready:
			if m.err == nil {
				out = append(out, m)
			}
		default:
		}
	}
	return out
}

// track registers a tunnel's connections so that close can cut them; false if the set is
// already closed.
func (e *etcdSet) track(conns ...net.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	for _, c := range conns {
		e.tunnels[c] = struct{}{}
	}
	return true
}

func (e *etcdSet) untrack(conns ...net.Conn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range conns {
		delete(e.tunnels, c)
	}
}

// close cuts the tunnels, stops every etcd and removes its data. It waits for starts in
// progress, so that no etcd is left behind.
func (e *etcdSet) close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	for c := range e.tunnels {
		_ = c.Close()
	}
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	e.mu.Lock()
	members := e.members
	e.members = map[model.ClusterKey]*etcdMember{}
	e.mu.Unlock()
	for _, m := range members {
		if m.err != nil {
			continue
		}
		_ = m.cli.Close()
		m.proc.stop()
	}
}

// etcdProcess is one single-member etcd on loopback ports with its data in a temporary dir.
type etcdProcess struct {
	cmd        *exec.Cmd
	dir        string
	clientAddr string
	exited     chan struct{}
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startEtcdProcess(ctx context.Context, bin string, key model.ClusterKey) (*etcdProcess, error) {
	dir, err := os.MkdirTemp("", "tidbsim-etcd-"+key.Namespace+"-"+key.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("make etcd data dir: %w", err)
	}
	clientPort, err := freeLoopbackPort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	peerPort, err := freeLoopbackPort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	logPath := filepath.Join(dir, "etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create etcd log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	name := "pd"
	cmd := exec.Command(bin,
		"--name="+name,
		"--data-dir="+filepath.Join(dir, "data"),
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster="+name+"="+peerURL,
		// One member elects itself; short Raft timings make that take tens of milliseconds
		// instead of a second.
		"--heartbeat-interval=10", "--election-timeout=100",
		// Test data need not survive a crash of the machine.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, and killed by the kernel if the simulator dies without Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	p := &etcdProcess{cmd: cmd, dir: dir, clientAddr: "127.0.0.1:" + strconv.Itoa(clientPort), exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitHealthy(ctx); err != nil {
		tail := tailOf(logPath, 2048)
		p.stop()
		return nil, fmt.Errorf("%w; etcd log:\n%s", err, tail)
	}
	return p, nil
}

// waitHealthy polls etcd's /health until it reports a leader.
func (p *etcdProcess) waitHealthy(ctx context.Context) error {
	// A transport of its own without a proxy: the process environment may point
	// HTTP_PROXY at this very simulator.
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: time.Second}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if ok := p.healthy(hc); ok {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("etcd exited during start (%v)", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("etcd not healthy: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (p *etcdProcess) healthy(hc *http.Client) bool {
	resp, err := hc.Get("http://" + p.clientAddr + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		Health string `json:"health"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && json.Unmarshal(body, &h) == nil && h.Health == "true"
}

// stop ends the process (SIGTERM, SIGKILL after a grace period) and removes its data.
func (p *etcdProcess) stop() {
	select {
	case <-p.exited:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	}
	_ = os.RemoveAll(p.dir)
}

func tailOf(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(data) > n {
		data = data[len(data)-n:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return strings.TrimSpace(string(data))
}
