package backupenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take from start to answering. All of them answer
// within seconds on an idle machine; the margin is for a loaded two-core CI machine.
const startTimeout = 90 * time.Second

// stopGrace is how long a server gets to shut down after SIGTERM before it is killed. MariaDB
// flushes InnoDB on the way down; the others exit at once.
const stopGrace = 15 * time.Second

// logTailLines is how much of a server's log goes into the test log when the test fails.
const logTailLines = 40

// Option changes how a server is started.
type Option func(*options)

type options struct {
	dir string
	tls bool
	// s3Region, s3AccessKey and s3SecretKey replace the S3 server's defaults when set.
	s3Region, s3AccessKey, s3SecretKey string
}

// WithDir keeps the server's data (and its log) in dir instead of a temporary folder. The
// folder is created if needed and never removed, so a later server of the same kind started on
// it sees the same buckets, objects or databases.
func WithDir(dir string) Option {
	return func(o *options) { o.dir = dir }
}

// WithTLS makes a MySQL server accept TCP clients over TLS only, with a client certificate,
// as a TiDB cluster with spec.tidb.tlsClient does: it gets a new CA, a server certificate
// for 127.0.0.1 and a client certificate for root, the last in MySQLServer.TLSDir laid out as
// the backup-manager's Job mounts TiDB's client Secret. The server's own DSN and DB use TLS.
// Only MySQL has TLS here; the other servers fail the test when given it.
func WithTLS() Option {
	return func(o *options) { o.tls = true }
}

// WithS3Region makes an S3 server report, and expect in request signatures, region instead of
// us-east-1, for tests whose Backup names another region and must see it reach the client.
// S3 only.
func WithS3Region(region string) Option {
	return func(o *options) { o.s3Region = region }
}

// WithS3Credentials makes accessKey and secretKey the S3 server's root credentials instead of
// generated ones, for tests that must write them down (in a Secret, a manifest) before the
// server starts. S3 only.
func WithS3Credentials(accessKey, secretKey string) Option {
	return func(o *options) { o.s3AccessKey, o.s3SecretKey = accessKey, secretKey }
}

func applyOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// workDir returns the folder a server keeps its data and log in. A temporary folder is removed
// when the test passes and kept, with a note in the test log, when it fails, so that the
// server's log and data can be examined; t.TempDir would remove it either way. The cleanup is
// registered before any server's, so it runs after the server has stopped.
func workDir(t testing.TB, kind string, o options) string {
	t.Helper()
	if o.tls && kind != "mysql" {
		t.Fatalf("backupenv: WithTLS is for MySQL only, not %s", kind)
	}
	if (o.s3Region != "" || o.s3AccessKey != "" || o.s3SecretKey != "") && kind != "s3" {
		t.Fatalf("backupenv: WithS3Region and WithS3Credentials are for S3 only, not %s", kind)
	}
	if o.dir != "" {
		if err := os.MkdirAll(o.dir, 0o755); err != nil {
			t.Fatalf("backupenv: create %s: %v", o.dir, err)
		}
		return o.dir
	}
	dir, err := os.MkdirTemp("", "backupenv-"+kind+"-")
	if err != nil {
		t.Fatalf("backupenv: create work folder: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("backupenv: %s data and log kept in %s", kind, dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("backupenv: remove %s: %v", dir, err)
		}
	})
	return dir
}

// freePort returns a loopback TCP port that was free a moment ago. A server process has to be
// told its port up front, so there is a window in which another process could take it; start
// retries with a new port when the server reports that its address is in use.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is one server process started by this package.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{}
	waitErr error
}

// sysProcAttr puts a server into its own process group, so that a terminal's Ctrl-C reaches
// only the test binary (which then stops its servers at cleanup), and asks the kernel to kill
// the server if the test binary dies without cleaning up (see startOnLockedThread). The process
// helpers of tests/cluster (its guardian) are unexported and tied to a whole cluster, so they
// are not reused here; the parent-death signal is enough because every server here is a single
// process that forks no helpers of its own (Azurite's launcher, env, execs node in place).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// The parent-death signal is sent when the thread that forked the child ends, not the process
// (golang/go#27505). Go ends a thread only when a goroutine locked to it exits, which some
// library might do on a thread that once started a server. So every server is started from one
// goroutine that locks its thread and never exits: that thread lives as long as the test binary.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func startOnLockedThread(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread()
			for r := range spawner.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

// startProcess starts a server whose standard output and error are appended to logPath.
func startProcess(name, path string, args, env []string, logPath string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = filepath.Dir(logPath)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := startOnLockedThread(cmd); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, logFile: f, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports how the process ended, or nil while it runs.
func (p *process) exited() error {
	select {
	case <-p.done:
		if p.waitErr != nil {
			return fmt.Errorf("%s stopped: %w", p.name, p.waitErr)
		}
		return fmt.Errorf("%s exited", p.name)
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group and SIGKILL if it has not gone within grace.
func (p *process) stop(grace time.Duration) error {
	defer func() { _ = p.logFile.Close() }()
	pgid := p.cmd.Process.Pid
	select {
	case <-p.done:
	default:
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("signal %s: %w", p.name, err)
		}
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
			return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", p.name, grace)
		}
	}
	// Whatever else is left in the group (nothing, normally) goes too.
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill what is left of %s: %w", p.name, err)
	}
	return nil
}

// serverSpec describes how to start one server process and how to tell that it is ready.
type serverSpec struct {
	name    string
	path    string
	logPath string
	// args and env are the command line and extra environment for a given port.
	args func(port int) []string
	env  []string
	// ready reports nil once the server on port answers as it should.
	ready func(ctx context.Context, port int) error
}

// start starts the server, waits until it is ready and registers its stop at test cleanup.
// If the server exits early because its port was taken meanwhile (see freePort), it is started
// again on another port.
func start(t testing.TB, s serverSpec) (*process, int) {
	t.Helper()
	const attempts = 3
	var lastErr error
	for i := 0; i < attempts; i++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("backupenv: %v", err)
		}
		began := time.Now()
		logOffset := fileSize(s.logPath)
		p, err := startProcess(s.name, s.path, s.args(port), s.env, s.logPath)
		if err != nil {
			t.Fatalf("backupenv: %v", err)
		}
		err = waitReady(p, port, s.ready)
		if err == nil {
			t.Cleanup(func() {
				if err := p.stop(stopGrace); err != nil {
					t.Errorf("backupenv: %v", err)
				}
				if t.Failed() {
					t.Logf("backupenv: last lines of %s:\n%s", p.logPath, tailFile(p.logPath, logTailLines))
				}
			})
			t.Logf("backupenv: %s ready on 127.0.0.1:%d in %s (log %s)", s.name, port,
				time.Since(began).Round(time.Millisecond), p.logPath)
			return p, port
		}
		_ = p.stop(stopGrace)
		lastErr = err
		if !portTaken(p.logPath, logOffset) {
			break
		}
		t.Logf("backupenv: %s: port %d was taken, trying another", s.name, port)
	}
	t.Fatalf("backupenv: %v; last lines of %s:\n%s", lastErr, s.logPath, tailFile(s.logPath, logTailLines))
	return nil, 0
}

// waitReady polls ready until it succeeds, the process exits, or startTimeout passes.
func waitReady(p *process, port int, ready func(ctx context.Context, port int) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var err error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		err = ready(attempt, port)
		cancelAttempt()
		if err == nil {
			return nil
		}
		if exit := p.exited(); exit != nil {
			return fmt.Errorf("%w before it was ready (last check: %w)", exit, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %w", p.name, startTimeout, err)
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// portTaken reports whether a server's log, from offset on (what this attempt wrote), says that
// its listen address was in use; the servers word it differently.
func portTaken(logPath string, offset int64) bool {
	raw, err := os.ReadFile(logPath)
	if err != nil || int64(len(raw)) < offset {
		return false
	}
	s := strings.ToLower(string(raw[offset:]))
	return strings.Contains(s, "address already in use") || strings.Contains(s, "eaddrinuse")
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// tailFile returns up to n last lines of a log file, indented, for the test log.
func tailFile(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("  (cannot read: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// skipShort skips a test under -short before anything is installed or started.
func skipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("backupenv: -short: not starting %s", what)
	}
}

// locateOrFail is locate for a test: a server that cannot be installed fails the test.
func locateOrFail(t testing.TB, kind serverKind) string {
	t.Helper()
	p, err := locate(kind)
	if err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	return p
}
