package v1alpha1

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// This file holds small, pure helpers over the backup kinds that both the operator and the
// backup-manager need, so that the two agree on names, paths and the meaning of the status.

// DefaultBackupManagerServiceAccount is the ServiceAccount backup, restore and compaction Pods
// run as when their spec names none.
const DefaultBackupManagerServiceAccount = "tidb-backup-manager"

// Default TiDB login used by Dumpling, Lightning and the GC-lifetime adjustment.
const (
	DefaultTiDBUser = "root"
	DefaultTiDBPort = int32(4000)
)

// BackupScheduleTimeFormat is the UTC time format in the names of scheduled Backups
// (<schedule>-2006-01-02t15-04-05); lower-case so the name stays a valid DNS label.
const BackupScheduleTimeFormat = "2006-01-02t15-04-05"

// ErrNoStorageProvider is returned when a StorageProvider has none of s3, gcs, azblob or local.
var ErrNoStorageProvider = errors.New("no storage provider set: set one of s3, gcs, azblob or local")

// Defaults the clean-up applies where spec.cleanOption leaves a field zero.
var defaultCleanOption = CleanOption{
	PageSize:   10000,
	RetryCount: 5,
	BatchDeleteOption: BatchDeleteOption{
		BatchConcurrency:   10,
		RoutineConcurrency: 100,
	},
}

// ---- storage ----------------------------------------------------------------------------------

// Count returns how many of s3, gcs, azblob and local are set.
func (p StorageProvider) Count() int {
	n := 0
	for _, set := range []bool{p.S3 != nil, p.Gcs != nil, p.Azblob != nil, p.Local != nil} {
		if set {
			n++
		}
	}
	return n
}

// Type returns the kind of storage set. Should several be set, it picks the first of s3, gcs,
// azblob and local, the order v1.6 used; with none it returns BackupStorageTypeUnknown.
func (p StorageProvider) Type() BackupStorageType {
	switch {
	case p.S3 != nil:
		return BackupStorageTypeS3
	case p.Gcs != nil:
		return BackupStorageTypeGcs
	case p.Azblob != nil:
		return BackupStorageTypeAzblob
	case p.Local != nil:
		return BackupStorageTypeLocal
	default:
		return BackupStorageTypeUnknown
	}
}

// RemotePath returns the URL of the data as BR and status.backupPath spell it:
// s3://bucket/prefix, gcs://bucket/prefix/, azure://container/prefix/ or
// local://<mount path>/prefix. Credentials and query parameters are never part of it.
func (p StorageProvider) RemotePath() (string, error) {
	switch p.Type() {
	case BackupStorageTypeS3:
		bucket, prefix := p.S3.BucketAndPrefix()
		return "s3://" + path.Join(bucket, prefix), nil
	case BackupStorageTypeGcs:
		return "gcs://" + path.Join(p.Gcs.Bucket, p.Gcs.Prefix) + "/", nil
	case BackupStorageTypeAzblob:
		return "azure://" + path.Join(p.Azblob.Container, p.Azblob.Prefix) + "/", nil
	case BackupStorageTypeLocal:
		return "local://" + path.Join(p.Local.VolumeMount.MountPath, p.Local.Prefix), nil
	default:
		return "", ErrNoStorageProvider
	}
}

// BucketAndPrefix splits the bucket and prefix the way the tools expect them: both are joined
// and split again on the first slash, so that bucket "b/dir" with prefix "p" means bucket "b"
// and prefix "dir/p". Leading and trailing slashes are dropped.
func (s *S3StorageProvider) BucketAndPrefix() (bucket, prefix string) {
	joined := path.Join(strings.Trim(s.Bucket, "/"), strings.Trim(s.Prefix, "/"))
	joined = strings.Trim(joined, "/")
	if joined == "." {
		return "", ""
	}
	bucket, prefix, _ = strings.Cut(joined, "/")
	return bucket, prefix
}

// UsesPathStyle reports whether requests address the bucket in the path (endpoint/bucket/key)
// rather than in the host name: forcePathStyle when set, otherwise true except for the
// providers that only serve virtual-hosted-style requests (alibaba, netease).
func (s *S3StorageProvider) UsesPathStyle() bool {
	if s.ForcePathStyle != nil {
		return *s.ForcePathStyle
	}
	switch s.Provider {
	case S3StorageProviderTypeAlibaba, S3StorageProviderTypeNetease:
		return false
	default:
		return true
	}
}

// ---- TiDB access ------------------------------------------------------------------------------

// GetTidbUser returns the user to log in as, root when unset.
func (c *TiDBAccessConfig) GetTidbUser() string {
	if c == nil || c.User == "" {
		return DefaultTiDBUser
	}
	return c.User
}

// GetTidbPort returns the TiDB port, 4000 when unset.
func (c *TiDBAccessConfig) GetTidbPort() int32 {
	if c == nil || c.Port == 0 {
		return DefaultTiDBPort
	}
	return c.Port
}

// GetTidbEndpoint identifies the TiDB server as "<host>_<port>"; scratch volume names hash it.
func (c *TiDBAccessConfig) GetTidbEndpoint() string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%s_%d", c.Host, c.GetTidbPort())
}

// hashName turns s into a short string that is safe in object names.
func hashName(s string) string {
	h := fnv.New32()
	_, _ = h.Write([]byte(s)) // writing to a hash never fails
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// serviceAccountOrDefault returns sa, or the backup-manager's ServiceAccount when it is empty.
func serviceAccountOrDefault(sa string) string {
	if sa == "" {
		return DefaultBackupManagerServiceAccount
	}
	return sa
}

// ---- Backup: names and policies ---------------------------------------------------------------

// GetBackupJobName returns the name of the Job running the backup: backup-<name>, or for a log
// backup backup-<name>-<subcommand> (one Job per subcommand run).
func (bk *Backup) GetBackupJobName() string {
	if cmd := ParseLogBackupSubcommand(bk); cmd != "" {
		return fmt.Sprintf("backup-%s-%s", bk.Name, cmd)
	}
	return "backup-" + bk.Name
}

// GetAllLogBackupJobNames returns the names every log backup subcommand Job of this Backup may
// have, so that all of them can be found and cleaned up.
func (bk *Backup) GetAllLogBackupJobNames() []string {
	cmds := []LogSubCommandType{LogStartCommand, LogStopCommand, LogPauseCommand, LogResumeCommand, LogTruncateCommand}
	names := make([]string, 0, len(cmds))
	for _, cmd := range cmds {
		names = append(names, fmt.Sprintf("backup-%s-%s", bk.Name, cmd))
	}
	return names
}

// GetVolumeBackupInitializeJobName returns the name of the Job that pauses GC and PD scheduling
// for a volume-snapshot backup: backup-<name>-init.
func (bk *Backup) GetVolumeBackupInitializeJobName() string {
	return bk.GetBackupJobName() + "-init"
}

// GetCleanJobName returns the name of the Job deleting the backup data: clean-<name>.
func (bk *Backup) GetCleanJobName() string { return "clean-" + bk.Name }

// GetStopLogBackupJobName returns the name of the Job stopping a log backup task before its
// Backup is deleted: stop-<name>.
func (bk *Backup) GetStopLogBackupJobName() string { return "stop-" + bk.Name }

// GetBackupPVCName returns the name of the scratch volume a Dumpling backup exports to; Backups
// of the same TiDB share it.
func (bk *Backup) GetBackupPVCName() string {
	return "backup-pvc-" + hashName(bk.Spec.From.GetTidbEndpoint())
}

// GetServiceAccount returns the ServiceAccount of the backup Pods.
func (bk *Backup) GetServiceAccount() string { return serviceAccountOrDefault(bk.Spec.ServiceAccount) }

// GetCleanOption returns spec.cleanOption with the defaults filled in where it leaves a field
// zero (10000 objects per page, 5 retries, 10 batch and 100 single deletions in parallel).
func (bk *Backup) GetCleanOption() CleanOption {
	if bk.Spec.CleanOption == nil {
		return defaultCleanOption
	}
	opt := *bk.Spec.CleanOption
	if opt.PageSize == 0 {
		opt.PageSize = defaultCleanOption.PageSize
	}
	if opt.RetryCount <= 0 {
		opt.RetryCount = defaultCleanOption.RetryCount
	}
	if opt.BatchConcurrency == 0 {
		opt.BatchConcurrency = defaultCleanOption.BatchConcurrency
	}
	if opt.RoutineConcurrency == 0 {
		opt.RoutineConcurrency = defaultCleanOption.RoutineConcurrency
	}
	return opt
}

// IsCleanCandidate reports whether deleting the Backup needs work first, so that it carries the
// backup-protection finalizer: a log backup (its task must be stopped) or a Backup whose data
// may have to be deleted (cleanPolicy Delete or OnFailure).
func IsCleanCandidate(bk *Backup) bool {
	return bk.Spec.Mode == BackupModeLog ||
		bk.Spec.CleanPolicy == CleanPolicyTypeDelete ||
		bk.Spec.CleanPolicy == CleanPolicyTypeOnFailure
}

// NeedRetainData reports whether the data must be kept when the Backup is deleted: cleanPolicy
// Retain (or unset), or OnFailure for a backup that did not fail.
func NeedRetainData(bk *Backup) bool {
	switch bk.Spec.CleanPolicy {
	case CleanPolicyTypeDelete:
		return false
	case CleanPolicyTypeOnFailure:
		return !IsBackupFailed(bk)
	default:
		return true
	}
}

// ---- Backup: conditions -----------------------------------------------------------------------

// GetBackupCondition returns the condition of the given type and its index, or -1 and nil.
func GetBackupCondition(status *BackupStatus, t BackupConditionType) (int, *BackupCondition) {
	if status == nil {
		return -1, nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return i, &status.Conditions[i]
		}
	}
	return -1, nil
}

// UpdateBackupCondition records condition in status, keeping one condition per type, and makes
// its type the phase (except Restart, which never becomes the phase). LastTransitionTime is set
// to now when the condition is new or its status changed, and kept otherwise. It reports whether
// status changed.
func UpdateBackupCondition(status *BackupStatus, condition *BackupCondition) bool {
	if status == nil || condition == nil {
		return false
	}
	changed := false
	if condition.Type != BackupRestart && status.Phase != condition.Type {
		status.Phase = condition.Type
		changed = true
	}
	c := *condition
	i, old := GetBackupCondition(status, c.Type)
	if old == nil {
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = metav1.Now()
		}
		status.Conditions = append(status.Conditions, c)
		return true
	}
	if old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	} else if c.LastTransitionTime.IsZero() {
		c.LastTransitionTime = metav1.Now()
	}
	if c.Command != old.Command || c.Status != old.Status || c.Reason != old.Reason ||
		c.Message != old.Message || !c.LastTransitionTime.Equal(&old.LastTransitionTime) {
		status.Conditions[i] = c
		changed = true
	}
	return changed
}

// hasBackupCondition reports whether the Backup has a True condition of type t; for a log backup
// it looks at the phase of the subcommand currently asked for instead, because the Backup-wide
// conditions mix up the runs of different subcommands.
func hasBackupCondition(bk *Backup, t BackupConditionType) bool {
	if bk.Spec.Mode == BackupModeLog {
		return IsLogSubcommandInPhase(bk, t)
	}
	_, c := GetBackupCondition(&bk.Status, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsBackupScheduled reports whether the backup Job was created.
func IsBackupScheduled(bk *Backup) bool { return hasBackupCondition(bk, BackupScheduled) }

// IsBackupPrepared reports whether the backup Job is preparing.
func IsBackupPrepared(bk *Backup) bool { return hasBackupCondition(bk, BackupPrepare) }

// IsBackupRunning reports whether the backup tool is running.
func IsBackupRunning(bk *Backup) bool { return hasBackupCondition(bk, BackupRunning) }

// IsBackupComplete reports whether the backup (for a log backup: the current subcommand)
// finished.
func IsBackupComplete(bk *Backup) bool { return hasBackupCondition(bk, BackupComplete) }

// IsBackupFailed reports whether the backup (for a log backup: the current subcommand) failed.
func IsBackupFailed(bk *Backup) bool { return hasBackupCondition(bk, BackupFailed) }

// IsBackupInvalid reports whether the spec was found invalid.
func IsBackupInvalid(bk *Backup) bool { return hasBackupCondition(bk, BackupInvalid) }

// IsBackupRestart reports whether the backup Pod ever started again.
func IsBackupRestart(bk *Backup) bool {
	_, c := GetBackupCondition(&bk.Status, BackupRestart)
	return c != nil
}

// IsBackupClean reports whether the backup data was deleted.
func IsBackupClean(bk *Backup) bool {
	_, c := GetBackupCondition(&bk.Status, BackupClean)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsBackupCleanFailed reports whether deleting the backup data failed.
func IsBackupCleanFailed(bk *Backup) bool {
	_, c := GetBackupCondition(&bk.Status, BackupCleanFailed)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsVolumeBackupInitialized reports whether a volume-snapshot backup paused GC and scheduling.
func IsVolumeBackupInitialized(bk *Backup) bool {
	_, c := GetBackupCondition(&bk.Status, VolumeBackupInitialized)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsVolumeBackupComplete reports whether every volume snapshot of the backup finished.
func IsVolumeBackupComplete(bk *Backup) bool {
	_, c := GetBackupCondition(&bk.Status, VolumeBackupComplete)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsVolumeBackupFailed reports whether taking the volume snapshots failed.
func IsVolumeBackupFailed(bk *Backup) bool {
	_, c := GetBackupCondition(&bk.Status, VolumeBackupFailed)
	return c != nil && c.Status == corev1.ConditionTrue
}

// LastRetryRecord returns the newest entry of status.backoffRetryStatus.
func (bk *Backup) LastRetryRecord() (BackoffRetryRecord, bool) {
	n := len(bk.Status.BackoffRetryStatus)
	if n == 0 {
		return BackoffRetryRecord{}, false
	}
	return bk.Status.BackoffRetryStatus[n-1], true
}

// RetryDelay returns how long the n-th retry (from 1) waits: minRetryDuration * 2^(n-1).
func (p BackoffRetryPolicy) RetryDelay(n int) (time.Duration, error) {
	base, err := time.ParseDuration(p.MinRetryDuration)
	if err != nil {
		return 0, fmt.Errorf("parse minRetryDuration %q: %w", p.MinRetryDuration, err)
	}
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n; i++ {
		if d > math.MaxInt64/2 {
			break // doubling again would overflow
		}
		d *= 2
	}
	return d, nil
}

// ---- Backup: log backup subcommands -----------------------------------------------------------

// ParseLogBackupSubcommand returns the subcommand a log backup should run now, or "" for other
// backups:
//   - logSubcommand empty: log-stop when the legacy logStop is true or the task already stopped,
//     else log-start;
//   - log-start on a paused task: log-resume;
//   - log-stop and log-pause as asked; anything else: log-unknown;
//   - once that subcommand has taken effect, log-truncate while logTruncateUntil differs from
//     status.logSuccessTruncateUntil.
func ParseLogBackupSubcommand(bk *Backup) LogSubCommandType {
	if bk.Spec.Mode != BackupModeLog {
		return ""
	}
	var cmd LogSubCommandType
	switch bk.Spec.LogSubcommand {
	case "":
		if bk.Spec.LogStop || IsLogBackupAlreadyStop(bk) {
			cmd = LogStopCommand
		} else {
			cmd = LogStartCommand
		}
	case LogStartCommand:
		if IsLogBackupAlreadyPaused(bk) {
			cmd = LogResumeCommand
		} else {
			cmd = LogStartCommand
		}
	case LogStopCommand, LogPauseCommand:
		cmd = bk.Spec.LogSubcommand
	default:
		return LogUnknownCommand
	}
	if IsLogSubcommandAlreadySync(bk, cmd) && bk.Spec.LogTruncateUntil != "" &&
		bk.Spec.LogTruncateUntil != bk.Status.LogSuccessTruncateUntil {
		return LogTruncateCommand
	}
	return cmd
}

// IsLogSubcommandAlreadySync reports whether the log backup task is already in the state cmd
// asks for (started, stopped, paused, or running again after a resume). log-truncate is never
// "in sync" here; compare logTruncateUntil with status.logSuccessTruncateUntil for it.
func IsLogSubcommandAlreadySync(bk *Backup, cmd LogSubCommandType) bool {
	switch cmd {
	case LogStartCommand:
		return IsLogBackupAlreadyStart(bk)
	case LogStopCommand:
		return IsLogBackupAlreadyStop(bk)
	case LogPauseCommand:
		return IsLogBackupAlreadyPaused(bk)
	case LogResumeCommand:
		return IsLogBackupAlreadyRunning(bk)
	default:
		return false
	}
}

// IsLogSubcommandInPhase reports whether the subcommand the log backup should run now is in the
// given phase. For log-truncate only the run towards the current logTruncateUntil counts.
func IsLogSubcommandInPhase(bk *Backup, phase BackupConditionType) bool {
	cmd := ParseLogBackupSubcommand(bk)
	st, ok := bk.Status.LogSubCommandStatuses[cmd]
	if !ok {
		return false
	}
	switch cmd {
	case LogStartCommand, LogStopCommand, LogPauseCommand, LogResumeCommand:
		return st.Phase == phase
	case LogTruncateCommand:
		return st.LogTruncatingUntil == bk.Spec.LogTruncateUntil && st.Phase == phase
	default:
		return false
	}
}

// LogSubcommandConditionInfo returns the reason and message of the condition behind the current
// subcommand's phase.
func LogSubcommandConditionInfo(bk *Backup) (reason, message string) {
	st, ok := bk.Status.LogSubCommandStatuses[ParseLogBackupSubcommand(bk)]
	if !ok {
		return "", ""
	}
	for _, c := range st.Conditions {
		if c.Type == st.Phase {
			return c.Reason, c.Message
		}
	}
	return "", ""
}

// IsLogBackupAlreadyStart reports whether the log backup task was started: the start TSO is
// recorded in status.commitTs.
func IsLogBackupAlreadyStart(bk *Backup) bool {
	return bk.Spec.Mode == BackupModeLog && bk.Status.CommitTs != ""
}

// IsLogBackupAlreadyStop reports whether the log backup task was stopped.
func IsLogBackupAlreadyStop(bk *Backup) bool {
	return bk.Spec.Mode == BackupModeLog && bk.Status.Phase == BackupStopped
}

// IsLogBackupAlreadyPaused reports whether the log backup task is paused.
func IsLogBackupAlreadyPaused(bk *Backup) bool {
	return bk.Spec.Mode == BackupModeLog && bk.Status.Phase == BackupPaused
}

// IsLogBackupAlreadyRunning reports whether the log backup task is running.
func IsLogBackupAlreadyRunning(bk *Backup) bool {
	return bk.Spec.Mode == BackupModeLog && bk.Status.Phase == BackupRunning
}

// IsLogBackupOnTrack reports whether the log backup task exists and may make progress (it is
// scheduled, preparing, running or paused); such a task must be stopped before its data can go.
func IsLogBackupOnTrack(bk *Backup) bool {
	if bk.Spec.Mode != BackupModeLog {
		return false
	}
	switch bk.Status.Phase {
	case BackupScheduled, BackupPrepare, BackupRunning, BackupPaused:
		return true
	default:
		return false
	}
}

// IsLogBackupAlreadyTruncate reports whether there is nothing left to truncate up to
// spec.logTruncateUntil: it is not after the task's start or after what was truncated already.
func IsLogBackupAlreadyTruncate(bk *Backup) bool {
	if bk.Spec.Mode != BackupModeLog {
		return false
	}
	until, err := ParseTSString(bk.Spec.LogTruncateUntil)
	if err != nil {
		return false
	}
	done, _ := ParseTSString(bk.Status.LogSuccessTruncateUntil)
	start, _ := ParseTSString(bk.Status.CommitTs)
	return until <= start || until <= done
}

// ---- timestamps -------------------------------------------------------------------------------

// tsoPhysicalShift is the number of low bits of a TSO holding the logical counter; the bits above
// are milliseconds since the Unix epoch.
const tsoPhysicalShift = 18

// tsLayouts are the time formats ParseTSString accepts, tried in order. Fractional seconds are
// accepted after the seconds by every layout.
var tsLayouts = []string{
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05-0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05-07",
	"2006-01-02 15:04:05 -07",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05-0700",
}

// tsLocalLayouts are the zone-less formats, read in the local time zone.
var tsLocalLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// ParseTSString converts the timestamps the specs accept (commitTs, logTruncateUntil,
// pitrRestoredTs, startTs, ...) into a TSO. It takes a TSO as a decimal number
// ("400036290571534337"), or a time such as "2018-05-11 01:42:23", "2018-05-11 01:42:23.5+0800"
// or RFC 3339; times without a zone are local. An empty string is 0.
func ParseTSString(ts string) (uint64, error) {
	ts = strings.TrimSpace(ts)
	if ts == "" {
		return 0, nil
	}
	if tso, err := strconv.ParseUint(ts, 10, 64); err == nil {
		return tso, nil
	}
	for _, layout := range tsLayouts {
		if t, err := time.Parse(layout, ts); err == nil {
			return TimeToTSO(t), nil
		}
	}
	for _, layout := range tsLocalLayouts {
		if t, err := time.ParseInLocation(layout, ts, time.Local); err == nil {
			return TimeToTSO(t), nil
		}
	}
	return 0, fmt.Errorf("%q is neither a TSO nor a time such as \"2006-01-02 15:04:05+0800\"", ts)
}

// TimeToTSO returns the TSO of t with a zero logical part.
func TimeToTSO(t time.Time) uint64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return uint64(ms) << tsoPhysicalShift
}

// TSOToTime returns the wall-clock time of the physical part of a TSO.
func TSOToTime(tso uint64) time.Time {
	return time.UnixMilli(int64(tso >> tsoPhysicalShift))
}

// ---- Restore ----------------------------------------------------------------------------------

// GetRestoreJobName returns the name of the Job running the restore: restore-<name>.
func (rs *Restore) GetRestoreJobName() string { return "restore-" + rs.Name }

// GetRestoreDataJobName returns the name of the Job that makes the TiKV data of a volume-snapshot
// restore consistent: restore-data-<name>.
func (rs *Restore) GetRestoreDataJobName() string { return "restore-data-" + rs.Name }

// GetRestorePVCName returns the name of the scratch volume a Lightning restore downloads to;
// Restores into the same TiDB share it.
func (rs *Restore) GetRestorePVCName() string {
	return "restore-pvc-" + hashName(rs.Spec.To.GetTidbEndpoint())
}

// GetServiceAccount returns the ServiceAccount of the restore Pods.
func (rs *Restore) GetServiceAccount() string { return serviceAccountOrDefault(rs.Spec.ServiceAccount) }

// HasPitrFullBackup reports whether a PiTR restore starts from a snapshot backup
// (pitrFullBackupStorageProvider) rather than from logRestoreStartTs alone.
func (rs *Restore) HasPitrFullBackup() bool { return rs.Spec.PitrFullBackupStorageProvider.Count() > 0 }

// GetRestoreCondition returns the condition of the given type and its index, or -1 and nil.
func GetRestoreCondition(status *RestoreStatus, t RestoreConditionType) (int, *RestoreCondition) {
	if status == nil {
		return -1, nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return i, &status.Conditions[i]
		}
	}
	return -1, nil
}

// UpdateRestoreCondition records condition in status, keeping one condition per type, and makes
// its type the phase. LastTransitionTime is set to now when the condition is new or its status
// changed, and kept otherwise. It reports whether status changed.
func UpdateRestoreCondition(status *RestoreStatus, condition *RestoreCondition) bool {
	if status == nil || condition == nil {
		return false
	}
	changed := false
	if status.Phase != condition.Type {
		status.Phase = condition.Type
		changed = true
	}
	c := *condition
	i, old := GetRestoreCondition(status, c.Type)
	if old == nil {
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = metav1.Now()
		}
		status.Conditions = append(status.Conditions, c)
		return true
	}
	if old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	} else if c.LastTransitionTime.IsZero() {
		c.LastTransitionTime = metav1.Now()
	}
	if c.Status != old.Status || c.Reason != old.Reason || c.Message != old.Message ||
		!c.LastTransitionTime.Equal(&old.LastTransitionTime) {
		status.Conditions[i] = c
		changed = true
	}
	return changed
}

func hasRestoreCondition(rs *Restore, t RestoreConditionType) bool {
	_, c := GetRestoreCondition(&rs.Status, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsRestoreScheduled reports whether the restore Job was created.
func IsRestoreScheduled(rs *Restore) bool { return hasRestoreCondition(rs, RestoreScheduled) }

// IsRestoreRunning reports whether the restore tool is running.
func IsRestoreRunning(rs *Restore) bool { return hasRestoreCondition(rs, RestoreRunning) }

// IsRestoreComplete reports whether the restore finished.
func IsRestoreComplete(rs *Restore) bool { return hasRestoreCondition(rs, RestoreComplete) }

// IsRestoreFailed reports whether the restore failed.
func IsRestoreFailed(rs *Restore) bool { return hasRestoreCondition(rs, RestoreFailed) }

// IsRestoreInvalid reports whether the spec was found invalid.
func IsRestoreInvalid(rs *Restore) bool { return hasRestoreCondition(rs, RestoreInvalid) }

// IsRestoreVolumeComplete reports whether the TiKV volumes were created from the snapshots.
func IsRestoreVolumeComplete(rs *Restore) bool {
	return hasRestoreCondition(rs, RestoreVolumeComplete)
}

// IsRestoreWarmUpStarted reports whether the warm-up Jobs were created.
func IsRestoreWarmUpStarted(rs *Restore) bool { return hasRestoreCondition(rs, RestoreWarmUpStarted) }

// IsRestoreWarmUpComplete reports whether the warm-up Jobs finished.
func IsRestoreWarmUpComplete(rs *Restore) bool {
	return hasRestoreCondition(rs, RestoreWarmUpComplete)
}

// IsRestoreTiKVComplete reports whether every TiKV runs on the restored volumes.
func IsRestoreTiKVComplete(rs *Restore) bool { return hasRestoreCondition(rs, RestoreTiKVComplete) }

// IsRestoreDataComplete reports whether the restored TiKV data was made consistent.
func IsRestoreDataComplete(rs *Restore) bool { return hasRestoreCondition(rs, RestoreDataComplete) }

// ---- BackupSchedule and CompactBackup ---------------------------------------------------------

// GetBackupName returns the name of the Backup the schedule creates for the given time:
// <schedule>-<UTC time as 2006-01-02t15-04-05>.
func (bs *BackupSchedule) GetBackupName(scheduled time.Time) string {
	return bs.Name + "-" + scheduled.UTC().Format(BackupScheduleTimeFormat)
}

// GetLogBackupName returns the name of the log backup the schedule keeps running: log-<schedule>.
func (bs *BackupSchedule) GetLogBackupName() string { return "log-" + bs.Name }

// GetServiceAccount returns the ServiceAccount of the compaction Pods.
func (cb *CompactBackup) GetServiceAccount() string {
	return serviceAccountOrDefault(cb.Spec.ServiceAccount)
}

// IsFinished reports whether the compaction reached a final state (Complete or Failed).
func (cb *CompactBackup) IsFinished() bool {
	return cb.Status.State == CompactStateComplete || cb.Status.State == CompactStateFailed
}
