package brcmd

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// Paths inside the Job's pod. The init containers copy br and tikv-ctl into shared emptyDirs, and
// the operator mounts the cluster client certificate at ClusterTLSDir; the names are v1.6's.
const (
	BRPath        = "/var/lib/br-bin/br"
	TiKVCtlPath   = "/var/lib/kvctl-bin/tikv-ctl"
	ClusterTLSDir = "/var/lib/cluster-client-tls"
)

// PDClientPort is PD's client port, the one BR dials.
const PDClientPort = 2379

// The file names of a kubernetes.io/tls Secret (plus the CA), as mounted at ClusterTLSDir.
const (
	tlsCAFile   = "ca.crt"
	tlsCertFile = "tls.crt"
	tlsKeyFile  = "tls.key"
)

// DefaultCompactConcurrency is spec.concurrency's CRD default, used when an object built without
// the API server's defaulting leaves it zero.
const DefaultCompactConcurrency = 4

// ErrVolumeSnapshotUnsupported is returned for volume-snapshot backups and restores: they drive
// EBS snapshots through the cloud's APIs, which this backup-manager does not implement.
var ErrVolumeSnapshotUnsupported = errors.New("volume-snapshot mode is not supported by this backup-manager (EBS volume snapshots need the cloud provider's APIs); use backupMode snapshot or log")

// Cluster is how BR reaches the cluster.
type Cluster struct {
	// PDAddress is host:port of PD, see PDAddress.
	PDAddress string
	// TLS says PD and TiKV require mutual TLS (--cluster-tls): BR then presents the client
	// certificate mounted at ClusterTLSDir.
	TLS bool
}

// PDAddress is the address BR dials: <spec.br.cluster>-pd.<spec.br.clusterNamespace, else the
// custom resource's namespace>:2379, the PD Service v1.6 names. Without a cluster name it is
// empty, which Backup and Restore refuse with a message naming spec.br.cluster.
func PDAddress(br *v1alpha1.BRConfig, ns string) string {
	if br == nil || br.Cluster == "" {
		return ""
	}
	clusterNS := br.ClusterNamespace
	if clusterNS == "" {
		clusterNS = ns
	}
	return fmt.Sprintf("%s-pd.%s:%d", br.Cluster, clusterNS, PDClientPort)
}

// StorageArgs is --storage=<URL> followed by the provider's flags, each only when set, in v1.6's
// order. Service endpoints of GCS and Azure are not among them: they reach BR through
// spec.br.options, which every command line ends with, so repeating them here would only make
// two places to change.
func StorageArgs(l storage.Location) []string {
	return append([]string{"--storage=" + l.URL()}, providerArgs(l)...)
}

func providerArgs(l storage.Location) []string {
	var a args
	switch l.Type {
	case v1alpha1.BackupStorageTypeS3:
		a.flagIf("s3.region", l.Region)
		a.flagIf("s3.provider", l.Provider)
		a.flagIf("s3.endpoint", l.Endpoint)
		a.flagIf("s3.sse", l.SSE)
		a.flagIf("s3.acl", l.ACL)
		a.flagIf("s3.storage-class", l.StorageClass)
	case v1alpha1.BackupStorageTypeGcs:
		a.flagIf("gcs.storage-class", l.StorageClass)
		a.flagIf("gcs.predefined-acl", l.ObjectACL)
	case v1alpha1.BackupStorageTypeAzblob:
		a.flagIf("azblob.access-tier", l.AccessTier)
	}
	return a
}

// Backup is the br command line of a backup Job, after the binary.
//
//   - snapshot: backup <type> [--backupts=<spec.commitTs>], then the cluster, storage, filter
//     and tuning flags;
//   - log: log start|stop|pause|resume --task-name=<name> (start also [--start-ts], the table
//     filter and tuning flags), or log truncate --until=<ts> with the storage only;
//   - volume-snapshot: ErrVolumeSnapshotUnsupported.
//
// The mode and log subcommand come from the Job's flags (o), falling back to the spec when a
// flag is empty.
func Backup(bk *v1alpha1.Backup, o job.BackupOptions, c Cluster, l storage.Location) ([]string, error) {
	if bk == nil {
		return nil, errors.New("build br backup command: no Backup")
	}
	br := bk.Spec.BR
	if br == nil {
		return nil, fmt.Errorf("build br command for backup %s/%s: spec.br is not set", bk.Namespace, bk.Name)
	}
	mode := o.Mode
	if mode == "" {
		mode = bk.Spec.Mode
	}
	if mode == "" {
		mode = v1alpha1.BackupModeSnapshot
	}
	switch mode {
	case v1alpha1.BackupModeSnapshot:
		typ, err := subcommandType(bk.Spec.Type)
		if err != nil {
			return nil, fmt.Errorf("build br command for backup %s/%s: %w", bk.Namespace, bk.Name, err)
		}
		pd, err := pdAddress(c, br, bk.Namespace)
		if err != nil {
			return nil, fmt.Errorf("build br command for backup %s/%s: %w", bk.Namespace, bk.Name, err)
		}
		a := args{"backup", typ}
		a.flagIf("backupts", bk.Spec.CommitTs)
		a.cluster(pd, c.TLS, br)
		a = append(a, StorageArgs(l)...)
		a.filters(bk.Spec.TableFilter, typ, br)
		a.backupTuning(br, true)
		a = append(a, br.Options...)
		return a, nil
	case v1alpha1.BackupModeLog:
		return logBackup(bk, o, c, l)
	case v1alpha1.BackupModeVolumeSnapshot:
		return nil, fmt.Errorf("build br command for backup %s/%s: %w", bk.Namespace, bk.Name, ErrVolumeSnapshotUnsupported)
	default:
		return nil, fmt.Errorf("build br command for backup %s/%s: unknown backup mode %q (want snapshot or log)", bk.Namespace, bk.Name, mode)
	}
}

// logBackup builds the `br log` command lines. v1.6 gave every log subcommand the whole snapshot
// template; BR would refuse parts of it, so:
//   - --filter goes to `log start` only (the only log subcommand defining it), and --db,
//     --table, --timeago and --backupts to none (they belong to backup subcommands);
//   - `log truncate` only reads and deletes files in the external storage and never dials the
//     cluster, so it gets --until and the storage flags; spec.br.options still follow, because
//     they carry storage settings such as --s3.endpoint or --gcs.endpoint that it needs.
//
// The root-level flags BR accepts everywhere (--pd, TLS, --log-level, --status-addr,
// --send-credentials-to-tikv, --concurrency, --ratelimit, --checksum, --check-requirements)
// are kept for start, stop, pause and resume exactly as v1.6 passed them.
func logBackup(bk *v1alpha1.Backup, o job.BackupOptions, c Cluster, l storage.Location) ([]string, error) {
	br := bk.Spec.BR
	sub := o.Subcommand
	if sub == "" {
		sub = v1alpha1.ParseLogBackupSubcommand(bk)
	}
	fail := func(err error) ([]string, error) {
		return nil, fmt.Errorf("build br %s command for backup %s/%s: %w", sub, bk.Namespace, bk.Name, err)
	}
	var a args
	switch sub {
	case v1alpha1.LogTruncateCommand:
		if o.TruncateUntil == "" || o.TruncateUntil == job.DefaultTS {
			return fail(fmt.Errorf("log backup truncate until %q is invalid: give a TSO or a time", o.TruncateUntil))
		}
		a = args{"log", "truncate", "--until=" + o.TruncateUntil}
		a = append(a, StorageArgs(l)...)
		a = append(a, br.Options...)
		return a, nil
	case v1alpha1.LogStartCommand:
		a = args{"log", "start", "--task-name=" + bk.Name}
		if o.CommitTS != "" && o.CommitTS != job.DefaultTS {
			a = append(a, "--start-ts="+o.CommitTS)
		}
	case v1alpha1.LogStopCommand:
		a = args{"log", "stop", "--task-name=" + bk.Name}
	case v1alpha1.LogPauseCommand:
		a = args{"log", "pause", "--task-name=" + bk.Name}
	case v1alpha1.LogResumeCommand:
		a = args{"log", "resume", "--task-name=" + bk.Name}
	default:
		return fail(fmt.Errorf("unknown log subcommand %q (want log-start, log-stop, log-pause, log-resume or log-truncate)", sub))
	}
	pd, err := pdAddress(c, br, bk.Namespace)
	if err != nil {
		return fail(err)
	}
	a.cluster(pd, c.TLS, br)
	a = append(a, StorageArgs(l)...)
	if sub == v1alpha1.LogStartCommand {
		for _, f := range bk.Spec.TableFilter {
			a = append(a, "--filter", f)
		}
	}
	a.backupTuning(br, false)
	a = append(a, br.Options...)
	return a, nil
}

// Restore is the br command line of a restore Job, after the binary.
//
//   - snapshot: restore <type>;
//   - pitr: restore point [--restored-ts=<ts>] and --full-backup-storage=<fullBackup URL>, or
//     --start-ts=<spec.logRestoreStartTs> when there is no full backup;
//   - with o.Abort (spec.prune: afterFailed): the same command behind `abort`, since
//     `br abort restore <full|db|table|point>` takes the restore's own flags to find the task;
//   - volume-snapshot: ErrVolumeSnapshotUnsupported.
//
// Then come the cluster, storage, filter and tuning flags, and spec.br.options last.
func Restore(rs *v1alpha1.Restore, o job.RestoreOptions, c Cluster, l storage.Location, fullBackup *storage.Location) ([]string, error) {
	if rs == nil {
		return nil, errors.New("build br restore command: no Restore")
	}
	br := rs.Spec.BR
	if br == nil {
		return nil, fmt.Errorf("build br command for restore %s/%s: spec.br is not set", rs.Namespace, rs.Name)
	}
	fail := func(err error) ([]string, error) {
		return nil, fmt.Errorf("build br command for restore %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	mode := o.Mode
	if mode == "" {
		mode = rs.Spec.Mode
	}
	if mode == "" {
		mode = v1alpha1.RestoreModeSnapshot
	}
	var sub string
	switch mode {
	case v1alpha1.RestoreModeSnapshot:
		typ, err := subcommandType(rs.Spec.Type)
		if err != nil {
			return fail(err)
		}
		sub = typ
	case v1alpha1.RestoreModePiTR:
		sub = "point"
	case v1alpha1.RestoreModeVolumeSnapshot:
		return fail(ErrVolumeSnapshotUnsupported)
	default:
		return fail(fmt.Errorf("unknown restore mode %q (want snapshot or pitr)", mode))
	}
	pd, err := pdAddress(c, br, rs.Namespace)
	if err != nil {
		return fail(err)
	}
	a := args{"restore", sub}
	a.cluster(pd, c.TLS, br)
	a = append(a, StorageArgs(l)...)
	a.filters(rs.Spec.TableFilter, sub, br)
	a.restoreTuning(br)
	if mode == v1alpha1.RestoreModePiTR {
		// v1.6 put these after spec.br.options; they go before them here so that "user options
		// last" holds for every command. BR does not care about the order of distinct flags.
		//
		// An unset --pitrRestoredTs is "0" (job.DefaultTS); v1.6 passed --restored-ts=0, which BR
		// reads as "not given". Leaving the flag out says the same without relying on that.
		if o.PitrRestoredTS != "" && o.PitrRestoredTS != job.DefaultTS {
			a = append(a, "--restored-ts="+o.PitrRestoredTS)
		}
		switch {
		case fullBackup != nil:
			// Only the URL: BR takes the provider flags (region, endpoint, ...) from the log
			// backup's storage flags, as v1.6 relied on.
			a = append(a, "--full-backup-storage="+fullBackup.URL())
		case rs.Spec.LogRestoreStartTs != "":
			a = append(a, "--start-ts="+rs.Spec.LogRestoreStartTs)
		default:
			return fail(errors.New("a pitr restore needs spec.pitrFullBackupStorageProvider or spec.logRestoreStartTs"))
		}
	}
	a = append(a, br.Options...)
	if o.Abort {
		a = append(args{"abort"}, a...)
	}
	return a, nil
}

// Base64ify is `br operator base64ify` with the storage flags: BR prints the storage backend as
// base64, the form tikv-ctl takes. Unlike the other command lines no spec.br.options follow, so
// a GCS or Azure endpoint taken from them (Location.Endpoint) is passed here explicitly;
// otherwise tikv-ctl would compact against the provider's public endpoint, not the store the
// log backup is in.
func Base64ify(l storage.Location) []string {
	a := args{"operator", "base64ify"}
	a = append(a, StorageArgs(l)...)
	switch l.Type {
	case v1alpha1.BackupStorageTypeGcs:
		a.flagIf("gcs.endpoint", l.Endpoint)
	case v1alpha1.BackupStorageTypeAzblob:
		a.flagIf("azblob.endpoint", l.Endpoint)
	}
	return a
}

// CompactLog is the tikv-ctl command line compacting the log backup between spec.startTs and
// spec.endTs, given the storage as Base64ify printed it. The log options are fixed: the
// backup-manager parses tikv-ctl's JSON log (brlog.ParseCompactLog), so its format must not be
// configurable.
func CompactLog(cb *v1alpha1.CompactBackup, storageBase64 string) ([]string, error) {
	if cb == nil {
		return nil, errors.New("build tikv-ctl command: no CompactBackup")
	}
	from, until, err := CompactRange(cb)
	if err != nil {
		return nil, fmt.Errorf("build tikv-ctl command for compact backup %s/%s: %w", cb.Namespace, cb.Name, err)
	}
	n := cb.Spec.Concurrency
	if n == 0 {
		n = DefaultCompactConcurrency
	}
	if n < 0 {
		return nil, fmt.Errorf("build tikv-ctl command for compact backup %s/%s: spec.concurrency %d must be greater than 0", cb.Namespace, cb.Name, n)
	}
	storageBase64 = strings.TrimSpace(storageBase64)
	if storageBase64 == "" {
		return nil, fmt.Errorf("build tikv-ctl command for compact backup %s/%s: no base64 storage from br operator base64ify", cb.Namespace, cb.Name)
	}
	return []string{
		"--log-level", "INFO",
		"--log-format", "json",
		"compact-log-backup",
		"--storage-base64", storageBase64,
		"--from", strconv.FormatUint(from, 10),
		"--until", strconv.FormatUint(until, 10),
		"-N", strconv.Itoa(n),
	}, nil
}

// CompactRange is the range a CompactBackup compacts, as TSOs: spec.startTs and spec.endTs may be
// TSOs or times (v1alpha1.ParseTSString). endTs must be set and not before startTs, as v1.6
// checks before running tikv-ctl.
func CompactRange(cb *v1alpha1.CompactBackup) (from, until uint64, err error) {
	from, err = v1alpha1.ParseTSString(cb.Spec.StartTs)
	if err != nil {
		return 0, 0, fmt.Errorf("spec.startTs: %w", err)
	}
	until, err = v1alpha1.ParseTSString(cb.Spec.EndTs)
	if err != nil {
		return 0, 0, fmt.Errorf("spec.endTs: %w", err)
	}
	if until == 0 {
		return 0, 0, errors.New("spec.endTs must be set")
	}
	if until < from {
		return 0, 0, fmt.Errorf("spec.endTs (TSO %d) is before spec.startTs (TSO %d)", until, from)
	}
	return from, until, nil
}

// pdAddress is c.PDAddress, or the one derived from spec.br when the caller left it empty.
func pdAddress(c Cluster, br *v1alpha1.BRConfig, ns string) (string, error) {
	if c.PDAddress != "" {
		return c.PDAddress, nil
	}
	if br.Cluster == "" {
		return "", errors.New("spec.br.cluster is empty: name the TidbCluster")
	}
	return PDAddress(br, ns), nil
}

// subcommandType is the BR subcommand of a backup type, full when unset. It refuses values that
// would read as a flag or as several arguments; the CRD's enum should already have.
func subcommandType(t v1alpha1.BackupType) (string, error) {
	s := string(t)
	if s == "" {
		return string(v1alpha1.BackupTypeFull), nil
	}
	if strings.HasPrefix(s, "-") || strings.ContainsAny(s, " \t\r\n=") {
		return "", fmt.Errorf("invalid backupType %q", s)
	}
	return s, nil
}

// args accumulates a command line.
type args []string

// flagIf appends --name=value when value is not empty.
func (a *args) flagIf(name, value string) {
	if value != "" {
		*a = append(*a, "--"+name+"="+value)
	}
}

// cluster appends --pd, the TLS files and BR's global flags, in v1.6's order.
func (a *args) cluster(pd string, tls bool, br *v1alpha1.BRConfig) {
	*a = append(*a, "--pd="+pd)
	if tls {
		*a = append(*a,
			"--ca="+path.Join(ClusterTLSDir, tlsCAFile),
			"--cert="+path.Join(ClusterTLSDir, tlsCertFile),
			"--key="+path.Join(ClusterTLSDir, tlsKeyFile),
		)
	}
	a.flagIf("log-level", br.LogLevel)
	a.flagIf("status-addr", br.StatusAddr)
	if br.SendCredToTikv != nil {
		*a = append(*a, "--send-credentials-to-tikv="+strconv.FormatBool(*br.SendCredToTikv))
	}
}

// filters appends the table filter, which supersedes spec.br.db and spec.br.table; those go to
// the db and table subcommands only (restore point and full define no --db or --table).
func (a *args) filters(tableFilter []string, sub string, br *v1alpha1.BRConfig) {
	if len(tableFilter) > 0 {
		for _, f := range tableFilter {
			*a = append(*a, "--filter", f)
		}
		return
	}
	switch sub {
	case string(v1alpha1.BackupTypeTable):
		a.flagIf("table", br.Table)
		a.flagIf("db", br.DB)
	case string(v1alpha1.BackupTypeDB):
		a.flagIf("db", br.DB)
	}
}

// backupTuning appends the tuning flags in v1.6's backup order; --timeago exists on backup
// subcommands only.
func (a *args) backupTuning(br *v1alpha1.BRConfig, timeAgo bool) {
	if br.Concurrency != nil {
		*a = append(*a, "--concurrency="+strconv.FormatUint(uint64(*br.Concurrency), 10))
	}
	if br.RateLimit != nil {
		*a = append(*a, "--ratelimit="+strconv.FormatUint(uint64(*br.RateLimit), 10))
	}
	if timeAgo {
		a.flagIf("timeago", br.TimeAgo)
	}
	if br.Checksum != nil {
		*a = append(*a, "--checksum="+strconv.FormatBool(*br.Checksum))
	}
	if br.CheckRequirements != nil {
		*a = append(*a, "--check-requirements="+strconv.FormatBool(*br.CheckRequirements))
	}
}

// restoreTuning appends the tuning flags in v1.6's restore order, which differs from backup's
// and adds --online.
func (a *args) restoreTuning(br *v1alpha1.BRConfig) {
	if br.Concurrency != nil {
		*a = append(*a, "--concurrency="+strconv.FormatUint(uint64(*br.Concurrency), 10))
	}
	if br.Checksum != nil {
		*a = append(*a, "--checksum="+strconv.FormatBool(*br.Checksum))
	}
	if br.CheckRequirements != nil {
		*a = append(*a, "--check-requirements="+strconv.FormatBool(*br.CheckRequirements))
	}
	if br.RateLimit != nil {
		*a = append(*a, "--ratelimit="+strconv.FormatUint(uint64(*br.RateLimit), 10))
	}
	if br.OnLine != nil {
		*a = append(*a, "--online="+strconv.FormatBool(*br.OnLine))
	}
}
