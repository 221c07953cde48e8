package cli

// The long help of each subcommand: what it does to the custom resource and where the tools,
// credentials and progress come from, for someone reading a Job's spec or a failed pod's log.
const (
	helpBackup = `Reads the Backup named by --namespace and --backupName and runs BR (/var/lib/br-bin/br,
copied there by the Job's init container) as its spec says, writing each step into the
Backup's status: Prepare (with status.backupPath), Running, then Complete (commitTs,
backupSize and times read back from the backupmeta BR wrote) or Failed (BR's error
lines). With --mode=log, --subcommand picks the log backup action and its own entry in
status.logSubCommandStatuses. BR's progress lines become status.progresses while it
runs.

Storage credentials are read from the environment only
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, GCS_SERVICE_ACCOUNT_JSON_KEY,
AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY or AZURE_CLIENT_*), the TiDB password of
spec.from from BACKUP_MANAGER_PASSWORD. SIGTERM stops BR and records the interruption.`

	helpRestore = `Reads the Restore named by --namespace and --restoreName and runs BR's restore
(--mode=snapshot) or point-in-time restore (--mode=pitr, up to --pitrRestoredTs),
recording Running, then Complete with commitTs or Failed, and BR's progress in
status.progresses. --abort runs 'br abort restore' for spec.prune: afterFailed
(PruneRunning, PruneComplete or PruneFailed). Credentials come from the environment, as
for backup.`

	helpClean = `Deletes every object under the Backup's status.backupPath and checks that nothing is
left, then records Clean (or CleanFailed with the reason). It deletes nothing when the
spec's storage no longer names that path or when the prefix could reach other data
(empty, '/', '..'). spec.cleanOption sets page size, concurrency and retries.`

	helpCompact = `Reads the CompactBackup named by --namespace and --resourceName, turns its storage into
tikv-ctl's form with 'br operator base64ify', and runs 'tikv-ctl compact-log-backup'
(/var/lib/kvctl-bin/tikv-ctl) from startTs to endTs, recording status.state,
status.progress from tikv-ctl's JSON log and status.endTs.`

	helpUnsupported = `This backup-manager backs up and restores with BR only; it does not carry Dumpling,
Lightning or rclone. The subcommand records Failed (reason NotSupported) in the
resource's status and exits non-zero. Set spec.br.cluster to use BR.`
)
