package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// A log backup starts once, its checkpoint (read by the operator from PD's etcd, which the
// simulator's TiKV advances) moves forward in status, it pauses and resumes, truncates on
// request, a CompactBackup over its range completes, and deleting it stops the task first.
func TestLogBackupCheckpointTruncateCompactAndStop(t *testing.T) {
	t.Parallel()
	be := newBackupEnv(t)
	be.createCluster()
	be.createObject(&v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: "log"},
		Spec: v1alpha1.BackupSpec{
			Mode:            v1alpha1.BackupModeLog,
			StorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage("log")},
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			ToolImage:       "pingcap/br:v8.5.0",
		},
	})
	bk := be.waitBackup("log", "started", backupTimeout, func(bk *v1alpha1.Backup) error {
		if bk.Status.Phase != v1alpha1.BackupRunning || bk.Status.CommitTs == "" {
			return fmt.Errorf("phase %q commitTs %q: %s", bk.Status.Phase, bk.Status.CommitTs, backupConditions(bk))
		}
		return nil
	})
	start := mustTS(t, bk.Status.CommitTs)

	// The checkpoint appears and keeps moving.
	first := be.checkpointAfter("log", start)
	second := be.checkpointAfter("log", first)
	if first < start || second <= first {
		t.Fatalf("checkpoints %d, %d after start %d", first, second, start)
	}

	// Pause: the task stops advancing; resume: it moves again.
	be.setBackup("log", func(bk *v1alpha1.Backup) { bk.Spec.LogSubcommand = v1alpha1.LogPauseCommand })
	be.waitBackup("log", "paused", backupTimeout, inPhase(v1alpha1.BackupPaused))
	paused := be.checkpointAfter("log", 0)
	time.Sleep(3 * checkpointInterval)
	if now := be.checkpointAfter("log", 0); now != paused {
		t.Fatalf("checkpoint moved while paused: %d → %d", paused, now)
	}
	be.setBackup("log", func(bk *v1alpha1.Backup) { bk.Spec.LogSubcommand = v1alpha1.LogStartCommand })
	be.waitBackup("log", "resumed", backupTimeout, inPhase(v1alpha1.BackupRunning))
	resumed := be.checkpointAfter("log", paused)

	// Truncate up to the first checkpoint.
	until := strconv.FormatUint(first, 10)
	be.setBackup("log", func(bk *v1alpha1.Backup) { bk.Spec.LogTruncateUntil = until })
	be.waitBackup("log", "truncated", backupTimeout, func(bk *v1alpha1.Backup) error {
		if bk.Status.LogSuccessTruncateUntil != until {
			return fmt.Errorf("logSuccessTruncateUntil %q, want %s", bk.Status.LogSuccessTruncateUntil, until)
		}
		return nil
	})
	if runs := be.runsOf("backup-log-log-truncate"); len(runs) != 1 || runs[0].ExitCode != 0 {
		t.Fatalf("truncate runs %v", runs)
	}

	// Compact the log from the truncation point to the resumed checkpoint.
	be.createObject(&v1alpha1.CompactBackup{
		ObjectMeta: metav1.ObjectMeta{Name: "compact"},
		Spec: v1alpha1.CompactSpec{
			StorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage("log")},
			StartTs:         until,
			EndTs:           strconv.FormatUint(resumed, 10),
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			MaxRetryTimes:   2,
		},
	})
	be.eventually("CompactBackup compact Complete", backupTimeout, func(ctx context.Context) error {
		cb := &v1alpha1.CompactBackup{}
		if err := be.c.Get(ctx, objKey(be.ns, "compact"), cb); err != nil {
			return err
		}
		if cb.Status.State != v1alpha1.CompactStateComplete {
			return fmt.Errorf("state %q: %s", cb.Status.State, cb.Status.Message)
		}
		return nil
	})

	// Deleting the Backup stops the task (stop-<name>), then lets the Backup go; the data
	// stays (cleanPolicy Retain).
	ctx, cancel := be.ctx()
	defer cancel()
	if err := be.c.Delete(ctx, bk); err != nil {
		t.Fatal(err)
	}
	be.waitGone(&v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "log"}}, backupTimeout)
	if runs := be.runsOf("stop-log"); len(runs) != 1 || runs[0].ExitCode != 0 {
		t.Fatalf("stop runs %v", runs)
	}
	for _, job := range []string{"backup-log-log-start", "backup-log-log-pause", "backup-log-log-resume"} {
		if runs := be.runsOf(job); len(runs) != 1 || runs[0].ExitCode != 0 {
			t.Fatalf("%s runs %v", job, runs)
		}
	}
	if keys, err := be.objects(ctx, "log"); err != nil || len(keys) == 0 {
		t.Fatalf("log backup data gone: %v %v", keys, err)
	}
}

func mustTS(t *testing.T, s string) uint64 {
	t.Helper()
	ts, err := v1alpha1.ParseTSString(s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkpointAfter waits for status.logCheckpointTs to pass after (or just to be set, for 0)
// and returns it.
func (be *backupEnv) checkpointAfter(name string, after uint64) uint64 {
	be.t.Helper()
	var ts uint64
	be.waitBackup(name, fmt.Sprintf("checkpoint after %d", after), time.Minute, func(bk *v1alpha1.Backup) error {
		if bk.Status.LogCheckpointTs == "" {
			return fmt.Errorf("no checkpoint yet")
		}
		v, err := strconv.ParseUint(bk.Status.LogCheckpointTs, 10, 64)
		if err != nil {
			return err
		}
		if after != 0 && v <= after {
			return fmt.Errorf("checkpoint %d", v)
		}
		ts = v
		return nil
	})
	return ts
}

// setBackup changes a Backup's spec, retrying on conflicts with status writers.
func (be *backupEnv) setBackup(name string, change func(*v1alpha1.Backup)) {
	be.t.Helper()
	ctx, cancel := be.ctx()
	defer cancel()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		bk, err := be.backup(ctx, name)
		if err != nil {
			return err
		}
		change(bk)
		return be.c.Update(ctx, bk)
	})
	if err != nil {
		be.t.Fatalf("update Backup %s: %v", name, err)
	}
}
