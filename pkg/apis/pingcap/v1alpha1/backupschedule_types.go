package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackupSchedule takes Backups on a cron schedule, keeps one continuous log backup running if
// asked to, compacts the log backup periodically, and deletes old Backups beyond maxBackups or
// maxReservedTime.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bks,categories=pingcap
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`,description="Cron schedule of the snapshot backups"
// +kubebuilder:printcolumn:name="MaxBackups",type=integer,JSONPath=`.spec.maxBackups`,description="How many Backups are kept"
// +kubebuilder:printcolumn:name="MaxReservedTime",type=string,JSONPath=`.spec.maxReservedTime`,description="How long Backups are kept"
// +kubebuilder:printcolumn:name="LastBackup",type=string,JSONPath=`.status.lastBackup`,description="Name of the Backup created last",priority=1
// +kubebuilder:printcolumn:name="LastBackupTime",type=date,JSONPath=`.status.lastBackupTime`,description="When the last Backup was created",priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BackupSchedule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec says when to back up, what the Backups look like and how many to keep.
	Spec BackupScheduleSpec `json:"spec"`

	// Status records the Backups and compactions the schedule created last.
	// +optional
	Status BackupScheduleStatus `json:"status,omitempty"`
}

// BackupScheduleList is a list of BackupSchedules.
//
// +kubebuilder:object:root=true
type BackupScheduleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []BackupSchedule `json:"items"`
}

func init() { register(&BackupSchedule{}, &BackupScheduleList{}) }

// scheduleCronPattern is the CEL regular expression spec.schedule must match (kept here so that
// unit tests can exercise the same expression as the CRD). It accepts what robfig/cron's
// ParseStandard accepts: five fields (minute, hour, day of month, month, day of week) made of
// lists of "*", "?", numbers or ranges with optional steps, month and weekday names in the last two
// fields, or one of the @ descriptors, optionally after a TZ= or CRON_TZ= time zone. It does not
// check ranges of numbers; the controller reports those.
const scheduleCronPattern = `^((CRON_)?TZ=[^[:space:]]* [[:space:]]*)?(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every [-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)|[[:space:]]*([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?(,([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?(,([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?(,([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))(-([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?(/[+]?[0-9]+)?(,([*?]|([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))(-([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))(-([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))?(/[+]?[0-9]+)?(,([*?]|([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))(-([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))?(/[+]?[0-9]+)?)*[[:space:]]*)$`

// goDurationPattern matches what time.ParseDuration accepts.
const goDurationPattern = `^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

// BackupScheduleSpec describes a backup schedule.
//
// +kubebuilder:validation:XValidation:rule="has(self.backupTemplate) || has(self.logBackupTemplate)",message="set spec.backupTemplate (scheduled snapshot backups), spec.logBackupTemplate (a continuous log backup) or both"
// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) <= 1",message="set at most one of spec.s3, spec.gcs, spec.azblob or spec.local"
type BackupScheduleSpec struct {
	// Schedule is when snapshot backups are taken: a five-field cron expression such as
	// "0 2 * * *" (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly,
	// @monthly, @yearly, @every <duration>; optionally prefixed with TZ=<zone>.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.matches('^((CRON_)?TZ=[^[:space:]]* [[:space:]]*)?(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every [-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)|[[:space:]]*([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?(,([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?(,([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?(,([*?]|[+]?[0-9]+)(-[+]?[0-9]+)?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))(-([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?(/[+]?[0-9]+)?(,([*?]|([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))(-([+]?[0-9]+|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?(/[+]?[0-9]+)?)*[[:space:]]+([*?]|([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))(-([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))?(/[+]?[0-9]+)?(,([*?]|([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))(-([+]?[0-9]+|(?i:sun|mon|tue|wed|thu|fri|sat)))?(/[+]?[0-9]+)?)*[[:space:]]*)$')",message="spec.schedule must be a cron expression with exactly five fields (minute hour day-of-month month day-of-week, for example '0 2 * * *' or '30 */6 * * MON-FRI') or a descriptor such as @daily, @hourly or '@every 12h', optionally prefixed with 'TZ=<zone> '"
	Schedule string `json:"schedule"`

	// Pause stops creating Backups and compactions; old Backups are still garbage-collected.
	// +optional
	Pause bool `json:"pause,omitempty"`

	// MaxBackups keeps only the newest N Backups. It is ignored when maxReservedTime is set.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self > 0",message="spec.maxBackups must be at least 1; to keep Backups without a count limit leave it out (and use maxReservedTime for an age limit)"
	MaxBackups *int32 `json:"maxBackups,omitempty"`

	// MaxReservedTime deletes Backups older than this Go duration, for example 72h.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$')",message="spec.maxReservedTime must be a Go duration such as 72h or 168h30m"
	MaxReservedTime *string `json:"maxReservedTime,omitempty"`

	// CompactInterval is how much log backup each scheduled CompactBackup covers.
	// +optional
	CompactInterval *string `json:"compactInterval,omitempty"`

	// BackupTemplate is the spec of the scheduled snapshot Backups. Its storage prefix gets the
	// Backup's time appended so that each Backup writes to its own place.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) <= 1",message="set at most one of spec.backupTemplate.s3, .gcs, .azblob or .local"
	BackupTemplate *BackupSpec `json:"backupTemplate,omitempty"`

	// LogBackupTemplate is the spec of the log backup the schedule keeps running (Backup
	// log-<schedule>).
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) <= 1",message="set at most one of spec.logBackupTemplate.s3, .gcs, .azblob or .local"
	LogBackupTemplate *BackupSpec `json:"logBackupTemplate,omitempty"`

	// CompactBackupTemplate is the spec of the CompactBackups the schedule creates over the log
	// backup, every compactInterval.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.s3) ? 1 : 0) + (has(self.gcs) ? 1 : 0) + (has(self.azblob) ? 1 : 0) + (has(self.local) ? 1 : 0) <= 1",message="set at most one of spec.compactBackupTemplate.s3, .gcs, .azblob or .local"
	CompactBackupTemplate *CompactSpec `json:"compactBackupTemplate,omitempty"`

	// StorageClassName of the scratch volumes of Dumpling Backups whose template leaves it empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageSize of the scratch volumes of Dumpling Backups whose template leaves it empty;
	// 100Gi when both are empty.
	// +optional
	StorageSize string `json:"storageSize,omitempty"`

	// ImagePullSecrets for the Pods of the Backups and CompactBackups created; when set, they
	// replace the templates' own.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// BR is used by the log backup and the CompactBackups whose templates leave it out. It is
	// never filled into backupTemplate: a snapshot template without br is a Dumpling backup.
	// +optional
	BR *BRConfig `json:"br,omitempty"`

	// StorageProvider is where the Backups and CompactBackups created write, for templates that
	// set no storage of their own.
	StorageProvider `json:",inline"`
}

// BackupScheduleStatus records what the schedule created last.
type BackupScheduleStatus struct {
	// LastBackup is the name of the Backup created last.
	// +optional
	LastBackup string `json:"lastBackup,omitempty"`

	// LastCompact is the name of the CompactBackup created last.
	// +optional
	LastCompact string `json:"lastCompact,omitempty"`

	// LastBackupTime is the scheduled time of the last Backup.
	// +optional
	LastBackupTime *metav1.Time `json:"lastBackupTime,omitempty"`

	// LastCompactProgress is the point up to which the log backup has been compacted.
	// +optional
	LastCompactProgress *metav1.Time `json:"lastCompactProgress,omitempty"`

	// LastCompactExecutionTs is when the last CompactBackup was created.
	// +optional
	LastCompactExecutionTs *metav1.Time `json:"lastCompactExecutionTs,omitempty"`

	// LogBackup is the name of the log backup the schedule keeps running.
	// +optional
	LogBackup string `json:"logBackup,omitempty"`

	// LogBackupStartTs is where the log backup started.
	// +optional
	LogBackupStartTs *metav1.Time `json:"logBackupStartTs,omitempty"`

	// AllBackupCleanTime is when the garbage collection deleted every Backup of the schedule
	// (lastBackup and lastBackupTime are cleared then); the next tick is counted from it. It is
	// cleared when the schedule creates a Backup again.
	// +optional
	AllBackupCleanTime *metav1.Time `json:"allBackupCleanTime,omitempty"`

	// Conditions of the schedule. ScheduleValid is False while a field of the spec
	// (schedule, maxReservedTime, compactInterval, backupTemplate) cannot be used; its message
	// names the field, and nothing is created until the spec is fixed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
