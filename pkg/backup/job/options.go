package job

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Options is what every subcommand's options provide.
type Options interface {
	// Command is the subcommand name, the first argument of the Job's container.
	Command() string
	// AddFlags registers the subcommand's flags with their v1.6 defaults, pointing at the
	// receiver's fields (which are reset to those defaults).
	AddFlags(fs *pflag.FlagSet)
	// Validate reports every missing or malformed value at once.
	Validate() error
	// Args renders the container arguments that make the backup-manager parse exactly these
	// options: the subcommand, the identifying flags, and every flag whose value is not its
	// default.
	Args() []string
}

// Common identifies the custom resource a Job works for and how to reach the cluster.
type Common struct {
	// Namespace (--namespace) of the Backup, Restore or CompactBackup.
	Namespace string
	// TLSClient (--client-tls) says TiDB's MySQL port requires TLS.
	TLSClient bool
	// SkipClientCA (--skipClientCA) skips verifying TiDB's server certificate.
	SkipClientCA bool
}

// BackupOptions are the flags of `tidb-backup-manager backup`.
type BackupOptions struct {
	Common
	// BackupName (--backupName) is the Backup to run.
	BackupName string
	// TiKVVersion (--tikvVersion) is the cluster's TiKV version; BR arguments depend on it.
	TiKVVersion string
	// TLSCluster (--cluster-tls) says PD and TiKV require mutual TLS.
	TLSCluster bool
	// Mode (--mode) is snapshot, log or volume-snapshot.
	Mode v1alpha1.BackupMode
	// Subcommand (--subcommand) is the log backup action when Mode is log.
	Subcommand v1alpha1.LogSubCommandType
	// CommitTS (--commit-ts) is where a log backup starts (TSO or date-time, as in the spec).
	CommitTS string
	// TruncateUntil (--truncate-until) is the point before which log backup data is deleted.
	TruncateUntil string
	// Initialize (--initialize) runs the initialize phase of a volume-snapshot backup (pause GC
	// and PD scheduling until killed).
	Initialize bool
}

// RestoreOptions are the flags of `tidb-backup-manager restore`.
type RestoreOptions struct {
	Common
	// RestoreName (--restoreName) is the Restore to run.
	RestoreName string
	// TiKVVersion (--tikvVersion) is the cluster's TiKV version.
	TiKVVersion string
	// TLSCluster (--cluster-tls) says PD and TiKV require mutual TLS.
	TLSCluster bool
	// Mode (--mode) is snapshot, pitr or volume-snapshot.
	Mode v1alpha1.RestoreMode
	// PitrRestoredTS (--pitrRestoredTs) is the point in time a PiTR restore stops at.
	PitrRestoredTS string
	// Prepare (--prepare) runs the preparation phase of a volume-snapshot restore.
	Prepare bool
	// TargetAZ (--target-az) is the availability zone volume snapshots are restored into.
	TargetAZ string
	// UseFSR (--use-fsr) restores TiKV volumes with EBS fast snapshot restore.
	UseFSR bool
	// Abort (--abort) aborts an unfinished restore (spec.prune: afterFailed).
	Abort bool
}

// CleanOptions are the flags of `tidb-backup-manager clean`.
type CleanOptions struct {
	// Namespace (--namespace) of the Backup.
	Namespace string
	// BackupName (--backupName) is the Backup whose data is deleted.
	BackupName string
}

// CompactOptions are the flags of `tidb-backup-manager compact`.
type CompactOptions struct {
	// Namespace (--namespace) of the CompactBackup.
	Namespace string
	// ResourceName (--resourceName) is the CompactBackup to run.
	ResourceName string
}

// ExportOptions are the flags of `tidb-backup-manager export` (a Dumpling backup).
type ExportOptions struct {
	Common
	// BackupName (--backupName) is the Backup to run.
	BackupName string
	// Bucket (--bucket) is the remote the export is copied to.
	Bucket string
	// StorageType (--storageType) is the kind of remote: s3, gcs or azblob.
	StorageType v1alpha1.BackupStorageType
}

// ImportOptions are the flags of `tidb-backup-manager import` (a Lightning restore).
type ImportOptions struct {
	Common
	// RestoreName (--restoreName) is the Restore to run.
	RestoreName string
	// BackupPath (--backupPath) is the remote path of the Dumpling export to load.
	BackupPath string
}

// The Command methods.

func (*BackupOptions) Command() string  { return CommandBackup }
func (*RestoreOptions) Command() string { return CommandRestore }
func (*CleanOptions) Command() string   { return CommandClean }
func (*CompactOptions) Command() string { return CommandCompact }
func (*ExportOptions) Command() string  { return CommandExport }
func (*ImportOptions) Command() string  { return CommandImport }

// The AddFlags methods. Definition order is the order Args renders flags in.

func (o *Common) addNamespace(fs *pflag.FlagSet) {
	fs.StringVar(&o.Namespace, FlagNamespace, "", "Namespace of the custom resource")
}

func (o *Common) addClientTLS(fs *pflag.FlagSet) {
	fs.BoolVar(&o.TLSClient, FlagClientTLS, false, "TiDB's MySQL port requires TLS")
	fs.BoolVar(&o.SkipClientCA, FlagSkipClientCA, false, "Do not verify TiDB's server certificate")
}

func (o *BackupOptions) AddFlags(fs *pflag.FlagSet) {
	o.addNamespace(fs)
	fs.StringVar(&o.BackupName, FlagBackupName, "", "Name of the Backup")
	fs.StringVar(&o.TiKVVersion, FlagTiKVVersion, DefaultTiKVVersion, "TiKV version of the cluster")
	fs.StringVar((*string)(&o.Mode), FlagMode, string(v1alpha1.BackupModeSnapshot), "Backup mode: snapshot, log or volume-snapshot")
	fs.StringVar((*string)(&o.Subcommand), FlagSubcommand, string(v1alpha1.LogStartCommand), "Log backup action: log-start, log-stop, log-pause, log-resume or log-truncate")
	fs.StringVar(&o.CommitTS, FlagCommitTS, DefaultTS, "Where a log backup starts (TSO or date-time)")
	fs.StringVar(&o.TruncateUntil, FlagTruncateUntil, DefaultTS, "Delete log backup data before this point (TSO or date-time)")
	fs.BoolVar(&o.Initialize, FlagInitialize, false, "Run the initialize phase of a volume-snapshot backup")
	fs.BoolVar(&o.TLSCluster, FlagClusterTLS, false, "PD and TiKV require mutual TLS")
	o.addClientTLS(fs)
}

func (o *RestoreOptions) AddFlags(fs *pflag.FlagSet) {
	o.addNamespace(fs)
	fs.StringVar(&o.RestoreName, FlagRestoreName, "", "Name of the Restore")
	fs.StringVar(&o.TiKVVersion, FlagTiKVVersion, DefaultTiKVVersion, "TiKV version of the cluster")
	fs.StringVar((*string)(&o.Mode), FlagMode, string(v1alpha1.RestoreModeSnapshot), "Restore mode: snapshot, pitr or volume-snapshot")
	fs.StringVar(&o.PitrRestoredTS, FlagPitrRestoredTS, DefaultTS, "Point in time a PiTR restore stops at")
	fs.BoolVar(&o.Prepare, FlagPrepare, false, "Run the preparation phase of a volume-snapshot restore")
	fs.StringVar(&o.TargetAZ, FlagTargetAZ, "", "Availability zone volume snapshots are restored into")
	fs.BoolVar(&o.UseFSR, FlagUseFSR, false, "Restore TiKV volumes with EBS fast snapshot restore")
	fs.BoolVar(&o.Abort, FlagAbort, false, "Abort an unfinished restore")
	fs.BoolVar(&o.TLSCluster, FlagClusterTLS, false, "PD and TiKV require mutual TLS")
	o.addClientTLS(fs)
}

func (o *CleanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Namespace, FlagNamespace, "", "Namespace of the Backup")
	fs.StringVar(&o.BackupName, FlagBackupName, "", "Name of the Backup whose data is deleted")
}

func (o *CompactOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Namespace, FlagNamespace, "", "Namespace of the CompactBackup")
	fs.StringVar(&o.ResourceName, FlagResourceName, "", "Name of the CompactBackup")
}

func (o *ExportOptions) AddFlags(fs *pflag.FlagSet) {
	o.addNamespace(fs)
	fs.StringVar(&o.BackupName, FlagBackupName, "", "Name of the Backup")
	fs.StringVar(&o.Bucket, FlagBucket, "", "Remote bucket the export is copied to")
	fs.StringVar((*string)(&o.StorageType), FlagStorageType, "", "Kind of remote storage: s3, gcs or azblob")
	o.addClientTLS(fs)
}

func (o *ImportOptions) AddFlags(fs *pflag.FlagSet) {
	o.addNamespace(fs)
	fs.StringVar(&o.RestoreName, FlagRestoreName, "", "Name of the Restore")
	fs.StringVar(&o.BackupPath, FlagBackupPath, "", "Remote path of the export to load")
	o.addClientTLS(fs)
}

// The Validate methods.

// problems collects validation errors, each naming its flag.
type problems []error

func (p *problems) required(flag, value string) {
	if value == "" {
		*p = append(*p, fmt.Errorf("--%s is required", flag))
	}
}

func (p *problems) oneOf(flag, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		*p = append(*p, fmt.Errorf("--%s=%q is not one of %q", flag, value, allowed))
	}
}

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

func (p problems) err(command string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s: invalid flags: %w", command, errors.Join(p...))
}

func (o *BackupOptions) Validate() error {
	var p problems
	p.required(FlagNamespace, o.Namespace)
	p.required(FlagBackupName, o.BackupName)
	p.required(FlagTiKVVersion, o.TiKVVersion)
	p.oneOf(FlagMode, string(o.Mode), string(v1alpha1.BackupModeSnapshot), string(v1alpha1.BackupModeLog), string(v1alpha1.BackupModeVolumeSnapshot))
	if o.Mode == v1alpha1.BackupModeLog {
		p.oneOf(FlagSubcommand, string(o.Subcommand), string(v1alpha1.LogStartCommand), string(v1alpha1.LogStopCommand),
			string(v1alpha1.LogPauseCommand), string(v1alpha1.LogResumeCommand), string(v1alpha1.LogTruncateCommand))
		if o.Subcommand == v1alpha1.LogTruncateCommand && (o.TruncateUntil == "" || o.TruncateUntil == DefaultTS) {
			p.add("--%s=%s needs --%s with a point in time", FlagSubcommand, v1alpha1.LogTruncateCommand, FlagTruncateUntil)
		}
	}
	if o.Initialize && o.Mode != v1alpha1.BackupModeVolumeSnapshot {
		p.add("--%s applies only to --%s=%s", FlagInitialize, FlagMode, v1alpha1.BackupModeVolumeSnapshot)
	}
	return p.err(CommandBackup)
}

func (o *RestoreOptions) Validate() error {
	var p problems
	p.required(FlagNamespace, o.Namespace)
	p.required(FlagRestoreName, o.RestoreName)
	p.required(FlagTiKVVersion, o.TiKVVersion)
	p.oneOf(FlagMode, string(o.Mode), string(v1alpha1.RestoreModeSnapshot), string(v1alpha1.RestoreModePiTR), string(v1alpha1.RestoreModeVolumeSnapshot))
	if o.Mode != v1alpha1.RestoreModeVolumeSnapshot {
		if o.Prepare {
			p.add("--%s applies only to --%s=%s", FlagPrepare, FlagMode, v1alpha1.RestoreModeVolumeSnapshot)
		}
		if o.UseFSR {
			p.add("--%s applies only to --%s=%s", FlagUseFSR, FlagMode, v1alpha1.RestoreModeVolumeSnapshot)
		}
	}
	return p.err(CommandRestore)
}

func (o *CleanOptions) Validate() error {
	var p problems
	p.required(FlagNamespace, o.Namespace)
	p.required(FlagBackupName, o.BackupName)
	return p.err(CommandClean)
}

func (o *CompactOptions) Validate() error {
	var p problems
	p.required(FlagNamespace, o.Namespace)
	p.required(FlagResourceName, o.ResourceName)
	return p.err(CommandCompact)
}

func (o *ExportOptions) Validate() error {
	var p problems
	p.required(FlagNamespace, o.Namespace)
	p.required(FlagBackupName, o.BackupName)
	p.required(FlagBucket, o.Bucket)
	p.oneOf(FlagStorageType, string(o.StorageType), string(v1alpha1.BackupStorageTypeS3), string(v1alpha1.BackupStorageTypeGcs), string(v1alpha1.BackupStorageTypeAzblob))
	return p.err(CommandExport)
}

func (o *ImportOptions) Validate() error {
	var p problems
	p.required(FlagNamespace, o.Namespace)
	p.required(FlagRestoreName, o.RestoreName)
	p.required(FlagBackupPath, o.BackupPath)
	return p.err(CommandImport)
}
