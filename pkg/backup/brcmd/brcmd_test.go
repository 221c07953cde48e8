package brcmd

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

func ptr[T any](v T) *T { return &v }

var (
	s3Loc    = storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p/bk"}
	cluster  = Cluster{PDAddress: "basic-pd.tidb:2379"}
	tlsFlags = []string{
		"--ca=/var/lib/cluster-client-tls/ca.crt",
		"--cert=/var/lib/cluster-client-tls/tls.crt",
		"--key=/var/lib/cluster-client-tls/tls.key",
	}
)

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func backup(mut func(*v1alpha1.Backup)) *v1alpha1.Backup {
	bk := &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bk"},
		Spec:       v1alpha1.BackupSpec{BR: &v1alpha1.BRConfig{Cluster: "basic", ClusterNamespace: "tidb"}},
	}
	if mut != nil {
		mut(bk)
	}
	return bk
}

func restore(mut func(*v1alpha1.Restore)) *v1alpha1.Restore {
	rs := &v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rs"},
		Spec:       v1alpha1.RestoreSpec{BR: &v1alpha1.BRConfig{Cluster: "basic", ClusterNamespace: "tidb"}},
	}
	if mut != nil {
		mut(rs)
	}
	return rs
}

func TestPDAddress(t *testing.T) {
	for _, tc := range []struct {
		name string
		br   *v1alpha1.BRConfig
		ns   string
		want string
	}{
		{"the cluster namespace is used when set", &v1alpha1.BRConfig{Cluster: "basic", ClusterNamespace: "tidb"}, "ns", "basic-pd.tidb:2379"},
		{"the custom resource's namespace is used when no cluster namespace is set", &v1alpha1.BRConfig{Cluster: "basic"}, "ns", "basic-pd.ns:2379"},
		{"no BR config gives no address", nil, "ns", ""},
		{"no cluster name gives no address", &v1alpha1.BRConfig{ClusterNamespace: "tidb"}, "ns", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PDAddress(tc.br, tc.ns); got != tc.want {
				t.Fatalf("PDAddress = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStorageArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		loc  storage.Location
		want []string
	}{
		{
			"an S3 location with nothing else set is only --storage",
			storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p"},
			[]string{"--storage=s3://b/p"},
		},
		{
			"an S3 location passes every provider option in v1.6's order",
			storage.Location{
				Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Region: "us-west-2", Provider: "ceph",
				Endpoint: "http://ceph:80", SSE: "aws:kms", ACL: "private", StorageClass: "STANDARD_IA",
			},
			[]string{
				"--storage=s3://b/p", "--s3.region=us-west-2", "--s3.provider=ceph", "--s3.endpoint=http://ceph:80",
				"--s3.sse=aws:kms", "--s3.acl=private", "--s3.storage-class=STANDARD_IA",
			},
		},
		{
			"an S3 location with forcePathStyle written puts it in the URL",
			storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", ForcePathStyle: ptr(false)},
			[]string{"--storage=s3://b/p?force-path-style=false"},
		},
		{
			"a GCS location passes the storage class and the object ACL but not the endpoint",
			storage.Location{
				Type: v1alpha1.BackupStorageTypeGcs, Bucket: "b", Prefix: "p", StorageClass: "NEARLINE",
				ObjectACL: "private", Endpoint: "http://fake-gcs:4443", ProjectID: "proj",
			},
			[]string{"--storage=gcs://b/p/", "--gcs.storage-class=NEARLINE", "--gcs.predefined-acl=private"},
		},
		{
			"a GCS location with nothing else set is only --storage",
			storage.Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "b", Prefix: "p"},
			[]string{"--storage=gcs://b/p/"},
		},
		{
			"an Azure location passes the access tier and keeps account and SAS token in the URL",
			storage.Location{
				Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Account: "acct",
				SASToken: "sv=1&sig=x", AccessTier: "Cool", Endpoint: "http://azurite:10000",
			},
			[]string{"--storage=azure://c/p/?account-name=acct&sas-token=sv%3D1%26sig%3Dx", "--azblob.access-tier=Cool"},
		},
		{
			"a local location is a local URL under the mount path",
			storage.Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/backup", Prefix: "p"},
			[]string{"--storage=local:///backup/p"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StorageArgs(tc.loc); !slices.Equal(got, tc.want) {
				t.Fatalf("StorageArgs =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestBackup(t *testing.T) {
	snapshot := job.BackupOptions{Mode: v1alpha1.BackupModeSnapshot}
	logOpts := func(sub v1alpha1.LogSubCommandType) job.BackupOptions {
		return job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: sub, CommitTS: job.DefaultTS, TruncateUntil: job.DefaultTS}
	}
	storageArgs := StorageArgs(s3Loc)
	tuned := func(bk *v1alpha1.Backup) {
		bk.Spec.BR.Concurrency = ptr(uint32(8))
		bk.Spec.BR.RateLimit = ptr(uint(100))
		bk.Spec.BR.TimeAgo = "1m"
		bk.Spec.BR.Checksum = ptr(false)
		bk.Spec.BR.CheckRequirements = ptr(true)
	}
	global := func(bk *v1alpha1.Backup) {
		bk.Spec.BR.LogLevel = "debug"
		bk.Spec.BR.StatusAddr = "0.0.0.0:8080"
		bk.Spec.BR.SendCredToTikv = ptr(false)
	}
	for _, tc := range []struct {
		name    string
		bk      *v1alpha1.Backup
		o       job.BackupOptions
		c       Cluster
		want    []string
		wantErr string
		is      error
	}{
		{
			name: "a snapshot backup without a type is a full backup",
			bk:   backup(nil), o: snapshot, c: cluster,
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a snapshot backup with an empty mode flag falls back to the spec's mode",
			bk:   backup(nil), o: job.BackupOptions{}, c: cluster,
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a snapshot backup at a commit TS gets --backupts",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.CommitTs = "400036290571534337" }), o: snapshot, c: cluster,
			want: join([]string{"backup", "full", "--backupts=400036290571534337", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a TLS cluster gets the client certificate files",
			bk:   backup(nil), o: snapshot, c: Cluster{PDAddress: "basic-pd.tidb:2379", TLS: true},
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, tlsFlags, storageArgs),
		},
		{
			name: "an empty PD address is derived from spec.br",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.BR.ClusterNamespace = "" }), o: snapshot, c: Cluster{},
			want: join([]string{"backup", "full", "--pd=basic-pd.ns:2379"}, storageArgs),
		},
		{
			name: "BR's global flags follow the cluster flags",
			bk:   backup(global), o: snapshot, c: cluster,
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379", "--log-level=debug", "--status-addr=0.0.0.0:8080", "--send-credentials-to-tikv=false"}, storageArgs),
		},
		{
			name: "every tuning flag is passed in v1.6's order",
			bk:   backup(tuned), o: snapshot, c: cluster,
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--concurrency=8", "--ratelimit=100", "--timeago=1m", "--checksum=false", "--check-requirements=true"}),
		},
		{
			name: "a table filter gives one --filter pair per rule and supersedes db and table",
			bk: backup(func(bk *v1alpha1.Backup) {
				bk.Spec.Type = v1alpha1.BackupTypeTable
				bk.Spec.TableFilter = []string{"db1.*", "!db1.tmp"}
				bk.Spec.BR.DB, bk.Spec.BR.Table = "db1", "t1"
			}), o: snapshot, c: cluster,
			want: join([]string{"backup", "table", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--filter", "db1.*", "--filter", "!db1.tmp"}),
		},
		{
			name: "a table backup gets --table and --db",
			bk: backup(func(bk *v1alpha1.Backup) {
				bk.Spec.Type = v1alpha1.BackupTypeTable
				bk.Spec.BR.DB, bk.Spec.BR.Table = "db1", "t1"
			}), o: snapshot, c: cluster,
			want: join([]string{"backup", "table", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--table=t1", "--db=db1"}),
		},
		{
			name: "a db backup gets --db but not --table",
			bk: backup(func(bk *v1alpha1.Backup) {
				bk.Spec.Type = v1alpha1.BackupTypeDB
				bk.Spec.BR.DB, bk.Spec.BR.Table = "db1", "t1"
			}), o: snapshot, c: cluster,
			want: join([]string{"backup", "db", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--db=db1"}),
		},
		{
			name: "a full backup ignores spec.br.db",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.BR.DB = "db1" }), o: snapshot, c: cluster,
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a raw backup keeps its type",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.Type = v1alpha1.BackupTypeRaw }), o: snapshot, c: cluster,
			want: join([]string{"backup", "raw", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "user options come last so that they override generated flags",
			bk: backup(func(bk *v1alpha1.Backup) {
				tuned(bk)
				bk.Spec.BR.Options = []string{"--concurrency=2", "--s3.endpoint=http://minio:9000"}
			}), o: snapshot, c: cluster,
			want: join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--concurrency=8", "--ratelimit=100", "--timeago=1m", "--checksum=false", "--check-requirements=true", "--concurrency=2", "--s3.endpoint=http://minio:9000"}),
		},
		{
			name: "a log start without a commit TS starts now",
			bk:   backup(nil), o: logOpts(v1alpha1.LogStartCommand), c: cluster,
			want: join([]string{"log", "start", "--task-name=bk", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a log start with a commit TS gets --start-ts",
			bk:   backup(nil), o: job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogStartCommand, CommitTS: "2025-01-02 15:04:05+0800"}, c: cluster,
			want: join([]string{"log", "start", "--task-name=bk", "--start-ts=2025-01-02 15:04:05+0800", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a log start takes the table filter and the root tuning flags but not --timeago, --db or --table",
			bk: backup(func(bk *v1alpha1.Backup) {
				tuned(bk)
				global(bk)
				bk.Spec.TableFilter = []string{"db1.*"}
				bk.Spec.BR.DB, bk.Spec.BR.Table = "db1", "t1"
				bk.Spec.BR.Options = []string{"--opt"}
			}), o: logOpts(v1alpha1.LogStartCommand), c: Cluster{PDAddress: "basic-pd.tidb:2379", TLS: true},
			want: join([]string{"log", "start", "--task-name=bk", "--pd=basic-pd.tidb:2379"}, tlsFlags,
				[]string{"--log-level=debug", "--status-addr=0.0.0.0:8080", "--send-credentials-to-tikv=false"}, storageArgs,
				[]string{"--filter", "db1.*", "--concurrency=8", "--ratelimit=100", "--checksum=false", "--check-requirements=true", "--opt"}),
		},
		{
			name: "a log stop names the task and takes no filter",
			bk: backup(func(bk *v1alpha1.Backup) {
				bk.Spec.TableFilter = []string{"db1.*"}
				bk.Spec.BR.Options = []string{"--opt"}
			}), o: logOpts(v1alpha1.LogStopCommand), c: cluster,
			want: join([]string{"log", "stop", "--task-name=bk", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--opt"}),
		},
		{
			name: "a log pause names the task",
			bk:   backup(tuned), o: logOpts(v1alpha1.LogPauseCommand), c: cluster,
			want: join([]string{"log", "pause", "--task-name=bk", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--concurrency=8", "--ratelimit=100", "--checksum=false", "--check-requirements=true"}),
		},
		{
			name: "a log resume names the task",
			bk:   backup(nil), o: logOpts(v1alpha1.LogResumeCommand), c: cluster,
			want: join([]string{"log", "resume", "--task-name=bk", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a log truncate takes only --until, the storage and the user options",
			bk: backup(func(bk *v1alpha1.Backup) {
				tuned(bk)
				global(bk)
				bk.Spec.TableFilter = []string{"db1.*"}
				bk.Spec.BR.Options = []string{"--s3.endpoint=http://minio:9000"}
			}), o: job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogTruncateCommand, TruncateUntil: "400036290571534337"},
			c:    Cluster{PDAddress: "basic-pd.tidb:2379", TLS: true},
			want: join([]string{"log", "truncate", "--until=400036290571534337"}, storageArgs, []string{"--s3.endpoint=http://minio:9000"}),
		},
		{
			name: "a log truncate without a point in time is refused",
			bk:   backup(nil), o: logOpts(v1alpha1.LogTruncateCommand), c: cluster,
			wantErr: "truncate until \"0\" is invalid",
		},
		{
			name: "a log truncate with an empty point in time is refused",
			bk:   backup(nil), o: job.BackupOptions{Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogTruncateCommand}, c: cluster,
			wantErr: "truncate until \"\" is invalid",
		},
		{
			name: "a log backup without a subcommand flag derives it from the spec",
			bk: backup(func(bk *v1alpha1.Backup) {
				bk.Spec.Mode = v1alpha1.BackupModeLog
				bk.Spec.LogSubcommand = v1alpha1.LogStopCommand
			}), o: job.BackupOptions{Mode: v1alpha1.BackupModeLog}, c: cluster,
			want: join([]string{"log", "stop", "--task-name=bk", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "an unknown log subcommand is refused",
			bk:   backup(nil), o: logOpts(v1alpha1.LogUnknownCommand), c: cluster,
			wantErr: "unknown log subcommand",
		},
		{
			name: "a volume-snapshot backup is not supported",
			bk:   backup(nil), o: job.BackupOptions{Mode: v1alpha1.BackupModeVolumeSnapshot}, c: cluster,
			is: ErrVolumeSnapshotUnsupported,
		},
		{
			name: "a volume-snapshot initialize phase is not supported",
			bk:   backup(nil), o: job.BackupOptions{Mode: v1alpha1.BackupModeVolumeSnapshot, Initialize: true}, c: cluster,
			is: ErrVolumeSnapshotUnsupported,
		},
		{
			name: "an unknown mode is refused",
			bk:   backup(nil), o: job.BackupOptions{Mode: "dumpling"}, c: cluster,
			wantErr: "unknown backup mode",
		},
		{
			name: "a Backup without spec.br is refused",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.BR = nil }), o: snapshot, c: cluster,
			wantErr: "spec.br is not set",
		},
		{
			name: "a Backup without a cluster name and no PD address is refused",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.BR.Cluster = "" }), o: snapshot, c: Cluster{},
			wantErr: "spec.br.cluster is empty",
		},
		{
			name: "a log backup without a cluster name is refused as the manager builds its cluster",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.BR.Cluster = "" }), o: logOpts(v1alpha1.LogStartCommand),
			c:       Cluster{PDAddress: PDAddress(&v1alpha1.BRConfig{}, "ns")},
			wantErr: "spec.br.cluster is empty",
		},
		{
			name: "a backup type that reads as a flag is refused",
			bk:   backup(func(bk *v1alpha1.Backup) { bk.Spec.Type = "--help" }), o: snapshot, c: cluster,
			wantErr: "invalid backupType",
		},
		{
			name: "no Backup is refused",
			o:    snapshot, c: cluster,
			wantErr: "no Backup",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Backup(tc.bk, tc.o, tc.c, s3Loc)
			checkResult(t, got, err, tc.want, tc.wantErr, tc.is)
		})
	}
}

func TestBackupStorageOfEveryProvider(t *testing.T) {
	bk := backup(func(bk *v1alpha1.Backup) {
		bk.Spec.TableFilter = []string{"db.*"}
		bk.Spec.BR.Options = []string{"--opt"}
	})
	for _, tc := range []struct {
		name string
		loc  storage.Location
	}{
		{"an S3 backup carries the S3 storage flags", storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Region: "r", Provider: "aws", SSE: "AES256", ACL: "private", StorageClass: "GLACIER", Endpoint: "https://s3"}},
		{"a GCS backup carries the GCS storage flags", storage.Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "b", Prefix: "p", StorageClass: "COLDLINE", ObjectACL: "publicRead"}},
		{"an Azure backup carries the Azure storage flags", storage.Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Account: "a", SASToken: "t", AccessTier: "Archive"}},
		{"a local backup carries the local URL", storage.Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/mnt", Prefix: "p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := join([]string{"backup", "full", "--pd=basic-pd.tidb:2379"}, StorageArgs(tc.loc), []string{"--filter", "db.*", "--opt"})
			got, err := Backup(bk, job.BackupOptions{}, cluster, tc.loc)
			checkResult(t, got, err, want, "", nil)
			got, err = Restore(restore(func(rs *v1alpha1.Restore) {
				rs.Spec.TableFilter = []string{"db.*"}
				rs.Spec.BR.Options = []string{"--opt"}
			}), job.RestoreOptions{}, cluster, tc.loc, nil)
			want[0] = "restore"
			checkResult(t, got, err, want, "", nil)
		})
	}
}

func TestRestore(t *testing.T) {
	snapshot := job.RestoreOptions{Mode: v1alpha1.RestoreModeSnapshot, PitrRestoredTS: job.DefaultTS}
	pitr := job.RestoreOptions{Mode: v1alpha1.RestoreModePiTR, PitrRestoredTS: "400036290571534337"}
	storageArgs := StorageArgs(s3Loc)
	full := &storage.Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "full", Prefix: "snap"}
	tuned := func(rs *v1alpha1.Restore) {
		rs.Spec.BR.Concurrency = ptr(uint32(8))
		rs.Spec.BR.RateLimit = ptr(uint(100))
		rs.Spec.BR.TimeAgo = "1m"
		rs.Spec.BR.Checksum = ptr(true)
		rs.Spec.BR.CheckRequirements = ptr(false)
		rs.Spec.BR.OnLine = ptr(true)
	}
	for _, tc := range []struct {
		name       string
		rs         *v1alpha1.Restore
		o          job.RestoreOptions
		c          Cluster
		fullBackup *storage.Location
		want       []string
		wantErr    string
		is         error
	}{
		{
			name: "a snapshot restore without a type is a full restore",
			rs:   restore(nil), o: snapshot, c: cluster,
			want: join([]string{"restore", "full", "--pd=basic-pd.tidb:2379"}, storageArgs),
		},
		{
			name: "a restore with an empty mode flag falls back to the spec's mode",
			rs:   restore(func(rs *v1alpha1.Restore) { rs.Spec.Mode = v1alpha1.RestoreModePiTR; rs.Spec.LogRestoreStartTs = "1" }), o: job.RestoreOptions{}, c: cluster,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--start-ts=1"}),
		},
		{
			name: "a TLS cluster and BR's global flags are passed",
			rs: restore(func(rs *v1alpha1.Restore) {
				rs.Spec.BR.LogLevel = "warn"
				rs.Spec.BR.StatusAddr = ":8080"
				rs.Spec.BR.SendCredToTikv = ptr(true)
			}), o: snapshot, c: Cluster{PDAddress: "basic-pd.tidb:2379", TLS: true},
			want: join([]string{"restore", "full", "--pd=basic-pd.tidb:2379"}, tlsFlags,
				[]string{"--log-level=warn", "--status-addr=:8080", "--send-credentials-to-tikv=true"}, storageArgs),
		},
		{
			name: "every restore tuning flag is passed in v1.6's restore order, without --timeago",
			rs:   restore(tuned), o: snapshot, c: cluster,
			want: join([]string{"restore", "full", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--concurrency=8", "--checksum=true", "--check-requirements=false", "--ratelimit=100", "--online=true"}),
		},
		{
			name: "a table restore gets --table and --db",
			rs: restore(func(rs *v1alpha1.Restore) {
				rs.Spec.Type = v1alpha1.BackupTypeTable
				rs.Spec.BR.DB, rs.Spec.BR.Table = "db1", "t1"
			}), o: snapshot, c: cluster,
			want: join([]string{"restore", "table", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--table=t1", "--db=db1"}),
		},
		{
			name: "a db restore gets --db",
			rs: restore(func(rs *v1alpha1.Restore) {
				rs.Spec.Type = v1alpha1.BackupTypeDB
				rs.Spec.BR.DB = "db1"
			}), o: snapshot, c: cluster,
			want: join([]string{"restore", "db", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--db=db1"}),
		},
		{
			name: "a table filter supersedes db and table",
			rs: restore(func(rs *v1alpha1.Restore) {
				rs.Spec.Type = v1alpha1.BackupTypeDB
				rs.Spec.BR.DB = "db1"
				rs.Spec.TableFilter = []string{"db2.*"}
			}), o: snapshot, c: cluster,
			want: join([]string{"restore", "db", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--filter", "db2.*"}),
		},
		{
			name: "a PiTR restore with a full backup storage gets --full-backup-storage",
			rs:   restore(nil), o: pitr, c: cluster, fullBackup: full,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--restored-ts=400036290571534337", "--full-backup-storage=gcs://full/snap/"}),
		},
		{
			name: "a PiTR restore with a full backup ignores logRestoreStartTs",
			rs:   restore(func(rs *v1alpha1.Restore) { rs.Spec.LogRestoreStartTs = "5" }), o: pitr, c: cluster, fullBackup: full,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--restored-ts=400036290571534337", "--full-backup-storage=gcs://full/snap/"}),
		},
		{
			name: "a PiTR restore without a full backup gets --start-ts",
			rs:   restore(func(rs *v1alpha1.Restore) { rs.Spec.LogRestoreStartTs = "2025-01-02 15:04:05" }), o: pitr, c: cluster,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--restored-ts=400036290571534337", "--start-ts=2025-01-02 15:04:05"}),
		},
		{
			name: "a PiTR restore without a restored TS leaves --restored-ts out",
			rs:   restore(nil), o: job.RestoreOptions{Mode: v1alpha1.RestoreModePiTR, PitrRestoredTS: job.DefaultTS}, c: cluster, fullBackup: full,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--full-backup-storage=gcs://full/snap/"}),
		},
		{
			name: "a PiTR restore takes the table filter but never --db or --table",
			rs: restore(func(rs *v1alpha1.Restore) {
				rs.Spec.Type = v1alpha1.BackupTypeDB
				rs.Spec.BR.DB = "db1"
			}), o: pitr, c: cluster, fullBackup: full,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--restored-ts=400036290571534337", "--full-backup-storage=gcs://full/snap/"}),
		},
		{
			name: "a PiTR restore puts user options after its own flags",
			rs: restore(func(rs *v1alpha1.Restore) {
				rs.Spec.TableFilter = []string{"db1.*"}
				rs.Spec.BR.Options = []string{"--pitr-concurrency=64"}
			}),
			o: pitr, c: cluster, fullBackup: full,
			want: join([]string{"restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--filter", "db1.*", "--restored-ts=400036290571534337", "--full-backup-storage=gcs://full/snap/", "--pitr-concurrency=64"}),
		},
		{
			name: "a PiTR restore with neither a full backup nor a start TS is refused",
			rs:   restore(nil), o: pitr, c: cluster,
			wantErr: "needs spec.pitrFullBackupStorageProvider or spec.logRestoreStartTs",
		},
		{
			name: "an abort of a snapshot restore is the restore behind abort",
			rs:   restore(func(rs *v1alpha1.Restore) { rs.Spec.Type = v1alpha1.BackupTypeDB; rs.Spec.BR.DB = "db1" }),
			o:    job.RestoreOptions{Mode: v1alpha1.RestoreModeSnapshot, Abort: true}, c: cluster,
			want: join([]string{"abort", "restore", "db", "--pd=basic-pd.tidb:2379"}, storageArgs, []string{"--db=db1"}),
		},
		{
			name: "an abort of a PiTR restore is abort restore point with the PiTR flags",
			rs:   restore(nil), o: job.RestoreOptions{Mode: v1alpha1.RestoreModePiTR, PitrRestoredTS: "7", Abort: true}, c: cluster, fullBackup: full,
			want: join([]string{"abort", "restore", "point", "--pd=basic-pd.tidb:2379"}, storageArgs,
				[]string{"--restored-ts=7", "--full-backup-storage=gcs://full/snap/"}),
		},
		{
			name: "a volume-snapshot restore is not supported",
			rs:   restore(nil), o: job.RestoreOptions{Mode: v1alpha1.RestoreModeVolumeSnapshot, Prepare: true}, c: cluster,
			is: ErrVolumeSnapshotUnsupported,
		},
		{
			name: "an unknown restore mode is refused",
			rs:   restore(nil), o: job.RestoreOptions{Mode: "lightning"}, c: cluster,
			wantErr: "unknown restore mode",
		},
		{
			name: "a Restore without spec.br is refused",
			rs:   restore(func(rs *v1alpha1.Restore) { rs.Spec.BR = nil }), o: snapshot, c: cluster,
			wantErr: "spec.br is not set",
		},
		{
			name: "no Restore is refused",
			o:    snapshot, c: cluster,
			wantErr: "no Restore",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Restore(tc.rs, tc.o, tc.c, s3Loc, tc.fullBackup)
			checkResult(t, got, err, tc.want, tc.wantErr, tc.is)
		})
	}
}

func TestBase64ify(t *testing.T) {
	for _, tc := range []struct {
		name string
		loc  storage.Location
		want []string
	}{
		{
			"an S3 location passes its storage flags",
			storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Region: "r", Endpoint: "http://minio:9000"},
			[]string{"operator", "base64ify", "--storage=s3://b/p", "--s3.region=r", "--s3.endpoint=http://minio:9000"},
		},
		{
			"a GCS location with an endpoint from the options passes it, since no options follow",
			storage.Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "b", Prefix: "p", Endpoint: "http://fake-gcs:4443"},
			[]string{"operator", "base64ify", "--storage=gcs://b/p/", "--gcs.endpoint=http://fake-gcs:4443"},
		},
		{
			"an Azure location with an endpoint from the options passes it",
			storage.Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Account: "a", AccessTier: "Hot", Endpoint: "http://azurite:10000/a"},
			[]string{"operator", "base64ify", "--storage=azure://c/p/?account-name=a", "--azblob.access-tier=Hot", "--azblob.endpoint=http://azurite:10000/a"},
		},
		{
			"a local location is the local URL only",
			storage.Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/mnt", Prefix: "log"},
			[]string{"operator", "base64ify", "--storage=local:///mnt/log"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Base64ify(tc.loc); !slices.Equal(got, tc.want) {
				t.Fatalf("Base64ify =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestCompactLog(t *testing.T) {
	at := time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)
	tso := v1alpha1.TimeToTSO(at)
	cb := func(start, end string, n int) *v1alpha1.CompactBackup {
		return &v1alpha1.CompactBackup{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cb"},
			Spec:       v1alpha1.CompactSpec{StartTs: start, EndTs: end, Concurrency: n},
		}
	}
	args := func(from, until, n string) []string {
		return []string{"--log-level", "INFO", "--log-format", "json", "compact-log-backup", "--storage-base64", "QUJD", "--from", from, "--until", until, "-N", n}
	}
	for _, tc := range []struct {
		name    string
		cb      *v1alpha1.CompactBackup
		b64     string
		want    []string
		wantErr string
	}{
		{"TSOs are passed as they are", cb("100", "200", 8), "QUJD", args("100", "200", "8"), ""},
		{"times are converted to TSOs", cb("", "2025-01-02T15:04:05Z", 4), "QUJD", args("0", uintStr(tso), "4"), ""},
		{"a zero concurrency takes the CRD default", cb("1", "2", 0), "QUJD", args("1", "2", "4"), ""},
		{"surrounding whitespace of the base64 storage is trimmed", cb("1", "2", 1), " QUJD\n", args("1", "2", "1"), ""},
		{"a negative concurrency is refused", cb("1", "2", -1), "QUJD", nil, "spec.concurrency -1"},
		{"an unset end is refused", cb("1", "", 4), "QUJD", nil, "spec.endTs must be set"},
		{"an end before the start is refused", cb("200", "100", 4), "QUJD", nil, "is before spec.startTs"},
		{"a start that is neither a TSO nor a time is refused", cb("yesterday", "100", 4), "QUJD", nil, "spec.startTs"},
		{"an end that is neither a TSO nor a time is refused", cb("1", "soon", 4), "QUJD", nil, "spec.endTs"},
		{"an empty base64 storage is refused", cb("1", "2", 4), " ", nil, "no base64 storage"},
		{"no CompactBackup is refused", nil, "QUJD", nil, "no CompactBackup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CompactLog(tc.cb, tc.b64)
			checkResult(t, got, err, tc.want, tc.wantErr, nil)
		})
	}
}

func uintStr(v uint64) string { return strconv.FormatUint(v, 10) }

func checkResult(t *testing.T, got []string, err error, want []string, wantErr string, is error) {
	t.Helper()
	switch {
	case is != nil:
		if !errors.Is(err, is) {
			t.Fatalf("error = %v, want one wrapping %v", err, is)
		}
	case wantErr != "":
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error = %v, want one containing %q", err, wantErr)
		}
	default:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("args =\n%q\nwant\n%q", got, want)
		}
	}
}
