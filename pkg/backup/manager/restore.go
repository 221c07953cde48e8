package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// Condition reasons of the restore flow (v1.6's names).
const (
	reasonRestoreFailed      = "RestoreDataFromRemoteFailed"
	reasonGetCommitTsFailed  = "GetCommitTsFailed"
	reasonPruneFailed        = "PruneFailed"
	reasonRestoreInvalidSpec = "InvalidSpec"
	reasonBackupNotFound     = "BackupNotFound"
)

// errNoBackup marks a restore whose backup is not where the spec says.
var errNoBackup = errors.New("no backup")

type restoreRun struct {
	m   *Manager
	key client.ObjectKey
	rs  *v1alpha1.Restore
	o   job.RestoreOptions
	// secrets are the spec's credentials (SAS tokens) that BR's output must not show.
	secrets []string
}

// Restore runs `tidb-backup-manager restore`: a snapshot restore, a point-in-time restore, or
// (with --abort) the clean-up of an unfinished one.
func (m *Manager) Restore(ctx context.Context, o job.RestoreOptions) error {
	key := client.ObjectKey{Namespace: o.Namespace, Name: o.RestoreName}
	rs := &v1alpha1.Restore{}
	if err := m.Client.Get(ctx, key, rs); err != nil {
		return fmt.Errorf("restore %s: read the Restore: %w", key, err)
	}
	mm := *m
	mm.Log = m.Log.WithValues("restore", key.String(), "mode", o.Mode)
	r := &restoreRun{m: &mm, key: key, rs: rs, o: o}

	failType := v1alpha1.RestoreFailed
	if o.Abort {
		failType = v1alpha1.RestorePruneFailed
	}
	if o.Mode == v1alpha1.RestoreModeVolumeSnapshot {
		return r.fail(ctx, failType, reasonNotSupported,
			errors.New("spec.restoreMode volume-snapshot (EBS volume snapshots) is not supported by this tidb-backup-manager: use snapshot or pitr"))
	}
	if rs.Spec.BR == nil {
		return r.fail(ctx, failType, reasonRestoreInvalidSpec,
			errors.New("spec.br is not set: this tidb-backup-manager restores with BR only; set spec.br.cluster to the TidbCluster to restore into"))
	}
	loc, err := storage.FromProvider(rs.Spec.StorageProvider, rs.Spec.BR.Options)
	if err != nil {
		return r.fail(ctx, failType, reasonRestoreInvalidSpec, fmt.Errorf("storage: %w", err))
	}
	var full *storage.Location
	if o.Mode == v1alpha1.RestoreModePiTR && rs.HasPitrFullBackup() {
		l, err := storage.FromProvider(rs.Spec.PitrFullBackupStorageProvider, rs.Spec.BR.Options)
		if err != nil {
			return r.fail(ctx, failType, reasonRestoreInvalidSpec, fmt.Errorf("spec.pitrFullBackupStorageProvider: %w", err))
		}
		full = &l
	}
	r.secrets = []string{loc.SASToken}
	if full != nil {
		r.secrets = append(r.secrets, full.SASToken)
	}
	cluster := brcmd.Cluster{PDAddress: brcmd.PDAddress(rs.Spec.BR, rs.Namespace), TLS: o.TLSCluster}
	args, err := brcmd.Restore(rs, o, cluster, loc, full)
	if err != nil {
		return r.fail(ctx, failType, reasonRestoreInvalidSpec, err)
	}
	if o.Abort {
		return r.abort(ctx, args)
	}
	return r.restore(ctx, args, loc, full)
}

func (r *restoreRun) restore(ctx context.Context, args []string, loc storage.Location, full *storage.Location) error {
	if err := r.preflight(ctx, loc, full); err != nil {
		reason := reasonStorageAccess
		if errors.Is(err, errNoBackup) {
			reason = reasonBackupNotFound
		}
		return r.fail(ctx, v1alpha1.RestoreFailed, reasonFor(ctx, err, reason), err)
	}
	started := metav1.NewTime(r.m.Clock.Now())
	// Each run's progress starts from zero: a retried restore's BR starts over.
	if err := r.update(ctx, status.All(
		status.SetRestoreCondition(v1alpha1.RestoreCondition{Type: v1alpha1.RestoreRunning, Status: corev1.ConditionTrue}, status.RestoreFields{TimeStarted: &started}),
		status.ClearRestoreProgress())); err != nil {
		return fmt.Errorf("restore %s: record Running: %w", r.key, err)
	}
	if err := r.runBR(ctx, args); err != nil {
		return r.fail(ctx, v1alpha1.RestoreFailed, reasonFor(ctx, err, reasonRestoreFailed), fmt.Errorf("br restore: %w", err))
	}
	commitTS, err := r.commitTS(ctx, loc)
	if err != nil {
		return r.fail(ctx, v1alpha1.RestoreFailed, reasonGetCommitTsFailed, err)
	}
	completed := metav1.NewTime(r.m.Clock.Now())
	fields := status.RestoreFields{
		CommitTs:      commitTS,
		TimeStarted:   &started,
		TimeCompleted: &completed,
		TimeTaken:     completed.Sub(started.Time).Round(time.Millisecond).String(),
	}
	if err := r.condition(ctx, v1alpha1.RestoreComplete, "", "", fields); err != nil {
		return err
	}
	r.m.Log.Info("restore complete", "commitTs", commitTS, "took", fields.TimeTaken)
	return nil
}

// preflight checks, before BR starts, that the backup to restore is there: a snapshot's
// backupmeta, or for PiTR the full backup's (the log storage only has to be readable).
func (r *restoreRun) preflight(ctx context.Context, loc storage.Location, full *storage.Location) error {
	snapshot := loc
	if r.o.Mode == v1alpha1.RestoreModePiTR {
		if _, err := r.m.hasBackupMeta(ctx, loc); err != nil {
			return err
		}
		if full == nil {
			return nil
		}
		snapshot = *full
	}
	exists, err := r.m.hasBackupMeta(ctx, snapshot)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w at %s (no backupmeta there): check the storage provider's bucket and prefix", errNoBackup, snapshot.StatusPath())
	}
	return nil
}

// commitTS is the point the restored data is consistent at: the restored-ts of a PiTR restore,
// the snapshot's end version otherwise.
func (r *restoreRun) commitTS(ctx context.Context, loc storage.Location) (string, error) {
	if r.o.Mode == v1alpha1.RestoreModePiTR {
		ts, err := v1alpha1.ParseTSString(r.o.PitrRestoredTS)
		if err != nil {
			return "", fmt.Errorf("--%s=%q: %w", job.FlagPitrRestoredTS, r.o.PitrRestoredTS, err)
		}
		return fmt.Sprint(ts), nil
	}
	sum, err := r.m.readMeta(ctx, loc)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(sum.EndVersion), nil
}

// abort runs `br abort restore`, which removes what an unfinished restore left (spec.prune:
// afterFailed).
func (r *restoreRun) abort(ctx context.Context, args []string) error {
	if err := r.condition(ctx, v1alpha1.RestorePruneRunning, "", "", status.RestoreFields{}); err != nil {
		return err
	}
	if err := r.runBR(ctx, args); err != nil {
		return r.fail(ctx, v1alpha1.RestorePruneFailed, reasonFor(ctx, err, reasonPruneFailed), fmt.Errorf("br abort restore: %w", err))
	}
	return r.condition(ctx, v1alpha1.RestorePruneComplete, "", "", status.RestoreFields{})
}

func (r *restoreRun) runBR(ctx context.Context, args []string) error {
	return r.m.runBR(ctx, args, r.secrets, func(ctx context.Context, p brlog.Progress, now metav1.Time) error {
		return r.update(ctx, status.SetRestoreProgress(p.Step, p.Percent, now))
	})
}

func (r *restoreRun) condition(ctx context.Context, t v1alpha1.RestoreConditionType, reason, message string, fields status.RestoreFields) error {
	cond := v1alpha1.RestoreCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message}
	if err := r.update(ctx, status.SetRestoreCondition(cond, fields)); err != nil {
		return fmt.Errorf("restore %s: record %s: %w", r.key, t, err)
	}
	return nil
}

func (r *restoreRun) fail(ctx context.Context, t v1alpha1.RestoreConditionType, reason string, cause error) error {
	return r.m.recordFailure(ctx, "restore", r.key, cause, func(ctx context.Context, message string) error {
		return r.condition(ctx, t, reason, message, status.RestoreFields{})
	})
}

func (r *restoreRun) update(ctx context.Context, mutate func(*v1alpha1.Restore) bool) error {
	return update(ctx, r.m.Client, r.key, &v1alpha1.Restore{}, mutate)
}
