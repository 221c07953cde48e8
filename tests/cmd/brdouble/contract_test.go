package main

import (
	"bytes"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// These tests check the contract between the backup-manager's command lines (pkg/backup/brcmd)
// and BR's: what the manager passes must parse as BR parses it, and name the storage the
// manager itself reads.

// parseBRArgs parses a br command line with the double's BR flag set, without running it,
// and returns the storage it names.
func parseBRArgs(t *testing.T, args []string) brStorage {
	t.Helper()
	c := &brCLI{p: &proc{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, lookup: func(string) (string, bool) { return "", false }}}
	root := c.rootCommand()
	cmd, rest, err := root.Find(args)
	if err != nil {
		t.Fatalf("find the command of %q: %v", args, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("BR would refuse %q: %v", args, err)
	}
	raw, _ := cmd.Flags().GetString("storage")
	st, err := parseStorage(raw, storageOptionsFromFlags(cmd.Flags()))
	if err != nil {
		t.Fatalf("BR would refuse the storage of %q: %v", args, err)
	}
	return st
}

func TestBRCmdStorageArgsNameTheManagersLocation(t *testing.T) {
	for name, loc := range map[string]storage.Location{
		"S3 with every flag": {Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "a/b", Region: "us-west-2",
			Provider: "ceph", Endpoint: "http://127.0.0.1:7070", SSE: "aws:kms", ACL: "private", StorageClass: "STANDARD_IA", ForcePathStyle: ptr(true)},
		"S3 with the provider's path style": {Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p", Provider: "alibaba"},
		"GCS with an emulator endpoint":     {Type: v1alpha1.BackupStorageTypeGcs, Bucket: "bkt", Prefix: "x/y", Endpoint: "http://127.0.0.1:4443", StorageClass: "COLDLINE", ObjectACL: "private"},
		"Azure with a SAS token":            {Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "ctr", Prefix: "p", Account: "acct", SASToken: "sv=2020&sig=a/b+c", AccessTier: "Cool", Endpoint: "http://127.0.0.1:10000/acct"},
		"local":                             {Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/mnt/backup", Prefix: "ns/bk"},
	} {
		t.Run(name, func(t *testing.T) {
			got := parseBRArgs(t, brcmd.Base64ify(loc)).loc
			want := loc
			if loc.Type == v1alpha1.BackupStorageTypeLocal {
				// A local URL does not say where the mount ends; only the folder must match.
				if path.Join(got.Bucket, got.Prefix) != path.Join(loc.Bucket, loc.Prefix) {
					t.Fatalf("BR reads %s/%s, the manager means %s/%s", got.Bucket, got.Prefix, loc.Bucket, loc.Prefix)
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("BR reads\n %#v\nthe manager means\n %#v\nfrom %q", got, want, brcmd.Base64ify(loc))
			}
		})
	}
}

func localProvider(mount, prefix string) v1alpha1.StorageProvider {
	return v1alpha1.StorageProvider{Local: &v1alpha1.LocalStorageProvider{
		Volume:      corev1.Volume{Name: "nfs"},
		VolumeMount: corev1.VolumeMount{Name: "nfs", MountPath: mount},
		Prefix:      prefix,
	}}
}

// TestBRCmdCommandLinesRun runs the backup-manager's command lines for every flow against
// the double and local storage, in the order an operator would.
func TestBRCmdCommandLinesRun(t *testing.T) {
	br, tikvCtl := brdouble.Build(t)
	mount := t.TempDir()
	cluster := brcmd.Cluster{PDAddress: "basic-pd.tidb:2379"}
	brConfig := &v1alpha1.BRConfig{Cluster: "basic", ClusterNamespace: "tidb", Concurrency: ptr(uint32(8)), Checksum: ptr(true)}
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: "ns", Name: name} }
	locOf := func(p v1alpha1.StorageProvider) storage.Location {
		l, err := storage.FromProvider(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	runArgs := func(what string, args []string, err error) result {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: brcmd: %v", what, err)
		}
		r := run(t, br, nil, args...)
		r.mustSucceed(t, what+": br "+strings.Join(args, " "))
		return r
	}

	// A log backup starting an hour ago, then a snapshot inside it.
	logStart := brdouble.TSO(time.Now().Add(-time.Hour))
	logBk := &v1alpha1.Backup{ObjectMeta: meta("log"), Spec: v1alpha1.BackupSpec{
		Mode: v1alpha1.BackupModeLog, BR: brConfig, StorageProvider: localProvider(mount, "log"),
	}}
	logLoc := locOf(logBk.Spec.StorageProvider)
	args, err := brcmd.Backup(logBk, job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogStartCommand,
		CommitTS: strconv.FormatUint(logStart, 10)}, cluster, logLoc)
	runArgs("log start", args, err)
	if s := readSummary(t, filepath.Join(mount, "log")); s.StartVersion != logStart {
		t.Errorf("log start: StartVersion %d, want %d", s.StartVersion, logStart)
	}

	for _, typ := range []v1alpha1.BackupType{v1alpha1.BackupTypeFull, v1alpha1.BackupTypeDB, v1alpha1.BackupTypeTable} {
		ts := logStart + 10*logFileSpan
		bk := &v1alpha1.Backup{ObjectMeta: meta("snap-" + string(typ)), Spec: v1alpha1.BackupSpec{
			Type: typ, CommitTs: strconv.FormatUint(ts, 10), StorageProvider: localProvider(mount, "snap-"+string(typ)),
			BR: &v1alpha1.BRConfig{Cluster: "basic", DB: "test", Table: "t", Options: []string{"--ignore-stats=false"}},
		}}
		args, err := brcmd.Backup(bk, job.BackupOptions{}, cluster, locOf(bk.Spec.StorageProvider))
		r := runArgs("backup "+string(typ), args, err)
		if ps := progresses(r.stdout); len(ps) == 0 {
			t.Errorf("backup %s: no progress the manager can parse", typ)
		}
		if s := readSummary(t, filepath.Join(mount, "snap-"+string(typ))); s.EndVersion != ts {
			t.Errorf("backup %s: EndVersion %d, want %d", typ, s.EndVersion, ts)
		}
	}

	rs := &v1alpha1.Restore{ObjectMeta: meta("rs"), Spec: v1alpha1.RestoreSpec{
		BR: brConfig, StorageProvider: localProvider(mount, "snap-full"),
	}}
	args, err = brcmd.Restore(rs, job.RestoreOptions{}, cluster, locOf(rs.Spec.StorageProvider), nil)
	runArgs("restore full", args, err)
	args, err = brcmd.Restore(rs, job.RestoreOptions{Abort: true}, cluster, locOf(rs.Spec.StorageProvider), nil)
	runArgs("abort restore", args, err)

	pitr := &v1alpha1.Restore{ObjectMeta: meta("pitr"), Spec: v1alpha1.RestoreSpec{
		Mode: v1alpha1.RestoreModePiTR, BR: brConfig, StorageProvider: localProvider(mount, "log"),
		PitrFullBackupStorageProvider: localProvider(mount, "snap-full"),
	}}
	full := locOf(pitr.Spec.PitrFullBackupStorageProvider)
	args, err = brcmd.Restore(pitr, job.RestoreOptions{Mode: v1alpha1.RestoreModePiTR,
		PitrRestoredTS: strconv.FormatUint(logStart+20*logFileSpan, 10)}, cluster, locOf(pitr.Spec.StorageProvider), &full)
	runArgs("restore point", args, err)

	// Compact: base64ify as the Job runs it (no BR_LOG_TO_TERM), then tikv-ctl.
	cb := &v1alpha1.CompactBackup{ObjectMeta: meta("cb"), Spec: v1alpha1.CompactSpec{
		StorageProvider: localProvider(mount, "log"), StartTs: strconv.FormatUint(logStart, 10),
		EndTs: strconv.FormatUint(logStart+2*logFileSpan, 10), Concurrency: 4,
	}}
	b := run(t, br, map[string]string{"BR_LOG_TO_TERM": "-", "TMPDIR": t.TempDir()}, brcmd.Base64ify(locOf(cb.Spec.StorageProvider))...)
	b.mustSucceed(t, "base64ify")
	b64, err := brlog.ParseBase64ify(b.stdout)
	if err != nil {
		t.Fatal(err)
	}
	args, err = brcmd.CompactLog(cb, b64)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, tikvCtl, nil, args...)
	r.mustSucceed(t, "tikv-ctl "+strings.Join(args, " "))
	var endTS uint64
	for _, line := range strings.Split(r.stderr, "\n") {
		if ev, ok := brlog.ParseCompactLog(line); ok {
			endTS = max(endTS, ev.EndTs)
		}
	}
	if endTS != logStart+2*logFileSpan-1 {
		t.Errorf("compact end TS %d, want %d", endTS, logStart+2*logFileSpan-1)
	}

	for _, sub := range []v1alpha1.LogSubCommandType{v1alpha1.LogPauseCommand, v1alpha1.LogResumeCommand, v1alpha1.LogStopCommand} {
		args, err := brcmd.Backup(logBk, job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: sub}, cluster, logLoc)
		runArgs(string(sub), args, err)
	}
	args, err = brcmd.Backup(logBk, job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogTruncateCommand,
		TruncateUntil: strconv.FormatUint(logStart+2*logFileSpan, 10)}, cluster, logLoc)
	runArgs("log truncate", args, err)
}
