package job

// Subcommands of tidb-backup-manager.
const (
	CommandBackup  = "backup"
	CommandRestore = "restore"
	CommandClean   = "clean"
	CommandCompact = "compact"
	CommandExport  = "export"
	CommandImport  = "import"
)

// Flag names. They are wire format: never rename one.
const (
	FlagKubeconfig      = "kubeconfig"
	FlagKubeconfigShort = "k"

	FlagNamespace      = "namespace"
	FlagBackupName     = "backupName"
	FlagRestoreName    = "restoreName"
	FlagResourceName   = "resourceName"
	FlagTiKVVersion    = "tikvVersion"
	FlagClientTLS      = "client-tls"
	FlagClusterTLS     = "cluster-tls"
	FlagSkipClientCA   = "skipClientCA"
	FlagMode           = "mode"
	FlagSubcommand     = "subcommand"
	FlagCommitTS       = "commit-ts"
	FlagTruncateUntil  = "truncate-until"
	FlagInitialize     = "initialize"
	FlagPitrRestoredTS = "pitrRestoredTs"
	FlagPrepare        = "prepare"
	FlagTargetAZ       = "target-az"
	FlagUseFSR         = "use-fsr"
	FlagAbort          = "abort"
	FlagBucket         = "bucket"
	FlagStorageType    = "storageType"
	FlagBackupPath     = "backupPath"
)

// Defaults that differ from the zero value.
const (
	// DefaultTiKVVersion is assumed when the operator does not say which TiKV version the cluster
	// runs; it selects the oldest BR behaviour the backup-manager supports.
	DefaultTiKVVersion = "4.0"
	// DefaultTS is v1.6's "not given" value of --commit-ts, --truncate-until and --pitrRestoredTs.
	DefaultTS = "0"
)
