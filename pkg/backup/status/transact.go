package status

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Transact runs one transaction through Update for a controller that keeps the object it
// reconciles in memory (*cur), and reports whether mutate changed the fresh copy, that is
// whether Update wrote. The copy read last (or written) replaces *cur, so the reconcile's later
// steps decide on what the other writer recorded too; on an error *cur stays as it was. fresh is
// an empty object of the kind, as for Update; errors are Update's, NotFound included.
func Transact[T client.Object](ctx context.Context, c client.Client, cur *T, fresh T, mutate func(T) bool) (bool, error) {
	changed := false
	err := Update(ctx, c, client.ObjectKeyFromObject(*cur), fresh, func(obj T) bool {
		changed = mutate(obj)
		return changed
	})
	if err != nil {
		return false, err
	}
	if fresh.GetName() != "" { // read at least once
		*cur = fresh
	}
	return changed, nil
}
