package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startSleeper starts `sleep 60` as the leader of its own process group, as the harness does
// with components, and reaps it when the test ends.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	path, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := exec.Command(path, "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	return cmd
}

// waitGone waits until pid has exited (or is a zombie awaiting its parent's wait).
func waitGone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if !processAlive(pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestGuardianKillsWatchedGroupsWhenTheOwnerGoesAway(t *testing.T) {
	g, err := startGuardian()
	if err != nil {
		t.Fatal(err)
	}
	defer g.dismiss()
	a, b := startSleeper(t), startSleeper(t)
	for _, cmd := range []*exec.Cmd{a, b} {
		if err := g.watch(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	// Closing the pipe is what the kernel does when the owner dies.
	if err := g.pipe.Close(); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []*exec.Cmd{a, b} {
		if !waitGone(cmd.Process.Pid, 10*time.Second) {
			t.Errorf("watched process %d survived its owner", cmd.Process.Pid)
		}
	}
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		t.Error("guardian did not exit after doing its job")
	}
}

func TestDismissedGuardianLeavesProcessesAlone(t *testing.T) {
	g, err := startGuardian()
	if err != nil {
		t.Fatal(err)
	}
	a := startSleeper(t)
	if err := g.watch(a.Process.Pid); err != nil {
		t.Fatal(err)
	}
	g.dismiss()
	time.Sleep(500 * time.Millisecond)
	if !processAlive(a.Process.Pid) {
		t.Error("a dismissed guardian killed a watched process")
	}
	if processAlive(g.cmd.Process.Pid) {
		t.Error("dismissed guardian still runs")
	}
}

func TestFindChildProcess(t *testing.T) {
	a := startSleeper(t)
	pid, err := findChildProcess(a.Path, "60")
	if err != nil {
		t.Fatal(err)
	}
	if pid != a.Process.Pid {
		t.Errorf("found pid %d, want %d", pid, a.Process.Pid)
	}
	if _, err := findChildProcess(a.Path, "61"); err == nil {
		t.Error("found a child with arguments it does not have")
	}
	if _, err := findChildProcess("/no/such/binary", "60"); err == nil {
		t.Error("found a child of a binary that never ran")
	}
}

func TestProcStat(t *testing.T) {
	ppid, pgid, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ppid != os.Getppid() {
		t.Errorf("ppid = %d, want %d", ppid, os.Getppid())
	}
	if want := syscall.Getpgrp(); pgid != want {
		t.Errorf("pgid = %d, want %d", pgid, want)
	}
}

func TestChildStopEndsTheWholeGroup(t *testing.T) {
	// A shell that starts a grandchild in the same group and then waits: stop must end both.
	logDir := t.TempDir()
	ch, err := startChild("group", "/bin/sh", []string{"-c", "sleep 60 & echo $! ; wait"}, logDir)
	if err != nil {
		t.Fatal(err)
	}
	var grandchild int
	deadline := time.Now().Add(5 * time.Second)
	for grandchild == 0 && time.Now().Before(deadline) {
		raw, _ := os.ReadFile(ch.logPath)
		if _, err := fmt.Sscan(string(raw), &grandchild); err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if grandchild == 0 {
		t.Fatal("grandchild pid not reported")
	}
	if err := ch.exitError(); err != nil {
		t.Fatalf("child ended early: %v", err)
	}
	if err := ch.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if ch.exitError() == nil {
		t.Error("child still running after stop")
	}
	// The grandchild is reparented to init (or a subreaper) which reaps it.
	if !waitGone(grandchild, 5*time.Second) {
		t.Errorf("grandchild %d survived stop of its group", grandchild)
	}
}
