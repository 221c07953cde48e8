package brrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests run real children: small /bin/sh scripts named br. They do not run in parallel,
// because a script written while another test forks can fail to start with ETXTBSY.

// script writes an executable shell script named br and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "br")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines collects what a handler is given.
type lines []string

func (l *lines) add(line string) { *l = append(*l, line) }

func TestRunStreamsBothOutputsLineByLineInOrder(t *testing.T) {
	path := script(t, `
i=1
while [ $i -le 300 ]; do
	echo "out $i"
	if [ $((i % 10)) -eq 0 ]; then echo "err $i" >&2; fi
	i=$((i+1))
done
printf 'no newline at the end'
`)
	var out, errs lines
	var log bytes.Buffer
	err := Run(context.Background(), Command{Path: path}, Handlers{Stdout: out.add, Stderr: errs.add}, &log, time.Second)
	if err != nil {
		t.Fatal(err)
	}

	if len(out) != 301 || len(errs) != 30 {
		t.Fatalf("got %d stdout and %d stderr lines, want 301 and 30", len(out), len(errs))
	}
	for i := 1; i <= 300; i++ {
		if want := "out " + strconv.Itoa(i); out[i-1] != want {
			t.Fatalf("stdout line %d = %q, want %q", i, out[i-1], want)
		}
	}
	if out[300] != "no newline at the end" {
		t.Errorf("last stdout line = %q, want the unterminated line", out[300])
	}
	for i := 1; i <= 30; i++ {
		if want := "err " + strconv.Itoa(i*10); errs[i-1] != want {
			t.Fatalf("stderr line %d = %q, want %q", i, errs[i-1], want)
		}
	}
	for _, want := range []string{"brrun: running " + path + "\n", "br: out 1\n", "br: out 300\n", "br (stderr): err 10\n", "br: no newline at the end\n", "brrun: br exited with code 0 after "} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, tail(log.String()))
		}
	}
}

func TestRunHandsOnALineWhileTheChildStillRuns(t *testing.T) {
	// The child waits for a file that only the handler creates, after seeing the first line:
	// if lines were handed on at exit only, the child would never exit and the context would
	// end the run.
	flag := filepath.Join(t.TempDir(), "seen")
	path := script(t, `
echo ready
while [ ! -e "$1" ]; do sleep 0.01; done
echo done
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out lines
	h := Handlers{Stdout: func(line string) {
		out.add(line)
		if line == "ready" {
			if err := os.WriteFile(flag, nil, 0o600); err != nil {
				t.Error(err)
			}
		}
	}}
	if err := Run(ctx, Command{Path: path, Args: []string{flag}}, h, nil, time.Second); err != nil {
		t.Fatalf("Run: %v (the handler did not see the line before the child exited)", err)
	}
	if got := strings.Join(out, ","); got != "ready,done" {
		t.Errorf("lines = %s, want ready,done", got)
	}
}

func TestRunReportsHowTheChildEnded(t *testing.T) {
	cases := map[string]struct {
		// body is the script.
		body string
		// wantCode and wantSignal describe the *ExitError; wantCode 0 means no error.
		wantCode   int
		wantSignal syscall.Signal
		wantText   string
	}{
		"a child that succeeds is no error":         {body: "exit 0"},
		"a non-zero exit names the binary and code": {body: "exit 3", wantCode: 3, wantText: "br exited with code 3"},
		"a child killed by a signal says which":     {body: "kill -KILL $$", wantCode: -1, wantSignal: syscall.SIGKILL, wantText: "br was killed by signal 9 (killed)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := Run(context.Background(), Command{Path: script(t, tc.body)}, Handlers{}, nil, time.Second)
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			var ee *ExitError
			if !errors.As(fmt.Errorf("backup: %w", err), &ee) {
				t.Fatalf("err = %v, want an *ExitError", err)
			}
			if ee.Code != tc.wantCode || ee.Signal != tc.wantSignal || ee.Name != "br" {
				t.Errorf("ExitError = %+v, want name br, code %d, signal %d", ee, tc.wantCode, tc.wantSignal)
			}
			if err.Error() != tc.wantText {
				t.Errorf("err = %q, want %q", err, tc.wantText)
			}
			if errors.Is(err, ErrInterrupted) {
				t.Error("a child ending on its own is not an interruption")
			}
		})
	}
}

func TestRunStopsAChildThatExitsOnSIGTERMAtOnce(t *testing.T) {
	path := script(t, "echo started\nsleep 1000\n")
	cause := errors.New("the pod is being deleted")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	h := Handlers{Stdout: func(line string) {
		if line == "started" {
			cancel(cause)
		}
	}}
	var log bytes.Buffer
	begin := time.Now()
	err := Run(ctx, Command{Path: path}, h, &log, time.Minute)

	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, cause) {
		t.Fatalf("err = %v, want it to wrap ErrInterrupted and the cause", err)
	}
	if took := time.Since(begin); took > 20*time.Second {
		t.Errorf("took %s: SIGTERM should have stopped the child long before the grace period", took)
	}
	if !strings.Contains(log.String(), "sent SIGTERM to its process group") || strings.Contains(log.String(), "sent SIGKILL") {
		t.Errorf("log should tell of SIGTERM only:\n%s", tail(log.String()))
	}
}

func TestRunKillsAChildIgnoringSIGTERMAndItsGrandchildAfterTheGracePeriod(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	// Ignored signals stay ignored across fork and exec, so the background sleep (the
	// grandchild) ignores SIGTERM too: only SIGKILL to the group stops them.
	path := script(t, `
trap '' TERM
sleep 1000 &
echo $! > "$1"
echo started
while :; do sleep 0.05; done
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := Handlers{Stdout: func(line string) {
		if line == "started" {
			cancel()
		}
	}}
	const grace = 300 * time.Millisecond
	var log bytes.Buffer
	begin := time.Now()
	err := Run(ctx, Command{Path: path, Args: []string{pidFile}}, h, &log, grace)
	took := time.Since(begin)

	pid := readPID(t, pidFile)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap ErrInterrupted and context.Canceled", err)
	}
	if took < grace {
		t.Errorf("took %s, less than the grace period %s: SIGKILL came too early", took, grace)
	}
	if !strings.Contains(err.Error(), "killed by signal 9") {
		t.Errorf("err = %q, want it to say the child was killed", err)
	}
	if !strings.Contains(log.String(), "sent SIGKILL to its process group") {
		t.Errorf("log does not tell of SIGKILL:\n%s", tail(log.String()))
	}
	waitGone(t, pid)
}

func TestRunKillsWhatAChildLeavesBehindWhenItExits(t *testing.T) {
	// The grandchild keeps stdout open; without killing it Run would wait for it forever.
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	path := script(t, `
sleep 1000 &
echo $! > "$1"
echo done
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Run(ctx, Command{Path: path, Args: []string{pidFile}}, Handlers{}, nil, time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitGone(t, readPID(t, pidFile))
}

func TestRunDoesNotHangOnAProcessThatLeftTheGroupWithTheOutputOpen(t *testing.T) {
	saved := drainTimeout
	drainTimeout = 200 * time.Millisecond
	t.Cleanup(func() { drainTimeout = saved })
	pidFile := filepath.Join(t.TempDir(), "escaped.pid")
	// setsid puts the sleep in a session and group of its own, out of reach of the group
	// signals, still holding stdout and stderr. The child waits until it has escaped, which
	// the pid file, written from inside the new session, tells.
	path := script(t, `
setsid sh -c 'echo $$ > "$1"; exec sleep 1000' sh "$1" &
while [ ! -s "$1" ]; do sleep 0.01; done
echo done
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out lines
	var log bytes.Buffer
	err := Run(ctx, Command{Path: path, Args: []string{pidFile}}, Handlers{Stdout: out.add}, &log, time.Second)
	readPID(t, pidFile) // to kill it at the end
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(out) != 1 || out[0] != "done" {
		t.Errorf("lines = %q, want done", out)
	}
	if !strings.Contains(log.String(), "stopped reading") {
		t.Errorf("log does not say the output was abandoned:\n%s", log.String())
	}
}

func TestRunSplitsVeryLongLinesInsteadOfFailing(t *testing.T) {
	cases := map[string]struct {
		// length of the long line, made of x.
		length int
		// wantPieces is how many pieces it arrives in.
		wantPieces int
	}{
		"a 1 MiB line arrives in pieces of the maximum length": {length: 1 << 20, wantPieces: (1 << 20) / maxLineLength},
		"a line of exactly the maximum length is one piece":    {length: maxLineLength, wantPieces: 1},
		"a line one byte longer is two pieces":                 {length: maxLineLength + 1, wantPieces: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := script(t, fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x\necho\necho after\n", tc.length))
			var out lines
			if err := Run(context.Background(), Command{Path: path}, Handlers{Stdout: out.add}, nil, time.Second); err != nil {
				t.Fatal(err)
			}
			if len(out) != tc.wantPieces+1 || out[len(out)-1] != "after" {
				t.Fatalf("got %d lines ending in %.20q, want %d pieces then \"after\"", len(out), out[len(out)-1], tc.wantPieces)
			}
			pieces := out[:tc.wantPieces]
			for i, p := range pieces {
				if len(p) > maxLineLength {
					t.Errorf("piece %d is %d bytes, more than %d", i, len(p), maxLineLength)
				}
			}
			if joined := strings.Join(pieces, ""); joined != strings.Repeat("x", tc.length) {
				t.Errorf("the pieces make %d bytes, want %d x", len(joined), tc.length)
			}
		})
	}
}

func TestRunGivesTheChildExactlyTheEnvironmentItIsGiven(t *testing.T) {
	t.Setenv("BRRUN_TEST_PARENT", "inherited")
	path := script(t, `echo "FOO=${FOO:-unset} PARENT=${BRRUN_TEST_PARENT:-unset}"`)
	cases := map[string]struct {
		// env is Command.Env.
		env  []string
		want string
	}{
		"a non-nil environment is the whole environment": {env: []string{"FOO=bar", "AWS_SECRET_ACCESS_KEY=hunter2"}, want: "FOO=bar PARENT=unset"},
		"a nil environment inherits this process's":      {env: nil, want: "FOO=unset PARENT=inherited"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out lines
			var log bytes.Buffer
			if err := Run(context.Background(), Command{Path: path, Env: tc.env}, Handlers{Stdout: out.add}, &log, time.Second); err != nil {
				t.Fatal(err)
			}
			if len(out) != 1 || out[0] != tc.want {
				t.Errorf("child saw %q, want %q", out, tc.want)
			}
			if strings.Contains(log.String(), "hunter2") || strings.Contains(log.String(), "AWS_SECRET_ACCESS_KEY") {
				t.Errorf("the environment leaked into the log:\n%s", log.String())
			}
		})
	}
}

func TestRunLogsTheRedactedArguments(t *testing.T) {
	path := script(t, "exit 0")
	args := []string{"backup", "full", "--storage=azure://c/p/?sas-token=sv%3Dsecret"}
	cases := map[string]struct {
		// logArgs is Command.LogArgs.
		logArgs []string
		// want is in the log, notWant is not.
		want, notWant string
	}{
		"LogArgs are logged instead of Args": {
			logArgs: []string{"backup", "full", "--storage=azure://c/p/?sas-token=REDACTED"},
			want:    "brrun: running " + path + " backup full --storage=azure://c/p/?sas-token=REDACTED\n",
			notWant: "secret",
		},
		"without LogArgs the arguments are logged, quoted where needed": {
			logArgs: nil,
			want:    "brrun: running " + path + " backup full --storage=azure://c/p/?sas-token=sv%3Dsecret\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			if err := Run(context.Background(), Command{Path: path, Args: args, LogArgs: tc.logArgs}, Handlers{}, &log, time.Second); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, log.String())
			}
			if tc.notWant != "" && strings.Contains(log.String(), tc.notWant) {
				t.Errorf("log has %q:\n%s", tc.notWant, log.String())
			}
		})
	}
	if got, want := commandLine(Command{Path: "/br", Args: []string{"--db=a b", "", "--x=1"}}), `/br "--db=a b" "" --x=1`; got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
}

func TestRunExplainsABinaryThatIsNotThere(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "br-bin", "br")
	err := Run(context.Background(), Command{Path: missing}, Handlers{}, nil, time.Second)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want it to wrap fs.ErrNotExist", err)
	}
	for _, want := range []string{missing + " is missing", "the init container should have copied it into " + filepath.Dir(missing)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to say %q", err, want)
		}
	}

	notExec := filepath.Join(t.TempDir(), "br")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), Command{Path: notExec}, Handlers{}, nil, time.Second)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), notExec+" cannot be executed") {
		t.Errorf("err = %v, want it to say the file cannot be executed", err)
	}
}

func TestRunDoesNotStartWhenTheContextHasEnded(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	path := script(t, `touch "$1"`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, Command{Path: path, Args: []string{marker}}, Handlers{}, nil, time.Second)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrInterrupted and context.Canceled", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the child ran")
	}
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // should the test fail
	return pid
}

// waitGone waits until pid is dead. A killed orphan may stay a zombie when the container's
// init does not reap, so a zombie counts as dead.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
