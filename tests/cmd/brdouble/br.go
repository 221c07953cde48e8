package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The version the double reports, in BR's shape. A v8 BR is what v1.6 runs for CompactBackup.
const (
	brReleaseVersion = "v8.5.0-brdouble"
	brGitHash        = "0000000000000000000000000000000000000000"
)

// brCLI is one run of the double as br.
type brCLI struct {
	p   *proc
	ctx context.Context
	// log is BR's logger: before a command's init (as for a flag error) it is pingcap/log's
	// default, text on stdout at INFO; init points it where --log-file and BR_LOG_TO_TERM say.
	log  *logger
	step *stepper
}

func (p *proc) runBR(ctx context.Context) int {
	c := &brCLI{p: p, ctx: ctx, log: &logger{out: p.stdout, level: levelInfo}}
	p.onSignal = func(sig os.Signal) {
		c.log.info("signal_posix.go:54", "received signal to exit", fld("signal", sig.String()))
	}
	root := c.rootCommand()
	root.SetArgs(p.args)
	root.SetOut(p.stdout)
	root.SetErr(p.stderr)
	if err := root.Execute(); err != nil {
		c.log.error("main.go:58", "br failed", fld("error", err), fld("errorVerbose", verbose(err)))
		return 1
	}
	return 0
}

// verbose is pingcap/errors' errorVerbose: the message and a stack.
func verbose(err error) string {
	return err.Error() + "\ngithub.com/pingcap/errors.AddStack\n\t/go/pkg/mod/github.com/pingcap/errors/errors.go:178" +
		"\nmain.main\n\t/workspace/source/tidb/br/cmd/br/main.go:58\nruntime.main\n\t/usr/local/go/src/runtime/proc.go:272"
}

func (c *brCLI) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:              "br",
		Short:            "br is a TiDB/TiKV cluster backup restore tool.",
		TraverseChildren: true,
		SilenceUsage:     true,
		Version: fmt.Sprintf("Release Version: %s\nGit Commit Hash: %s\nGit Branch: HEAD\nGo Version: %s\nUTC Build Time: 2026-01-01 00:00:00\nRace Enabled: false",
			brReleaseVersion, brGitHash, runtime.Version()),
	}
	root.Flags().BoolP("version", "V", false, "Display version information about BR")
	root.SetVersionTemplate("{{printf \"%s\" .Version}}\n")
	defineCommonFlags(root.PersistentFlags())

	root.AddCommand(c.backupCommand(), c.restoreCommand(), c.logCommand(), c.operatorCommand(), c.abortCommand())
	return root
}

// defineCommonFlags are BR's root persistent flags (br/cmd/br/cmd.go DefineCommonFlags,
// task.DefineCommonFlags and the storage flags).
func defineCommonFlags(f *pflag.FlagSet) {
	f.StringP("log-level", "L", "info", "Set the log level")
	f.String("log-file", timestampLogFileName(), "Set the log file path. If not set, logs will output to temp file")
	f.String("log-format", "text", "Set the log format")
	f.Bool("redact-log", false, "Set whether to redact sensitive info in log, already deprecated by --redact-info-log")
	f.Bool("redact-info-log", false, "Set whether to redact sensitive info in log")
	f.String("status-addr", "", "Set the HTTP listening address for the status report service. Set to empty string to disable")
	f.String("slow-log-file", "", "Set the slow log file path. If not set, discard slow logs")
	_ = f.MarkHidden("slow-log-file")
	_ = f.MarkHidden("redact-log")

	f.StringSliceP("pd", "u", []string{"127.0.0.1:2379"}, "PD address")
	f.String("ca", "", "CA certificate path for TLS connection")
	f.String("cert", "", "Certificate path for TLS connection")
	f.String("key", "", "Private key path for TLS connection")
	f.StringP("storage", "s", "", `specify the url where backup storage, eg, "s3://bucket/path/prefix"`)
	f.BoolP("send-credentials-to-tikv", "c", true, "Whether send credentials to tikv")
	f.Uint64("ratelimit", 0, "The rate limit of the task, MB/s per node")
	f.Uint64("ratelimit-unit", 1<<20, "The unit of rate limit")
	_ = f.MarkHidden("ratelimit-unit")
	f.Uint32("concurrency", 4, "The size of thread pool on each node that executes tasks")
	f.Bool("checksum", true, "Run checksum at end of task")
	f.Uint("checksum-concurrency", 4, "The concurrency of checksumming in one table")
	f.Bool("check-requirements", true, "Whether start version check before execute command")
	f.Bool("enable-opentracing", false, "Set whether to enable opentracing during the backup/restore process")
	f.Bool("skip-check-path", false, "Skip path verification")
	_ = f.MarkHidden("skip-check-path")
	f.Bool("remove-tiflash", true, "Remove TiFlash replicas before backup or restore")
	_ = f.MarkHidden("remove-tiflash")
	f.Duration("grpc-keepalive-time", 10*time.Second, "the interval of pinging gRPC peer")
	f.Duration("grpc-keepalive-timeout", 3*time.Second, "the max time a gRPC connection can keep idle before killed")
	_ = f.MarkHidden("grpc-keepalive-time")
	_ = f.MarkHidden("grpc-keepalive-timeout")
	f.String("crypter.method", "plaintext", "Encrypt/decrypt method, be one of plaintext|aes128-ctr|aes192-ctr|aes256-ctr case-insensitively")
	f.String("crypter.key", "", "aes-crypter key, used to encrypt/decrypt the data")
	f.String("crypter.key-file", "", "FilePath, its content is used as the cipher-key")
	f.String("master-key", "", "Master key for data encryption")
	f.String("master-key-crypter-method", "aes128-ctr", "Encryption method for master key")
	f.Uint("metadata-download-batch-size", 128, "the batch size of downloading metadata")
	f.String("keyspace-name", "", "keyspace name")
	_ = f.MarkHidden("keyspace-name")

	f.String("s3.endpoint", "", "(experimental) Set the S3 endpoint URL, please specify the http or https scheme explicitly")
	f.String("s3.region", "", "(experimental) Set the S3 region, e.g. us-east-1")
	f.String("s3.storage-class", "", "(experimental) Set the S3 storage class, e.g. STANDARD")
	f.String("s3.sse", "", "Set S3 server-side encryption, e.g. aws:kms")
	f.String("s3.sse-kms-key-id", "", "KMS CMK key id to use with S3 server-side encryption")
	f.String("s3.acl", "", "(experimental) Set the S3 canned ACLs, e.g. authenticated-read")
	f.String("s3.provider", "", "(experimental) Set the S3 provider, e.g. aws, alibaba, ceph")
	f.String("s3.role-arn", "", "(experimental) Set the ARN of the IAM role to assume when accessing AWS S3")
	f.String("s3.external-id", "", "(experimental) Set the external ID when assuming the role to access AWS S3")
	f.String("gcs.endpoint", "", "(experimental) Set the GCS endpoint URL")
	f.String("gcs.storage-class", "", "(experimental) Specify the GCS storage class for objects")
	f.String("gcs.predefined-acl", "", "(experimental) Specify the GCS predefined acl for objects")
	f.String("gcs.credentials-file", "", "(experimental) Set the GCS credentials file path")
	f.String("azblob.endpoint", "", "(experimental) Set the Azure Blob endpoint URL")
	f.String("azblob.access-tier", "", "Specify the storage class for azblob")
	f.String("azblob.account-name", "", "Specify the account name for azblob")
	f.String("azblob.account-key", "", "Specify the account key for azblob")
	f.String("azblob.sas-token", "", "Specify the SAS (shared access signatures) for azblob")
	f.String("azblob.encryption-scope", "", "Specify the server side encryption scope")
	f.String("azblob.encryption-key", "", "Specify the server side encryption customer provided key")
}

func timestampLogFileName() string {
	return filepath.Join(os.TempDir(), time.Now().Format("br.log.2006-01-02T15.04.05Z0700"))
}

// storageOptionsFromFlags reads the provider flags.
func storageOptionsFromFlags(f *pflag.FlagSet) storageOptions {
	g := func(name string) string { v, _ := f.GetString(name); return v }
	return storageOptions{
		s3Endpoint: g("s3.endpoint"), s3Region: g("s3.region"), s3StorageClass: g("s3.storage-class"),
		s3SSE: g("s3.sse"), s3SSEKMSKeyID: g("s3.sse-kms-key-id"), s3ACL: g("s3.acl"), s3Provider: g("s3.provider"),
		s3RoleARN: g("s3.role-arn"), s3ExternalID: g("s3.external-id"),
		gcsEndpoint: g("gcs.endpoint"), gcsStorageClass: g("gcs.storage-class"),
		gcsPredefinedACL: g("gcs.predefined-acl"), gcsCredentialsFile: g("gcs.credentials-file"),
		azEndpoint: g("azblob.endpoint"), azAccountName: g("azblob.account-name"), azAccountKey: g("azblob.account-key"),
		azAccessTier: g("azblob.access-tier"), azSASToken: g("azblob.sas-token"),
		azEncryptionScope: g("azblob.encryption-scope"), azEncryptionKey: g("azblob.encryption-key"),
	}
}

// initRun is BR's Init, run by each top-level command's PersistentPreRunE: it sets up the
// logger as --log-level, --log-format, --log-file and BR_LOG_TO_TERM say, and logs the
// welcome and the arguments as BR does.
func (c *brCLI) initRun(cmd *cobra.Command) error {
	f := cmd.Flags()
	levelName, _ := f.GetString("log-level")
	level, err := parseLevel(levelName)
	if err != nil {
		return err
	}
	format, _ := f.GetString("log-format")
	file, _ := f.GetString("log-file")
	if _, toTerm := c.p.lookup("BR_LOG_TO_TERM"); toTerm {
		file = ""
	}
	l := &logger{out: c.p.stdout, level: level, json: format == "json"}
	if file != "" {
		out, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open log file %s: %w", file, err)
		}
		// The process exits without closing it; writes go straight to the file.
		l.out, l.dup = out, c.p.stdout
		fmt.Fprintf(c.p.stderr, "Detail BR log in %s \n", file)
	}
	c.log = l
	c.step = &stepper{ctl: c.p.ctl, commandPath: cmd.CommandPath()}

	c.log.info("info.go:49", "Welcome to Backup & Restore (BR)",
		fld("release-version", brReleaseVersion), fld("git-hash", brGitHash), fld("git-branch", "HEAD"),
		fld("go-version", runtime.Version()), fld("utc-build-time", "2026-01-01 00:00:00"), fld("race-enabled", false))
	fs := []field{fld("__command", cmd.CommandPath())}
	f.Visit(func(fl *pflag.Flag) {
		fs = append(fs, fld(fl.Name, redactFlagValue(fl.Name, fl.Value.String())))
	})
	c.log.info("common.go:998", "arguments", fs...)
	return nil
}

// redactFlagValue is what BR's LogArguments prints for a flag: secrets hidden.
func redactFlagValue(name, value string) string {
	if secretFlags["--"+name] {
		return redacted
	}
	if strings.Contains(value, "://") {
		return redactURL(value)
	}
	return value
}

func (c *brCLI) preRun(cmd *cobra.Command, _ []string) error { return c.initRun(cmd) }

// runE wraps a command's work as BR's cmd package does: the error is logged as
// "failed to <what>" before cobra prints "Error: ..." and main logs "br failed".
func (c *brCLI) runE(what string, fn func(ctx context.Context, cmd *cobra.Command) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		err := fn(c.ctx, cmd)
		if err != nil {
			c.log.error(runECallers[what], "failed to "+what, fld("error", err), fld("errorVerbose", verbose(err)))
		}
		return err
	}
}

// runECallers are the source lines of BR's cmd package that log a command's failure.
var runECallers = map[string]string{
	"backup": "backup.go:41", "restore": "restore.go:47", "stream": "stream.go:226", "abort restore": "abort.go:35",
}

func defineFilterFlags(f *pflag.FlagSet, defaults []string) {
	f.StringArrayP("filter", "f", defaults, "select tables to process")
	f.Bool("case-sensitive", false, "whether the table names used in --filter should be case-sensitive")
}

func defineDBFlags(cmd *cobra.Command, table bool) {
	cmd.Flags().String("db", "", "database name")
	_ = cmd.MarkFlagRequired("db")
	if table {
		cmd.Flags().String("table", "", "table name")
		_ = cmd.MarkFlagRequired("table")
	}
}

func defineRawFlags(f *pflag.FlagSet) {
	f.StringP("format", "", "hex", "start/end key format, support raw|escaped|hex")
	f.StringP("cf", "", "default", "backup specify cf, correspond to tikv cf")
	f.StringP("start", "", "", "backup raw kv start key, key is inclusive")
	f.StringP("end", "", "", "backup raw kv end key, key is exclusive")
}

func (c *brCLI) backupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "backup",
		Short:             "backup a TiDB/TiKV cluster",
		SilenceUsage:      true,
		PersistentPreRunE: c.preRun,
	}
	f := cmd.PersistentFlags()
	f.String("timeago", "", "The history version of the backup task, e.g. 1m, 1h. Do not exceed GCSafePoint")
	f.String("backupts", "", "the backup ts support TSO or datetime, e.g. '400036290571534337', '2018-05-11 01:42:23'")
	f.Uint64("lastbackupts", 0, "the last time backup ts, use for incremental backup, support TSO only")
	f.Int64("gcttl", 5*60, "the TTL (in seconds) that PD holds for BR's GC safepoint")
	f.String("compression", "zstd", "backup sst file compression algorithm, value can be one of 'lz4|zstd|snappy'")
	f.Int32("compression-level", 0, "compression level used for sst file compression")
	f.Bool("remove-schedulers", false, "disable the balance, shuffle and region-merge schedulers in PD to speed up backup")
	f.Bool("ignore-stats", true, "ignore backup stats")
	f.Bool("use-backupmeta-v2", true, "use backup meta v2 to store meta info")
	f.Bool("use-check-point", true, "use checkpoint mode")
	_ = f.MarkHidden("use-check-point")
	f.String("replica-read-label", "", "specify the label of the stores to be used for backup, e.g. 'label_key:label_value'")

	full := &cobra.Command{Use: "full", Short: "backup all database", Args: cobra.NoArgs,
		RunE: c.runE("backup", func(ctx context.Context, cmd *cobra.Command) error { return c.runBackup(ctx, cmd, "full") })}
	defineFilterFlags(full.Flags(), []string{"*.*"})
	full.Flags().String("type", "", "backup type, e.g. aws-ebs (volume snapshot backup)")
	full.Flags().String("volume-file", "./backup.json", "the file path of volume snapshot backup meta")
	full.Flags().Bool("operator-paused-gc-and-scheduler", false, "if the gc and scheduler are paused by the operator")
	full.Flags().String("progress-file", "progress.txt", "the file name of progress file")
	full.Flags().Bool("skip-aws", false, "don't access to aws environment")
	_ = full.Flags().MarkHidden("type")

	db := &cobra.Command{Use: "db", Short: "backup a database", Args: cobra.NoArgs,
		RunE: c.runE("backup", func(ctx context.Context, cmd *cobra.Command) error { return c.runBackup(ctx, cmd, "db") })}
	defineDBFlags(db, false)
	table := &cobra.Command{Use: "table", Short: "backup a table", Args: cobra.NoArgs,
		RunE: c.runE("backup", func(ctx context.Context, cmd *cobra.Command) error { return c.runBackup(ctx, cmd, "table") })}
	defineDBFlags(table, true)
	raw := &cobra.Command{Use: "raw", Short: "(experimental) backup a raw kv range from TiKV cluster", Args: cobra.NoArgs,
		RunE: c.runE("backup", func(ctx context.Context, cmd *cobra.Command) error { return c.runBackup(ctx, cmd, "raw") })}
	defineRawFlags(raw.Flags())
	cmd.AddCommand(full, db, table, raw)
	return cmd
}

func defineRestoreFlags(f *pflag.FlagSet) {
	f.Bool("online", false, "(experimental) Whether online when restore")
	f.Bool("no-schema", false, "skip creating schemas and tables, reuse existing empty ones")
	f.String("granularity", "coarse-grained", "Whether split & scatter regions using fine-grained way during restore")
	f.Bool("load-stats", true, "Run load stats at end of snapshot restore task")
	f.Bool("with-sys-table", true, "whether restore system privilege tables on default setting")
	f.Uint("pd-concurrency", 1, "concurrency pd-relative operations like split & scatter")
	f.Uint("batch-size", 128, "the batch size of restore")
	_ = f.MarkHidden("batch-size")
	f.Uint("ddl-batch-size", 128, "batch size for ddl to create a batch of tables once")
	f.Bool("checkpoint", true, "Set whether BR is using checkpoint")
	f.Uint("concurrency-per-store", 128, "The size of thread pool on each store that executes tasks")
	f.Bool("use-fsr", false, "whether enable FSR for AWS snapshots")
	f.String("target-az", "", "the target AZ for restored volumes")
	f.Bool("prepare", false, "prepare the volume snapshot restore")
	f.String("output-file", "", "the file path of volume restore output")
	f.String("type", "", "restore type, e.g. aws-ebs (volume snapshot restore)")
	f.String("volume-type", "gp3", "volume type of restored volumes")
	f.Int64("volume-iops", 0, "volume IOPS of restored volumes")
	f.Int64("volume-throughput", 0, "volume throughput of restored volumes")
	f.Bool("volume-encrypted", false, "whether encrypt the restored volumes")
	f.Bool("wait-tiflash-ready", false, "whether wait tiflash replica ready if tiflash exists")
}

// restoreLikeCommands are the restore subcommands, shared by `restore` and `abort restore`.
func (c *brCLI) restoreLikeCommands(what string, run func(ctx context.Context, cmd *cobra.Command, kind string) error) []*cobra.Command {
	mk := func(use, short, kind string) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs,
			RunE: c.runE(what, func(ctx context.Context, cmd *cobra.Command) error { return run(ctx, cmd, kind) })}
	}
	full := mk("full", "restore all tables", "full")
	defineFilterFlags(full.Flags(), []string{"*.*", "!mysql.*", "!sys.*", "!INFORMATION_SCHEMA.*", "!PERFORMANCE_SCHEMA.*", "!METRICS_SCHEMA.*", "!INSPECTION_SCHEMA.*"})
	db := mk("db", "restore tables in a database from the backup data", "db")
	defineDBFlags(db, false)
	table := mk("table", "restore a table from the backup data", "table")
	defineDBFlags(table, true)
	raw := mk("raw", "(experimental) restore a raw kv range to TiKV cluster", "raw")
	defineRawFlags(raw.Flags())
	point := mk("point", "restore data from log until specify commit timestamp", "point")
	defineFilterFlags(point.Flags(), []string{"*.*", "!mysql.*", "!sys.*", "!INFORMATION_SCHEMA.*", "!PERFORMANCE_SCHEMA.*", "!METRICS_SCHEMA.*", "!INSPECTION_SCHEMA.*"})
	point.Flags().String("start-ts", "", "the start timestamp which log restore from. support TSO or datetime, e.g. '400036290571534337' or '2018-05-11 01:42:23+0800'")
	point.Flags().String("restored-ts", "", "the point of restore, used for log restore. support TSO or datetime, e.g. '400036290571534337' or '2018-05-11 01:42:23+0800'")
	point.Flags().String("full-backup-storage", "", "specify the backup full storage. fill it if want restore full backup before restore log.")
	return []*cobra.Command{full, db, table, raw, point}
}

func (c *brCLI) restoreCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "restore",
		Short:             "restore a TiDB/TiKV cluster",
		SilenceUsage:      true,
		PersistentPreRunE: c.preRun,
	}
	defineRestoreFlags(cmd.PersistentFlags())
	cmd.AddCommand(c.restoreLikeCommands("restore", c.runRestore)...)
	return cmd
}

func (c *brCLI) abortCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "abort",
		Short:             "abort restore and clean up the restore checkpoint",
		SilenceUsage:      true,
		PersistentPreRunE: c.preRun,
	}
	restore := &cobra.Command{Use: "restore", Short: "abort restore operations"}
	defineRestoreFlags(restore.PersistentFlags())
	restore.AddCommand(c.restoreLikeCommands("abort restore", c.runAbortRestore)...)
	cmd.AddCommand(restore)
	return cmd
}

func (c *brCLI) logCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "log",
		Short:             "backup stream log from TiDB/TiKV cluster",
		SilenceUsage:      true,
		PersistentPreRunE: c.preRun,
	}
	mk := func(use, short string, run func(ctx context.Context, cmd *cobra.Command) error) *cobra.Command {
		sub := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: c.runE("stream", run)}
		return sub
	}
	start := mk("start", "start a log backup task", c.runLogStart)
	start.Flags().String("task-name", "", "The task name for the backup log task.")
	start.Flags().String("start-ts", "", "usually equals last full backupTS, used for backup log. Default value is current ts. support TSO or datetime, e.g. '400036290571534337' or '2018-05-11 01:42:23+0800'.")
	start.Flags().String("end-ts", "", "end ts, indicate stopping observe after endTS")
	_ = start.Flags().MarkHidden("end-ts")
	defineFilterFlags(start.Flags(), []string{"*.*"})

	stop := mk("stop", "stop a log backup task", c.runLogState("stop"))
	stop.Flags().String("task-name", "", "The task name for the backup log task.")
	pause := mk("pause", "pause a log backup task", c.runLogState("pause"))
	pause.Flags().String("task-name", "", "The task name for the backup log task.")
	pause.Flags().Int64("gc-ttl", 24*60*60, "the TTL (in seconds) that PD holds for BR's GC safepoint")
	resume := mk("resume", "resume a log backup task", c.runLogState("resume"))
	resume.Flags().String("task-name", "", "The task name for the backup log task.")

	status := mk("status", "get status for the log backup task", c.runLogStatus)
	status.Flags().String("task-name", "*", "The task name for backup stream log.")
	status.Flags().Bool("json", false, "Print JSON as the output.")

	truncate := mk("truncate", "truncate the log data until sometime", c.runLogTruncate)
	truncate.Flags().String("until", "", "Remove all backup data until this TS.(support TSO or datetime, e.g. '400036290571534337' or '2018-05-11 01:42:23+0800'.)")
	truncate.Flags().Bool("dry-run", false, "Run the command but don't really delete the files.")
	truncate.Flags().BoolP("yes", "y", false, "Skip all prompts and always execute the command.")

	cmd.AddCommand(start, stop, pause, resume, status, truncate)
	return cmd
}

func (c *brCLI) operatorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "operator <subcommand>",
		Short:             "utilities for operators like tidb-operator.",
		PersistentPreRunE: c.preRun,
		Hidden:            true,
	}
	b64 := &cobra.Command{
		Use:   "base64ify [-r] -s <storage>",
		Short: "generate base64 for a storage. this may be passed to `tikv-ctl compact-log-backup`.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runBase64ify(c.ctx, cmd)
		},
	}
	b64.Flags().BoolP("load-creds", "r", false, "whether loading the credientials from current environment and marshal them to the base64 string. [!]")
	for _, use := range []string{"pause-gc-and-schedulers", "prepare-for-snapshot-backup"} {
		pause := &cobra.Command{
			Use:   use,
			Short: "pause gc, schedulers and importing until the program exits.",
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return c.runPauseGC(c.ctx, cmd) },
		}
		pause.Flags().Duration("ttl", 5*time.Minute, "The time-to-live of the pausing.")
		pause.Flags().Duration("safepoint-ttl", 5*time.Minute, "The time-to-live of the service safepoint.")
		cmd.AddCommand(pause)
	}
	cmd.AddCommand(b64)
	return cmd
}

// runPauseGC holds "GC and schedulers paused" until it is signalled, as the real command
// holds them until its process exits.
func (c *brCLI) runPauseGC(ctx context.Context, _ *cobra.Command) error {
	c.log.info("prepare_snap.go:98", "Pausing GC, schedulers and importing until the program exits.")
	err := hang(ctx, c.p.ctl.hangMax)
	c.log.info("prepare_snap.go:130", "GC, schedulers and importing are resumed.")
	if isInterrupted(err) {
		return nil
	}
	return err
}

// requiredString is a flag BR checks itself (not with cobra's required marks): its error
// is an invalid-argument error in BR's words.
func requiredString(cmd *cobra.Command, name, msg string) (string, error) {
	v, _ := cmd.Flags().GetString(name)
	if strings.TrimSpace(v) == "" {
		return "", brError(errInvalidArgument, "%s", msg)
	}
	return v, nil
}

var errUnsupported = errors.New("not supported by brdouble")
