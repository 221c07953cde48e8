package jobrunner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// process is one run of the main container's program.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	// err is cmd.Wait's result, set before done is closed.
	err error
}

// startProcess starts argv with exactly env, writing stdout and stderr to logPath (appended to,
// so that nothing a test may want to read is lost). The process leads its own group, so that
// stopping it reaches whatever it started, as stopping a container reaches all of its
// processes; the parent-death signal kills it with the test binary should that die without
// stopping the runner.
func startProcess(argv, env []string, dir, logPath string) (*process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	// An *os.File is handed to the child as is: no copying goroutine, and output written just
	// before the process dies still reaches the file.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// signalGroup sends sig to the process's group. Errors are ignored: the group may be gone.
func (p *process) signalGroup(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// exitCode is the code a container runtime reports for the ended process: its exit status, or
// 128 plus the signal that killed it.
func (p *process) exitCode() int32 {
	if p.cmd.ProcessState == nil {
		return exitStartFailed
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return int32(p.cmd.ProcessState.ExitCode())
	}
	if ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ws.ExitStatus())
}

// Bounds of the termination message taken from the log, the kubelet's for
// terminationMessagePolicy FallbackToLogsOnError.
const (
	logMessageLines = 80
	logMessageBytes = 2048
)

// logTail returns the end of a log file: at most lines lines and bytes bytes.
func logTail(path string, lines, bytes int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - int64(bytes)
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	text := strings.TrimRight(string(buf), "\n")
	if parts := strings.Split(text, "\n"); len(parts) > lines {
		text = strings.Join(parts[len(parts)-lines:], "\n")
	}
	return text
}
