package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// operatorStopTimeout is how long the operator gets to release its lease and exit after
// SIGTERM before it is killed.
const operatorStopTimeout = 15 * time.Second

// buildOperator compiles ./cmd/tidb-operator of the root module into the .run/bin folder. Go's
// build cache makes a rebuild of an unchanged tree take seconds.
func buildOperator(ctx context.Context, l layout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", l.operatorBinary, "./cmd/tidb-operator")
	cmd.Dir = l.root
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/tidb-operator in %s: %w", l.root, err)
	}
	return nil
}

// backgroundBuild is an operator build running while other start-up work proceeds.
type backgroundBuild struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func startBuild(ctx context.Context, l layout, stderr io.Writer) *backgroundBuild {
	ctx, cancel := context.WithCancel(ctx)
	b := &backgroundBuild{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.err = buildOperator(ctx, l, stderr)
	}()
	return b
}

// wait returns the build's result, or ctx's error if ctx ends first.
func (b *backgroundBuild) wait(ctx context.Context) error {
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop cancels the build if it still runs and waits until the compiler has exited.
func (b *backgroundBuild) stop() {
	b.cancel()
	<-b.done
}

// say prints a progress line for the user. A terminal that cannot be written to is no reason
// to stop, so the write error is dropped on purpose.
func say(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format+"\n", args...)
}

// operatorProcess is the running operator child.
type operatorProcess struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	log     *os.File
	outputs []*prefixWriter
}

// operatorRun says how to start the operator.
type operatorRun struct {
	binary string
	args   []string
	// env replaces or adds these variables in devrun's own environment.
	env map[string]string
	// logPath receives the unprefixed output; out receives it prefixed.
	logPath string
	out     io.Writer
	prefix  string
}

// startOperator starts the operator and streams its output. The child leads its own process
// group, so that a Ctrl-C in the terminal reaches devrun alone and devrun decides the order of
// shutdown (the operator first, while the API server is still there to release its lease), and
// it is killed by the kernel should devrun die without cleaning up.
func startOperator(r operatorRun) (*operatorProcess, error) {
	logFile, err := os.Create(r.logPath)
	if err != nil {
		return nil, fmt.Errorf("create operator log: %w", err)
	}
	stdout := &prefixWriter{prefix: r.prefix, w: r.out}
	stderr := &prefixWriter{prefix: r.prefix, w: r.out}
	cmd := exec.Command(r.binary, r.args...)
	cmd.Env = mergeEnv(os.Environ(), r.env)
	// Both streams go to one file; os/exec serialises writes to a shared writer only when it is
	// the same value, so wrap the file once.
	shared := &lockedWriter{w: logFile}
	cmd.Stdout = io.MultiWriter(shared, stdout)
	cmd.Stderr = io.MultiWriter(shared, stderr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", r.binary, err)
	}
	p := &operatorProcess{cmd: cmd, done: make(chan struct{}), log: logFile, outputs: []*prefixWriter{stdout, stderr}}
	go func() {
		p.waitErr = cmd.Wait()
		for _, o := range p.outputs {
			o.flush()
		}
		_ = p.log.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *operatorProcess) pid() int { return p.cmd.Process.Pid }

// exitErr is how the process ended; only valid once done is closed.
func (p *operatorProcess) exitErr() error {
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

// stop asks the operator to exit and kills its process group if it does not in time.
func (p *operatorProcess) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(operatorStopTimeout):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("the operator did not exit within %s of SIGTERM and was killed", operatorStopTimeout)
}

// mergeEnv returns base with the variables of set replaced or added.
func mergeEnv(base []string, set map[string]string) []string {
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := set[name]; ok {
			continue
		}
		out = append(out, kv)
	}
	for name, value := range set {
		out = append(out, name+"="+value)
	}
	return out
}

// freeLoopbackAddr returns a loopback address with a port nothing listens on right now. The
// port could be taken before the operator binds it; the operator then fails at once, loudly.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("release probe port: %w", err)
	}
	return addr, nil
}

// prefixWriter writes each complete line to w with a prefix; a trailing partial line waits for
// its end (or flush).
type prefixWriter struct {
	prefix string
	w      io.Writer
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := make([]byte, 0, len(p.prefix)+i+1)
		line = append(line, p.prefix...)
		line = append(line, p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		_, _ = p.w.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = nil
	}
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// lineWriter is the shared stdout: each Write reaches the terminal whole, so the banner and the
// operator's lines never interleave mid-line.
type lineWriter = lockedWriter
