package backup

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// state is one reconcile of one Backup.
type state struct {
	r   *Reconciler
	bk  *v1alpha1.Backup
	now time.Time
	// tc is the TidbCluster the Backup works on, once loadTarget found it.
	tc     *v1alpha1.TidbCluster
	target job.Target
}

func (s *state) deleting() bool { return !s.bk.DeletionTimestamp.IsZero() }

func (s *state) snapshot() bool {
	return s.bk.Spec.Mode == "" || s.bk.Spec.Mode == v1alpha1.BackupModeSnapshot
}

func (s *state) logMode() bool { return s.bk.Spec.Mode == v1alpha1.BackupModeLog }

// clusterKey names the TidbCluster the Backup works on: spec.br.cluster in
// spec.br.clusterNamespace, or in the Backup's namespace.
func (s *state) clusterKey() client.ObjectKey {
	ns := s.bk.Namespace
	name := ""
	if br := s.bk.Spec.BR; br != nil {
		name = br.Cluster
		if br.ClusterNamespace != "" {
			ns = br.ClusterNamespace
		}
	}
	return client.ObjectKey{Namespace: ns, Name: name}
}

// update runs a status transaction on a fresh copy of the Backup and reports whether it
// wrote. The copy read last is kept as the state's Backup, so later steps see the result.
func (s *state) update(ctx context.Context, tx func(*v1alpha1.Backup) bool) (bool, error) {
	changed, err := status.Transact(ctx, s.r.Status, &s.bk, &v1alpha1.Backup{}, tx)
	if apierrors.IsNotFound(err) {
		// Deleted meanwhile (its finalizer was removed): nothing left to record.
		return false, nil
	}
	return changed, err
}

// setCondition records a condition (no command) and reports whether it changed anything.
func (s *state) setCondition(ctx context.Context, typ v1alpha1.BackupConditionType, st corev1.ConditionStatus, reason, message string) (bool, error) {
	cond := v1alpha1.BackupCondition{Type: typ, Status: st, Reason: reason, Message: message, LastTransitionTime: metav1.NewTime(s.now.Truncate(time.Second))}
	return s.update(ctx, status.SetBackupCondition(cond, status.BackupFields{}))
}

// event emits one event on the Backup. Callers emit only when the status write that goes with
// it changed something, so a condition that stays produces no new events.
func (s *state) event(eventType, reason, action, note string, args ...any) {
	backupjob.Event(s.r.Recorder, s.bk, nil, eventType, reason, action, note, args...)
}

// clusterTLS is the client TLS configuration for PD of a TLS cluster, from the operator's
// client certificate Secret <tc>-cluster-client-secret; nil for a cluster without TLS. The
// Secret is read directly (Secrets are never cached), on each use, so a rotated certificate
// is picked up.
func (s *state) clusterTLS(ctx context.Context) (*tls.Config, error) {
	if s.tc == nil || !s.tc.IsTLSClusterEnabled() {
		return nil, nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: s.tc.Namespace, Name: builders.ClusterClientTLSSecretName(s.tc.Name)}
	if err := s.r.Status.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("read the cluster client certificate %s: %w", key, err)
	}
	cfg, err := pdapi.TLSConfig(secret.Data["ca.crt"], secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("cluster client certificate %s: %w", key, err)
	}
	return cfg, nil
}
