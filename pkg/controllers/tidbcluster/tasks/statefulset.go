package tasks

import (
	"time"

	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// scaleInOne removes ordinal from the component (PD member, TiKV store) before its pod goes.
// done means the pod may go now; otherwise result says what the step waits for.
type scaleInOne func(ctx context.Context, live *appsv1.StatefulSet, ordinal int32) (done bool, result task.Result)

// statefulSetSpec is one component's StatefulSet sync.
type statefulSetSpec struct {
	component string
	// name of the StatefulSet.
	name string
	// build returns the desired StatefulSet with the given replica count.
	build func(opts builders.StatefulSetOptions) (*appsv1.StatefulSet, error)
	// target is the replica count the cluster asks for.
	target int32
	// outStep and inStep bound how many pods are added or removed per reconcile.
	outStep, inStep int32
	// scaleIn prepares the removal of one ordinal; nil means pods can go at once.
	scaleIn scaleInOne
	// conditions is where a blocked scale-in or upgrade is reported.
	conditions *[]metav1.Condition
	// upgrade rolls pods to a new template; nil lets the StatefulSet keep its partition at
	// replicas (nothing rolls).
	upgrade *upgradeSpec
	// applied, when set, is told what the StatefulSet write did, once it succeeded.
	applied func(common.Outcome)
}

// syncStatefulSet creates the StatefulSet or moves it towards the desired one: scale-out first
// (after deleting claims an earlier scale-in left on the new ordinals), scale-in one prepared
// ordinal at a time from the highest, then every other change of the spec.
func syncStatefulSet(ctx context.Context, s *State, spec statefulSetSpec) task.Result {
	live := &appsv1.StatefulSet{}
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.Cluster.Namespace, Name: spec.name}, live)
	if apierrors.IsNotFound(err) {
		desired, err := spec.build(builders.StatefulSetOptions{Replicas: &spec.target})
		if err != nil {
			return task.Fail(fmt.Errorf("build StatefulSet %s: %w", spec.name, err))
		}
		obj, outcome, err := applyChild(ctx, s, desired)
		if err != nil {
			return failOrRetry(err)
		}
		s.StatefulSets[spec.component] = obj.(*appsv1.StatefulSet)
		if spec.applied != nil {
			spec.applied(outcome)
		}
		return task.Complete(fmt.Sprintf("created with %d replicas", spec.target))
	}
	if err != nil {
		return task.Fail(fmt.Errorf("get StatefulSet %s: %w", spec.name, err))
	}
	current := replicasOf(live)
	step := NextReplicas(current, spec.target, stepFor(spec, current))
	replicas := current
	result := task.Complete("")
	blocked := false

	switch step.Direction {
	case "out":
		deleted := false
		for ord := current; ord < step.Replicas; ord++ {
			d, err := deleteDeferredPVCs(ctx, s, live, ord)
			if err != nil {
				return task.Fail(err)
			}
			deleted = deleted || d
		}
		if deleted {
			// Let the claims go before the pods that would reuse their names appear.
			result = task.Retry(s.requeue(), "deleted claims left by an earlier scale-in")
			break
		}
		replicas = step.Replicas
		s.event(corev1.EventTypeNormal, "ScaleOut", "ScaleOut", fmt.Sprintf("scale out %s StatefulSet %s from %d to %d", spec.component, live.Name, current, replicas))
		if replicas != spec.target {
			result = task.Retry(s.requeue(), fmt.Sprintf("scaling out %d/%d", replicas, spec.target))
		}
	case "in":
		for ord := current - 1; ord >= step.Replicas; ord-- {
			if spec.scaleIn != nil {
				done, r := spec.scaleIn(ctx, live, ord)
				if !done {
					result = r
					blocked = r.Status() == task.StatusWait
					break
				}
			}
			if err := markPVCsDeferDeleting(ctx, s, live, ord); err != nil {
				return task.Fail(err)
			}
			replicas = ord
		}
		if replicas < current {
			s.event(corev1.EventTypeNormal, "ScaleIn", "ScaleIn", fmt.Sprintf("scale in %s StatefulSet %s from %d to %d", spec.component, live.Name, current, replicas))
			if replicas != spec.target && result.Status() == task.StatusComplete {
				result = task.Retry(s.requeue(), fmt.Sprintf("scaling in %d/%d", replicas, spec.target))
			}
		}
	}
	if !blocked && spec.conditions != nil {
		common.RemoveComponentCondition(spec.conditions, common.ConditionScaleInBlocked)
	}

	desired, err := spec.build(builders.StatefulSetOptions{Replicas: &replicas})
	if err != nil {
		return task.Fail(fmt.Errorf("build StatefulSet %s: %w", spec.name, err))
	}
	// Scaling comes first; the pods roll to a new template once the replica count is settled.
	if spec.upgrade != nil && (step.Direction != "" || replicas != spec.target) && spec.conditions != nil {
		// While scaling, no upgrade step runs, so nothing it reported earlier still holds.
		common.RemoveComponentCondition(spec.conditions, common.ConditionUpgradeBlocked)
	}
	if spec.upgrade != nil && step.Direction == "" && replicas == spec.target {
		s.upgradeBlocked = false
		partition, r := s.rollingUpgrade(ctx, spec, live, desired, replicas)
		if partition != nil {
			setPartition(desired, *partition)
		}
		if !s.upgradeBlocked && spec.conditions != nil {
			common.RemoveComponentCondition(spec.conditions, common.ConditionUpgradeBlocked)
		}
		if r.Status() == task.StatusFail {
			return r
		}
		if result.Status() == task.StatusComplete && r.Status() != task.StatusComplete {
			result = r
		}
	}
	obj, outcome, err := applyChild(ctx, s, desired)
	if err != nil {
		return failOrRetry(err)
	}
	s.StatefulSets[spec.component] = obj.(*appsv1.StatefulSet)
	if spec.applied != nil {
		spec.applied(outcome)
	}
	if result.Status() == task.StatusComplete && outcome != common.Unchanged {
		return task.Complete(string(outcome))
	}
	return result
}

// replicasOf is .spec.replicas, which the API server defaults to 1.
func replicasOf(sts *appsv1.StatefulSet) int32 {
	if sts.Spec.Replicas == nil {
		return 1
	}
	return *sts.Spec.Replicas
}

func stepFor(spec statefulSetSpec, current int32) int32 {
	if spec.target > current {
		return spec.outStep
	}
	return spec.inStep
}

func (s *State) requeue() time.Duration {
	if s.Requeue > 0 {
		return s.Requeue
	}
	return defaultRequeue
}

// blockScaleIn reports a refused scale-in: a condition on the component, and an event when
// the condition is new or says something new.
func blockScaleIn(s *State, conds *[]metav1.Condition, reason, message string) task.Result {
	prev := findCondition(*conds, common.ConditionScaleInBlocked)
	common.SetComponentCondition(conds, common.ConditionScaleInBlocked, true, reason, message, s.Cluster.Generation)
	if prev == nil || prev.Status != metav1.ConditionTrue || prev.Message != message {
		s.event(corev1.EventTypeWarning, "FailedScaleIn", "ScaleIn", message)
	}
	return task.Wait(message)
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// defaultRequeue paces multi-step actions (scale-in waiting for PD, for a tombstone) when Deps
// does not say otherwise.
const defaultRequeue = 10 * time.Second
