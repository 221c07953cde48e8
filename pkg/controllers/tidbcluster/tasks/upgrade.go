package tasks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// upgradeSpec is how one component is rolled to a new pod template. The StatefulSet keeps its
// RollingUpdate partition at the replica count (no pod moves on its own); the operator lowers
// it one ordinal at a time, from the highest, once the pods above are upgraded, available and
// healthy and the next pod is prepared.
type upgradeSpec struct {
	// prepare readies a pod for its restart (PD: move leadership away; TiKV: move Region
	// leaders away). done means the partition may be lowered to the pod now.
	prepare func(ctx context.Context, live *appsv1.StatefulSet, ordinal int32, pod *corev1.Pod) (done bool, result task.Result)
	// healthy checks an upgraded, Ready pod beyond readiness (nil: readiness is enough). A
	// false answer says why; an error stops the step.
	healthy func(ctx context.Context, ordinal int32, pod *corev1.Pod) (bool, string, error)
	// force reports that the partition may drop to 0 at once (PD's force upgrade).
	force func() bool
	// settle tidies up after an upgrade that ended or was abandoned (the template went back,
	// the strategy became OnDelete): TiKV's leader evictions. nil: nothing to tidy.
	settle func(ctx context.Context, live *appsv1.StatefulSet) error
}

// minReadySecondsAnnKey is the TidbCluster annotation that makes an upgraded pod count as
// available only after it has been Ready that long.
func minReadySecondsAnnKey(component string) string {
	return "tidb.pingcap.com/" + component + "-min-ready-seconds"
}

// rollingUpgrade decides the partition of the component's StatefulSet for this reconcile. nil
// means the builder's default (replicas: nothing rolls). It runs only when the replica count is
// settled: scaling comes first, as in v1.6.
func (s *State) rollingUpgrade(ctx context.Context, spec statefulSetSpec, live, desired *appsv1.StatefulSet, replicas int32) (*int32, task.Result) {
	settled := func() (*int32, task.Result) {
		if spec.upgrade.settle != nil {
			if err := spec.upgrade.settle(ctx, live); err != nil {
				return nil, task.Fail(err)
			}
		}
		return nil, task.Complete("")
	}
	if live.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType ||
		desired.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return settled()
	}
	same, err := builders.TemplateEqual(desired, live)
	if err != nil {
		return nil, task.Fail(err)
	}
	livePartition := partitionOf(live)
	// forced: out of sync, nothing can be checked, so the StatefulSet controller replaces
	// every pod at once (PD's force upgrade; v1.6 considers it on every sync).
	forced := func() (*int32, task.Result) {
		zero := int32(0)
		if livePartition == nil || *livePartition != 0 {
			s.event(corev1.EventTypeWarning, "ForceUpgrade", "Upgrade", fmt.Sprintf("%s is not in sync; upgrading every pod of StatefulSet %s at once", spec.component, live.Name))
		}
		return &zero, task.Complete("force upgrade")
	}
	if !same {
		if spec.upgrade.force != nil && spec.upgrade.force() {
			return forced()
		}
		// A new template goes in with the partition at replicas, even in the middle of an
		// earlier upgrade: no pod restarts before the next reconcile has prepared it.
		return nil, task.Complete("")
	}
	if live.Status.ObservedGeneration < live.Generation {
		return livePartition, task.Retry(s.requeue(), fmt.Sprintf("waiting for the StatefulSet controller to observe %s", live.Name))
	}
	if live.Status.UpdateRevision == "" || live.Status.UpdateRevision == live.Status.CurrentRevision {
		return settled()
	}
	if spec.upgrade.force != nil && spec.upgrade.force() {
		return forced()
	}
	if ok, waitFor := UpgradeGate(spec.component, s.busyComponents()); !ok {
		return livePartition, task.Retry(s.requeue(), fmt.Sprintf("%s upgrade waits for %s to finish upgrading or scaling", spec.component, waitFor))
	}

	pods, err := s.componentPods(ctx, spec.component, live.Name, replicas)
	if err != nil {
		return livePartition, task.Fail(err)
	}
	in := UpgradeInput{Replicas: replicas, Partition: replicas, Pods: make([]UpgradePod, replicas)}
	if livePartition != nil {
		in.Partition = *livePartition
	}
	if v, ok := s.Cluster.Annotations[minReadySecondsAnnKey(spec.component)]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			in.MinReady = time.Duration(n) * time.Second
		}
	}
	now := time.Now()
	for ord, pod := range pods {
		p := UpgradePod{Name: fmt.Sprintf("%s-%d", live.Name, ord)}
		if pod != nil {
			p.Exists = true
			p.Terminating = pod.DeletionTimestamp != nil
			p.Upgraded = pod.Labels[appsv1.ControllerRevisionHashLabelKey] == live.Status.UpdateRevision
			if c := podReadyCondition(pod); c != nil && c.Status == corev1.ConditionTrue {
				p.Ready, p.ReadyFor = true, now.Sub(c.LastTransitionTime.Time)
			}
		}
		in.Pods[ord] = p
	}
	var healthErr error
	d := DecideUpgrade(in, func(ord int32) (bool, string) {
		if spec.upgrade.healthy == nil {
			return true, ""
		}
		ok, why, err := spec.upgrade.healthy(ctx, ord, pods[ord])
		if err != nil {
			healthErr = err
			return false, err.Error()
		}
		return ok, why
	})
	if healthErr != nil {
		return livePartition, task.Fail(healthErr)
	}
	switch d.Action {
	case UpgradeWait:
		return livePartition, task.Retry(s.requeue(), d.Message)
	case UpgradeDone:
		// The StatefulSet controller marks the revision current; the next reconcile puts the
		// partition back at replicas.
		return livePartition, task.Complete("")
	}
	done, r := spec.upgrade.prepare(ctx, live, d.Ordinal, pods[d.Ordinal])
	if !done {
		return livePartition, r
	}
	ord := d.Ordinal
	s.event(corev1.EventTypeNormal, "Upgrade", "Upgrade", fmt.Sprintf("upgrading %s pod %s-%d to revision %s", spec.component, live.Name, ord, live.Status.UpdateRevision))
	return &ord, task.Retry(s.requeue(), d.Message)
}

func partitionOf(sts *appsv1.StatefulSet) *int32 {
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		p := *ru.Partition
		return &p
	}
	return nil
}

func setPartition(sts *appsv1.StatefulSet, p int32) {
	if sts.Spec.UpdateStrategy.RollingUpdate == nil {
		sts.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
	}
	sts.Spec.UpdateStrategy.RollingUpdate.Partition = &p
}

func podReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// componentPods returns the component's pods by ordinal (nil where none exists), read from the
// cache by the component's labels.
func (s *State) componentPods(ctx context.Context, component, setName string, replicas int32) ([]*corev1.Pod, error) {
	list := &corev1.PodList{}
	sel := builders.ComponentLabels(s.Cluster, component)
	if err := s.Client.List(ctx, list, client.InNamespace(s.Cluster.Namespace), client.MatchingLabels(sel)); err != nil {
		return nil, fmt.Errorf("list %s pods: %w", component, err)
	}
	out := make([]*corev1.Pod, replicas)
	for i := range list.Items {
		pod := &list.Items[i]
		if ord, ok := ordinalOf(pod.Name, setName); ok && ord < replicas {
			out[ord] = pod
		}
	}
	return out, nil
}

// busyComponents lists the components that upgrade or scale right now, from the StatefulSets as
// they stand after this reconcile's writes.
func (s *State) busyComponents() map[string]bool {
	tc := s.Cluster
	busy := map[string]bool{}
	check := func(comp string, present bool, desired int32) {
		if !present {
			return
		}
		if phase := DecidePhase(desired, stsFacts(s.StatefulSets[comp]), false); phase.IsUpgradingOrScaling() {
			busy[comp] = true
		}
	}
	check(label.PDComponent, tc.Spec.PD != nil, tc.PDStsDesiredReplicas())
	check(label.TiKVComponent, tc.Spec.TiKV != nil, tc.TiKVStsDesiredReplicas())
	check(label.TiDBComponent, tc.Spec.TiDB != nil, tc.TiDBStsDesiredReplicas())
	return busy
}

// blockUpgrade reports an upgrade held back for safety: a condition on the component, and an
// event when the condition is new or says something new.
func blockUpgrade(s *State, conds *[]metav1.Condition, reason, message string) task.Result {
	s.upgradeBlocked = true
	prev := findCondition(*conds, common.ConditionUpgradeBlocked)
	common.SetComponentCondition(conds, common.ConditionUpgradeBlocked, true, reason, message, s.Cluster.Generation)
	if prev == nil || prev.Status != metav1.ConditionTrue || prev.Message != message {
		s.event(corev1.EventTypeWarning, "FailedUpgrade", "Upgrade", message)
	}
	return task.Retry(s.requeue(), message)
}
