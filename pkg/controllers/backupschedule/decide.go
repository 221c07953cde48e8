package backupschedule

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/schedule"
	"github.com/tidbops/tidb-operator/pkg/builders"
)

// The condition of status.conditions this controller maintains.
const (
	// ConditionScheduleValid is False while a field of the spec cannot be used; the message
	// names it. Nothing is created until it is True again.
	ConditionScheduleValid = "ScheduleValid"
	// ReasonValid: every field parsed.
	ReasonValid = "Valid"
	// ReasonInvalidSchedule: a field did not parse; also the reason of the Warning event.
	ReasonInvalidSchedule = "InvalidSchedule"
)

// DefaultStorageSize is the scratch volume of Dumpling Backups when neither the template nor
// the schedule sets one (v1.6's constants.DefaultStorageSize).
const DefaultStorageSize = "100Gi"

const fieldBackupMode = "spec.backupTemplate.backupMode"

// ---- validation --------------------------------------------------------------------------------

// spec is the parsed spec: what the steps need beyond the raw strings.
type spec struct {
	// cron is spec.schedule; nil when invalid.
	cron cron.Schedule
	// gc is the garbage collection policy; ok false when maxReservedTime does not parse.
	gc   gcPolicy
	gcOK bool
	// errs lists every field that cannot be used (as *schedule.FieldError).
	errs []error
}

// parseSpec reads every field the controller interprets, collecting all problems at once so a
// user fixes them in one edit.
func parseSpec(bs *v1alpha1.BackupSchedule) spec {
	var s spec
	c, err := schedule.Parse(bs.Spec.Schedule)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	s.cron = c
	s.gc, err = gcPolicyOf(bs)
	if err != nil {
		s.errs = append(s.errs, err)
	} else {
		s.gcOK = true
	}
	if bs.Spec.CompactInterval != nil {
		if _, err := schedule.ParseCompactInterval(*bs.Spec.CompactInterval); err != nil {
			s.errs = append(s.errs, err)
		}
	}
	if t := bs.Spec.BackupTemplate; t != nil && t.Mode == v1alpha1.BackupModeLog {
		s.errs = append(s.errs, &schedule.FieldError{Field: fieldBackupMode, Value: string(t.Mode),
			Err: errors.New("scheduled Backups are snapshots; a continuous log backup goes in spec.logBackupTemplate")})
	}
	return s
}

// invalidMessage is the condition and event message for the problems of a spec.
func invalidMessage(errs []error) string {
	parts := make([]string, len(errs))
	for i, err := range errs {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ") + ". Correct the spec: the schedule creates no Backup until it is valid"
}

// validMessage is the message of ScheduleValid=True.
const validMessage = "the schedule, retention and compaction settings are valid"

// ---- garbage collection ------------------------------------------------------------------------

// gcPolicy is how old Backups go: by age when byAge, else by count when maxBackups > 0, else
// never.
type gcPolicy struct {
	byAge      bool
	reserved   time.Duration
	maxBackups int
}

// gcPolicyOf reads the policy. maxReservedTime wins over maxBackups when both are set (v1.6).
func gcPolicyOf(bs *v1alpha1.BackupSchedule) (gcPolicy, error) {
	if bs.Spec.MaxReservedTime != nil {
		d, err := schedule.ParseReservedTime(*bs.Spec.MaxReservedTime)
		if err != nil {
			return gcPolicy{}, err
		}
		return gcPolicy{byAge: true, reserved: d}, nil
	}
	if bs.Spec.MaxBackups != nil && *bs.Spec.MaxBackups > 0 {
		return gcPolicy{maxBackups: int(*bs.Spec.MaxBackups)}, nil
	}
	return gcPolicy{}, nil
}

// describe says why a Backup goes, for the event.
func (p gcPolicy) describe() string {
	if p.byAge {
		return "older than maxReservedTime " + p.reserved.String()
	}
	return fmt.Sprintf("beyond maxBackups %d", p.maxBackups)
}

// gcPlan is what one garbage collection does.
type gcPlan struct {
	// del are the Backups to delete, oldest first.
	del []schedule.Item
	// truncate is the TSO to set as the log backup's spec.logTruncateUntil; 0 for none.
	truncate uint64
	// all: del is every snapshot Backup of the schedule, so the last-backup fields are reset.
	all bool
}

// planGC decides the garbage collection over items (the schedule's snapshot Backups that are
// not being deleted). logBk is the schedule's log backup, or nil.
//
// The log backup is truncated only with maxReservedTime (v1.6), and only to a point that does
// not move with the clock unless a Backup is deleted in the same pass: TruncateUntil caps its
// answer at now-maxReservedTime, which changes every second, and following it would start a
// log-truncate Job at every reconcile. A point equal to a kept snapshot's commitTs is stable and
// is applied whenever it is ahead of the log backup's current target, so a truncation whose
// patch failed is applied at the next reconcile.
func planGC(p gcPolicy, items []schedule.Item, logBk *v1alpha1.Backup, now time.Time) gcPlan {
	var plan gcPlan
	switch {
	case p.byAge:
		plan.del = schedule.ByAge(items, p.reserved, now, logBk != nil)
	case p.maxBackups > 0:
		plan.del = schedule.ByCount(items, p.maxBackups)
	default:
		return plan
	}
	plan.all = len(plan.del) > 0 && len(plan.del) == len(items)
	if !p.byAge || logBk == nil {
		return plan
	}
	r, ok := logRangeOf(logBk)
	if !ok {
		return plan
	}
	kept := schedule.Without(items, plan.del)
	until, ok := schedule.TruncateUntil(kept, p.reserved, now, r)
	if !ok {
		return plan
	}
	current, err := v1alpha1.ParseTSString(logBk.Spec.LogTruncateUntil)
	if err != nil {
		// A target the Backup controller cannot read either: replacing it is the fix.
		current = 0
	}
	if until <= current {
		return plan
	}
	if len(plan.del) > 0 || isKeptCommitTs(kept, until) {
		plan.truncate = until
	}
	return plan
}

func isKeptCommitTs(kept []schedule.Item, ts uint64) bool {
	return slices.ContainsFunc(kept, func(it schedule.Item) bool { return it.Complete() && it.CommitTs == ts })
}

// logRangeOf reads what the log backup covers; ok is false when a field does not parse, which
// makes no truncation.
func logRangeOf(bk *v1alpha1.Backup) (schedule.LogRange, bool) {
	start, err1 := v1alpha1.ParseTSString(bk.Status.CommitTs)
	truncated, err2 := v1alpha1.ParseTSString(bk.Status.LogSuccessTruncateUntil)
	checkpoint, err3 := v1alpha1.ParseTSString(bk.Status.LogCheckpointTs)
	if err1 != nil || err2 != nil || err3 != nil {
		return schedule.LogRange{}, false
	}
	return schedule.LogRange{Start: start, Truncated: truncated, Checkpoint: checkpoint}, true
}

// ---- Backups as the decisions see them ---------------------------------------------------------

// isLogBackup reports whether bk is a log backup (the schedule's own or any other): it never
// finishes, so it neither blocks nor is collected.
func isLogBackup(bs *v1alpha1.BackupSchedule, bk *v1alpha1.Backup) bool {
	return bk.Spec.Mode == v1alpha1.BackupModeLog || bk.Name == bs.GetLogBackupName() ||
		(bs.Status.LogBackup != "" && bk.Name == bs.Status.LogBackup)
}

// finished reports whether nothing runs for the Backup any more: Complete, Failed for good (a
// failure with a retry pending is not Failed), or Invalid (it will never run; v1.6 waited for
// such a Backup forever).
func finished(bk *v1alpha1.Backup) (done, failed bool) {
	switch {
	case v1alpha1.IsBackupComplete(bk):
		return true, false
	case v1alpha1.IsBackupFailed(bk), v1alpha1.IsBackupInvalid(bk):
		return true, true
	}
	return false, false
}

// itemOf converts a Backup for pkg/backup/schedule.
func itemOf(bk *v1alpha1.Backup) schedule.Item {
	done, failed := finished(bk)
	ts, err := v1alpha1.ParseTSString(bk.Status.CommitTs)
	if err != nil {
		ts = 0
	}
	return schedule.Item{Name: bk.Name, Created: bk.CreationTimestamp.Time, CommitTs: ts, Finished: done, Failed: failed}
}

// snapshotItems are the schedule's snapshot Backups that are not already being deleted.
func snapshotItems(bs *v1alpha1.BackupSchedule, backups []v1alpha1.Backup) []schedule.Item {
	var items []schedule.Item
	for i := range backups {
		bk := &backups[i]
		if isLogBackup(bs, bk) || !bk.DeletionTimestamp.IsZero() {
			continue
		}
		items = append(items, itemOf(bk))
	}
	return items
}

// blockingItems are the Backups a new Backup of the schedule must wait for: its own, and with a
// group label also every Backup of the group, each once.
func blockingItems(bs *v1alpha1.BackupSchedule, own, group []v1alpha1.Backup) []schedule.Item {
	seen := map[string]bool{}
	var items []schedule.Item
	for _, list := range [][]v1alpha1.Backup{own, group} {
		for i := range list {
			bk := &list[i]
			if seen[bk.Name] || isLogBackup(bs, bk) || !bk.DeletionTimestamp.IsZero() {
				continue
			}
			seen[bk.Name] = true
			items = append(items, itemOf(bk))
		}
	}
	return items
}

// lastTime is what the next tick is counted from: the last Backup's tick, else when the garbage
// collection last emptied the schedule, else the schedule's creation (v1.6's order).
func lastTime(bs *v1alpha1.BackupSchedule) time.Time {
	switch {
	case bs.Status.LastBackupTime != nil:
		return bs.Status.LastBackupTime.Time
	case bs.Status.AllBackupCleanTime != nil:
		return bs.Status.AllBackupCleanTime.Time
	default:
		return bs.CreationTimestamp.Time
	}
}

// releasesVolume reports whether deleting the finished Job of bk frees a scratch volume the next
// Backup needs: Dumpling Backups of one TiDB share backup-pvc-<hash>.
func releasesVolume(bk *v1alpha1.Backup) bool {
	done, _ := finished(bk)
	return done && bk.Spec.BR == nil && bk.Spec.Mode != v1alpha1.BackupModeLog &&
		bk.Spec.Mode != v1alpha1.BackupModeVolumeSnapshot && bk.DeletionTimestamp.IsZero()
}

// compactEnd is the end of a complete CompactBackup's window; ok is false for a compaction that
// did not complete or whose end does not parse.
func compactEnd(cb *v1alpha1.CompactBackup) (time.Time, bool) {
	if cb.Status.State != v1alpha1.CompactStateComplete {
		return time.Time{}, false
	}
	ts, err := v1alpha1.ParseTSString(cb.Spec.EndTs)
	if err != nil || ts == 0 {
		return time.Time{}, false
	}
	return v1alpha1.TSOToTime(ts).UTC().Truncate(time.Second), true
}

// logRunning reports whether the log backup has started and is not stopped, so that its log can
// be compacted.
func logRunning(bk *v1alpha1.Backup) bool {
	return bk != nil && bk.DeletionTimestamp.IsZero() && v1alpha1.IsLogBackupAlreadyStart(bk) &&
		!v1alpha1.IsLogBackupAlreadyStop(bk)
}

// compactStart is where compaction may start on the log backup: its start, or what was truncated
// already if later (compacting deleted log is useless).
func compactStart(bk *v1alpha1.Backup) uint64 {
	start, _ := v1alpha1.ParseTSString(bk.Status.CommitTs)
	truncated, _ := v1alpha1.ParseTSString(bk.Status.LogSuccessTruncateUntil)
	return max(start, truncated)
}

// logStartOf recovers where the schedule's log backup started, for a log backup created by an
// earlier reconcile whose status write was lost: the time in its "log-<time>" prefix, which is
// what CompactBackups must point at, else its creation time.
func logStartOf(bk *v1alpha1.Backup) time.Time {
	if prefix, ok := prefixOf(bk.Spec.StorageProvider); ok {
		if t, err := time.Parse(v1alpha1.BackupScheduleTimeFormat, strings.TrimPrefix(path.Base(prefix), "log-")); err == nil {
			return t
		}
	}
	return bk.CreationTimestamp.UTC()
}

// ---- the objects the schedule creates ----------------------------------------------------------

// scheduleKind is the kind the children's owner reference names.
var scheduleKind = v1alpha1.SchemeGroupVersion.WithKind("BackupSchedule")

// ownerRef is v1.6's owner reference of a schedule's children: the schedule controls them, and
// a foreground deletion of the schedule waits for them.
func ownerRef(bs *v1alpha1.BackupSchedule) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: scheduleKind.GroupVersion().String(), Kind: scheduleKind.Kind,
		Name: bs.Name, UID: bs.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// childLabels are v1.6's labels of a schedule's children, merged with the schedule's own labels
// (which win, as in v1.6, except on the schedule key the controller selects its children by).
// The group label reaches the children this way.
func childLabels(bs *v1alpha1.BackupSchedule) map[string]string {
	l := map[string]string{
		label.NameLabelKey:           label.BackupScheduleName,
		label.ManagedByLabelKey:      label.BackupScheduleOperator,
		label.InstanceLabelKey:       bs.Name,
		label.BackupScheduleLabelKey: bs.Name,
	}
	for k, v := range bs.Labels {
		l[k] = v
	}
	l[label.BackupScheduleLabelKey] = bs.Name
	return l
}

// childAnnotations are the schedule's annotations (v1.6 copied them) without kubectl's record
// of the schedule's own manifest, which would make the child look like a schedule to
// `kubectl apply`.
func childAnnotations(bs *v1alpha1.BackupSchedule) map[string]string {
	if len(bs.Annotations) == 0 {
		return nil
	}
	a := make(map[string]string, len(bs.Annotations))
	for k, v := range bs.Annotations {
		if k != corev1.LastAppliedConfigAnnotation {
			a[k] = v
		}
	}
	if len(a) == 0 {
		return nil
	}
	return a
}

func childMeta(bs *v1alpha1.BackupSchedule, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: bs.Namespace, Name: name,
		Labels: childLabels(bs), Annotations: childAnnotations(bs),
		OwnerReferences: []metav1.OwnerReference{ownerRef(bs)},
	}
}

// withStorage returns the template's storage, or the schedule's when the template sets none.
func withStorage(tmpl, shared v1alpha1.StorageProvider) v1alpha1.StorageProvider {
	if tmpl.Count() > 0 {
		return *tmpl.DeepCopy()
	}
	return *shared.DeepCopy()
}

// appendPrefix puts suffix below the prefix of the storage that is set.
func appendPrefix(p *v1alpha1.StorageProvider, suffix string) {
	switch {
	case p.S3 != nil:
		p.S3.Prefix = path.Join(p.S3.Prefix, suffix)
	case p.Gcs != nil:
		p.Gcs.Prefix = path.Join(p.Gcs.Prefix, suffix)
	case p.Azblob != nil:
		p.Azblob.Prefix = path.Join(p.Azblob.Prefix, suffix)
	case p.Local != nil:
		p.Local.Prefix = path.Join(p.Local.Prefix, suffix)
	}
}

// prefixOf returns the prefix of the storage that is set.
func prefixOf(p v1alpha1.StorageProvider) (string, bool) {
	switch {
	case p.S3 != nil:
		return p.S3.Prefix, true
	case p.Gcs != nil:
		return p.Gcs.Prefix, true
	case p.Azblob != nil:
		return p.Azblob.Prefix, true
	case p.Local != nil:
		return p.Local.Prefix, true
	}
	return "", false
}

// timeSuffix is the UTC time as the names and prefixes of scheduled objects spell it.
func timeSuffix(t time.Time) string { return t.UTC().Format(v1alpha1.BackupScheduleTimeFormat) }

// buildBackup is the Backup of the tick at t, as v1.6 built it: a BR Backup writes below
// <prefix>/<cluster>-pd.<namespace>-2379-<time>, a Dumpling Backup gets the schedule's (or the
// default) scratch volume where its template sets none.
func buildBackup(bs *v1alpha1.BackupSchedule, t time.Time) *v1alpha1.Backup {
	sp := bs.Spec.BackupTemplate.DeepCopy()
	sp.StorageProvider = withStorage(sp.StorageProvider, bs.Spec.StorageProvider)
	if sp.BR == nil {
		if sp.StorageClassName == nil || *sp.StorageClassName == "" {
			sp.StorageClassName = bs.Spec.StorageClassName
		}
		if sp.StorageSize == "" {
			sp.StorageSize = bs.Spec.StorageSize
		}
		if sp.StorageSize == "" {
			sp.StorageSize = DefaultStorageSize
		}
	} else {
		ns := sp.BR.ClusterNamespace
		if ns == "" {
			ns = bs.Namespace
		}
		pd := fmt.Sprintf("%s-pd.%s:%d", sp.BR.Cluster, ns, builders.PDClientPort)
		appendPrefix(&sp.StorageProvider, strings.ReplaceAll(pd, ":", "-")+"-"+timeSuffix(t))
	}
	if bs.Spec.ImagePullSecrets != nil {
		sp.ImagePullSecrets = slices.Clone(bs.Spec.ImagePullSecrets)
	}
	return &v1alpha1.Backup{ObjectMeta: childMeta(bs, bs.GetBackupName(t)), Spec: *sp}
}

// buildLogBackup is the log backup log-<schedule> started at start: it writes below
// <prefix>/log-<time>.
func buildLogBackup(bs *v1alpha1.BackupSchedule, start time.Time) *v1alpha1.Backup {
	sp := bs.Spec.LogBackupTemplate.DeepCopy()
	sp.Mode = v1alpha1.BackupModeLog
	sp.StorageProvider = withStorage(sp.StorageProvider, bs.Spec.StorageProvider)
	appendPrefix(&sp.StorageProvider, "log-"+timeSuffix(start))
	if sp.BR == nil && bs.Spec.BR != nil {
		sp.BR = bs.Spec.BR.DeepCopy()
	}
	if bs.Spec.ImagePullSecrets != nil {
		sp.ImagePullSecrets = slices.Clone(bs.Spec.ImagePullSecrets)
	}
	return &v1alpha1.Backup{ObjectMeta: childMeta(bs, bs.GetLogBackupName()), Spec: *sp}
}

// compactName names the CompactBackup created at now.
func compactName(bs *v1alpha1.BackupSchedule, now time.Time) string {
	return "compact-" + bs.Name + "-" + timeSuffix(now)
}

// buildCompactBackup is the CompactBackup of the window [from, until) (TSOs, written as decimal
// TSOs so that no time zone is involved). Its storage is the template's or the schedule's with
// log-<log backup start> below the prefix, where the log backup writes; with neither, the log
// backup's own storage (logStorage) as it is.
func buildCompactBackup(bs *v1alpha1.BackupSchedule, logStorage v1alpha1.StorageProvider, from, until uint64, now time.Time) *v1alpha1.CompactBackup {
	sp := bs.Spec.CompactBackupTemplate.DeepCopy()
	sp.StartTs = strconv.FormatUint(from, 10)
	sp.EndTs = strconv.FormatUint(until, 10)
	sp.StorageProvider = withStorage(sp.StorageProvider, bs.Spec.StorageProvider)
	if sp.Count() == 0 {
		sp.StorageProvider = *logStorage.DeepCopy()
	} else if bs.Status.LogBackupStartTs != nil {
		appendPrefix(&sp.StorageProvider, "log-"+timeSuffix(bs.Status.LogBackupStartTs.Time))
	}
	if sp.BR == nil && bs.Spec.BR != nil {
		sp.BR = bs.Spec.BR.DeepCopy()
	}
	if bs.Spec.ImagePullSecrets != nil {
		sp.ImagePullSecrets = slices.Clone(bs.Spec.ImagePullSecrets)
	}
	return &v1alpha1.CompactBackup{ObjectMeta: childMeta(bs, compactName(bs, now)), Spec: *sp}
}

// ---- status edits ------------------------------------------------------------------------------

// edit changes a status and reports whether it changed it. Edits are pure and idempotent: they
// are applied to the status in memory during the reconcile, then again to a fresh copy when the
// status is written (and once more after a conflict).
type edit func(st *v1alpha1.BackupScheduleStatus) bool

func timeEq(a *metav1.Time, b time.Time) bool { return a != nil && a.Time.Equal(b) }

// setValid sets ScheduleValid. The transition time moves only when the status flips.
func setValid(valid bool, message string, generation int64, now time.Time) edit {
	st, reason := metav1.ConditionFalse, ReasonInvalidSchedule
	if valid {
		st, reason = metav1.ConditionTrue, ReasonValid
	}
	return func(s *v1alpha1.BackupScheduleStatus) bool {
		cur := meta.FindStatusCondition(s.Conditions, ConditionScheduleValid)
		if cur != nil && cur.Status == st && cur.Reason == reason && cur.Message == message && cur.ObservedGeneration == generation {
			return false
		}
		c := metav1.Condition{Type: ConditionScheduleValid, Status: st, Reason: reason, Message: message,
			ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now)}
		if cur != nil && cur.Status == st {
			c.LastTransitionTime = cur.LastTransitionTime
		}
		meta.SetStatusCondition(&s.Conditions, c)
		return true
	}
}

// setLastBackup records the Backup of the tick at t. lastBackupTime only moves forward.
func setLastBackup(name string, t time.Time) edit {
	return func(s *v1alpha1.BackupScheduleStatus) bool {
		if s.LastBackupTime != nil && s.LastBackupTime.After(t) {
			return false
		}
		if s.LastBackup == name && timeEq(s.LastBackupTime, t) && s.AllBackupCleanTime == nil {
			return false
		}
		s.LastBackup, s.LastBackupTime, s.AllBackupCleanTime = name, &metav1.Time{Time: t}, nil
		return true
	}
}

// resetLastBackup records that the garbage collection deleted every Backup (v1.6): the next tick
// counts from now. It does nothing if another Backup was recorded meanwhile.
func resetLastBackup(seen string, now time.Time) edit {
	return func(s *v1alpha1.BackupScheduleStatus) bool {
		if s.LastBackup != seen || (s.LastBackup == "" && s.LastBackupTime == nil && s.AllBackupCleanTime != nil) {
			return false
		}
		s.LastBackup, s.LastBackupTime, s.AllBackupCleanTime = "", nil, &metav1.Time{Time: now}
		return true
	}
}

// setLogBackup records the log backup, once.
func setLogBackup(name string, start time.Time) edit {
	return func(s *v1alpha1.BackupScheduleStatus) bool {
		if s.LogBackup != "" {
			return false
		}
		s.LogBackup, s.LogBackupStartTs = name, &metav1.Time{Time: start}
		return true
	}
}

// setLastCompact records the CompactBackup created at now.
func setLastCompact(name string, now time.Time) edit {
	return func(s *v1alpha1.BackupScheduleStatus) bool {
		if s.LastCompact == name && timeEq(s.LastCompactExecutionTs, now) {
			return false
		}
		s.LastCompact, s.LastCompactExecutionTs = name, &metav1.Time{Time: now}
		return true
	}
}

// setCompactProgress records the end of a completed compaction; it only moves forward.
func setCompactProgress(end time.Time) edit {
	return func(s *v1alpha1.BackupScheduleStatus) bool {
		if s.LastCompactProgress != nil && !s.LastCompactProgress.Before(&metav1.Time{Time: end}) {
			return false
		}
		s.LastCompactProgress = &metav1.Time{Time: end}
		return true
	}
}
