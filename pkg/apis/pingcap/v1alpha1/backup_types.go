package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Backup is one backup of a TidbCluster: a BR snapshot (full, database or table), a continuous BR
// log backup for point-in-time recovery, an EBS volume-snapshot backup, or a Dumpling SQL export.
// The operator runs it as a Job and reports progress in the status.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bk,categories=pingcap
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.backupType`,description="What a snapshot backup covers: full, db, table, ..."
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.backupMode`,description="snapshot, log or volume-snapshot"
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.phase`,description="Phase the backup is in"
// +kubebuilder:printcolumn:name="BackupPath",type=string,JSONPath=`.status.backupPath`,description="Where the data was written"
// +kubebuilder:printcolumn:name="BackupSize",type=string,JSONPath=`.status.backupSizeReadable`,description="Size of the backed-up data"
// +kubebuilder:printcolumn:name="IncrementalBackupSize",type=string,JSONPath=`.status.incrementalBackupSizeReadable`,description="Size the volume snapshots added (volume-snapshot backups only)",priority=10
// +kubebuilder:printcolumn:name="CommitTS",type=string,JSONPath=`.status.commitTs`,description="TSO the backup is consistent at (start TSO for log backups)"
// +kubebuilder:printcolumn:name="LogTruncateUntil",type=string,JSONPath=`.status.logSuccessTruncateUntil`,description="Log backup data before this TSO has been deleted"
// +kubebuilder:printcolumn:name="Started",type=date,JSONPath=`.status.timeStarted`,description="When the backup started",priority=1
// +kubebuilder:printcolumn:name="Completed",type=date,JSONPath=`.status.timeCompleted`,description="When the backup finished",priority=1
// +kubebuilder:printcolumn:name="TimeTaken",type=string,JSONPath=`.status.timeTaken`,description="How long the backup ran"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Backup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec says what to back up, with which tool and where to.
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) == 1 || ((has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) == 0 && has(self.backupMode) && (self.backupMode == 'volume-snapshot' || (self.backupMode == 'log' && ((has(self.logSubcommand) && (self.logSubcommand == 'log-stop' || self.logSubcommand == 'log-pause')) || (has(self.logStop) && self.logStop)))))",message="set exactly one of spec.s3, spec.gcs, spec.azblob or spec.local: it is where the backup data is written (only volume-snapshot backups and log backups being stopped or paused may leave all four out)"
	// +kubebuilder:validation:XValidation:rule="!has(self.br) || !has(self.backupType) || (self.backupType != 'db' && self.backupType != 'table') || (has(self.br.db) && self.br.db != '')",message="spec.br.db must name the database when spec.backupType is db or table (or use backupType full with spec.tableFilter)"
	// +kubebuilder:validation:XValidation:rule="!has(self.br) || !has(self.backupType) || self.backupType != 'table' || (has(self.br.table) && self.br.table != '')",message="spec.br.table must name the table when spec.backupType is table (or use backupType full with spec.tableFilter)"
	Spec BackupSpec `json:"spec"`

	// Status is what the operator and the backup Job last reported.
	// +optional
	Status BackupStatus `json:"status,omitempty"`
}

// BackupList is a list of Backups.
//
// +kubebuilder:object:root=true
type BackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []Backup `json:"items"`
}

func init() { register(&Backup{}, &BackupList{}) }

// BackupType is what a snapshot backup (or a restore of one) covers.
// +kubebuilder:validation:Enum="";full;raw;db;table;tiflash-replica
type BackupType string

const (
	// BackupTypeFull covers every database of the cluster, narrowed by spec.tableFilter if set.
	// It is what an empty backupType means.
	BackupTypeFull BackupType = "full"
	// BackupTypeRaw covers raw key-value data (TiKV used without TiDB).
	BackupTypeRaw BackupType = "raw"
	// BackupTypeDB covers the one database named in spec.br.db.
	BackupTypeDB BackupType = "db"
	// BackupTypeTable covers the one table spec.br.table of the database spec.br.db.
	BackupTypeTable BackupType = "table"
	// BackupTypeTiFlashReplica restores the TiFlash replicas that a failed restore with an old BR
	// left removed.
	BackupTypeTiFlashReplica BackupType = "tiflash-replica"
)

// BackupMode is how a backup is taken.
// +kubebuilder:validation:Enum="";snapshot;log;volume-snapshot
type BackupMode string

const (
	// BackupModeSnapshot is a BR (or Dumpling) snapshot at one TSO; an empty mode means this.
	BackupModeSnapshot BackupMode = "snapshot"
	// BackupModeLog is a continuous BR log backup, the change stream PiTR replays.
	BackupModeLog BackupMode = "log"
	// BackupModeVolumeSnapshot takes cloud volume snapshots of the TiKV data disks.
	BackupModeVolumeSnapshot BackupMode = "volume-snapshot"
)

// CleanPolicyType says what happens to the backup data when the Backup object is deleted.
// +kubebuilder:validation:Enum=Retain;OnFailure;Delete
type CleanPolicyType string

const (
	// CleanPolicyTypeRetain keeps the data.
	CleanPolicyTypeRetain CleanPolicyType = "Retain"
	// CleanPolicyTypeOnFailure deletes the data only if the backup failed.
	CleanPolicyTypeOnFailure CleanPolicyType = "OnFailure"
	// CleanPolicyTypeDelete deletes the data.
	CleanPolicyTypeDelete CleanPolicyType = "Delete"
)

// LogSubCommandType is an action on a log backup task. Users ask for log-start, log-stop or
// log-pause in spec.logSubcommand; the operator derives log-resume (log-start on a paused task)
// and log-truncate (spec.logTruncateUntil moved) itself.
type LogSubCommandType string

const (
	// LogStartCommand starts the log backup task.
	LogStartCommand LogSubCommandType = "log-start"
	// LogStopCommand stops and removes the log backup task.
	LogStopCommand LogSubCommandType = "log-stop"
	// LogPauseCommand pauses the log backup task.
	LogPauseCommand LogSubCommandType = "log-pause"
	// LogResumeCommand resumes a paused log backup task.
	LogResumeCommand LogSubCommandType = "log-resume"
	// LogTruncateCommand deletes log backup data older than spec.logTruncateUntil.
	LogTruncateCommand LogSubCommandType = "log-truncate"
	// LogUnknownCommand is what an unrecognised spec.logSubcommand parses to.
	LogUnknownCommand LogSubCommandType = "log-unknown"
)

// FederalVolumeBackupPhase is the step of a multi-cluster (federated) volume-snapshot backup this
// Backup is asked to perform.
type FederalVolumeBackupPhase string

const (
	// FederalVolumeBackupInitialize pauses GC and PD scheduling.
	FederalVolumeBackupInitialize FederalVolumeBackupPhase = "initialize"
	// FederalVolumeBackupExecute takes the volume snapshots.
	FederalVolumeBackupExecute FederalVolumeBackupPhase = "execute"
	// FederalVolumeBackupTeardown resumes GC and PD scheduling.
	FederalVolumeBackupTeardown FederalVolumeBackupPhase = "teardown"
)

// BackupSpec describes a backup. BackupSchedule reuses it as the template of the Backups it
// creates.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.logSubcommand) && has(self.logStop))",message="logStop is the old form of logSubcommand: set only logSubcommand (log-start, log-pause or log-stop) and remove logStop"
type BackupSpec struct {
	// Resources of the backup container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Env adds environment variables to the backup container; they override the ones the operator
	// sets for the storage credentials (S3_PROVIDER, AWS_REGION, GCS_PROJECT_ID, ...).
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// From says how to log in to the TiDB being backed up: Dumpling exports through it, and BR
	// backups of clusters older than v4.0.8 use it to raise tikv_gc_life_time.
	// +optional
	From *TiDBAccessConfig `json:"from,omitempty"`

	// Type is what a snapshot backup covers; empty means full.
	// +optional
	Type BackupType `json:"backupType,omitempty"`

	// Mode is how the backup is taken.
	// +optional
	// +kubebuilder:default=snapshot
	Mode BackupMode `json:"backupMode,omitempty"`

	// TikvGCLifeTime is the tikv_gc_life_time (a Go duration such as 72h) kept while the backup
	// runs, so that the data being read is not garbage-collected.
	// +optional
	TikvGCLifeTime *string `json:"tikvGCLifeTime,omitempty"`

	// StorageProvider is where the data is written (spec.s3, spec.gcs, spec.azblob or spec.local).
	StorageProvider `json:",inline"`

	// StorageClassName of the scratch volume Dumpling exports to before uploading; the cluster's
	// default class when unset.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageSize of the scratch volume Dumpling exports to, for example 100Gi.
	// +optional
	StorageSize string `json:"storageSize,omitempty"`

	// BR selects BR and tunes it; without it the backup is a Dumpling export of spec.from.
	// +optional
	BR *BRConfig `json:"br,omitempty"`

	// CommitTs is the TSO (or a time such as "2018-05-11 01:42:23") to back up at; for a log
	// backup, where the log starts. Now when unset.
	// +optional
	CommitTs string `json:"commitTs,omitempty"`

	// LogSubcommand drives a log backup: log-start starts or resumes it, log-pause pauses it and
	// log-stop stops it for good.
	// +optional
	// +kubebuilder:validation:Enum=log-start;log-stop;log-pause
	LogSubcommand LogSubCommandType `json:"logSubcommand,omitempty"`

	// LogTruncateUntil deletes log backup data older than this TSO or time, for example
	// "2018-05-11 01:42:23". Moving it forward triggers another truncation.
	// +optional
	LogTruncateUntil string `json:"logTruncateUntil,omitempty"`

	// LogStop is the old way to stop a log backup; use logSubcommand: log-stop.
	// +optional
	LogStop bool `json:"logStop,omitempty"`

	// CalcSizeLevel chooses how much effort a volume-snapshot backup spends on computing its size:
	// all, incremental or none.
	// +optional
	// +kubebuilder:default=all
	CalcSizeLevel string `json:"calcSizeLevel,omitempty"`

	// FederalVolumeBackupPhase is set by the federation controller on the member Backups of a
	// multi-cluster volume-snapshot backup.
	// +optional
	FederalVolumeBackupPhase FederalVolumeBackupPhase `json:"federalVolumeBackupPhase,omitempty"`

	// ResumeGcSchedule makes a volume-snapshot backup resume GC and PD scheduling.
	// +optional
	ResumeGcSchedule bool `json:"resumeGcSchedule,omitempty"`

	// Dumpling tunes Dumpling when spec.br is not set.
	// +optional
	Dumpling *DumplingConfig `json:"dumpling,omitempty"`

	// Tolerations of the backup Pod.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// ToolImage is the BR or Dumpling image. A BR image without a tag gets the TiKV version as its
	// tag.
	// +optional
	ToolImage string `json:"toolImage,omitempty"`

	// ImagePullSecrets for the backup Pod's images.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// TableFilter limits the backup to the tables these filter rules select, for example
	// ["db1.*", "!db1.tmp"].
	// +optional
	TableFilter []string `json:"tableFilter,omitempty"`

	// Affinity of the backup Pod.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// UseKMS decrypts the credentials in the Secrets with AWS KMS.
	// +optional
	UseKMS bool `json:"useKMS,omitempty"`

	// ServiceAccount the backup Pod runs as; tidb-backup-manager when empty.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`

	// CleanPolicy says what happens to the backup data when this object is deleted.
	// +optional
	// +kubebuilder:default=Retain
	CleanPolicy CleanPolicyType `json:"cleanPolicy,omitempty"`

	// CleanOption tunes how the data is deleted.
	// +optional
	CleanOption *CleanOption `json:"cleanOption,omitempty"`

	// PodSecurityContext of the backup Pod.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// PriorityClassName of the backup Pod.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// BackoffRetryPolicy says how a failed snapshot backup is retried.
	// +optional
	BackoffRetryPolicy BackoffRetryPolicy `json:"backoffRetryPolicy,omitempty"`

	// AdditionalVolumes are added to the backup Pod.
	// +optional
	AdditionalVolumes []corev1.Volume `json:"additionalVolumes,omitempty"`

	// AdditionalVolumeMounts are added to the backup container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`

	// VolumeBackupInitJobMaxActiveSeconds is how long the initialisation Job of a volume-snapshot
	// backup (which pauses GC and scheduling) may run.
	// +optional
	// +kubebuilder:default=600
	VolumeBackupInitJobMaxActiveSeconds int `json:"volumeBackupInitJobMaxActiveSeconds,omitempty"`
}

// CleanOption tunes the deletion of backup data.
type CleanOption struct {
	// PageSize is how many objects are listed and deleted per round; 10000 when unset.
	// +optional
	PageSize uint64 `json:"pageSize,omitempty"`

	// RetryCount is how many times the whole clean-up is retried inside the clean Pod.
	// +optional
	// +kubebuilder:default=5
	RetryCount int `json:"retryCount,omitempty"`

	// BackoffEnabled backs off when the storage rate-limits deletions.
	// +optional
	BackoffEnabled bool `json:"backoffEnabled,omitempty"`

	BatchDeleteOption `json:",inline"`

	// SnapshotsDeleteRatio is how many volume snapshots are deleted per second.
	// +optional
	// +kubebuilder:default=1
	SnapshotsDeleteRatio float64 `json:"snapshotsDeleteRatio,omitempty"`
}

// BatchDeleteOption tunes how objects are deleted in parallel.
type BatchDeleteOption struct {
	// DisableBatchConcurrency deletes objects one request each instead of with S3's batch API.
	// +optional
	DisableBatchConcurrency bool `json:"disableBatchConcurrency,omitempty"`

	// BatchConcurrency is how many batch deletions (S3 only) run at once; 10 when unset.
	// +optional
	BatchConcurrency uint32 `json:"batchConcurrency,omitempty"`

	// RoutineConcurrency is how many single-object deletions run at once; 100 when unset.
	// +optional
	RoutineConcurrency uint32 `json:"routineConcurrency,omitempty"`
}

// BackoffRetryPolicy says how a failed snapshot backup is retried: the n-th retry waits
// MinRetryDuration * 2^(n-1), and retrying stops after MaxRetryTimes retries or once RetryTimeout
// has passed since the first failure.
type BackoffRetryPolicy struct {
	// MinRetryDuration is the wait before the first retry, a Go duration.
	// +optional
	// +kubebuilder:default="300s"
	MinRetryDuration string `json:"minRetryDuration,omitempty"`

	// MaxRetryTimes is the most retries made.
	// +optional
	// +kubebuilder:default=2
	MaxRetryTimes int `json:"maxRetryTimes,omitempty"`

	// RetryTimeout is how long after the first failure retries may still start, a Go duration.
	// +optional
	// +kubebuilder:default="30m"
	RetryTimeout string `json:"retryTimeout,omitempty"`
}

// BackoffRetryRecord is one retry of a failed backup.
type BackoffRetryRecord struct {
	// RetryNum counts the retries, from 1.
	// +optional
	RetryNum int `json:"retryNum,omitempty"`

	// DetectFailedAt is when the failure was noticed.
	// +optional
	DetectFailedAt *metav1.Time `json:"detectFailedAt,omitempty"`

	// ExpectedRetryAt is when the retry is due.
	// +optional
	ExpectedRetryAt *metav1.Time `json:"expectedRetryAt,omitempty"`

	// RealRetryAt is when the retry actually started.
	// +optional
	RealRetryAt *metav1.Time `json:"realRetryAt,omitempty"`

	// RetryReason says why a retry was scheduled.
	// +optional
	RetryReason string `json:"retryReason,omitempty"`

	// OriginalReason is why the Job or Pod failed.
	// +optional
	OriginalReason string `json:"originalReason,omitempty"`
}

// BackupConditionType is a condition of a Backup; the latest one written also becomes
// status.phase.
type BackupConditionType string

const (
	// BackupScheduled means the backup Job was created.
	BackupScheduled BackupConditionType = "Scheduled"
	// BackupRunning means the tool is running.
	BackupRunning BackupConditionType = "Running"
	// BackupComplete means the data is in the storage.
	BackupComplete BackupConditionType = "Complete"
	// BackupClean means the data was deleted (or a clean Job is deleting it, while False).
	BackupClean BackupConditionType = "Clean"
	// BackupRepeatable means a log backup subcommand finished and another may run.
	BackupRepeatable BackupConditionType = "Repeatable"
	// BackupFailed means the backup failed for good.
	BackupFailed BackupConditionType = "Failed"
	// BackupRetryTheFailed means the backup failed and a retry is scheduled.
	BackupRetryTheFailed BackupConditionType = "RetryFailed"
	// BackupCleanFailed means deleting the data failed.
	BackupCleanFailed BackupConditionType = "CleanFailed"
	// BackupInvalid means the spec cannot be acted on.
	BackupInvalid BackupConditionType = "Invalid"
	// BackupPrepare means the backup Job is preparing (resolving the path, raising the GC time).
	BackupPrepare BackupConditionType = "Prepare"
	// BackupPaused means the log backup task is paused.
	BackupPaused BackupConditionType = "Paused"
	// BackupStopped means the log backup task is stopped.
	BackupStopped BackupConditionType = "Stopped"
	// BackupRestart means the backup Pod started again; it never becomes the phase.
	BackupRestart BackupConditionType = "Restart"
	// VolumeBackupInitialized means GC and PD scheduling are paused for a volume-snapshot backup.
	VolumeBackupInitialized BackupConditionType = "VolumeBackupInitialized"
	// VolumeBackupInitializeFailed means pausing GC and PD scheduling failed.
	VolumeBackupInitializeFailed BackupConditionType = "VolumeBackupInitializeFailed"
	// VolumeBackupSnapshotsCreated means every volume snapshot was requested; the data is frozen.
	VolumeBackupSnapshotsCreated BackupConditionType = "VolumeBackupSnapshotsCreated"
	// VolumeBackupInitializeComplete means GC and PD scheduling were resumed.
	VolumeBackupInitializeComplete BackupConditionType = "VolumeBackupInitializeComplete"
	// VolumeBackupComplete means every volume snapshot finished.
	VolumeBackupComplete BackupConditionType = "VolumeBackupComplete"
	// VolumeBackupFailed means taking the volume snapshots failed.
	VolumeBackupFailed BackupConditionType = "VolumeBackupFailed"
)

// BackupCondition is one condition of a Backup. There is at most one per type.
type BackupCondition struct {
	// Command is the log backup subcommand the condition is about.
	// +optional
	Command LogSubCommandType `json:"command,omitempty"`

	// Type of the condition.
	Type BackupConditionType `json:"type"`

	// Status is True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`

	// LastTransitionTime is when Status last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Reason is a CamelCase word saying why.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message says what happened in a sentence.
	// +optional
	Message string `json:"message,omitempty"`
}

// LogSubCommandStatus is the state of the latest run of one log backup subcommand.
type LogSubCommandStatus struct {
	// Command is the subcommand.
	// +optional
	Command LogSubCommandType `json:"command,omitempty"`

	// TimeStarted is when the subcommand started.
	// +optional
	// +nullable
	TimeStarted metav1.Time `json:"timeStarted,omitempty"`

	// TimeCompleted is when the subcommand finished.
	// +optional
	// +nullable
	TimeCompleted metav1.Time `json:"timeCompleted,omitempty"`

	// LogTruncatingUntil is the truncation point a log-truncate run works towards.
	// +optional
	LogTruncatingUntil string `json:"logTruncatingUntil,omitempty"`

	// Phase is the subcommand's latest condition type.
	// +optional
	Phase BackupConditionType `json:"phase,omitempty"`

	// Conditions of the subcommand.
	// +optional
	// +nullable
	Conditions []BackupCondition `json:"conditions,omitempty"`
}

// Progress is how far one step of a backup or restore got.
type Progress struct {
	// Step names the step.
	// +optional
	Step string `json:"step,omitempty"`

	// Progress is the percentage done, 0 to 100.
	// +optional
	Progress float64 `json:"progress,omitempty"`

	// LastTransitionTime is when Progress was last updated.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// BackupStatus is what the operator and the backup Job last reported.
type BackupStatus struct {
	// BackupPath is the full URL of the data, for example s3://bucket/prefix.
	// +optional
	BackupPath string `json:"backupPath,omitempty"`

	// TimeStarted is when the backup started.
	// +optional
	// +nullable
	TimeStarted metav1.Time `json:"timeStarted,omitempty"`

	// TimeCompleted is when the backup finished.
	// +optional
	// +nullable
	TimeCompleted metav1.Time `json:"timeCompleted,omitempty"`

	// TimeTaken is TimeCompleted - TimeStarted, as a Go duration.
	// +optional
	TimeTaken string `json:"timeTaken,omitempty"`

	// BackupSizeReadable is BackupSize for humans, for example "1.2 GB".
	// +optional
	BackupSizeReadable string `json:"backupSizeReadable,omitempty"`

	// BackupSize is the size of the data in bytes.
	// +optional
	BackupSize int64 `json:"backupSize,omitempty"`

	// IncrementalBackupSizeReadable is IncrementalBackupSize for humans.
	// +optional
	IncrementalBackupSizeReadable string `json:"incrementalBackupSizeReadable,omitempty"`

	// IncrementalBackupSize is how many bytes the volume snapshots of a volume-snapshot backup
	// added on top of the previous snapshots.
	// +optional
	IncrementalBackupSize int64 `json:"incrementalBackupSize,omitempty"`

	// CommitTs is the TSO the snapshot is consistent at; for a log backup, where the log starts.
	// +optional
	CommitTs string `json:"commitTs,omitempty"`

	// LogSuccessTruncateUntil is the point before which log backup data has been deleted.
	// +optional
	LogSuccessTruncateUntil string `json:"logSuccessTruncateUntil,omitempty"`

	// LogCheckpointTs is the TSO up to which the log backup has saved every change.
	// +optional
	LogCheckpointTs string `json:"logCheckpointTs,omitempty"`

	// Phase is the type of the condition written last.
	// +optional
	Phase BackupConditionType `json:"phase,omitempty"`

	// Conditions of the backup, at most one per type.
	// +optional
	// +nullable
	Conditions []BackupCondition `json:"conditions,omitempty"`

	// LogSubCommandStatuses is the latest run of each log backup subcommand, by subcommand.
	// +optional
	LogSubCommandStatuses map[LogSubCommandType]LogSubCommandStatus `json:"logSubCommandStatuses,omitempty"`

	// Progresses of the backup's steps.
	// +optional
	// +nullable
	Progresses []Progress `json:"progresses,omitempty"`

	// BackoffRetryStatus lists the retries of a failed snapshot backup, oldest first.
	// +optional
	BackoffRetryStatus []BackoffRetryRecord `json:"backoffRetryStatus,omitempty"`
}
