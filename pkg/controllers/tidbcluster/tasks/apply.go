package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// applyChild creates or updates a child object of the cluster through common.Apply, making sure
// it is owned by the cluster (so that deleting the cluster deletes it, and changes to it wake
// the controller), and records an event when something was written.
func applyChild(ctx context.Context, s *State, obj client.Object) (client.Object, common.Outcome, error) {
	if metav1.GetControllerOf(obj) == nil {
		if err := controllerutil.SetControllerReference(s.Cluster, obj, s.Scheme); err != nil {
			return nil, common.Unchanged, fmt.Errorf("own %s: %w", obj.GetName(), err)
		}
	}
	kind := kindName(s, obj)
	live, outcome, err := common.Apply(ctx, s.Client, obj)
	if apierrors.IsConflict(err) {
		// The cache lagged behind a write (ours, or the StatefulSet controller's); nothing is
		// wrong, the next round applies to the fresh object.
		return nil, outcome, fmt.Errorf("%w: %w", errStale, err)
	}
	if err != nil {
		s.event(corev1.EventTypeWarning, "FailedApply", "Apply", fmt.Sprintf("%s %s: %v", kind, obj.GetName(), err))
		return nil, outcome, err
	}
	switch outcome {
	case common.Created:
		s.event(corev1.EventTypeNormal, "SuccessfulCreate", "Create", fmt.Sprintf("create %s %s successful", kind, obj.GetName()))
	case common.Updated:
		s.event(corev1.EventTypeNormal, "SuccessfulUpdate", "Update", fmt.Sprintf("update %s %s successful", kind, obj.GetName()))
	}
	return live, outcome, nil
}

// errStale marks an apply that lost a race with another writer; steps turn it into a short
// retry instead of a failure.
var errStale = errors.New("stale object")

// failOrRetry maps an apply error to the step's result.
func failOrRetry(err error) task.Result {
	if errors.Is(err, errStale) {
		return task.Retry(time.Second, "the object changed meanwhile; applying again")
	}
	return task.Fail(err)
}

func kindName(s *State, obj client.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	if s.Scheme != nil {
		if gvks, _, err := s.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
			return gvks[0].Kind
		}
	}
	return fmt.Sprintf("%T", obj)
}

// applyTask is a step that applies the objects build returns (nil entries are skipped).
func applyTask(s *State, name string, build func() ([]client.Object, error)) task.Task {
	return task.NameTaskFunc(name, func(ctx context.Context) task.Result {
		objs, err := build()
		if err != nil {
			return task.Fail(fmt.Errorf("build: %w", err))
		}
		var done []string
		for _, obj := range objs {
			if obj == nil || isNil(obj) {
				continue
			}
			_, outcome, err := applyChild(ctx, s, obj)
			if err != nil {
				return failOrRetry(err)
			}
			if outcome != common.Unchanged {
				done = append(done, fmt.Sprintf("%s %s", outcome, obj.GetName()))
			}
		}
		if len(done) == 0 {
			return task.Complete("")
		}
		return task.Complete(fmt.Sprint(done))
	})
}

// isNil catches typed nil pointers (a builder returning (*corev1.Service)(nil) for an object the
// cluster does not have) hidden in a client.Object interface.
func isNil(obj client.Object) bool {
	switch o := obj.(type) {
	case *corev1.Service:
		return o == nil
	case *corev1.ConfigMap:
		return o == nil
	}
	return false
}
