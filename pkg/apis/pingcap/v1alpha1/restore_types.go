package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Restore loads a backup into a TidbCluster: a BR snapshot, a point-in-time recovery (a snapshot
// plus a log backup replayed up to a chosen moment), EBS volume snapshots, or a Dumpling export
// loaded with TiDB Lightning. The operator runs it as a Job and reports progress in the status.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rt,categories=pingcap
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.phase`,description="Phase the restore is in"
// +kubebuilder:printcolumn:name="Started",type=date,JSONPath=`.status.timeStarted`,description="When the restore started",priority=1
// +kubebuilder:printcolumn:name="Completed",type=date,JSONPath=`.status.timeCompleted`,description="When the restore finished",priority=1
// +kubebuilder:printcolumn:name="TimeTaken",type=string,JSONPath=`.status.timeTaken`,description="How long the restore ran"
// +kubebuilder:printcolumn:name="CommitTS",type=string,JSONPath=`.status.commitTs`,description="TSO the restored data is consistent at"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Restore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec says what to restore, from where and into which cluster.
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) == 1 || ((has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) == 0 && has(self.restoreMode) && self.restoreMode == 'volume-snapshot')",message="set exactly one of spec.s3, spec.gcs, spec.azblob or spec.local: it is where the backup data is read from (for PiTR, the log backup)"
	// +kubebuilder:validation:XValidation:rule="!has(self.br) || !has(self.backupType) || (self.backupType != 'db' && self.backupType != 'table') || (has(self.br.db) && self.br.db != '')",message="spec.br.db must name the database when spec.backupType is db or table (or use backupType full with spec.tableFilter)"
	// +kubebuilder:validation:XValidation:rule="!has(self.br) || !has(self.backupType) || self.backupType != 'table' || (has(self.br.table) && self.br.table != '')",message="spec.br.table must name the table when spec.backupType is table (or use backupType full with spec.tableFilter)"
	Spec RestoreSpec `json:"spec"`

	// Status is what the operator and the restore Job last reported.
	// +optional
	Status RestoreStatus `json:"status,omitempty"`
}

// RestoreList is a list of Restores.
//
// +kubebuilder:object:root=true
type RestoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []Restore `json:"items"`
}

func init() { register(&Restore{}, &RestoreList{}) }

// RestoreMode is what kind of backup a Restore loads.
// +kubebuilder:validation:Enum="";snapshot;pitr;volume-snapshot
type RestoreMode string

const (
	// RestoreModeSnapshot loads a snapshot backup; an empty mode means this.
	RestoreModeSnapshot RestoreMode = "snapshot"
	// RestoreModePiTR loads a snapshot and replays a log backup up to spec.pitrRestoredTs.
	RestoreModePiTR RestoreMode = "pitr"
	// RestoreModeVolumeSnapshot creates the TiKV volumes from volume snapshots.
	RestoreModeVolumeSnapshot RestoreMode = "volume-snapshot"
)

// PruneType says when the operator cleans up after a restore.
// +kubebuilder:validation:Enum=afterFailed
type PruneType string

const (
	// PruneTypeAfterFailed aborts the BR restore task (br abort restore) once the restore failed,
	// so that a new one can start.
	PruneTypeAfterFailed PruneType = "afterFailed"
)

// FederalVolumeRestorePhase is the step of a multi-cluster (federated) volume-snapshot restore
// this Restore is asked to perform.
type FederalVolumeRestorePhase string

const (
	// FederalVolumeRestoreVolume creates the TiKV volumes from the snapshots.
	FederalVolumeRestoreVolume FederalVolumeRestorePhase = "restore-volume"
	// FederalVolumeRestoreData makes the restored TiKV data consistent.
	FederalVolumeRestoreData FederalVolumeRestorePhase = "restore-data"
	// FederalVolumeRestoreFinish finishes the restore.
	FederalVolumeRestoreFinish FederalVolumeRestorePhase = "restore-finish"
)

// RestoreWarmupMode says whether and how the volumes restored from snapshots are warmed up
// (read once end to end, so that lazily-loaded snapshot blocks are fetched before TiKV needs them).
type RestoreWarmupMode string

const (
	// RestoreWarmupModeSync warms the volumes up before TiKV starts.
	RestoreWarmupModeSync RestoreWarmupMode = "sync"
	// RestoreWarmupModeASync warms the volumes up while TiKV already runs.
	RestoreWarmupModeASync RestoreWarmupMode = "async"
)

// RestoreWarmupStrategy is how the restored volumes are warmed up.
type RestoreWarmupStrategy string

const (
	// RestoreWarmupStrategyHybrid reads the files TiKV needs first with fio and the rest of the
	// block device afterwards.
	RestoreWarmupStrategyHybrid RestoreWarmupStrategy = "hybrid"
	// RestoreWarmupStrategyFio reads the whole block device with fio.
	RestoreWarmupStrategyFio RestoreWarmupStrategy = "fio"
	// RestoreWarmupStrategyFsr relies on EBS fast snapshot restore instead of reading.
	RestoreWarmupStrategyFsr RestoreWarmupStrategy = "fsr"
	// RestoreWarmupStrategyCheckOnly only checks the TiKV write-ahead logs and stops there.
	RestoreWarmupStrategyCheckOnly RestoreWarmupStrategy = "check-only"
)

// RestoreSpec describes a restore.
type RestoreSpec struct {
	// Resources of the restore container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Env adds environment variables to the restore container; they override the ones the
	// operator sets for the storage credentials.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// To says how to log in to the target TiDB, for Lightning and for BR restores into clusters
	// that need tikv_gc_life_time raised.
	// +optional
	To *TiDBAccessConfig `json:"to,omitempty"`

	// Type is what the snapshot backup covers; empty means full.
	// +optional
	Type BackupType `json:"backupType,omitempty"`

	// Mode is what kind of backup is loaded.
	// +optional
	// +kubebuilder:default=snapshot
	Mode RestoreMode `json:"restoreMode,omitempty"`

	// PitrRestoredTs is the TSO or time (for example "2025-01-02 15:04:05+0800") a PiTR restore
	// recovers to.
	// +optional
	PitrRestoredTs string `json:"pitrRestoredTs,omitempty"`

	// LogRestoreStartTs is where replaying the log backup starts when no snapshot is restored
	// first (pitrFullBackupStorageProvider unset).
	// +optional
	LogRestoreStartTs string `json:"logRestoreStartTs,omitempty"`

	// FederalVolumeRestorePhase is set by the federation controller on the member Restores of a
	// multi-cluster volume-snapshot restore.
	// +optional
	FederalVolumeRestorePhase FederalVolumeRestorePhase `json:"federalVolumeRestorePhase,omitempty"`

	// VolumeAZ is the availability zone the TiKV volumes are created in, for volume-snapshot
	// restores.
	// +optional
	VolumeAZ string `json:"volumeAZ,omitempty"`

	// TikvGCLifeTime is the tikv_gc_life_time (a Go duration such as 72h) kept while the restore
	// runs.
	// +optional
	TikvGCLifeTime *string `json:"tikvGCLifeTime,omitempty"`

	// StorageProvider is where the data is read from (spec.s3, spec.gcs, spec.azblob or
	// spec.local); for PiTR, the log backup.
	StorageProvider `json:",inline"`

	// PitrFullBackupStorageProvider is where the snapshot backup a PiTR restore starts from lives.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) <= 1",message="set at most one of spec.pitrFullBackupStorageProvider.s3, .gcs, .azblob or .local: it is where the snapshot backup PiTR starts from"
	PitrFullBackupStorageProvider StorageProvider `json:"pitrFullBackupStorageProvider,omitempty"`

	// StorageClassName of the scratch volume Lightning downloads to; the cluster's default class
	// when unset.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageSize of the scratch volume Lightning downloads to, for example 100Gi.
	// +optional
	StorageSize string `json:"storageSize,omitempty"`

	// BR selects BR and tunes it; without it the restore loads a Dumpling export with TiDB
	// Lightning.
	// +optional
	BR *BRConfig `json:"br,omitempty"`

	// TableFilter limits the restore to the tables these filter rules select.
	// +optional
	TableFilter []string `json:"tableFilter,omitempty"`

	// Warmup warms up the volumes of a volume-snapshot restore: sync or async. Off when empty.
	// +optional
	Warmup RestoreWarmupMode `json:"warmup,omitempty"`

	// WarmupImage is the image of the warm-up Jobs.
	// +optional
	WarmupImage string `json:"warmupImage,omitempty"`

	// WarmupStrategy is how the volumes are warmed up: hybrid, fio, fsr or check-only.
	// +optional
	// +kubebuilder:default=hybrid
	WarmupStrategy RestoreWarmupStrategy `json:"warmupStrategy,omitempty"`

	// PodSecurityContext of the restore Pod.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// ImagePullSecrets for the restore Pod's images.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// ServiceAccount the restore Pod runs as; tidb-backup-manager when empty.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`

	// UseKMS decrypts the credentials in the Secrets with AWS KMS.
	// +optional
	UseKMS bool `json:"useKMS,omitempty"`

	// PriorityClassName of the restore Pod.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// Tolerations of the restore Pod.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity of the restore Pod.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// ToolImage is the BR or Lightning image. A BR image without a tag gets the TiKV version as
	// its tag.
	// +optional
	ToolImage string `json:"toolImage,omitempty"`

	// AdditionalVolumes are added to the restore Pod.
	// +optional
	AdditionalVolumes []corev1.Volume `json:"additionalVolumes,omitempty"`

	// AdditionalVolumeMounts are added to the restore container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`

	// TolerateSingleTiKVOutage lets a volume-snapshot restore go on with one TiKV down.
	// +optional
	// +kubebuilder:default=false
	TolerateSingleTiKVOutage bool `json:"tolerateSingleTiKVOutage,omitempty"`

	// BackoffLimit of the restore Job: how often a failed Pod is retried.
	// +optional
	// +kubebuilder:default=0
	BackoffLimit int32 `json:"backoffLimit,omitempty"`

	// Prune cleans up after the restore; afterFailed aborts the BR task once the restore failed.
	// +optional
	Prune PruneType `json:"prune,omitempty"`
}

// RestoreConditionType is a condition of a Restore; the latest one written also becomes
// status.phase.
type RestoreConditionType string

const (
	// RestoreScheduled means the restore Job was created.
	RestoreScheduled RestoreConditionType = "Scheduled"
	// RestoreRunning means the tool is running.
	RestoreRunning RestoreConditionType = "Running"
	// RestoreVolumeComplete means the TiKV volumes were created from the snapshots.
	RestoreVolumeComplete RestoreConditionType = "VolumeComplete"
	// CleanVolumeComplete means the volumes of a failed volume-snapshot restore were removed.
	CleanVolumeComplete RestoreConditionType = "CleanVolumeComplete"
	// RestoreWarmUpStarted means the warm-up Jobs were created.
	RestoreWarmUpStarted RestoreConditionType = "WarmUpStarted"
	// RestoreWarmUpComplete means the warm-up Jobs finished.
	RestoreWarmUpComplete RestoreConditionType = "WarmUpComplete"
	// RestoreDataComplete means the restored TiKV data was made consistent.
	RestoreDataComplete RestoreConditionType = "DataComplete"
	// RestoreTiKVComplete means every TiKV is up on the restored volumes.
	RestoreTiKVComplete RestoreConditionType = "TikvComplete"
	// RestoreComplete means the restore finished.
	RestoreComplete RestoreConditionType = "Complete"
	// RestoreFailed means the restore failed.
	RestoreFailed RestoreConditionType = "Failed"
	// RestoreRetryFailed means the restore failed and is being retried.
	RestoreRetryFailed RestoreConditionType = "RetryFailed"
	// RestoreInvalid means the spec cannot be acted on.
	RestoreInvalid RestoreConditionType = "Invalid"
	// RestorePruneScheduled means the prune Job was created.
	RestorePruneScheduled RestoreConditionType = "PruneScheduled"
	// RestorePruneRunning means the prune Job is running.
	RestorePruneRunning RestoreConditionType = "PruneRunning"
	// RestorePruneComplete means the prune Job finished.
	RestorePruneComplete RestoreConditionType = "PruneComplete"
	// RestorePruneFailed means the prune Job failed.
	RestorePruneFailed RestoreConditionType = "PruneFailed"
)

// RestoreCondition is one condition of a Restore. There is at most one per type.
type RestoreCondition struct {
	// Type of the condition.
	Type RestoreConditionType `json:"type"`

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

// RestoreStatus is what the operator and the restore Job last reported.
type RestoreStatus struct {
	// TimeStarted is when the restore started.
	// +optional
	// +nullable
	TimeStarted metav1.Time `json:"timeStarted,omitempty"`

	// TimeCompleted is when the restore finished.
	// +optional
	// +nullable
	TimeCompleted metav1.Time `json:"timeCompleted,omitempty"`

	// TimeTaken is TimeCompleted - TimeStarted, as a Go duration.
	// +optional
	TimeTaken string `json:"timeTaken,omitempty"`

	// CommitTs is the TSO the restored data is consistent at.
	// +optional
	CommitTs string `json:"commitTs,omitempty"`

	// Phase is the type of the condition written last.
	// +optional
	Phase RestoreConditionType `json:"phase,omitempty"`

	// Conditions of the restore, at most one per type.
	// +optional
	// +nullable
	Conditions []RestoreCondition `json:"conditions,omitempty"`

	// Progresses of the restore's steps.
	// +optional
	// +nullable
	Progresses []Progress `json:"progresses,omitempty"`
}
