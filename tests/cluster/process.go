package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one operating-system process that belongs to a cluster.
type Process struct {
	// Name is the component: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
	// kwok, or guardian (the watchdog that cleans up if the owner dies).
	Name string
	// PID is also the process group id: every component leads its own group.
	PID int
}

// child is a component process started by the harness itself (not by envtest).
type child struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{}
	waitErr error
}

// childSysProcAttr puts a child into its own process group, so that a terminal's Ctrl-C reaches
// only the owner (which then stops the cluster in order) and a whole group can be signalled at
// once; and asks the kernel to kill the child if the owner dies without cleaning up.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// startChild starts a component whose standard output and error go to logDir/<name>.log.
func startChild(name, path string, args []string, logDir string) (*child, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = childSysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, logPath: logPath, cmd: cmd, logFile: f, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// exitError reports how the child ended, or nil while it is still running.
func (c *child) exitError() error {
	select {
	case <-c.done:
		state := "exited"
		if c.waitErr != nil {
			state = c.waitErr.Error()
		}
		return fmt.Errorf("%s stopped unexpectedly (%s); last log lines from %s:\n%s",
			c.name, state, c.logPath, tailFile(c.logPath, 15))
	default:
		return nil
	}
}

// stop asks the child's process group to terminate, then kills it if it has not gone within
// grace. Members of the group other than the leader are killed outright.
func (c *child) stop(grace time.Duration) error {
	defer func() { _ = c.logFile.Close() }()
	pgid := c.cmd.Process.Pid
	select {
	case <-c.done:
	default:
		if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("signal %s: %w", c.name, err)
		}
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-c.done
		}
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill what is left of %s: %w", c.name, err)
	}
	return nil
}

// guardian is a tiny shell process that holds the read end of a pipe from the owner. Whenever the
// owner goes away without stopping the cluster (a test timeout panic, SIGKILL, a crash), the
// kernel closes the pipe and the guardian kills every process group it was told about. envtest
// starts etcd and kube-apiserver without a parent-death signal, so without the guardian they would
// outlive a crashed owner.
type guardian struct {
	cmd  *exec.Cmd
	pipe *os.File
	mu   sync.Mutex
	done chan struct{}
}

// guardianScript collects process group ids, one per line, until its input closes, then stops
// those groups: politely first, and by force for whatever is left after about three seconds.
const guardianScript = `groups=""
while read -r pgid; do groups="$groups -$pgid"; done
[ -n "$groups" ] || exit 0
kill -s TERM -- $groups 2>/dev/null
waited=0
for g in $groups; do
  while [ $waited -lt 30 ] && kill -s 0 -- "$g" 2>/dev/null; do sleep 0.1; waited=$((waited+1)); done
done
kill -s KILL -- $groups 2>/dev/null
exit 0`

func startGuardian() (*guardian, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("guardian pipe: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", guardianScript)
	cmd.Stdin = r
	// Its own group, so the Ctrl-C that interrupts the owner does not kill the guardian first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	_ = r.Close()
	g := &guardian{cmd: cmd, pipe: w, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(g.done)
	}()
	return g, nil
}

// watch tells the guardian about one more process group.
func (g *guardian) watch(pgid int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, err := io.WriteString(g.pipe, strconv.Itoa(pgid)+"\n"); err != nil {
		return fmt.Errorf("tell guardian about %d: %w", pgid, err)
	}
	return nil
}

// dismiss ends the guardian without letting it act: called by an orderly Stop before the
// components are stopped, so that it can never signal a recycled process id later.
func (g *guardian) dismiss() {
	_ = g.cmd.Process.Kill()
	<-g.done
	_ = g.pipe.Close()
}

// findChildProcess returns the pid of a direct child of this process whose command line starts
// with path and contains every needle as an argument. It is how the harness learns the pids of
// the processes envtest starts, which envtest does not expose.
func findChildProcess(path string, needles ...string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, err := parentPID(pid); err != nil || ppid != self {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(args) == 0 || args[0] != path || !containsAll(args[1:], needles) {
			continue
		}
		return pid, nil
	}
	return 0, fmt.Errorf("no child process %s with %s", path, strings.Join(needles, " "))
}

func containsAll(args, needles []string) bool {
	for _, n := range needles {
		found := false
		for _, a := range args {
			if a == n {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// procStat returns the parent pid and process group id from /proc/<pid>/stat.
func procStat(pid int) (ppid, pgid int, err error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may itself contain spaces or parentheses; the
	// fixed fields follow the last closing one: state, ppid, pgrp, ...
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 3 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	if ppid, err = strconv.Atoi(fields[1]); err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	if pgid, err = strconv.Atoi(fields[2]); err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return ppid, pgid, nil
}

func parentPID(pid int) (int, error) {
	ppid, _, err := procStat(pid)
	return ppid, err
}

// processAlive reports whether pid names a process that is not a zombie.
func processAlive(pid int) bool {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(raw, ')')
	return i >= 0 && len(raw) > i+2 && raw[i+2] != 'Z'
}

// tailFile returns up to n last lines of a log file, for error messages.
func tailFile(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
