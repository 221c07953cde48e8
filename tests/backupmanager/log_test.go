package backupmanager

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// TestLogBackupSubcommandsUpdateTheirStatuses runs log start, pause, resume, truncate and stop
// the way the operator's Jobs do and checks each leaves its own logSubCommandStatuses entry, the
// start its commitTs (backupmeta's StartVersion) and the truncate logSuccessTruncateUntil.
func TestLogBackupSubcommandsUpdateTheirStatuses(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := gcsBackend(t)
	bk := newBackup(ns, "pitr-log", b, "log/pitr-log")
	bk.Spec.Mode = v1alpha1.BackupModeLog
	bk.Spec.CommitTs = ""
	scheduleBackup(ctx, t, bk)
	key := client.ObjectKeyFromObject(bk)

	startTS := fmt.Sprint(commitTS)
	logRun := func(sub v1alpha1.LogSubCommandType, extra ...string) {
		t.Helper()
		args := append([]string{"backup", "--namespace=" + ns, "--backupName=pitr-log", "--mode=log", "--subcommand=" + string(sub)}, extra...)
		startManager(t, b.env, args...).mustSucceed(t, time.Minute)
		got := getBackup(ctx, t, key)
		st, ok := got.Status.LogSubCommandStatuses[sub]
		if !ok || st.Phase != v1alpha1.BackupComplete {
			t.Fatalf("%s: logSubCommandStatuses %+v; want %s Complete", sub, got.Status.LogSubCommandStatuses, sub)
		}
		if st.TimeCompleted.IsZero() {
			t.Errorf("%s: no timeCompleted", sub)
		}
	}

	logRun(v1alpha1.LogStartCommand, "--commit-ts="+startTS)
	got := getBackup(ctx, t, key)
	if meta := readMeta(ctx, t, b, "log/pitr-log"); got.Status.CommitTs != fmt.Sprint(meta.StartVersion) || got.Status.CommitTs != startTS {
		t.Errorf("commitTs %q after log start; backupmeta's start version %d, --commit-ts %s", got.Status.CommitTs, meta.StartVersion, startTS)
	}
	if got.Status.BackupPath != b.statusPath("log/pitr-log") {
		t.Errorf("backupPath %q", got.Status.BackupPath)
	}

	logRun(v1alpha1.LogPauseCommand)
	if got := getBackup(ctx, t, key); got.Status.Phase != v1alpha1.BackupPaused {
		t.Errorf("phase %q after log pause, want Paused", got.Status.Phase)
	}
	logRun(v1alpha1.LogResumeCommand)
	if got := getBackup(ctx, t, key); got.Status.Phase != v1alpha1.BackupRunning {
		t.Errorf("phase %q after log resume, want Running", got.Status.Phase)
	}

	// The double's log files cover one second of TS each from the start: truncating two
	// seconds in removes the first two.
	before := len(b.keys(ctx, t, "log/pitr-log/"))
	until := fmt.Sprint(commitTS + 2*(1000<<18))
	logRun(v1alpha1.LogTruncateCommand, "--truncate-until="+until)
	got = getBackup(ctx, t, key)
	if got.Status.LogSuccessTruncateUntil != until {
		t.Errorf("logSuccessTruncateUntil %q, want %s", got.Status.LogSuccessTruncateUntil, until)
	}
	if after := len(b.keys(ctx, t, "log/pitr-log/")); after >= before {
		t.Errorf("truncate left %d objects of %d: nothing was deleted", after, before)
	}

	logRun(v1alpha1.LogStopCommand)
	got = getBackup(ctx, t, key)
	// The Backup-wide phase follows the task, as v1.6's cleaner expects (IsLogBackupAlreadyStop).
	if got.Status.Phase != v1alpha1.BackupStopped {
		t.Errorf("phase %q after log stop, want Stopped", got.Status.Phase)
	}
	for sub, st := range got.Status.LogSubCommandStatuses {
		if len(st.Conditions) == 0 || st.TimeStarted.IsZero() {
			t.Errorf("%s: no conditions or start time: %+v", sub, st)
		}
	}
}
