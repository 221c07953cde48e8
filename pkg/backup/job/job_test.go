package job

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestParseReadsV16JobArguments(t *testing.T) {
	cases := map[string]struct {
		args []string // container args of a Job a v1.6 operator creates
		want Options  // what the backup-manager must see
	}{
		"a snapshot backup with cluster TLS": {
			args: []string{"backup", "--namespace=tidb", "--backupName=demo-backup", "--tikvVersion=v8.5.0", "--mode=snapshot", "--cluster-tls=true"},
			want: &BackupOptions{Common: Common{Namespace: "tidb"}, BackupName: "demo-backup", TiKVVersion: "v8.5.0",
				Mode: v1alpha1.BackupModeSnapshot, Subcommand: v1alpha1.LogStartCommand, CommitTS: "0", TruncateUntil: "0", TLSCluster: true},
		},
		"a log backup start at a date-time": {
			args: []string{"backup", "--namespace=tidb", "--backupName=log", "--tikvVersion=v7.5.0", "--mode=log", "--subcommand=log-start", "--commit-ts=2024-05-11 01:42:23"},
			want: &BackupOptions{Common: Common{Namespace: "tidb"}, BackupName: "log", TiKVVersion: "v7.5.0",
				Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogStartCommand, CommitTS: "2024-05-11 01:42:23", TruncateUntil: "0"},
		},
		"the stop Job of a log backup being deleted": {
			args: []string{"backup", "--namespace=tidb", "--backupName=log", "--tikvVersion=v7.5.0", "--mode=log", "--subcommand=log-stop"},
			want: &BackupOptions{Common: Common{Namespace: "tidb"}, BackupName: "log", TiKVVersion: "v7.5.0",
				Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogStopCommand, CommitTS: "0", TruncateUntil: "0"},
		},
		"a log truncation with a TSO": {
			args: []string{"backup", "--namespace=tidb", "--backupName=log", "--tikvVersion=v7.5.0", "--mode=log", "--subcommand=log-truncate", "--truncate-until=447610253093281793"},
			want: &BackupOptions{Common: Common{Namespace: "tidb"}, BackupName: "log", TiKVVersion: "v7.5.0",
				Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogTruncateCommand, CommitTS: "0", TruncateUntil: "447610253093281793"},
		},
		"the initialize Job of a volume-snapshot backup with client TLS": {
			args: []string{"backup", "--namespace=tidb", "--backupName=ebs", "--tikvVersion=v7.1.0", "--mode=volume-snapshot", "--initialize=true", "--client-tls=true", "--skipClientCA=true"},
			want: &BackupOptions{Common: Common{Namespace: "tidb", TLSClient: true, SkipClientCA: true}, BackupName: "ebs", TiKVVersion: "v7.1.0",
				Mode: v1alpha1.BackupModeVolumeSnapshot, Subcommand: v1alpha1.LogStartCommand, CommitTS: "0", TruncateUntil: "0", Initialize: true},
		},
		"a PiTR restore": {
			args: []string{"restore", "--namespace=tidb", "--restoreName=pitr", "--tikvVersion=v8.1.0", "--mode=pitr", "--pitrRestoredTs=2024-06-01 00:00:00"},
			want: &RestoreOptions{Common: Common{Namespace: "tidb"}, RestoreName: "pitr", TiKVVersion: "v8.1.0",
				Mode: v1alpha1.RestoreModePiTR, PitrRestoredTS: "2024-06-01 00:00:00"},
		},
		"a volume-snapshot restore into one zone with fast snapshot restore": {
			args: []string{"restore", "--namespace=tidb", "--restoreName=ebs", "--tikvVersion=v7.1.0", "--mode=volume-snapshot", "--prepare=true", "--target-az=us-west-2a", "--use-fsr=true"},
			want: &RestoreOptions{Common: Common{Namespace: "tidb"}, RestoreName: "ebs", TiKVVersion: "v7.1.0",
				Mode: v1alpha1.RestoreModeVolumeSnapshot, PitrRestoredTS: "0", Prepare: true, TargetAZ: "us-west-2a", UseFSR: true},
		},
		"aborting a failed restore": {
			args: []string{"restore", "--namespace=tidb", "--restoreName=r", "--tikvVersion=v8.1.0", "--mode=snapshot", "--abort=true"},
			want: &RestoreOptions{Common: Common{Namespace: "tidb"}, RestoreName: "r", TiKVVersion: "v8.1.0",
				Mode: v1alpha1.RestoreModeSnapshot, PitrRestoredTS: "0", Abort: true},
		},
		"a clean Job with separate values": {
			args: []string{"clean", "--namespace", "tidb", "--backupName", "demo-backup"},
			want: &CleanOptions{Namespace: "tidb", BackupName: "demo-backup"},
		},
		"a compact Job": {
			args: []string{"compact", "--namespace=tidb", "--resourceName=compact-demo"},
			want: &CompactOptions{Namespace: "tidb", ResourceName: "compact-demo"},
		},
		"a Dumpling export": {
			args: []string{"export", "--namespace=tidb", "--backupName=dump", "--bucket=my-bucket", "--storageType=s3", "--client-tls=true"},
			want: &ExportOptions{Common: Common{Namespace: "tidb", TLSClient: true}, BackupName: "dump", Bucket: "my-bucket", StorageType: v1alpha1.BackupStorageTypeS3},
		},
		"a Lightning import": {
			args: []string{"import", "--namespace=tidb", "--restoreName=load", "--backupPath=s3://bucket/path/backup-2024"},
			want: &ImportOptions{Common: Common{Namespace: "tidb"}, RestoreName: "load", BackupPath: "s3://bucket/path/backup-2024"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse = %+v\nwant    %+v", got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestArgsRoundTrip(t *testing.T) {
	backup := NewBackupOptions()
	backup.Namespace, backup.BackupName, backup.TiKVVersion = "tidb", "b", "v8.5.0"
	logTruncate := NewBackupOptions()
	logTruncate.Namespace, logTruncate.BackupName, logTruncate.Mode = "tidb", "log", v1alpha1.BackupModeLog
	logTruncate.Subcommand, logTruncate.TruncateUntil = v1alpha1.LogTruncateCommand, "2024-01-01 00:00:00"
	logTruncate.TLSCluster, logTruncate.TLSClient, logTruncate.SkipClientCA = true, true, true
	restore := NewRestoreOptions()
	restore.Namespace, restore.RestoreName, restore.Mode, restore.TargetAZ = "tidb", "r", v1alpha1.RestoreModeVolumeSnapshot, "zone a"

	cases := map[string]Options{
		"a snapshot backup at the defaults":             backup,
		"a log truncation with every TLS switch":        logTruncate,
		"a volume restore with a value holding a space": restore,
		"values set to empty where the default is not": &BackupOptions{Common: Common{Namespace: "n"}, BackupName: "b",
			Mode: v1alpha1.BackupModeSnapshot},
		"a clean":   &CleanOptions{Namespace: "n", BackupName: "b"},
		"a compact": &CompactOptions{Namespace: "n", ResourceName: "c"},
		"an export": &ExportOptions{Common: Common{Namespace: "n", SkipClientCA: true}, BackupName: "b", Bucket: "bk", StorageType: v1alpha1.BackupStorageTypeGcs},
		"an import": &ImportOptions{Common: Common{Namespace: "n", TLSClient: true}, RestoreName: "r", BackupPath: "gcs://b/p"},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			args := o.Args()
			got, err := Parse(args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", args, err)
			}
			if !reflect.DeepEqual(got, o) {
				t.Fatalf("round trip through %q\n got  %+v\n want %+v", args, got, o)
			}
		})
	}
}

func TestArgsLookLikeV16Jobs(t *testing.T) {
	snapshot := NewBackupOptions()
	snapshot.Namespace, snapshot.BackupName, snapshot.TiKVVersion, snapshot.TLSCluster = "tidb", "demo", "v8.5.0", true
	logStart := NewBackupOptions()
	logStart.Namespace, logStart.BackupName, logStart.TiKVVersion, logStart.Mode = "tidb", "log", "v8.5.0", v1alpha1.BackupModeLog
	pitr := NewRestoreOptions()
	pitr.Namespace, pitr.RestoreName, pitr.TiKVVersion, pitr.Mode, pitr.PitrRestoredTS = "tidb", "r", "v8.5.0", v1alpha1.RestoreModePiTR, "449000000000000000"

	cases := map[string]struct {
		opts Options // what the operator filled in
		want string  // the container args, space separated
	}{
		"identifying flags first, then only what differs from the defaults": {
			snapshot, "backup --namespace=tidb --backupName=demo --tikvVersion=v8.5.0 --mode=snapshot --cluster-tls=true",
		},
		"a log backup always names its action": {
			logStart, "backup --namespace=tidb --backupName=log --tikvVersion=v8.5.0 --mode=log --subcommand=log-start",
		},
		"a PiTR restore carries the restored point": {
			pitr, "restore --namespace=tidb --restoreName=r --tikvVersion=v8.5.0 --mode=pitr --pitrRestoredTs=449000000000000000",
		},
		"a clean names only the Backup": {
			&CleanOptions{Namespace: "tidb", BackupName: "demo"}, "clean --namespace=tidb --backupName=demo",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := strings.Join(tc.opts.Args(), " "); got != tc.want {
				t.Fatalf("Args() = %s\nwant      %s", got, tc.want)
			}
		})
	}
}

func TestDefaultsMatchV16(t *testing.T) {
	b := NewBackupOptions()
	if b.TiKVVersion != "4.0" || b.Mode != v1alpha1.BackupModeSnapshot || b.Subcommand != v1alpha1.LogStartCommand ||
		b.CommitTS != "0" || b.TruncateUntil != "0" || b.Initialize || b.TLSCluster || b.TLSClient || b.SkipClientCA {
		t.Errorf("backup defaults = %+v", b)
	}
	r := NewRestoreOptions()
	if r.TiKVVersion != "4.0" || r.Mode != v1alpha1.RestoreModeSnapshot || r.PitrRestoredTS != "0" ||
		r.Prepare || r.TargetAZ != "" || r.UseFSR || r.Abort {
		t.Errorf("restore defaults = %+v", r)
	}
	for _, cmd := range []string{CommandBackup, CommandRestore, CommandClean, CommandCompact, CommandExport, CommandImport} {
		o, err := New(cmd)
		if err != nil || o.Command() != cmd {
			t.Errorf("New(%q) = %v, %v", cmd, o, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]struct {
		args    []string // container args
		wantErr string   // substring of the error
	}{
		"no arguments":           {nil, "no subcommand"},
		"an unknown subcommand":  {[]string{"snapshot"}, `unknown tidb-backup-manager subcommand "snapshot" (known: backup, restore, clean, compact, export, import)`},
		"a flag of another verb": {[]string{"clean", "--namespace=n", "--restoreName=r"}, "clean: unknown flag: --restoreName"},
		"a non-boolean switch":   {[]string{"backup", "--cluster-tls=on"}, `invalid argument "on" for "--cluster-tls"`},
		"a stray argument":       {[]string{"compact", "--namespace=n", "extra"}, `compact: unexpected argument "extra"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		args    []string // container args that parse
		wantErr []string // substrings that must all be in the error
	}{
		"a backup without identity": {
			[]string{"backup"},
			[]string{"backup: invalid flags:", "--namespace is required", "--backupName is required"},
		},
		"an unknown backup mode": {
			[]string{"backup", "--namespace=n", "--backupName=b", "--mode=incremental"},
			[]string{`--mode="incremental" is not one of ["snapshot" "log" "volume-snapshot"]`},
		},
		"an unknown log action": {
			[]string{"backup", "--namespace=n", "--backupName=b", "--mode=log", "--subcommand=log-restart"},
			[]string{`--subcommand="log-restart" is not one of`},
		},
		"a truncation without a point in time": {
			[]string{"backup", "--namespace=n", "--backupName=b", "--mode=log", "--subcommand=log-truncate"},
			[]string{"--subcommand=log-truncate needs --truncate-until with a point in time"},
		},
		"initialize outside a volume-snapshot backup": {
			[]string{"backup", "--namespace=n", "--backupName=b", "--initialize=true"},
			[]string{"--initialize applies only to --mode=volume-snapshot"},
		},
		"an empty TiKV version": {
			[]string{"backup", "--namespace=n", "--backupName=b", "--tikvVersion="},
			[]string{"--tikvVersion is required"},
		},
		"a restore without identity and with a bad mode": {
			[]string{"restore", "--mode=log"},
			[]string{"--namespace is required", "--restoreName is required", `--mode="log" is not one of ["snapshot" "pitr" "volume-snapshot"]`},
		},
		"volume-only restore switches on a snapshot restore": {
			[]string{"restore", "--namespace=n", "--restoreName=r", "--prepare=true", "--use-fsr=true"},
			[]string{"--prepare applies only to --mode=volume-snapshot", "--use-fsr applies only to --mode=volume-snapshot"},
		},
		"a clean without a Backup": {[]string{"clean", "--namespace=n"}, []string{"clean: invalid flags: --backupName is required"}},
		"a compact without a name": {[]string{"compact"}, []string{"--namespace is required", "--resourceName is required"}},
		"an export to an unknown store": {
			[]string{"export", "--namespace=n", "--backupName=b", "--bucket=x", "--storageType=ftp"},
			[]string{`--storageType="ftp" is not one of ["s3" "gcs" "azblob"]`},
		},
		"an import without a path": {[]string{"import", "--namespace=n", "--restoreName=r"}, []string{"--backupPath is required"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := Parse(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			err = o.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
