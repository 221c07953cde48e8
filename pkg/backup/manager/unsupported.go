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
)

// ErrNotSupported marks the v1.6 subcommands this backup-manager does not carry: Dumpling
// exports and Lightning imports (a Backup or Restore without spec.br). BR covers both needs,
// and shipping Dumpling, Lightning and rclone in the image would triple its size.
var ErrNotSupported = errors.New("not supported: use BR")

// Export refuses a Dumpling export and says so in the Backup's status, so the user sees why
// nothing happened where they look rather than only in a failed pod's log.
func (m *Manager) Export(ctx context.Context, o job.ExportOptions) error {
	key := client.ObjectKey{Namespace: o.Namespace, Name: o.BackupName}
	cause := fmt.Errorf("export %s: Dumpling exports are %w: set spec.br (spec.br.cluster names the TidbCluster) to back up with BR", key, ErrNotSupported)
	cond := v1alpha1.BackupCondition{Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: reasonNotSupported, Message: cause.Error()}
	if err := update(ctx, m.Client, key, &v1alpha1.Backup{}, status.SetBackupCondition(cond, status.BackupFields{})); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// Import refuses a Lightning import, as Export does.
func (m *Manager) Import(ctx context.Context, o job.ImportOptions) error {
	key := client.ObjectKey{Namespace: o.Namespace, Name: o.RestoreName}
	cause := fmt.Errorf("import %s: Lightning imports are %w: set spec.br (spec.br.cluster names the TidbCluster) to restore a BR backup", key, ErrNotSupported)
	cond := v1alpha1.RestoreCondition{Type: v1alpha1.RestoreFailed, Status: corev1.ConditionTrue, Reason: reasonNotSupported, Message: cause.Error()}
	if err := update(ctx, m.Client, key, &v1alpha1.Restore{}, status.SetRestoreCondition(cond, status.RestoreFields{})); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
