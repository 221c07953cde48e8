package common

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// ErrStatusConflict says the TidbCluster changed after the status was computed from it. The
// status is not written: it was derived from an old copy (transition times, last-seen members),
// and forcing it onto the newer object would move those backwards. The reconcile should run
// again on a fresh copy.
var ErrStatusConflict = errors.New("the TidbCluster changed while its status was computed")

// WriteTidbClusterStatus persists status as the status of tc through the status subresource.
// It writes nothing when the stored status already equals status (semantic equality: nil and
// empty maps match, quantities and times by value). It reports whether it wrote; on a conflict
// it returns an error matching ErrStatusConflict and writes nothing.
//
// The status is computed by the reconcile in memory and handed over whole: this is the only
// status write of a reconcile.
func WriteTidbClusterStatus(ctx context.Context, c client.Client, tc *v1alpha1.TidbCluster, status *v1alpha1.TidbClusterStatus) (bool, error) {
	if equality.Semantic.DeepEqual(tc.Status, *status) {
		return false, nil
	}
	live := tc.DeepCopy()
	live.Status = *status.DeepCopy()
	if err := c.Status().Update(ctx, live, client.FieldOwner(FieldManager)); err != nil {
		if apierrors.IsConflict(err) {
			return false, fmt.Errorf("update status of TidbCluster %s: %w", client.ObjectKeyFromObject(tc), errors.Join(ErrStatusConflict, err))
		}
		return false, fmt.Errorf("update status of TidbCluster %s: %w", client.ObjectKeyFromObject(tc), err)
	}
	tc.Status = live.Status
	tc.ResourceVersion = live.ResourceVersion
	return true, nil
}
