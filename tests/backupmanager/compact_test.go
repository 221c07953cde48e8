package backupmanager

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// TestCompactReportsProgressAndEndTs compacts a log backup: BR's base64ify output feeds
// tikv-ctl, whose JSON log becomes status.progress while it runs and status.endTs at the end.
func TestCompactReportsProgressAndEndTs(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := azureBackend(t)
	logBackup := newBackup(ns, "compact-source", b, "compact/log")
	logBackup.Spec.Mode = v1alpha1.BackupModeLog
	logBackup.Spec.CommitTs = ""
	scheduleBackup(ctx, t, logBackup)
	startManager(t, b.env, "backup", "--namespace="+ns, "--backupName=compact-source", "--mode=log",
		"--subcommand=log-start", fmt.Sprintf("--commit-ts=%d", commitTS)).mustSucceed(t, time.Minute)

	// The double's log files cover one second of TS each from the log's start; compacting
	// three seconds takes three files, whose largest TS tikv-ctl reports as the end.
	const span = 1000 << 18
	end := commitTS + 3*span
	cb := &v1alpha1.CompactBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "compact"},
		Spec: v1alpha1.CompactSpec{
			StorageProvider: b.provider("compact/log"),
			StartTs:         fmt.Sprint(commitTS), EndTs: fmt.Sprint(end), Concurrency: 4,
			BR: &v1alpha1.BRConfig{Cluster: "basic", Options: b.brOptions},
		},
	}
	if err := c.Create(ctx, cb); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(cb)
	w := watchProgress(ctx, func(ctx context.Context) (string, bool) {
		got := &v1alpha1.CompactBackup{}
		if err := c.Get(ctx, key, got); err != nil || got.Status.State != v1alpha1.CompactStateRunning || got.Status.Progress == "" {
			return "", false
		}
		return got.Status.Progress, true
	})
	startManager(t, b.env, "compact", "--namespace="+ns, "--resourceName=compact").mustSucceed(t, time.Minute)
	seen := w.values()

	got := &v1alpha1.CompactBackup{}
	if err := c.Get(ctx, key, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.State != v1alpha1.CompactStateComplete {
		t.Fatalf("state %q message %q; want Complete", got.Status.State, got.Status.Message)
	}
	if got.Status.EndTs != fmt.Sprint(end-1) {
		t.Errorf("endTs %q, want %d (the last input file's end)", got.Status.EndTs, end-1)
	}
	if len(seen) < 2 {
		t.Errorf("progress seen: %q, want at least two values", seen)
	}
}
