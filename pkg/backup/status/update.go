package status

import (
	"context"
	"fmt"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// conflictBackoff bounds the retries after a conflict: client-go's DefaultBackoff, four tries
// over about a third of a second. Conflicts here come from the other writer's single write, so
// a re-read almost always succeeds at once; many conflicts in a row mean something rewrites the
// object in a loop, which waiting longer would not fix. A variable so tests can count tries.
var conflictBackoff = retry.DefaultBackoff

// Update applies mutate to a fresh copy of the object named by key and writes its status when
// mutate reports a change.
//
// obj is an empty object of the kind (for example &v1alpha1.Backup{}); it is reset and filled by
// a Get through c before each try, and holds the object as last read or written when Update
// returns. Pass a client that reads from the API server, not from a cache: a stale copy would
// only turn into a conflict and a retry.
//
// When mutate returns false nothing is written. Otherwise the status subresource is updated
// with the resourceVersion of the copy that was read, so the write fails with a Conflict if
// anyone wrote in between; Update then reads again and re-applies mutate, a bounded number of
// times, and returns the last conflict wrapped when it gives up. mutate must therefore be a
// pure edit of the object it is given, safe to run more than once. Other errors, NotFound
// included, are returned wrapped at once (apierrors.IsNotFound sees through the wrapping): what
// to do about a deleted object is the caller's decision.
func Update[T client.Object](ctx context.Context, c client.Client, key client.ObjectKey, obj T, mutate func(T) bool) error {
	backoff := conflictBackoff
	for try := 1; ; try++ {
		err := updateOnce(ctx, c, key, obj, mutate)
		if err == nil || !apierrors.IsConflict(err) {
			return err
		}
		if backoff.Steps <= 1 {
			return fmt.Errorf("gave up after %d tries, each hit a conflict with another writer: %w", try, err)
		}
		if err := sleep(ctx, backoff.Step()); err != nil {
			return fmt.Errorf("stopped retrying after a conflict: %w", err)
		}
	}
}

// updateOnce is one try: read, apply, and write if something changed.
func updateOnce[T client.Object](ctx context.Context, c client.Client, key client.ObjectKey, obj T, mutate func(T) bool) error {
	reset(obj)
	if err := c.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("get %s %s: %w", kindOf(obj), key, err)
	}
	if !mutate(obj) {
		return nil
	}
	if err := c.Status().Update(ctx, obj); err != nil {
		return fmt.Errorf("update status of %s %s: %w", kindOf(obj), key, err)
	}
	return nil
}

// reset zeroes obj before it is read again. Decoding into a used object keeps whatever the
// response leaves out (an omitted field, a map key): a field set by the failed try would then
// look already set to the re-applied mutate, which would report no change and drop the write.
// The GroupVersionKind is kept because unstructured objects need it to be read at all.
func reset(obj client.Object) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	v.Elem().SetZero()
	if !gvk.Empty() {
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
}

// kindOf names the kind in error messages: the Go type name, or the kind of an unstructured
// object.
func kindOf(obj client.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	t := reflect.TypeOf(obj)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// sleep waits for d, or returns the context's cause if it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// All combines transactions into one, so that they are written together: each is applied in
// order, and the result reports a change if any of them made one.
func All[T any](txs ...func(T) bool) func(T) bool {
	return func(obj T) bool {
		changed := false
		for _, tx := range txs {
			if tx(obj) {
				changed = true
			}
		}
		return changed
	}
}
