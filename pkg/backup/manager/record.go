package manager

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/backup/status"
)

// update writes one status transaction on the run's resource, bounded so that a hung API
// server fails the Job rather than holding it forever.
func update[T client.Object](ctx context.Context, c client.Client, key client.ObjectKey, obj T, mutate func(T) bool) error {
	ctx, cancel := context.WithTimeout(ctx, statusWriteTimeout)
	defer cancel()
	return status.Update(ctx, c, key, obj, mutate)
}

// recordFailure records a failure through write and returns it named after the resource, so
// the Job fails with the same words as the status. The write uses a context that survives
// SIGTERM: an interruption must be recorded.
func (m *Manager) recordFailure(ctx context.Context, what string, key client.ObjectKey, cause error, write func(ctx context.Context, message string) error) error {
	wctx, cancel := m.afterStop(ctx)
	defer cancel()
	err := fmt.Errorf("%s %s: %w", what, key, cause)
	if werr := write(wctx, statusMessage(cause)); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}
