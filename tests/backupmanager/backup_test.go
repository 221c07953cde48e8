package backupmanager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/backupmeta"
	"github.com/tidbops/tidb-operator/tests/brdouble"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// commitTS is the snapshot TS the tests ask BR for (spec.commitTs → --backupts), so the
// Backup's status.commitTs can be checked against a known value read back from backupmeta.
const commitTS = 463563705462571009

func newBackup(ns, name string, b backend, prefix string) *v1alpha1.Backup {
	return &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.BackupSpec{
			Type:            v1alpha1.BackupTypeFull,
			StorageProvider: b.provider(prefix),
			CommitTs:        fmt.Sprint(commitTS),
			BR:              &v1alpha1.BRConfig{Cluster: "basic", Options: b.brOptions},
		},
	}
}

// TestSnapshotBackupCompletesOnEveryStorage runs `backup` for each storage: the Backup goes
// Scheduled → Prepare → Running → Complete with the path, commit TS and size read back from
// the backupmeta BR wrote, and its progress was seen moving while BR ran.
func TestSnapshotBackupCompletesOnEveryStorage(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	for _, b := range allBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			name := "full-" + b.name
			prefix := "cluster-a/" + name
			bk := newBackup(ns, name, b, prefix)
			// No spec.commitTs: BR picks the snapshot TS, so status.commitTs can only be
			// right if it was read back from the backupmeta.
			bk.Spec.CommitTs = ""
			scheduleBackup(ctx, t, bk)
			key := client.ObjectKeyFromObject(bk)

			w := watchProgress(ctx, backupProgress(key, c))
			r := startManager(t, b.env, "backup", "--namespace="+ns, "--backupName="+name, "--tikvVersion=v8.5.0", "--mode=snapshot")
			r.mustSucceed(t, time.Minute)
			seen := w.values()

			got := getBackup(ctx, t, key)
			if got.Status.Phase != v1alpha1.BackupComplete {
				t.Fatalf("phase %q, want Complete; conditions %+v", got.Status.Phase, got.Status.Conditions)
			}
			for _, ct := range []v1alpha1.BackupConditionType{v1alpha1.BackupScheduled, v1alpha1.BackupPrepare, v1alpha1.BackupRunning, v1alpha1.BackupComplete} {
				if condition(got, ct) == nil {
					t.Errorf("no %s condition; conditions %+v", ct, got.Status.Conditions)
				}
			}
			if condition(got, v1alpha1.BackupRestart) != nil {
				t.Error("a first run recorded Restart")
			}
			if want := b.statusPath(prefix); got.Status.BackupPath != want {
				t.Errorf("backupPath %q, want %q", got.Status.BackupPath, want)
			}
			// The commit TS and size are what the backupmeta on the store says, read here
			// independently of the code under test.
			meta := readMeta(ctx, t, b, prefix)
			if got.Status.CommitTs != fmt.Sprint(meta.EndVersion) || meta.EndVersion == 0 {
				t.Errorf("commitTs %q, backupmeta's end version %d", got.Status.CommitTs, meta.EndVersion)
			}
			if got.Status.BackupSize != int64(meta.Size) || meta.Size == 0 {
				t.Errorf("backupSize %d, backupmeta says %d", got.Status.BackupSize, meta.Size)
			}
			if got.Status.BackupSizeReadable == "" || got.Status.TimeTaken == "" || got.Status.TimeStarted.IsZero() || got.Status.TimeCompleted.IsZero() {
				t.Errorf("missing size/time fields: %+v", got.Status)
			}
			if len(seen) < 2 {
				t.Errorf("progress seen while BR ran (Running, below 100%%): %q, want at least two distinct values", seen)
			}
			if last := got.Status.Progresses; len(last) == 0 || last[len(last)-1].Progress != 100 {
				t.Errorf("final progress %+v, want 100%%", last)
			}
			if b.secret != "" && strings.Contains(r.out.String(), b.secret) {
				t.Error("the credential's value appears in the backup-manager's output")
			}
		})
	}
}

// readMeta decodes the backupmeta under prefix with the provider's own SDK.
func readMeta(ctx context.Context, t *testing.T, b backend, prefix string) backupmeta.Summary {
	t.Helper()
	files := map[string][]byte{}
	for _, k := range b.keys(ctx, t, prefix+"/") {
		files[strings.TrimPrefix(k, prefix+"/")] = b.get(ctx, t, k)
	}
	sum, err := backupmeta.Read(ctx, func(_ context.Context, name string) ([]byte, error) {
		d, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("%s: not found", name)
		}
		return d, nil
	})
	if err != nil {
		t.Fatalf("read backupmeta under %s: %v", prefix, err)
	}
	return sum
}

// TestFailingBRFailsTheBackupWithItsError: BR's [ERROR] line becomes the Failed condition's
// message and the Job's exit code is non-zero.
func TestFailingBRFailsTheBackupWithItsError(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := localBackend(t)
	bk := newBackup(ns, "fails", b, "fails")
	scheduleBackup(ctx, t, bk)

	r := startManager(t, b.env.with(env{"BRDOUBLE_FAIL": "cannot connect to PD basic-pd:2379"}),
		"backup", "--namespace="+ns, "--backupName=fails", "--mode=snapshot")
	if code := r.wait(t, time.Minute); code == 0 {
		t.Fatal("the backup-manager exited 0 after BR failed")
	}
	got := getBackup(ctx, t, client.ObjectKeyFromObject(bk))
	failed := condition(got, v1alpha1.BackupFailed)
	if got.Status.Phase != v1alpha1.BackupFailed || failed == nil {
		t.Fatalf("phase %q, conditions %+v; want Failed", got.Status.Phase, got.Status.Conditions)
	}
	if failed.Reason != "BackupDataToRemoteFailed" || !strings.Contains(failed.Message, "cannot connect to PD basic-pd:2379") {
		t.Errorf("Failed condition %q: %q; want BR's error line", failed.Reason, failed.Message)
	}
}

// TestSIGTERMStopsBRAndRecordsTheInterruption: the kubelet's SIGTERM to the container stops
// BR (its whole process group), the Backup records why it failed, and the exit is non-zero.
func TestSIGTERMStopsBRAndRecordsTheInterruption(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := localBackend(t)
	bk := newBackup(ns, "interrupted", b, "interrupted")
	scheduleBackup(ctx, t, bk)
	key := client.ObjectKeyFromObject(bk)

	record := filepath.Join(t.TempDir(), "br-runs.jsonl")
	r := startManager(t, b.env.with(env{"BRDOUBLE_HANG": "1", "BRDOUBLE_RECORD": record}), "backup", "--namespace="+ns, "--backupName=interrupted")
	// Wait until BR runs and has reported progress, then stop the container.
	waitFor(ctx, t, "progress while BR hangs", func() bool {
		got := &v1alpha1.Backup{}
		return c.Get(ctx, key, got) == nil && len(got.Status.Progresses) > 0
	})
	if err := syscall.Kill(r.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 30*time.Second); code == 0 {
		t.Fatal("exit 0 after SIGTERM")
	}
	got := getBackup(ctx, t, key)
	failed := condition(got, v1alpha1.BackupFailed)
	if failed == nil || failed.Reason != "Interrupted" || !strings.Contains(failed.Message, "SIGTERM") {
		t.Fatalf("conditions %+v; want Failed with reason Interrupted naming SIGTERM", got.Status.Conditions)
	}
	// BR itself got the signal (its own words, streamed with its prefix), and is gone.
	if out := r.out.String(); !strings.Contains(out, `br: `) || !strings.Contains(out, `["received signal to exit"]`) {
		t.Errorf("BR's own report of the signal is not in the pod log:\n%s", out)
	}
	runs, err := brdouble.ReadRecords(record)
	if err != nil || len(runs) != 1 {
		t.Fatalf("BR runs recorded: %v, %v; want one", runs, err)
	}
	waitFor(ctx, t, "BR's process to be gone", func() bool { return processGone(runs[0].PID) })
}

// TestARestartedPodRecordsRestart: a pod that finds the Backup past Scheduled (its previous
// pod died) records Restart, which never becomes the phase, and carries on.
func TestARestartedPodRecordsRestart(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := localBackend(t)
	bk := newBackup(ns, "restarted", b, "restarted")
	scheduleBackup(ctx, t, bk)
	key := client.ObjectKeyFromObject(bk)
	// The first pod is killed (SIGKILL: no chance to record anything) after BR started.
	first := startManager(t, b.env.with(env{"BRDOUBLE_HANG": "1"}), "backup", "--namespace="+ns, "--backupName=restarted")
	waitFor(ctx, t, "Running", func() bool {
		got := &v1alpha1.Backup{}
		return c.Get(ctx, key, got) == nil && got.Status.Phase == v1alpha1.BackupRunning
	})
	_ = syscall.Kill(-first.cmd.Process.Pid, syscall.SIGKILL)
	first.wait(t, 10*time.Second)

	second := startManager(t, b.env, "backup", "--namespace="+ns, "--backupName=restarted")
	second.mustSucceed(t, time.Minute)
	got := getBackup(ctx, t, key)
	if condition(got, v1alpha1.BackupRestart) == nil {
		t.Errorf("no Restart condition: %+v", got.Status.Conditions)
	}
	if got.Status.Phase != v1alpha1.BackupComplete {
		t.Errorf("phase %q, want Complete", got.Status.Phase)
	}
}

// TestAWrongCredentialFailsNamingItsSourceNotItsValue: S3 refuses the key; the Failed message
// says which credential was used (the environment variables) and never the secret itself.
func TestAWrongCredentialFailsNamingItsSourceNotItsValue(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := s3Backend(t)
	const wrong = "not-the-secret-key-0123456789"
	bk := newBackup(ns, "wrong-key", b, "wrong-key")
	scheduleBackup(ctx, t, bk)
	r := startManager(t, b.env.with(env{"AWS_SECRET_ACCESS_KEY": wrong}), "backup", "--namespace="+ns, "--backupName=wrong-key")
	if code := r.wait(t, time.Minute); code == 0 {
		t.Fatal("exit 0 with a wrong secret key")
	}
	got := getBackup(ctx, t, client.ObjectKeyFromObject(bk))
	failed := condition(got, v1alpha1.BackupFailed)
	if failed == nil {
		t.Fatalf("no Failed condition: %+v", got.Status.Conditions)
	}
	if !strings.Contains(failed.Message, "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("Failed message %q does not name the credential source", failed.Message)
	}
	for where, text := range map[string]string{"status": fmt.Sprintf("%+v", got.Status), "output": r.out.String()} {
		if strings.Contains(text, wrong) || strings.Contains(text, b.secret) {
			t.Errorf("a secret key value appears in the %s", where)
		}
	}
}

// waitFor polls cond every 100ms until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestAMissingCredentialFailsNamingWhatToSet: an Azure backup whose Job has no key, no SAS
// token and no Azure AD credentials fails before BR starts, with a message that says which
// variables or spec field would provide one.
func TestAMissingCredentialFailsNamingWhatToSet(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := azureBackend(t)
	bk := newBackup(ns, "no-key", b, "no-key")
	scheduleBackup(ctx, t, bk)
	r := startManager(t, env{"AZURE_STORAGE_ACCOUNT": b.env["AZURE_STORAGE_ACCOUNT"]}, "backup", "--namespace="+ns, "--backupName=no-key")
	if code := r.wait(t, time.Minute); code == 0 {
		t.Fatal("exit 0 without any Azure credential")
	}
	got := getBackup(ctx, t, client.ObjectKeyFromObject(bk))
	failed := condition(got, v1alpha1.BackupFailed)
	if failed == nil || failed.Reason != "StorageAccessFailed" || !strings.Contains(failed.Message, "AZURE_STORAGE_KEY") {
		t.Fatalf("conditions %+v; want Failed (StorageAccessFailed) naming AZURE_STORAGE_KEY", got.Status.Conditions)
	}
	if condition(got, v1alpha1.BackupRunning) != nil {
		t.Error("BR was started without a credential")
	}
}

// processGone reports whether pid no longer runs: it does not exist, or it is a zombie that
// nobody reaped (the double's parent has exited; in a container init reaps it).
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(data), ')'); i >= 0 && i+2 < len(data) {
		return data[i+2] == 'Z'
	}
	return false
}

// TestSecretsBRPrintsNeverReachTheLogOrTheStatus: BR echoes request URLs and arguments in its
// errors; a credential it prints (here the S3 secret key and a SAS signature in a URL) is
// replaced in the pod log and in the Failed message.
func TestSecretsBRPrintsNeverReachTheLogOrTheStatus(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := localBackend(t)
	bk := newBackup(ns, "echoes", b, "echoes")
	scheduleBackup(ctx, t, bk)
	const secretKey = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	const sig = "hX9kq2Yf0s1Lw8PqR7tUvW3xZ"
	r := startManager(t, b.env.with(env{
		"AWS_SECRET_ACCESS_KEY": secretKey,
		"BRDOUBLE_FAIL":         "PUT https://acct.blob.core.windows.net/c/x?sv=2022-11-02&sig=" + sig + " with key " + secretKey + ": 403",
	}), "backup", "--namespace="+ns, "--backupName=echoes")
	if code := r.wait(t, time.Minute); code == 0 {
		t.Fatal("exit 0 after BR failed")
	}
	got := getBackup(ctx, t, client.ObjectKeyFromObject(bk))
	failed := condition(got, v1alpha1.BackupFailed)
	if failed == nil || !strings.Contains(failed.Message, "REDACTED") {
		t.Fatalf("conditions %+v; want Failed with BR's error, redacted", got.Status.Conditions)
	}
	for where, text := range map[string]string{"the Failed message": failed.Message, "the pod log": r.out.String()} {
		if strings.Contains(text, secretKey) || strings.Contains(text, sig) {
			t.Errorf("a secret BR printed is in %s:\n%s", where, text)
		}
	}
}
