package backupmanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/brdouble"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// managerBinary builds cmd/tidb-backup-manager once per test binary, into the shared
// cluster's work folder (removed with it).
func managerBinary(t *testing.T) string {
	t.Helper()
	return cluster.Shared(t).Binary(t, "./cmd/tidb-backup-manager")
}

// env is a process environment: name → value.
type env map[string]string

func (e env) with(more env) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// run is one backup-manager process.
type run struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// startManager starts the backup-manager as a Job's container would: the subcommand and its
// flags as arguments, credentials only in the environment, the kubeconfig of the shared
// cluster, and the br/tikv-ctl doubles at the paths the init containers would fill.
func startManager(t *testing.T, e env, args ...string) *run {
	t.Helper()
	cl := cluster.Shared(t)
	br, kvctl := brdouble.Build(t)
	full := env{
		"PATH":                         os.Getenv("PATH"),
		"HOME":                         t.TempDir(),
		"TMPDIR":                       t.TempDir(),
		"BACKUP_MANAGER_BR_PATH":       br,
		"BACKUP_MANAGER_TIKV_CTL_PATH": kvctl,
		// Progress is written at most every 200ms here so that a few seconds of BR output
		// give several values to observe; production uses 2s.
		"BACKUP_MANAGER_PROGRESS_INTERVAL": "200ms",
		"BRDOUBLE_STEP_DELAY":              "400ms",
	}.with(e)
	cmd := exec.Command(managerBinary(t), append(args, "--kubeconfig="+cl.KubeconfigPath())...)
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	r := &run{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = r.out
	cmd.Stderr = r.out
	// Its own group, so a test can signal it as the kubelet signals a container, and killed
	// with the test binary should that die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tidb-backup-manager: %v", err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
		if t.Failed() {
			t.Logf("tidb-backup-manager %s output:\n%s", strings.Join(args, " "), r.out.String())
		}
	})
	return r
}

// wait returns the exit code, failing the test after timeout.
func (r *run) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("tidb-backup-manager still running after %s; output:\n%s", timeout, r.out.String())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		t.Fatalf("tidb-backup-manager: %v", r.err)
	}
	return 0
}

// mustSucceed waits for a zero exit.
func (r *run) mustSucceed(t *testing.T, timeout time.Duration) {
	t.Helper()
	if code := r.wait(t, timeout); code != 0 {
		t.Fatalf("tidb-backup-manager exited %d; output:\n%s", code, r.out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scheduleBackup creates a Backup and marks it Scheduled, as the operator does when it
// creates the Job.
func scheduleBackup(ctx context.Context, t *testing.T, bk *v1alpha1.Backup) {
	t.Helper()
	c := cluster.Shared(t).Client()
	if err := c.Create(ctx, bk); err != nil {
		t.Fatalf("create Backup: %v", err)
	}
	v1alpha1.UpdateBackupCondition(&bk.Status, &v1alpha1.BackupCondition{Type: v1alpha1.BackupScheduled, Status: corev1.ConditionTrue})
	if err := c.Status().Update(ctx, bk); err != nil {
		t.Fatalf("mark Backup Scheduled: %v", err)
	}
}

func getBackup(ctx context.Context, t *testing.T, key client.ObjectKey) *v1alpha1.Backup {
	t.Helper()
	bk := &v1alpha1.Backup{}
	if err := cluster.Shared(t).Client().Get(ctx, key, bk); err != nil {
		t.Fatalf("get Backup %s: %v", key, err)
	}
	return bk
}

func getRestore(ctx context.Context, t *testing.T, key client.ObjectKey) *v1alpha1.Restore {
	t.Helper()
	rs := &v1alpha1.Restore{}
	if err := cluster.Shared(t).Client().Get(ctx, key, rs); err != nil {
		t.Fatalf("get Restore %s: %v", key, err)
	}
	return rs
}

// condition returns the Backup's condition of a type, if any.
func condition(bk *v1alpha1.Backup, t v1alpha1.BackupConditionType) *v1alpha1.BackupCondition {
	_, c := v1alpha1.GetBackupCondition(&bk.Status, t)
	return c
}

// progressWatcher polls an object's progress while a process runs and keeps every distinct
// value seen while the resource is running and not yet at 100%, so a test can tell live
// progress from writes at the start and the end.
type progressWatcher struct {
	mu   sync.Mutex
	seen []string
	stop chan struct{}
	done chan struct{}
}

func watchProgress(ctx context.Context, read func(context.Context) (string, bool)) *progressWatcher {
	w := &progressWatcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, ok := read(ctx); ok {
				w.mu.Lock()
				if len(w.seen) == 0 || w.seen[len(w.seen)-1] != v {
					w.seen = append(w.seen, v)
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *progressWatcher) values() []string {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// backupProgress reads the Backup's progress entries as "step=percent" in step order.
func backupProgress(key client.ObjectKey, c client.Client) func(context.Context) (string, bool) {
	return func(ctx context.Context) (string, bool) {
		bk := &v1alpha1.Backup{}
		if err := c.Get(ctx, key, bk); err != nil || bk.Status.Phase != v1alpha1.BackupRunning || !moving(bk.Status.Progresses) {
			return "", false
		}
		return progressString(bk.Status.Progresses), true
	}
}

func restoreProgress(key client.ObjectKey, c client.Client) func(context.Context) (string, bool) {
	return func(ctx context.Context) (string, bool) {
		rs := &v1alpha1.Restore{}
		if err := c.Get(ctx, key, rs); err != nil || rs.Status.Phase != v1alpha1.RestoreRunning || !moving(rs.Status.Progresses) {
			return "", false
		}
		return progressString(rs.Status.Progresses), true
	}
}

// moving says progress is being made: some step is reported and the last is not finished.
// Only such values count as live progress; the final 100% is written when BR ends anyway.
func moving(ps []v1alpha1.Progress) bool {
	return len(ps) > 0 && ps[len(ps)-1].Progress < 100
}

func progressString(ps []v1alpha1.Progress) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s=%.1f", p.Step, p.Progress))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
