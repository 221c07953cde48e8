package v1alpha1

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func boolPtr(b bool) *bool { return &b }

func TestStorageProviderTypeCountAndRemotePath(t *testing.T) {
	local := &LocalStorageProvider{
		Volume:      corev1.Volume{Name: "nfs"},
		VolumeMount: corev1.VolumeMount{Name: "nfs", MountPath: "/nfs"},
		Prefix:      "backups/one",
	}
	cases := map[string]struct {
		p         StorageProvider
		wantType  BackupStorageType
		wantCount int
		wantPath  string
		wantErr   bool
	}{
		"an S3 bucket with a prefix is s3://bucket/prefix": {
			p:        StorageProvider{S3: &S3StorageProvider{Provider: "aws", Bucket: "bk", Prefix: "a/b"}},
			wantType: BackupStorageTypeS3, wantCount: 1, wantPath: "s3://bk/a/b",
		},
		"an S3 bucket holding a directory is split on its first slash": {
			p:        StorageProvider{S3: &S3StorageProvider{Provider: "aws", Bucket: "/bk/dir/", Prefix: "/p/"}},
			wantType: BackupStorageTypeS3, wantCount: 1, wantPath: "s3://bk/dir/p",
		},
		"an S3 bucket without a prefix has no trailing slash": {
			p:        StorageProvider{S3: &S3StorageProvider{Provider: "minio", Bucket: "bk"}},
			wantType: BackupStorageTypeS3, wantCount: 1, wantPath: "s3://bk",
		},
		"a GCS bucket ends with a slash": {
			p:        StorageProvider{Gcs: &GcsStorageProvider{ProjectID: "p", Bucket: "bk", Prefix: "x"}},
			wantType: BackupStorageTypeGcs, wantCount: 1, wantPath: "gcs://bk/x/",
		},
		"an Azure container uses the azure scheme and ends with a slash": {
			p:        StorageProvider{Azblob: &AzblobStorageProvider{Container: "c", Prefix: "x/y"}},
			wantType: BackupStorageTypeAzblob, wantCount: 1, wantPath: "azure://c/x/y/",
		},
		"a local volume is below its mount path": {
			p:        StorageProvider{Local: local},
			wantType: BackupStorageTypeLocal, wantCount: 1, wantPath: "local:///nfs/backups/one",
		},
		"with several providers S3 wins, as in v1.6": {
			p: StorageProvider{
				S3:  &S3StorageProvider{Provider: "aws", Bucket: "bk"},
				Gcs: &GcsStorageProvider{ProjectID: "p", Bucket: "g"},
			},
			wantType: BackupStorageTypeS3, wantCount: 2, wantPath: "s3://bk",
		},
		"without a provider there is no path": {
			p:        StorageProvider{},
			wantType: BackupStorageTypeUnknown, wantCount: 0, wantErr: true,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.p.Type(); got != c.wantType {
				t.Errorf("Type() = %q, want %q", got, c.wantType)
			}
			if got := c.p.Count(); got != c.wantCount {
				t.Errorf("Count() = %d, want %d", got, c.wantCount)
			}
			got, err := c.p.RemotePath()
			if c.wantErr {
				if err == nil {
					t.Fatalf("RemotePath() = %q, want an error", got)
				}
				return
			}
			if err != nil || got != c.wantPath {
				t.Fatalf("RemotePath() = %q, %v; want %q", got, err, c.wantPath)
			}
		})
	}
}

func TestS3PathStyle(t *testing.T) {
	cases := map[string]struct {
		s3   S3StorageProvider
		want bool
	}{
		"AWS defaults to path style":                      {S3StorageProvider{Provider: "aws"}, true},
		"Alibaba OSS defaults to virtual-hosted style":    {S3StorageProvider{Provider: "alibaba"}, false},
		"Netease defaults to virtual-hosted style":        {S3StorageProvider{Provider: "netease"}, false},
		"an explicit forcePathStyle false wins":           {S3StorageProvider{Provider: "minio", ForcePathStyle: boolPtr(false)}, false},
		"an explicit forcePathStyle true wins on alibaba": {S3StorageProvider{Provider: "alibaba", ForcePathStyle: boolPtr(true)}, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.s3.UsesPathStyle(); got != c.want {
				t.Fatalf("UsesPathStyle() = %v, want %v", got, c.want)
			}
		})
	}
}

func newBackup(name string, mutate func(*Backup)) *Backup {
	bk := &Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	bk.Spec.Mode = BackupModeSnapshot
	if mutate != nil {
		mutate(bk)
	}
	return bk
}

func TestJobNames(t *testing.T) {
	cases := map[string]struct {
		bk        *Backup
		wantJob   string
		wantInit  string
		wantClean string
		wantStop  string
	}{
		"a snapshot backup runs in backup-<name>": {
			bk:      newBackup("daily", nil),
			wantJob: "backup-daily", wantInit: "backup-daily-init", wantClean: "clean-daily", wantStop: "stop-daily",
		},
		"a log backup being started runs in backup-<name>-log-start": {
			bk:      newBackup("pitr", func(b *Backup) { b.Spec.Mode = BackupModeLog }),
			wantJob: "backup-pitr-log-start", wantInit: "backup-pitr-log-start-init", wantClean: "clean-pitr", wantStop: "stop-pitr",
		},
		"a log backup being paused runs in backup-<name>-log-pause": {
			bk: newBackup("pitr", func(b *Backup) {
				b.Spec.Mode = BackupModeLog
				b.Spec.LogSubcommand = LogPauseCommand
			}),
			wantJob: "backup-pitr-log-pause", wantInit: "backup-pitr-log-pause-init", wantClean: "clean-pitr", wantStop: "stop-pitr",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.bk.GetBackupJobName(); got != c.wantJob {
				t.Errorf("GetBackupJobName() = %q, want %q", got, c.wantJob)
			}
			if got := c.bk.GetVolumeBackupInitializeJobName(); got != c.wantInit {
				t.Errorf("GetVolumeBackupInitializeJobName() = %q, want %q", got, c.wantInit)
			}
			if got := c.bk.GetCleanJobName(); got != c.wantClean {
				t.Errorf("GetCleanJobName() = %q, want %q", got, c.wantClean)
			}
			if got := c.bk.GetStopLogBackupJobName(); got != c.wantStop {
				t.Errorf("GetStopLogBackupJobName() = %q, want %q", got, c.wantStop)
			}
		})
	}

	all := newBackup("pitr", func(b *Backup) { b.Spec.Mode = BackupModeLog }).GetAllLogBackupJobNames()
	for _, want := range []string{"backup-pitr-log-start", "backup-pitr-log-stop", "backup-pitr-log-pause", "backup-pitr-log-resume", "backup-pitr-log-truncate"} {
		found := false
		for _, n := range all {
			found = found || n == want
		}
		if !found {
			t.Errorf("GetAllLogBackupJobNames() = %v, lacks %q", all, want)
		}
	}

	rt := &Restore{ObjectMeta: metav1.ObjectMeta{Name: "r1"}}
	if got := rt.GetRestoreJobName(); got != "restore-r1" {
		t.Errorf("GetRestoreJobName() = %q", got)
	}
	if got := rt.GetRestoreDataJobName(); got != "restore-data-r1" {
		t.Errorf("GetRestoreDataJobName() = %q", got)
	}
	bs := &BackupSchedule{ObjectMeta: metav1.ObjectMeta{Name: "nightly"}}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	if got := bs.GetBackupName(at); got != "nightly-2025-01-01t19-04-05" {
		t.Errorf("GetBackupName() = %q, want the UTC time in the name", got)
	}
	if got := bs.GetLogBackupName(); got != "log-nightly" {
		t.Errorf("GetLogBackupName() = %q", got)
	}
}

func TestScratchVolumeNamesDependOnTheTiDBEndpointOnly(t *testing.T) {
	a := newBackup("a", func(b *Backup) { b.Spec.From = &TiDBAccessConfig{Host: "basic-tidb", SecretName: "s"} })
	b := newBackup("b", func(b *Backup) { b.Spec.From = &TiDBAccessConfig{Host: "basic-tidb", Port: 4000, SecretName: "t"} })
	c := newBackup("c", func(b *Backup) { b.Spec.From = &TiDBAccessConfig{Host: "other-tidb", SecretName: "s"} })
	if a.GetBackupPVCName() != b.GetBackupPVCName() {
		t.Errorf("backups of the same TiDB got different volumes: %q, %q", a.GetBackupPVCName(), b.GetBackupPVCName())
	}
	if a.GetBackupPVCName() == c.GetBackupPVCName() {
		t.Errorf("backups of different TiDBs share the volume %q", a.GetBackupPVCName())
	}
	if !strings.HasPrefix(a.GetBackupPVCName(), "backup-pvc-") {
		t.Errorf("GetBackupPVCName() = %q", a.GetBackupPVCName())
	}
	rt := &Restore{Spec: RestoreSpec{To: &TiDBAccessConfig{Host: "basic-tidb", SecretName: "s"}}}
	if got, want := rt.GetRestorePVCName(), strings.Replace(a.GetBackupPVCName(), "backup-", "restore-", 1); got != want {
		t.Errorf("GetRestorePVCName() = %q, want %q", got, want)
	}
}

func TestParseLogBackupSubcommand(t *testing.T) {
	logBackup := func(mutate func(*Backup)) *Backup {
		return newBackup("pitr", func(b *Backup) {
			b.Spec.Mode = BackupModeLog
			if mutate != nil {
				mutate(b)
			}
		})
	}
	cases := map[string]struct {
		bk   *Backup
		want LogSubCommandType
	}{
		"a snapshot backup has no subcommand": {
			bk: newBackup("x", nil), want: "",
		},
		"a new log backup without logSubcommand starts": {
			bk: logBackup(nil), want: LogStartCommand,
		},
		"the legacy logStop stops": {
			bk: logBackup(func(b *Backup) { b.Spec.LogStop = true }), want: LogStopCommand,
		},
		"a stopped task without logSubcommand stays stopped": {
			bk: logBackup(func(b *Backup) { b.Status.Phase = BackupStopped }), want: LogStopCommand,
		},
		"log-start on a paused task resumes it": {
			bk: logBackup(func(b *Backup) {
				b.Spec.LogSubcommand = LogStartCommand
				b.Status.Phase = BackupPaused
			}),
			want: LogResumeCommand,
		},
		"log-pause pauses": {
			bk: logBackup(func(b *Backup) { b.Spec.LogSubcommand = LogPauseCommand }), want: LogPauseCommand,
		},
		"log-stop stops": {
			bk: logBackup(func(b *Backup) { b.Spec.LogSubcommand = LogStopCommand }), want: LogStopCommand,
		},
		"an unknown subcommand is reported as such": {
			bk: logBackup(func(b *Backup) { b.Spec.LogSubcommand = "log-restart" }), want: LogUnknownCommand,
		},
		"a truncation waits until the task has started": {
			bk:   logBackup(func(b *Backup) { b.Spec.LogTruncateUntil = "400036290571534337" }),
			want: LogStartCommand,
		},
		"a started task truncates once logTruncateUntil moves": {
			bk: logBackup(func(b *Backup) {
				b.Spec.LogTruncateUntil = "400036290571534337"
				b.Status.CommitTs = "400036290571500000"
			}),
			want: LogTruncateCommand,
		},
		"a started task does not truncate again to the same point": {
			bk: logBackup(func(b *Backup) {
				b.Spec.LogTruncateUntil = "400036290571534337"
				b.Status.CommitTs = "400036290571500000"
				b.Status.LogSuccessTruncateUntil = "400036290571534337"
			}),
			want: LogStartCommand,
		},
		"a paused task truncates while it stays paused": {
			bk: logBackup(func(b *Backup) {
				b.Spec.LogSubcommand = LogPauseCommand
				b.Spec.LogTruncateUntil = "400036290571534337"
				b.Status.Phase = BackupPaused
			}),
			want: LogTruncateCommand,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ParseLogBackupSubcommand(c.bk); got != c.want {
				t.Fatalf("ParseLogBackupSubcommand() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestUpdateBackupCondition(t *testing.T) {
	status := &BackupStatus{}
	if !UpdateBackupCondition(status, &BackupCondition{Type: BackupScheduled, Status: corev1.ConditionTrue}) {
		t.Fatal("adding a condition reported no change")
	}
	if status.Phase != BackupScheduled || len(status.Conditions) != 1 || status.Conditions[0].LastTransitionTime.IsZero() {
		t.Fatalf("after Scheduled: %+v", status)
	}
	first := status.Conditions[0].LastTransitionTime

	if UpdateBackupCondition(status, &BackupCondition{Type: BackupScheduled, Status: corev1.ConditionTrue}) {
		t.Error("writing the same condition again reported a change")
	}

	if !UpdateBackupCondition(status, &BackupCondition{Type: BackupRestart, Status: corev1.ConditionTrue}) {
		t.Error("adding Restart reported no change")
	}
	if status.Phase != BackupScheduled {
		t.Errorf("Restart became the phase: %q", status.Phase)
	}

	if !UpdateBackupCondition(status, &BackupCondition{Type: BackupRunning, Status: corev1.ConditionTrue}) || status.Phase != BackupRunning {
		t.Errorf("Running did not become the phase: %q", status.Phase)
	}

	// Writing Scheduled again with a new message moves the phase back but keeps its time.
	if !UpdateBackupCondition(status, &BackupCondition{Type: BackupScheduled, Status: corev1.ConditionTrue, Message: "again"}) {
		t.Error("a new message reported no change")
	}
	_, c := GetBackupCondition(status, BackupScheduled)
	if status.Phase != BackupScheduled || c.Message != "again" || !c.LastTransitionTime.Equal(&first) {
		t.Errorf("re-written Scheduled: phase %q, condition %+v, first time %v", status.Phase, c, first)
	}

	// A condition with status False still becomes the phase, as in v1.6 (Clean=False while the
	// clean Job runs).
	UpdateBackupCondition(status, &BackupCondition{Type: BackupClean, Status: corev1.ConditionFalse})
	if status.Phase != BackupClean {
		t.Errorf("Clean=False did not become the phase: %q", status.Phase)
	}
	if got := len(status.Conditions); got != 4 {
		t.Errorf("want one condition per type (4), got %d: %+v", got, status.Conditions)
	}
}

func TestBackupStateQueries(t *testing.T) {
	withCondition := func(mode BackupMode, t BackupConditionType, s corev1.ConditionStatus) *Backup {
		return newBackup("x", func(b *Backup) {
			b.Spec.Mode = mode
			b.Status.Conditions = []BackupCondition{{Type: t, Status: s}}
			b.Status.Phase = t
		})
	}
	cases := map[string]struct {
		bk                        *Backup
		complete, failed, running bool
	}{
		"a snapshot backup with Complete=True is complete": {
			bk: withCondition(BackupModeSnapshot, BackupComplete, corev1.ConditionTrue), complete: true,
		},
		"a snapshot backup with Complete=False is not complete": {
			bk: withCondition(BackupModeSnapshot, BackupComplete, corev1.ConditionFalse),
		},
		"a snapshot backup with Failed=True failed": {
			bk: withCondition(BackupModeSnapshot, BackupFailed, corev1.ConditionTrue), failed: true,
		},
		"a log backup is judged by its current subcommand, not the backup-wide conditions": {
			bk: newBackup("x", func(b *Backup) {
				b.Spec.Mode = BackupModeLog
				b.Spec.LogSubcommand = LogStopCommand
				b.Status.Conditions = []BackupCondition{{Type: BackupComplete, Status: corev1.ConditionTrue}}
				b.Status.LogSubCommandStatuses = map[LogSubCommandType]LogSubCommandStatus{
					LogStartCommand: {Command: LogStartCommand, Phase: BackupComplete},
					LogStopCommand:  {Command: LogStopCommand, Phase: BackupRunning},
				}
			}),
			running: true,
		},
		"a log truncation only counts when it worked towards the current logTruncateUntil": {
			bk: newBackup("x", func(b *Backup) {
				b.Spec.Mode = BackupModeLog
				b.Spec.LogTruncateUntil = "200"
				b.Status.CommitTs = "100"
				b.Status.LogSubCommandStatuses = map[LogSubCommandType]LogSubCommandStatus{
					LogTruncateCommand: {Command: LogTruncateCommand, Phase: BackupComplete, LogTruncatingUntil: "150"},
				}
			}),
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := IsBackupComplete(c.bk); got != c.complete {
				t.Errorf("IsBackupComplete() = %v, want %v", got, c.complete)
			}
			if got := IsBackupFailed(c.bk); got != c.failed {
				t.Errorf("IsBackupFailed() = %v, want %v", got, c.failed)
			}
			if got := IsBackupRunning(c.bk); got != c.running {
				t.Errorf("IsBackupRunning() = %v, want %v", got, c.running)
			}
		})
	}
}

func TestCleanPolicyDecisions(t *testing.T) {
	failed := []BackupCondition{{Type: BackupFailed, Status: corev1.ConditionTrue}}
	cases := map[string]struct {
		mode       BackupMode
		policy     CleanPolicyType
		conditions []BackupCondition
		candidate  bool
		retain     bool
	}{
		"Retain keeps the data and needs no finalizer":           {BackupModeSnapshot, CleanPolicyTypeRetain, nil, false, true},
		"Delete deletes the data":                                {BackupModeSnapshot, CleanPolicyTypeDelete, nil, true, false},
		"OnFailure keeps the data of a backup that did not fail": {BackupModeSnapshot, CleanPolicyTypeOnFailure, nil, true, true},
		"OnFailure deletes the data of a failed backup":          {BackupModeSnapshot, CleanPolicyTypeOnFailure, failed, true, false},
		"a retained log backup still needs its task stopped":     {BackupModeLog, CleanPolicyTypeRetain, nil, true, true},
		"an unset policy behaves like Retain (the CRD default)":  {BackupModeSnapshot, "", nil, false, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bk := newBackup("x", func(b *Backup) {
				b.Spec.Mode = c.mode
				b.Spec.CleanPolicy = c.policy
				b.Status.Conditions = c.conditions
			})
			if got := IsCleanCandidate(bk); got != c.candidate {
				t.Errorf("IsCleanCandidate() = %v, want %v", got, c.candidate)
			}
			if got := NeedRetainData(bk); got != c.retain {
				t.Errorf("NeedRetainData() = %v, want %v", got, c.retain)
			}
		})
	}
}

func TestGetCleanOptionFillsDefaults(t *testing.T) {
	bk := newBackup("x", nil)
	if got := bk.GetCleanOption(); got.PageSize != 10000 || got.RetryCount != 5 || got.BatchConcurrency != 10 || got.RoutineConcurrency != 100 {
		t.Errorf("defaults: %+v", got)
	}
	bk.Spec.CleanOption = &CleanOption{PageSize: 500, BackoffEnabled: true}
	got := bk.GetCleanOption()
	if got.PageSize != 500 || !got.BackoffEnabled || got.RetryCount != 5 || got.RoutineConcurrency != 100 {
		t.Errorf("partial option: %+v", got)
	}
}

func TestRetryDelayDoubles(t *testing.T) {
	p := BackoffRetryPolicy{MinRetryDuration: "300s"}
	for n, want := range map[int]time.Duration{1: 5 * time.Minute, 2: 10 * time.Minute, 3: 20 * time.Minute} {
		got, err := p.RetryDelay(n)
		if err != nil || got != want {
			t.Errorf("RetryDelay(%d) = %v, %v; want %v", n, got, err, want)
		}
	}
	if _, err := (BackoffRetryPolicy{MinRetryDuration: "five minutes"}).RetryDelay(1); err == nil {
		t.Error("an invalid minRetryDuration gave no error")
	}
	if got, _ := p.RetryDelay(200); got <= 0 {
		t.Errorf("RetryDelay(200) overflowed to %v", got)
	}
}

func TestParseTSString(t *testing.T) {
	at := func(s string) uint64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return uint64(tm.UnixMilli()) << 18
	}
	cases := map[string]struct {
		in      string
		want    uint64
		wantErr bool
	}{
		"an empty string is zero":                          {in: "", want: 0},
		"a TSO is taken as is":                             {in: "400036290571534337", want: 400036290571534337},
		"a time with a compact offset, as in the examples": {in: "2025-01-02 15:04:05+0800", want: at("2025-01-02T07:04:05Z")},
		"a time with a spaced offset":                      {in: "2025-01-02 15:04:05 +08:00", want: at("2025-01-02T07:04:05Z")},
		"fractional seconds are kept":                      {in: "2025-01-02 15:04:05.250Z", want: at("2025-01-02T15:04:05.25Z")},
		"RFC 3339":                                         {in: "2025-01-02T15:04:05Z", want: at("2025-01-02T15:04:05Z")},
		"text that is neither is an error":                 {in: "yesterday", wantErr: true},
		"a negative number is an error":                    {in: "-5", wantErr: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseTSString(c.in)
			if c.wantErr {
				if err == nil {
					t.Fatalf("ParseTSString(%q) = %d, want an error", c.in, got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ParseTSString(%q) = %d, %v; want %d", c.in, got, err, c.want)
			}
		})
	}

	local, err := ParseTSString("2025-01-02 15:04:05")
	if err != nil || !TSOToTime(local).Equal(time.Date(2025, 1, 2, 15, 4, 5, 0, time.Local)) {
		t.Errorf("a zone-less time is not read as local time: %d, %v", local, err)
	}
	now := time.Now().Truncate(time.Millisecond)
	if got := TSOToTime(TimeToTSO(now)); !got.Equal(now) {
		t.Errorf("TSOToTime(TimeToTSO(%v)) = %v", now, got)
	}
}

// TestCRDPatternsMatchTheMarkers makes sure the patterns tested below are the ones in the CRD.
func TestCRDPatternsMatchTheMarkers(t *testing.T) {
	src, err := os.ReadFile("backupschedule_types.go")
	if err != nil {
		t.Fatal(err)
	}
	for name, pattern := range map[string]string{"schedule": scheduleCronPattern, "duration": goDurationPattern} {
		if !bytes.Contains(src, []byte("self.matches('"+pattern+"')")) {
			t.Errorf("the %s CEL rule does not use the %s pattern constant", name, name)
		}
	}
}

func TestScheduleCronPattern(t *testing.T) {
	re := regexp.MustCompile(scheduleCronPattern)
	accepted := []string{
		"0 2 * * *",
		"*/5 * * * *",
		"0 */6 * * 1-5",
		"30 4 1,15 * *",
		"0 0 * JAN,jul MON-FRI",
		"0 0 ? * sun",
		"5/15 * * * *",
		"0 0 1-31/2 * *",
		"0 9-17/2 * dec-feb 1,3,5",
		"  0 2 * * *  ",
		"0\t2 * * *",
		"*-5 * * * *",
		"@daily",
		"@midnight",
		"@annually",
		"@every 1h30m",
		"@every 1.5h",
		"@every 90s",
		"TZ=Asia/Shanghai 0 2 * * *",
		"CRON_TZ=America/New_York @hourly",
		"CRON_TZ=Etc/GMT+8 30 1 * * *",
		"TZ= 0 2 * * *",
	}
	rejected := []string{
		"",
		"0 2 * * * *",
		"0 2 * *",
		"every day at two",
		"@daily ",
		"@every",
		"@every 1 hour",
		"@fortnightly",
		"0 0 * * MONDAY",
		"0 0 JAN * *",
		"L * * * *",
		"0 0 * * 1#2",
		"0 2 * * * # nightly",
		" @daily",
	}
	for _, s := range accepted {
		if !re.MatchString(s) {
			t.Errorf("schedule %q is accepted by robfig/cron but rejected by the CRD", s)
		}
	}
	for _, s := range rejected {
		if re.MatchString(s) {
			t.Errorf("schedule %q is not a valid cron schedule but the CRD accepts it", s)
		}
	}

	dur := regexp.MustCompile(goDurationPattern)
	for _, s := range []string{"72h", "1h30m", "0", "1.5h", "300ms"} {
		if !dur.MatchString(s) {
			t.Errorf("duration %q rejected", s)
		}
	}
	for _, s := range []string{"3d", "72", "h", "1 h"} {
		if dur.MatchString(s) {
			t.Errorf("duration %q accepted", s)
		}
	}
}

// roundTrip decodes a manifest strictly (an unknown field is an error, so every field a v1.6
// manifest may carry must exist), encodes it again and checks nothing was lost or changed.
func roundTrip(t *testing.T, manifest string, obj any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(manifest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		t.Fatalf("decode: %v", err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	// Values omitempty drops (and the nulls zero metav1.Times encode to) are equal to absent
	// ones; compare with those stripped from both sides.
	var want, got any
	if err := json.Unmarshal([]byte(normalize(t, manifest)), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(normalize(t, string(out))), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		wantJSON, _ := json.MarshalIndent(want, "", " ")
		gotJSON, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("round trip changed the manifest\nwant %s\ngot  %s", wantJSON, gotJSON)
	}
}

// v16Backup carries every field of the v1.6 Backup schema (spec and status).
const v16Backup = `{
 "apiVersion": "pingcap.com/v1alpha1",
 "kind": "Backup",
 "metadata": {"name": "demo1-backup-s3", "namespace": "test1"},
 "spec": {
  "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
  "env": [{"name": "BR_LOG_TO_TERM", "value": "0"}],
  "from": {"host": "basic-tidb", "port": 4000, "user": "root", "secretName": "backup-demo1-tidb-secret", "tlsClientSecretName": "basic-tidb-client-secret"},
  "backupType": "full",
  "backupMode": "log",
  "tikvGCLifeTime": "72h",
  "s3": {"provider": "ceph", "region": "us-west-2", "path": "legacy/path", "bucket": "my-bucket", "endpoint": "http://ceph:7480",
         "storageClass": "STANDARD_IA", "acl": "private", "secretName": "s3-secret", "prefix": "my-folder", "sse": "aws:kms",
         "options": ["--s3-no-check-bucket"], "forcePathStyle": true},
  "storageClassName": "local-storage",
  "storageSize": "10Gi",
  "br": {"cluster": "basic", "clusterNamespace": "tidb", "db": "db1", "table": "t1", "logLevel": "info", "statusAddr": ":10080",
         "concurrency": 4, "rateLimit": 100, "timeAgo": "1m", "checksum": true, "checkRequirements": false, "sendCredToTikv": true,
         "onLine": false, "options": ["--ignore-stats=false"]},
  "commitTs": "2018-05-11 01:42:23",
  "logSubcommand": "log-start",
  "logTruncateUntil": "400036290571534337",
  "calcSizeLevel": "all",
  "federalVolumeBackupPhase": "initialize",
  "resumeGcSchedule": true,
  "dumpling": {"options": ["--threads=16"], "tableFilter": ["db.*"]},
  "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "backup", "effect": "NoSchedule"}],
  "toolImage": "pingcap/br:v8.5.0",
  "imagePullSecrets": [{"name": "regcred"}],
  "tableFilter": ["db1.*", "!db1.tmp"],
  "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
  "useKMS": true,
  "serviceAccount": "tidb-backup-manager",
  "cleanPolicy": "OnFailure",
  "cleanOption": {"pageSize": 1000, "retryCount": 3, "backoffEnabled": true, "disableBatchConcurrency": true, "batchConcurrency": 5,
                  "routineConcurrency": 50, "snapshotsDeleteRatio": 1.5},
  "podSecurityContext": {"runAsUser": 1000, "fsGroup": 2000},
  "priorityClassName": "backup-high",
  "backoffRetryPolicy": {"minRetryDuration": "60s", "maxRetryTimes": 3, "retryTimeout": "1h"},
  "additionalVolumes": [{"name": "scratch", "emptyDir": {}}],
  "additionalVolumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
  "volumeBackupInitJobMaxActiveSeconds": 900
 },
 "status": {
  "backupPath": "s3://my-bucket/my-folder",
  "timeStarted": "2025-01-01T00:00:00Z",
  "timeCompleted": "2025-01-01T00:10:00Z",
  "timeTaken": "10m0s",
  "backupSizeReadable": "1.2 GB",
  "backupSize": 1200000000,
  "incrementalBackupSizeReadable": "12 MB",
  "incrementalBackupSize": 12000000,
  "commitTs": "400036290571534337",
  "logSuccessTruncateUntil": "400036290571534000",
  "logCheckpointTs": "400036290571534999",
  "phase": "Running",
  "conditions": [{"command": "log-start", "type": "Running", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z", "reason": "Started", "message": "log backup is running"}],
  "logSubCommandStatuses": {"log-start": {"command": "log-start", "timeStarted": "2025-01-01T00:00:00Z", "timeCompleted": "2025-01-01T00:00:05Z",
      "logTruncatingUntil": "", "phase": "Complete", "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2025-01-01T00:00:05Z"}]}},
  "progresses": [{"step": "Full Backup", "progress": 99.5, "lastTransitionTime": "2025-01-01T00:09:00Z"}],
  "backoffRetryStatus": [{"retryNum": 1, "detectFailedAt": "2025-01-01T00:01:00Z", "expectedRetryAt": "2025-01-01T00:06:00Z",
      "realRetryAt": "2025-01-01T00:06:01Z", "retryReason": "PodFailed", "originalReason": "OOMKilled"}]
 }
}`

func TestV16BackupRoundTrips(t *testing.T) {
	var bk Backup
	roundTrip(t, v16Backup, &bk)
	if bk.Spec.S3 == nil || bk.Spec.S3.ACL != "private" || bk.Spec.BR.Cluster != "basic" || bk.Spec.Mode != BackupModeLog {
		t.Errorf("fields landed in the wrong place: %+v", bk.Spec)
	}
	if got := bk.Status.LogSubCommandStatuses[LogStartCommand].Phase; got != BackupComplete {
		t.Errorf("log-start status phase = %q", got)
	}
}

func TestV16RestoreScheduleAndCompactRoundTrip(t *testing.T) {
	cases := map[string]struct {
		manifest string
		obj      any
	}{
		"a PiTR Restore with every spec field": {
			obj: &Restore{},
			manifest: `{"apiVersion": "pingcap.com/v1alpha1", "kind": "Restore", "metadata": {"name": "rt"},
 "spec": {"resources": {}, "env": [{"name": "A", "value": "b"}],
  "to": {"host": "basic-tidb", "port": 4000, "user": "root", "secretName": "pw"},
  "backupType": "full", "restoreMode": "pitr", "pitrRestoredTs": "2025-01-02 15:04:05+0800", "logRestoreStartTs": "400036290571534337",
  "federalVolumeRestorePhase": "restore-volume", "volumeAZ": "us-west-2a", "tikvGCLifeTime": "72h",
  "azblob": {"path": "p", "container": "c", "accessTier": "Cool", "secretName": "az", "storageAccount": "acct", "sasToken": "tok", "prefix": "log"},
  "pitrFullBackupStorageProvider": {"gcs": {"projectId": "proj", "location": "us", "path": "p", "bucket": "b", "storageClass": "STANDARD",
      "objectAcl": "private", "bucketAcl": "private", "secretName": "gcs", "prefix": "full"}},
  "storageClassName": "ssd", "storageSize": "10Gi",
  "br": {"cluster": "restored", "clusterNamespace": "tidb"}, "tableFilter": ["*.*"],
  "warmup": "sync", "warmupImage": "fio:latest", "warmupStrategy": "hybrid",
  "podSecurityContext": {}, "imagePullSecrets": [{"name": "r"}], "serviceAccount": "sa", "useKMS": false,
  "priorityClassName": "p", "tolerations": [], "affinity": {}, "toolImage": "pingcap/br:v8.5.0",
  "additionalVolumes": [], "additionalVolumeMounts": [], "tolerateSingleTiKVOutage": true, "backoffLimit": 2, "prune": "afterFailed"},
 "status": {"timeStarted": "2025-01-01T00:00:00Z", "timeCompleted": null, "timeTaken": "1m", "commitTs": "1", "phase": "Running",
  "conditions": [{"type": "Running", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z", "reason": "r", "message": "m"}],
  "progresses": [{"step": "Full Restore", "progress": 12.5, "lastTransitionTime": "2025-01-01T00:00:30Z"}]}}`,
		},
		"a BackupSchedule with snapshot, log and compact templates": {
			obj: &BackupSchedule{},
			manifest: `{"apiVersion": "pingcap.com/v1alpha1", "kind": "BackupSchedule", "metadata": {"name": "bs"},
 "spec": {"schedule": "0 2 * * *", "pause": true, "maxBackups": 7, "maxReservedTime": "72h", "compactInterval": "1h",
  "backupTemplate": {"resources": {}, "backupType": "full", "br": {"cluster": "basic"}, "backoffRetryPolicy": {}},
  "logBackupTemplate": {"resources": {}, "backupMode": "log", "br": {"cluster": "basic"}, "backoffRetryPolicy": {}},
  "compactBackupTemplate": {"resources": {}, "startTs": "1", "endTs": "2", "concurrency": 4, "maxRetryTimes": 6, "tikvImage": "pingcap/tikv:v8.5.0"},
  "storageClassName": "ssd", "storageSize": "10Gi", "imagePullSecrets": [{"name": "r"}],
  "br": {"cluster": "basic"},
  "local": {"prefix": "bs", "volume": {"name": "nfs", "nfs": {"server": "nfs", "path": "/exports"}}, "volumeMount": {"name": "nfs", "mountPath": "/nfs"}}},
 "status": {"lastBackup": "bs-2025-01-01t02-00-00", "lastCompact": "compact-bs-1", "lastBackupTime": "2025-01-01T02:00:00Z",
  "lastCompactProgress": "2025-01-01T01:00:00Z", "lastCompactExecutionTs": "2025-01-01T01:05:00Z", "logBackup": "log-bs",
  "logBackupStartTs": "2025-01-01T00:00:00Z", "allBackupCleanTime": "2025-01-03T00:00:00Z"}}`,
		},
		"a CompactBackup with every field": {
			obj: &CompactBackup{},
			manifest: `{"apiVersion": "pingcap.com/v1alpha1", "kind": "CompactBackup", "metadata": {"name": "cb"},
 "spec": {"resources": {"limits": {"cpu": "2"}}, "env": [], "s3": {"provider": "aws", "bucket": "b", "prefix": "log"},
  "startTs": "2025-01-01 00:00:00+0000", "endTs": "2025-01-02 00:00:00+0000", "concurrency": 8, "tolerations": [],
  "toolImage": "pingcap/br:v8.5.0", "tikvImage": "pingcap/tikv:v8.5.0", "br": {"cluster": "basic"}, "imagePullSecrets": [],
  "affinity": {}, "useKMS": false, "serviceAccount": "sa", "podSecurityContext": {}, "priorityClassName": "p", "maxRetryTimes": 6,
  "additionalVolumes": [], "additionalVolumeMounts": []},
 "status": {"state": "Running", "progress": "[READ_META(17/17),COMPACT_WORK(1/2)]", "message": "", "endTs": "2",
  "backoffRetryStatus": [{"retryNum": 1, "detectFailedAt": "2025-01-01T00:00:00Z", "retryReason": "OOMKilled"}]}}`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			roundTrip(t, c.manifest, c.obj)
		})
	}
}

// normalize removes the values omitempty drops (empty lists, "", false, 0 and null) from a
// manifest, keeping empty objects, which non-pointer structs always encode.
func normalize(t *testing.T, manifest string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(manifest), &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch e := e.(type) {
				case nil:
					delete(x, k)
				case string:
					if e == "" {
						delete(x, k)
					}
				case bool:
					if !e {
						delete(x, k)
					}
				case float64:
					if e == 0 {
						delete(x, k)
					}
				case []any:
					if len(e) == 0 {
						delete(x, k)
					} else {
						x[k] = strip(e)
					}
				default:
					x[k] = strip(e)
				}
			}
			return x
		case []any:
			for i := range x {
				x[i] = strip(x[i])
			}
			return x
		default:
			return v
		}
	}
	out, err := json.Marshal(strip(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
