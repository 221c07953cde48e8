package brrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ErrInterrupted is wrapped by the error of a run stopped because its context ended.
var ErrInterrupted = errors.New("interrupted")

// drainTimeout bounds the wait for the output to close once the child's group is gone. Only a
// process that left the group (setsid) can keep the pipes open then; it must not hang the Job.
// A variable so that tests need not wait as long.
var drainTimeout = 5 * time.Second

// Command is a child process to run.
type Command struct {
	// Path is the binary, for example /var/lib/br-bin/br. Its base name prefixes the log lines.
	Path string
	// Args are the arguments after the binary.
	Args []string
	// Env is the child's whole environment when not nil (pass os.Environ() plus additions);
	// nil inherits this process's environment. It is never logged.
	Env []string
	// LogArgs is Args as they may be logged (credentials redacted); nil logs Args.
	LogArgs []string
	// Redact, when not nil, rewrites every line of the child's output before it is written to
	// the log and before it is handed to a handler, and brrun's own log lines (the command
	// line among them): BR echoes its --storage URL with the SAS token, SDKs log signed
	// request URLs, and the handlers build the failure message written to the CR's status.
	// brlog.SecretRedactor makes one. It sees a line longer than the read buffer piece by
	// piece, like the handlers, so a secret split across two pieces is not found.
	Redact func(line string) string
	// QuietStdout keeps the child's stdout out of the log: the handler still gets every line
	// (redacted), the log only "<name>: <stdout not shown: N bytes in M lines>" once the
	// child has exited. For a tool whose output is itself a secret, such as
	// `br operator base64ify`, which prints the storage backend with the SAS token inside.
	QuietStdout bool
}

// Handlers receive the child's output, one line at a time (without the line end), as it is
// read. They are called from the goroutines reading the pipes, one call at a time (stdout and
// stderr calls never overlap), so they need no locking of their own; but while one runs
// nothing is read, and a child whose pipe fills up blocks, so a handler that does slow work
// (an API call) should hand it to another goroutine. Either may be nil.
type Handlers struct {
	Stdout, Stderr func(line string)
}

// ExitError is a child that ended unsuccessfully on its own (not because Run stopped it).
type ExitError struct {
	// Name is the base name of the binary.
	Name string
	// Code is the exit status, or -1 when a signal killed the child.
	Code int
	// Signal is the signal that killed the child, 0 when it exited.
	Signal syscall.Signal

	err *exec.ExitError
}

func (e *ExitError) Error() string { return e.Name + " " + e.describe() }

// Unwrap returns the *exec.ExitError behind e, nil for an ExitError made by hand (a test
// double's), so that errors.Is never meets a typed nil.
func (e *ExitError) Unwrap() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

func (e *ExitError) describe() string {
	if e.Code < 0 && e.Signal != 0 {
		return fmt.Sprintf("was killed by signal %d (%v)", int(e.Signal), e.Signal)
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}

func newExitError(name string, ee *exec.ExitError) *ExitError {
	e := &ExitError{Name: name, Code: ee.ExitCode(), err: ee}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
	}
	return e
}

// Run runs c and returns when it has exited and all of its output has been handled.
//
// The child gets a process group of its own. Each line it writes goes, through c.Redact, to log
// (prefixed with the binary's base name, and "(stderr)" for stderr) and to the matching handler
// as soon as it is read; with c.QuietStdout, stdout lines go to the handler only. When ctx ends
// first, the group gets SIGTERM, and SIGKILL after grace (at once for a grace of zero or less);
// the error then wraps ErrInterrupted and context.Cause(ctx), whatever the child's exit status.
// Otherwise a non-zero exit is an *ExitError. When the child exits, whatever is left of its
// group is killed.
//
// log is the pod log; a failed write to it does not fail the run. nil discards the lines.
func Run(ctx context.Context, c Command, h Handlers, log io.Writer, grace time.Duration) error {
	if log == nil {
		log = io.Discard
	}
	name := filepath.Base(c.Path)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s not started, %w: %w", name, ErrInterrupted, context.Cause(ctx))
	}
	ch, err := start(c, &output{log: log, name: name, h: h, redact: c.Redact, quietStdout: c.QuietStdout})
	if err != nil {
		return err
	}
	return ch.wait(ctx, grace)
}

// child is a started command and the goroutines reading its output.
type child struct {
	name    string
	cmd     *exec.Cmd
	out     *output
	pipes   []*os.File // the read ends
	readers sync.WaitGroup
	started time.Time
	// release lets the OS thread that started the child go once the child has exited.
	release chan struct{}
}

// startLocked starts cmd from an OS thread that stays locked until release is closed. The
// kernel sends Pdeathsig when the thread that forked the child exits, not the process, and Go
// may end an idle thread; holding the thread for the child's life makes the signal mean "the
// backup-manager is gone".
func startLocked(cmd *exec.Cmd, release <-chan struct{}) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-release
		}
		runtime.UnlockOSThread()
	}()
	return <-started
}

func start(c Command, out *output) (*child, error) {
	if c.Path == "" {
		return nil, errors.New("no binary to run: the path is empty")
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	// A group of its own: signals reach everything BR starts, and none of it gets the signals
	// meant for tidb-backup-manager. Pdeathsig: should tidb-backup-manager itself be killed
	// (SIGKILL, OOM), BR must not run on unobserved, writing to the storage while a retried Job
	// starts another BR; in a container the runtime kills it too, elsewhere only this does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	// Pipes of our own rather than cmd.StdoutPipe: exec.Cmd.Wait closes its pipes, which would
	// lose output not yet read, and it may not be called before reading ends; with our own we
	// can wait for the exit and read to the end independently.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pipe for the stdout of %s: %w", out.name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(outR, outW)
		return nil, fmt.Errorf("pipe for the stderr of %s: %w", out.name, err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW

	out.note("running %s", commandLine(c))
	release := make(chan struct{})
	err = startLocked(cmd, release)
	// The child has its own copies of the write ends; closing ours lets the reads end once the
	// child (and whatever inherited them) is gone.
	closeAll(outW, errW)
	if err != nil {
		closeAll(outR, errR)
		return nil, startError(c.Path, err)
	}

	ch := &child{name: out.name, cmd: cmd, out: out, pipes: []*os.File{outR, errR}, started: time.Now(), release: release}
	ch.readers.Add(2)
	go ch.stream(outR, out.stdout)
	go ch.stream(errR, out.stderr)
	return ch, nil
}

// startError explains why the binary could not be started. A missing binary is the usual
// deployment mistake: the tools are not in the backup-manager's image but copied by an init
// container (br into /var/lib/br-bin, tikv-ctl into /var/lib/kvctl-bin).
func startError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, exec.ErrNotFound):
		return fmt.Errorf("%s is missing: the init container should have copied it into %s (check the Job's init containers and their image): %w", path, filepath.Dir(path), err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s cannot be executed: the init container should have copied an executable binary there: %w", path, err)
	default:
		return fmt.Errorf("start %s: %w", path, err)
	}
}

// wait waits for the child to exit (stopping it if ctx ends first), then for its output to be
// handled, and says how it ended.
func (ch *child) wait(ctx context.Context, grace time.Duration) error {
	exited := make(chan struct{})
	stopped := ch.stopOnCancel(ctx, grace, exited)
	waitErr := ch.cmd.Wait()
	close(exited)
	close(ch.release)
	interrupted := <-stopped
	// Whatever the child left behind in its group would outlive it and hold the output open.
	ch.signalGroup(syscall.SIGKILL)
	ch.drain()
	ch.out.hiddenSummary()
	return ch.result(ctx, waitErr, interrupted)
}

// stopOnCancel signals the group when ctx ends before the child exits: SIGTERM, then SIGKILL
// after grace. The channel reports whether it did.
func (ch *child) stopOnCancel(ctx context.Context, grace time.Duration, exited <-chan struct{}) <-chan bool {
	stopped := make(chan bool, 1)
	go func() {
		select {
		case <-exited:
			stopped <- false
			return
		case <-ctx.Done():
		}
		select {
		case <-exited: // both were ready: the child had finished on its own
			stopped <- false
			return
		default:
		}
		ch.out.note("stopping %s (%v): sent SIGTERM to its process group, SIGKILL in %s", ch.name, context.Cause(ctx), grace)
		ch.signalGroup(syscall.SIGTERM)
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-exited:
		case <-timer.C:
			ch.out.note("%s still running %s after SIGTERM: sent SIGKILL to its process group", ch.name, grace)
			ch.signalGroup(syscall.SIGKILL)
		}
		stopped <- true
	}()
	return stopped
}

// signalGroup sends sig to the child's process group, whose id is the child's pid. An empty
// group (ESRCH) is the normal case once everything has exited.
func (ch *child) signalGroup(sig syscall.Signal) {
	_ = syscall.Kill(-ch.cmd.Process.Pid, sig)
}

// drain waits until both streams have been read to the end, or closes them after
// drainTimeout.
func (ch *child) drain() {
	done := make(chan struct{})
	go func() {
		ch.readers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		ch.out.note("the output of %s is still open %s after it exited (a process outside its group holds it): stopped reading", ch.name, drainTimeout)
		closeAll(ch.pipes...)
		<-done
	}
}

// result turns how the child ended into Run's error.
func (ch *child) result(ctx context.Context, waitErr error, interrupted bool) error {
	took := time.Since(ch.started).Round(time.Millisecond)
	how := "exited with code 0"
	var exit *ExitError
	var ee *exec.ExitError
	switch {
	case errors.As(waitErr, &ee):
		exit = newExitError(ch.name, ee)
		how = exit.describe()
	case waitErr != nil:
		return fmt.Errorf("wait for %s: %w", ch.name, waitErr)
	}
	ch.out.note("%s %s after %s", ch.name, how, took)
	switch {
	case interrupted:
		// However it exited, it did not finish its work.
		return fmt.Errorf("%s %w after %s (%s): %w", ch.name, ErrInterrupted, took, how, context.Cause(ctx))
	case exit != nil:
		return exit
	default:
		return nil
	}
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close() // the read or write is over; a second close of a read end is harmless
	}
}
