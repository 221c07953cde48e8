package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CompactBackup compacts a range of log backup data into SST files with tikv-ctl, so that a
// point-in-time recovery over that range replays less log.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cpbk,categories=pingcap
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`,description="State the compaction is in"
// +kubebuilder:printcolumn:name="EndTs",type=string,JSONPath=`.status.endTs`,description="TSO the compaction covers up to"
// +kubebuilder:printcolumn:name="Progress",type=string,JSONPath=`.status.progress`,description="How far a running compaction got"
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,description="Latest message, for example why it failed"
type CompactBackup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec says which log backup to compact and over which range.
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) == 1",message="set exactly one of spec.s3, spec.gcs, spec.azblob or spec.local: it is where the log backup to compact lives"
	Spec CompactSpec `json:"spec"`

	// Status is what the compaction Job last reported.
	// +optional
	Status CompactStatus `json:"status,omitempty"`
}

// CompactBackupList is a list of CompactBackups.
//
// +kubebuilder:object:root=true
type CompactBackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []CompactBackup `json:"items"`
}

func init() { register(&CompactBackup{}, &CompactBackupList{}) }

// CompactSpec describes a compaction of log backup data. BackupSchedule reuses it as the template
// of the CompactBackups it creates.
type CompactSpec struct {
	// Resources of the compaction container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Env adds environment variables to the compaction container.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// StorageProvider is where the log backup lives (spec.s3, spec.gcs, spec.azblob or
	// spec.local).
	StorageProvider `json:",inline"`

	// StartTs is the TSO or time where the compacted range starts.
	// +optional
	StartTs string `json:"startTs,omitempty"`

	// EndTs is the TSO or time where the compacted range ends.
	// +optional
	EndTs string `json:"endTs,omitempty"`

	// Concurrency is how many compactions tikv-ctl runs at once.
	// +optional
	// +kubebuilder:default=4
	Concurrency int `json:"concurrency,omitempty"`

	// Tolerations of the compaction Pod.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// ToolImage is the BR image, from which the br binary is copied.
	// +optional
	ToolImage string `json:"toolImage,omitempty"`

	// TikvImage is the TiKV image, from which the tikv-ctl binary is copied.
	// +optional
	TikvImage string `json:"tikvImage,omitempty"`

	// BR names the cluster whose log backup this is and tunes BR.
	// +optional
	BR *BRConfig `json:"br,omitempty"`

	// ImagePullSecrets for the compaction Pod's images.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// Affinity of the compaction Pod.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// UseKMS decrypts the credentials in the Secrets with AWS KMS.
	// +optional
	UseKMS bool `json:"useKMS,omitempty"`

	// ServiceAccount the compaction Pod runs as; tidb-backup-manager when empty.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`

	// PodSecurityContext of the compaction Pod.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// PriorityClassName of the compaction Pod.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// MaxRetryTimes is how often a failed compaction Job is retried.
	// +optional
	// +kubebuilder:default=6
	MaxRetryTimes int32 `json:"maxRetryTimes,omitempty"`

	// AdditionalVolumes are added to the compaction Pod.
	// +optional
	AdditionalVolumes []corev1.Volume `json:"additionalVolumes,omitempty"`

	// AdditionalVolumeMounts are added to the compaction container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`
}

// CompactState is the state of a CompactBackup (status.state).
type CompactState string

const (
	// CompactStateScheduled means the compaction Job was created.
	CompactStateScheduled CompactState = "Scheduled"
	// CompactStatePrepare means the Job is preparing (encoding the storage URL for tikv-ctl).
	CompactStatePrepare CompactState = "Prepare"
	// CompactStateRunning means tikv-ctl is compacting.
	CompactStateRunning CompactState = "Running"
	// CompactStateComplete means the compaction finished.
	CompactStateComplete CompactState = "Complete"
	// CompactStateFailed means the compaction failed for good.
	CompactStateFailed CompactState = "Failed"
	// CompactStateRetryFailed means the compaction Job failed and will be retried.
	CompactStateRetryFailed CompactState = "RetryFailed"
)

// CompactRetryRecord is one retry of a failed compaction Job.
type CompactRetryRecord struct {
	// RetryNum counts the retries, from 1.
	// +optional
	RetryNum int `json:"retryNum,omitempty"`

	// DetectFailedAt is when the failure was noticed.
	// +optional
	DetectFailedAt *metav1.Time `json:"detectFailedAt,omitempty"`

	// RetryReason says why the Job failed.
	// +optional
	RetryReason string `json:"retryReason,omitempty"`
}

// CompactStatus is what the compaction Job last reported.
type CompactStatus struct {
	// State is Scheduled, Prepare, Running, Complete, Failed or RetryFailed.
	// +optional
	State CompactState `json:"state,omitempty"`

	// Progress is tikv-ctl's latest progress report, for human eyes.
	// +optional
	Progress string `json:"progress,omitempty"`

	// Message is the latest message, for example why the compaction failed.
	// +optional
	Message string `json:"message,omitempty"`

	// EndTs is the TSO the compaction covers up to.
	// +optional
	EndTs string `json:"endTs,omitempty"`

	// BackoffRetryStatus lists the retries of failed compaction Jobs, oldest first.
	// +optional
	BackoffRetryStatus []CompactRetryRecord `json:"backoffRetryStatus,omitempty"`
}
