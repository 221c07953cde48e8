package backupschedule

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/schedule"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// load reads, from the cache, the schedule's Backups and CompactBackups, the Backups of its
// group, and its log backup.
func load(s *state) task.Task {
	return task.NameTaskFunc("Load", func(ctx context.Context) task.Result {
		bs := s.bs
		in := client.InNamespace(bs.Namespace)
		own := &v1alpha1.BackupList{}
		if err := s.r.Client.List(ctx, own, in, client.MatchingLabels{label.BackupScheduleLabelKey: bs.Name}); err != nil {
			return task.Fail(fmt.Errorf("list the Backups of BackupSchedule %s/%s: %w", bs.Namespace, bs.Name, err))
		}
		s.backups = own.Items
		if g := bs.Labels[label.BackupScheduleGroupLabelKey]; g != "" {
			group := &v1alpha1.BackupList{}
			if err := s.r.Client.List(ctx, group, in, client.MatchingLabels{label.BackupScheduleGroupLabelKey: g}); err != nil {
				return task.Fail(fmt.Errorf("list the Backups of backup schedule group %s in %s: %w", g, bs.Namespace, err))
			}
			s.group = group.Items
		}
		compacts := &v1alpha1.CompactBackupList{}
		if err := s.r.Client.List(ctx, compacts, in, client.MatchingLabels{label.BackupScheduleLabelKey: bs.Name}); err != nil {
			return task.Fail(fmt.Errorf("list the CompactBackups of BackupSchedule %s/%s: %w", bs.Namespace, bs.Name, err))
		}
		s.compacts = compacts.Items
		name := bs.Status.LogBackup
		if name == "" && bs.Spec.LogBackupTemplate != nil {
			name = bs.GetLogBackupName()
		}
		if name != "" {
			if bk := s.findBackup(name); bk != nil {
				s.logBk = bk
			} else {
				bk := &v1alpha1.Backup{}
				err := s.r.Client.Get(ctx, client.ObjectKey{Namespace: bs.Namespace, Name: name}, bk)
				switch {
				case err == nil:
					s.logBk = bk
				case !apierrors.IsNotFound(err):
					return task.Fail(fmt.Errorf("get log backup %s/%s: %w", bs.Namespace, name, err))
				}
			}
		}
		s.loaded = true
		return task.Complete("")
	})
}

func (s *state) findBackup(name string) *v1alpha1.Backup {
	for i := range s.backups {
		if s.backups[i].Name == name {
			return &s.backups[i]
		}
	}
	return nil
}

func (s *state) findCompact(name string) *v1alpha1.CompactBackup {
	for i := range s.compacts {
		if s.compacts[i].Name == name {
			return &s.compacts[i]
		}
	}
	return nil
}

// ownLog is the schedule's recorded log backup, unless it is gone or going.
func (s *state) ownLog() *v1alpha1.Backup {
	bk := s.logBk
	if bk == nil || s.bs.Status.LogBackup == "" || bk.Name != s.bs.Status.LogBackup || !bk.DeletionTimestamp.IsZero() {
		return nil
	}
	return bk
}

// validate records ScheduleValid. An invalid spec waits, with one Warning event per new
// message; it is not an error, so it does not back off and retry.
func validate(s *state) task.Task {
	return task.NameTaskFunc("Validate", func(ctx context.Context) task.Result {
		// A copy: the edits below change the condition in place.
		var prev *metav1.Condition
		if c := meta.FindStatusCondition(s.bs.Status.Conditions, ConditionScheduleValid); c != nil {
			prev = c.DeepCopy()
		}
		if len(s.spec.errs) > 0 {
			msg := invalidMessage(s.spec.errs)
			s.apply(setValid(false, msg, s.bs.Generation, s.now))
			if prev == nil || prev.Status != metav1.ConditionFalse || prev.Message != msg {
				s.event(nil, corev1.EventTypeWarning, ReasonInvalidSchedule, actionValidate, "%s", msg)
			}
			return task.Wait("invalid spec: " + msg)
		}
		s.apply(setValid(true, validMessage, s.bs.Generation, s.now))
		if prev != nil && prev.Status == metav1.ConditionFalse {
			s.event(nil, corev1.EventTypeNormal, ReasonValid, actionValidate, "the spec is valid again; the schedule resumes")
			return task.Complete("spec valid again")
		}
		return task.Complete("")
	})
}

// existing reads, from the API server, an object of the name the schedule wanted to create that
// exists already, and reports whether the schedule controls it: then an earlier reconcile
// created it and its status write was lost, and it is recorded as if created now. Anything else
// is left alone.
func (s *state) existing(ctx context.Context, obj client.Object) (ours bool, err error) {
	if err := s.r.Status.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return false, fmt.Errorf("get %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return metav1.IsControlledBy(obj, s.bs), nil
}

// ensureLogBackup creates log-<schedule> once and records it. A log backup of that name the
// schedule created before is recorded without creating anything.
func ensureLogBackup(s *state) task.Task {
	return task.NameTaskFunc("LogBackup", func(ctx context.Context) task.Result {
		bs := s.bs
		name := bs.GetLogBackupName()
		live := s.logBk
		if live == nil {
			desired := buildLogBackup(bs, s.now)
			err := s.r.Client.Create(ctx, desired)
			switch {
			case err == nil:
				s.apply(setLogBackup(name, s.now))
				s.logBk = desired
				s.event(desired, corev1.EventTypeNormal, ReasonLogBackupCreated, actionCreate, "created log backup %s", name)
				return task.Complete("created log backup " + name)
			case !apierrors.IsAlreadyExists(err):
				return task.Fail(fmt.Errorf("create log backup %s/%s: %w", bs.Namespace, name, err))
			}
			live = &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: bs.Namespace, Name: name}}
			if _, err := s.existing(ctx, live); err != nil {
				return task.Fail(err)
			}
		}
		if !metav1.IsControlledBy(live, bs) {
			// Not a reason to hold back snapshot Backups: the step reports and the list goes on.
			s.event(live, corev1.EventTypeWarning, ReasonNameConflict, actionCreate,
				"Backup %s exists and does not belong to this schedule; delete or rename it so that the schedule can create its log backup", name)
			return task.Complete("Backup " + name + " belongs to something else; no log backup")
		}
		s.apply(setLogBackup(name, logStartOf(live).Truncate(time.Second)))
		s.logBk = live
		return task.Complete("recorded log backup " + name)
	})
}

// compact observes the last CompactBackup and creates the next one when it is due. Nothing here
// holds back snapshot Backups: the step always completes.
func compact(s *state) task.Task {
	return task.NameTaskFunc("Compact", func(ctx context.Context) task.Result {
		bs := s.bs
		if name := bs.Status.LastCompact; name != "" {
			if cb := s.findCompact(name); cb != nil {
				if !cb.IsFinished() {
					return task.Complete("CompactBackup " + name + " runs")
				}
				if end, ok := compactEnd(cb); ok {
					s.apply(setCompactProgress(end))
				}
			}
		}
		logBk := s.ownLog()
		if !logRunning(logBk) {
			return task.Complete("")
		}
		var lastEnd uint64
		if p := bs.Status.LastCompactProgress; p != nil {
			lastEnd = v1alpha1.TimeToTSO(p.Time)
		}
		// The first compaction comes an interval after the log backup started, not at once
		// over a few seconds of log.
		var lastRun time.Time
		switch {
		case bs.Status.LastCompactExecutionTs != nil:
			lastRun = bs.Status.LastCompactExecutionTs.Time
		case bs.Status.LogBackupStartTs != nil:
			lastRun = bs.Status.LogBackupStartTs.Time
		}
		from, until, ok, next, err := schedule.CompactDue(*bs.Spec.CompactInterval, lastEnd, compactStart(logBk), lastRun, s.now)
		if err != nil {
			// Validate stops the list before this on an invalid interval.
			return task.Complete("")
		}
		s.wakeAt(next)
		if !ok {
			return task.Complete("")
		}
		desired := buildCompactBackup(bs, logBk.Spec.StorageProvider, from, until, s.now)
		if err := s.r.Client.Create(ctx, desired); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return task.Fail(fmt.Errorf("create CompactBackup %s/%s: %w", desired.Namespace, desired.Name, err))
			}
			ours, err := s.existing(ctx, desired)
			if err != nil {
				return task.Fail(err)
			}
			if !ours {
				s.event(desired, corev1.EventTypeWarning, ReasonNameConflict, actionCreate,
					"CompactBackup %s exists and does not belong to this schedule; the next compaction is tried after compactInterval", desired.Name)
				s.apply(setLastCompact("", s.now))
				return task.Complete("CompactBackup " + desired.Name + " belongs to something else")
			}
		} else {
			s.event(desired, corev1.EventTypeNormal, ReasonCompactBackupCreated, actionCreate,
				"created CompactBackup %s over the log backup from %s to %s", desired.Name, tsoString(from), tsoString(until))
		}
		s.apply(setLastCompact(desired.Name, s.now))
		return task.Complete("created CompactBackup " + desired.Name)
	})
}

// tsoString shows a TSO as the UTC time it stands for.
func tsoString(ts uint64) string { return v1alpha1.TSOToTime(ts).UTC().Format(time.RFC3339) }

// snapshot creates the Backup of the latest due tick unless a Backup it must wait for runs.
func snapshot(s *state) task.Task {
	return task.NameTaskFunc("Snapshot", func(ctx context.Context) task.Result {
		bs := s.bs
		due, ok, next := schedule.Due(s.spec.cron, lastTime(bs), s.now)
		s.wakeAt(next)
		if !ok {
			return task.Complete("")
		}
		if name, blocked := schedule.Blocked(blockingItems(bs, s.backups, s.group)); blocked {
			// The tick stays due: when the Backup finishes, its event brings the schedule back
			// and the latest due tick runs then.
			return task.Wait(fmt.Sprintf("the Backup due at %s waits for Backup %s to finish", due.UTC().Format(time.RFC3339), name))
		}
		if err := s.releaseLastVolume(ctx); err != nil {
			return task.Fail(err)
		}
		desired := buildBackup(bs, due)
		if err := s.r.Client.Create(ctx, desired); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return task.Fail(fmt.Errorf("create Backup %s/%s: %w", desired.Namespace, desired.Name, err))
			}
			ours, err := s.existing(ctx, desired)
			if err != nil {
				return task.Fail(err)
			}
			if !ours {
				s.event(desired, corev1.EventTypeWarning, ReasonNameConflict, actionCreate,
					"Backup %s exists and does not belong to this schedule; the tick at %s is skipped unless it is deleted", desired.Name, due.UTC().Format(time.RFC3339))
				return task.Wait("Backup " + desired.Name + " belongs to something else")
			}
		} else {
			s.event(desired, corev1.EventTypeNormal, ReasonBackupCreated, actionCreate,
				"created Backup %s for the tick at %s", desired.Name, due.UTC().Format(time.RFC3339))
		}
		s.apply(setLastBackup(desired.Name, due))
		s.created = desired.Name
		return task.Complete("created Backup " + desired.Name)
	})
}

// releaseLastVolume deletes the finished Job of the previous Dumpling Backup, as v1.6 did before
// each new Backup, so that the scratch volume the Backups of one TiDB share is free. A Job that
// the Backup does not control is not touched.
func (s *state) releaseLastVolume(ctx context.Context) error {
	name := s.bs.Status.LastBackup
	if name == "" {
		return nil
	}
	bk := s.findBackup(name)
	if bk == nil || !releasesVolume(bk) {
		return nil
	}
	job, err := backupjob.Get(ctx, s.r.Client, bk, bk.Namespace, bk.GetBackupJobName())
	switch {
	case errors.Is(err, backupjob.ErrForeignJob):
		return nil
	case err != nil:
		return err
	case job == nil || backupjob.Observe(job).Phase == backupjob.Running:
		return nil
	}
	return backupjob.Delete(ctx, s.r.Client, job)
}

// collect is the garbage collection: it deletes the Backups planGC chooses (their finalizers
// apply the cleanPolicy), moves the log backup's truncation point, and deletes finished
// CompactBackups other than the last.
func collect(s *state) task.Task {
	return task.NameTaskFunc("GC", func(ctx context.Context) task.Result {
		bs := s.bs
		logBk := s.ownLog()
		items := snapshotItems(bs, s.backups)
		plan := planGC(s.spec.gc, items, logBk, s.now)
		var done []string
		for _, it := range plan.del {
			bk := s.findBackup(it.Name)
			if err := deleteObject(ctx, s.r.Client, bk); err != nil {
				return task.Fail(fmt.Errorf("delete Backup %s/%s: %w", bk.Namespace, bk.Name, err))
			}
			policy := bk.Spec.CleanPolicy
			if policy == "" {
				policy = v1alpha1.CleanPolicyTypeRetain
			}
			s.event(bk, corev1.EventTypeNormal, ReasonBackupDeleted, actionDelete,
				"deleted Backup %s, %s; its cleanPolicy %s applies to the data", bk.Name, s.spec.gc.describe(), policy)
			done = append(done, bk.Name)
		}
		if plan.truncate > 0 {
			if err := s.truncate(ctx, logBk, plan.truncate); err != nil {
				return task.Fail(err)
			}
			done = append(done, "truncate "+logBk.Name+" until "+tsoString(plan.truncate))
		}
		if plan.all && s.created == "" {
			s.apply(resetLastBackup(bs.Status.LastBackup, s.now))
		}
		for i := range s.compacts {
			cb := &s.compacts[i]
			if cb.Name == bs.Status.LastCompact || !cb.IsFinished() || !cb.DeletionTimestamp.IsZero() {
				continue
			}
			if err := deleteObject(ctx, s.r.Client, cb); err != nil {
				return task.Fail(fmt.Errorf("delete CompactBackup %s/%s: %w", cb.Namespace, cb.Name, err))
			}
			done = append(done, cb.Name)
		}
		if len(done) == 0 {
			return task.Complete("")
		}
		return task.Complete("deleted " + strings.Join(done, ", "))
	})
}

// deleteObject deletes obj as it was observed (a UID precondition, so an object re-created under
// the same name is not deleted); an object already gone is not an error.
func deleteObject(ctx context.Context, c client.Client, obj client.Object) error {
	var opts []client.DeleteOption
	if uid := obj.GetUID(); uid != "" {
		opts = append(opts, client.Preconditions{UID: &uid})
	}
	if err := c.Delete(ctx, obj, opts...); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// truncate sets the log backup's spec.logTruncateUntil with a merge patch of that one field; the
// Backup controller runs log-truncate.
func (s *state) truncate(ctx context.Context, logBk *v1alpha1.Backup, until uint64) error {
	patched := logBk.DeepCopy()
	patched.Spec.LogTruncateUntil = strconv.FormatUint(until, 10)
	if err := s.r.Client.Patch(ctx, patched, client.MergeFrom(logBk)); err != nil {
		return fmt.Errorf("set logTruncateUntil of log backup %s/%s: %w", logBk.Namespace, logBk.Name, err)
	}
	s.event(logBk, corev1.EventTypeNormal, ReasonLogBackupTruncate, actionTruncate,
		"log backup %s is truncated until %s (%d), the oldest snapshot Backup kept by maxReservedTime %s",
		logBk.Name, tsoString(until), until, s.spec.gc.reserved)
	return nil
}

// persistStatus writes the edits of this reconcile, once, on a fresh copy of the schedule read
// from the API server; without edits it reads and writes nothing.
func persistStatus(s *state) task.Task {
	return task.NameTaskFunc("PersistStatus", func(ctx context.Context) task.Result {
		if len(s.edits) == 0 {
			return task.Complete("")
		}
		edits := s.edits
		err := status.Update(ctx, s.r.Status, client.ObjectKeyFromObject(s.bs), &v1alpha1.BackupSchedule{}, func(bs *v1alpha1.BackupSchedule) bool {
			changed := false
			for _, e := range edits {
				if e(&bs.Status) {
					changed = true
				}
			}
			return changed
		})
		switch {
		case apierrors.IsNotFound(err):
			return task.Complete("")
		case err != nil:
			return task.Fail(err)
		}
		return task.Complete("status updated")
	})
}

// requeue asks for the reconcile at the next tick or compaction, when that comes before the
// resync would (which would come first anyway; asking then would only make the log line loud).
func requeue(s *state) task.Task {
	return task.NameTaskFunc("Requeue", func(context.Context) task.Result {
		if s.wake.IsZero() {
			return task.Complete("")
		}
		d := s.wake.Sub(s.now)
		if d >= s.r.Options.Resync {
			return task.Complete("")
		}
		return task.Retry(d, "next at "+s.wake.UTC().Format(time.RFC3339))
	})
}
