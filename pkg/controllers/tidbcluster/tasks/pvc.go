package tasks

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

// ordinalPVCNames are the claims the StatefulSet controller creates for one ordinal:
// "<template>-<set>-<ordinal>" for each volume claim template.
func ordinalPVCNames(sts *appsv1.StatefulSet, ordinal int32) []string {
	names := make([]string, 0, len(sts.Spec.VolumeClaimTemplates))
	for _, t := range sts.Spec.VolumeClaimTemplates {
		names = append(names, fmt.Sprintf("%s-%s-%d", t.Name, sts.Name, ordinal))
	}
	return names
}

// markPVCsDeferDeleting annotates the claims of a removed ordinal with the time they were left
// behind. They are never deleted here: a later scale-out of the ordinal removes them, so a
// scale-in can always be undone by hand until then.
func markPVCsDeferDeleting(ctx context.Context, s *State, sts *appsv1.StatefulSet, ordinal int32) error {
	for _, name := range ordinalPVCNames(sts, ordinal) {
		pvc := &corev1.PersistentVolumeClaim{}
		err := s.Client.Get(ctx, client.ObjectKey{Namespace: sts.Namespace, Name: name}, pvc)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get PVC %s: %w", name, err)
		}
		if _, ok := pvc.Annotations[label.PVCDeferDeletingAnnKey]; ok {
			continue
		}
		patch := client.MergeFrom(pvc.DeepCopy())
		if pvc.Annotations == nil {
			pvc.Annotations = map[string]string{}
		}
		pvc.Annotations[label.PVCDeferDeletingAnnKey] = time.Now().UTC().Format(time.RFC3339)
		if err := s.Client.Patch(ctx, pvc, patch, client.FieldOwner(common.FieldManager)); err != nil {
			return fmt.Errorf("annotate PVC %s: %w", name, err)
		}
		s.event(corev1.EventTypeNormal, "PVCDeferDeleting", "ScaleIn", fmt.Sprintf("PVC %s of removed pod %s-%d kept and marked %s", name, sts.Name, ordinal, label.PVCDeferDeletingAnnKey))
	}
	return nil
}

// deleteDeferredPVCs removes the claims an earlier scale-in left for ordinal, so that the pod
// about to be created starts with empty volumes instead of stale data (a store or member that
// was removed from PD must not come back). It reports whether it deleted anything.
func deleteDeferredPVCs(ctx context.Context, s *State, sts *appsv1.StatefulSet, ordinal int32) (bool, error) {
	deleted := false
	for _, name := range ordinalPVCNames(sts, ordinal) {
		pvc := &corev1.PersistentVolumeClaim{}
		err := s.Client.Get(ctx, client.ObjectKey{Namespace: sts.Namespace, Name: name}, pvc)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return deleted, fmt.Errorf("get PVC %s: %w", name, err)
		}
		if _, ok := pvc.Annotations[label.PVCDeferDeletingAnnKey]; !ok || !pvc.DeletionTimestamp.IsZero() {
			continue
		}
		if err := s.Client.Delete(ctx, pvc, client.Preconditions{UID: &pvc.UID}); err != nil && !apierrors.IsNotFound(err) {
			return deleted, fmt.Errorf("delete deferred PVC %s: %w", name, err)
		}
		deleted = true
		s.event(corev1.EventTypeNormal, "PVCDeleted", "ScaleOut", fmt.Sprintf("deleted PVC %s left by an earlier scale-in before recreating pod %s-%d", name, sts.Name, ordinal))
	}
	return deleted, nil
}
