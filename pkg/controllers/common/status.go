package common

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// WriteTidbClusterStatus persists status as the status of tc through the status subresource.
// It writes nothing when the stored status already equals status (semantic equality: nil and
// empty maps match, quantities and times by value), and on a conflict re-reads the object from
// reader and tries again, so a status computed from a slightly stale copy still lands. It
// reports whether it wrote.
//
// The status is computed by the reconcile in memory and handed over whole: this is the only
// status write of a reconcile.
func WriteTidbClusterStatus(ctx context.Context, c client.Client, reader client.Reader, tc *v1alpha1.TidbCluster, status *v1alpha1.TidbClusterStatus) (bool, error) {
	if equality.Semantic.DeepEqual(tc.Status, *status) {
		return false, nil
	}
	wrote := false
	live := tc.DeepCopy()
	first := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			if err := reader.Get(ctx, client.ObjectKeyFromObject(tc), live); err != nil {
				return err
			}
			if equality.Semantic.DeepEqual(live.Status, *status) {
				return nil
			}
		}
		first = false
		live.Status = *status.DeepCopy()
		if err := c.Status().Update(ctx, live, client.FieldOwner(FieldManager)); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	if err != nil {
		return wrote, fmt.Errorf("update status of TidbCluster %s: %w", client.ObjectKeyFromObject(tc), err)
	}
	tc.Status = live.Status
	tc.ResourceVersion = live.ResourceVersion
	return wrote, nil
}
