package manager

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// reasonCleanFailed is v1.6's reason of a CleanFailed condition.
const reasonCleanFailed = "CleanBackupDataFailed"

// Clean runs `tidb-backup-manager clean`: it deletes every object of the Backup's data and
// checks nothing is left. It refuses, and deletes nothing, whenever the location is not
// certainly the backup's own: no recorded path, a path that no longer matches the spec, or a
// prefix that could reach other data.
func (m *Manager) Clean(ctx context.Context, o job.CleanOptions) error {
	key := client.ObjectKey{Namespace: o.Namespace, Name: o.BackupName}
	bk := &v1alpha1.Backup{}
	if err := m.Client.Get(ctx, key, bk); err != nil {
		return fmt.Errorf("clean %s: read the Backup: %w", key, err)
	}
	log := m.Log.WithValues("backup", key.String())
	record := func(ctx context.Context, t v1alpha1.BackupConditionType, reason, message string) error {
		cond := v1alpha1.BackupCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message}
		return update(ctx, m.Client, key, &v1alpha1.Backup{}, status.SetBackupCondition(cond, status.BackupFields{}))
	}
	fail := func(cause error) error {
		return m.recordFailure(ctx, "clean", key, cause, func(ctx context.Context, message string) error {
			return record(ctx, v1alpha1.BackupCleanFailed, reasonCleanFailed, message)
		})
	}

	// v1.6: a backup that never recorded where its data went has nothing to delete.
	if bk.Status.BackupPath == "" {
		log.Info("the Backup has no status.backupPath: nothing to clean")
		return record(ctx, v1alpha1.BackupClean, "NoBackupData", "status.backupPath is empty: the backup wrote no data")
	}
	if bk.Spec.BR == nil {
		return fail(errors.New("spec.br is not set: cleaning a Dumpling export is not supported by this tidb-backup-manager; delete the export's objects with the storage's own tools"))
	}
	loc, err := cleanLocation(bk)
	if err != nil {
		return fail(err)
	}
	b, err := storage.Open(ctx, loc, m.LookupEnv)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", loc.Redacted(), err))
	}
	defer func() { _ = b.Close() }()
	log.Info("cleaning the backup data", "path", loc.Redacted())
	stats, err := storage.Clean(ctx, b, bk.GetCleanOption(), log)
	if err != nil {
		return fail(fmt.Errorf("%d objects deleted before the error: %w", stats.Deleted, err))
	}
	log.Info("backup data deleted", "objects", stats.Deleted, "requests", stats.Requests)
	return record(ctx, v1alpha1.BackupClean, "", fmt.Sprintf("deleted %d objects under %s", stats.Deleted, loc.StatusPath()))
}

// cleanLocation is the location to delete, only when it is certainly the backup's: the spec's
// storage must still name the path the backup recorded (a spec edited after the backup could
// otherwise point the clean at someone else's data), and the prefix must be safe.
func cleanLocation(bk *v1alpha1.Backup) (storage.Location, error) {
	loc, err := storage.FromProvider(bk.Spec.StorageProvider, bk.Spec.BR.Options)
	if err != nil {
		return storage.Location{}, fmt.Errorf("storage: %w", err)
	}
	// SamePath: v1.6 and this manager spell the same path with or without a trailing slash.
	if got, recorded := loc.StatusPath(), bk.Status.BackupPath; !storage.SamePath(got, recorded) {
		return storage.Location{}, fmt.Errorf("the spec's storage now names %s but the backup wrote to %s (status.backupPath): refusing to delete; restore the spec's storage fields or delete the data by hand", got, recorded)
	}
	if err := storage.CheckPrefix(loc); err != nil {
		return storage.Location{}, err
	}
	return loc, nil
}
