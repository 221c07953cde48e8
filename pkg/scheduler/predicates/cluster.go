package predicates

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Rule names; they are the reasons of the events the extender records.
const (
	// RuleHA is v1.6's HAScheduling predicate for PD and TiKV.
	RuleHA = "HAScheduling"
	// RuleLock is the per-component scheduling lock kept on PVCs.
	RuleLock = "SchedulingLock"
	// RuleStable is v1.6's StableScheduling predicate for TiDB.
	RuleStable = "StableScheduling"
)

// DefaultTopologyKey is the node label HA spreads over when the TidbCluster does not name one
// in its pingcap.com/ha-topology-key annotation.
const DefaultTopologyKey = corev1.LabelHostname

// TopologyKey is the node label the cluster's pods spread over.
func TopologyKey(tc *v1alpha1.TidbCluster) string {
	if k := tc.Annotations[label.HATopologyKeyAnnKey]; k != "" {
		return k
	}
	return DefaultTopologyKey
}

// ClusterName is the name of the TidbCluster a component pod belongs to. StatefulSet pods carry
// GenerateName "<tc>-<component>-", which v1.6 reads; pods created another way fall back to
// their name "<tc>-<component>-<ordinal>", and then to the instance label.
func ClusterName(pod *corev1.Pod, component string) string {
	suffix := "-" + component + "-"
	if strings.HasSuffix(pod.GenerateName, suffix) && len(pod.GenerateName) > len(suffix) {
		return strings.TrimSuffix(pod.GenerateName, suffix)
	}
	if i := strings.LastIndex(pod.Name, suffix); i > 0 {
		if _, err := strconv.Atoi(pod.Name[i+len(suffix):]); err == nil {
			return pod.Name[:i]
		}
	}
	return pod.Labels[label.InstanceLabelKey]
}

// Ordinal is the StatefulSet ordinal at the end of a pod name; ok is false when the name has
// none.
func Ordinal(podName string) (int32, bool) {
	i := strings.LastIndex(podName, "-")
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(podName[i+1:], 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int32(n), true
}

// DesiredOrdinals are the ordinals a component's StatefulSet keeps with replicas pods: the
// lowest ones that are not in the delete slots (v1.6's advanced StatefulSet lets a cluster drop
// arbitrary ordinals through the <component>.tidb.pingcap.com/delete-slots annotation).
func DesiredOrdinals(replicas int32, deleteSlots sets.Set[int32]) sets.Set[int32] {
	out := sets.New[int32]()
	for i := int32(0); int32(out.Len()) < replicas; i++ {
		if !deleteSlots.Has(i) {
			out.Insert(i)
		}
	}
	return out
}

// DeleteSlots reads the TidbCluster's delete-slots annotation for a component, a JSON list of
// ordinals. A malformed value is an error rather than an empty set, since guessing would count
// the wrong pods.
func DeleteSlots(tc *v1alpha1.TidbCluster, component string) (sets.Set[int32], error) {
	key := component + label.DeleteSlotsAnnKeySuffix
	raw, ok := tc.Annotations[key]
	if !ok || strings.TrimSpace(raw) == "" {
		return sets.New[int32](), nil
	}
	var slots []int32
	if err := json.Unmarshal([]byte(raw), &slots); err != nil {
		return nil, fmt.Errorf("annotation %s=%q is not a JSON list of ordinals: %w", key, raw, err)
	}
	return sets.New(slots...), nil
}

// Replicas is the pod count of a component's StatefulSet, the N of the HA formulas. It includes
// the extra pods auto-failover and volume replacement add, as v1.6 does.
func Replicas(tc *v1alpha1.TidbCluster, component string) int32 {
	switch component {
	case label.PDComponent:
		return tc.PDStsDesiredReplicas()
	case label.TiKVComponent:
		return tc.TiKVStsDesiredReplicas()
	}
	return 0
}

// FailurePods are the pods auto-failover recorded as failed for a component; HA does not count
// them, since their replacements stand in for them.
func FailurePods(tc *v1alpha1.TidbCluster, component string) sets.Set[string] {
	out := sets.New[string]()
	switch component {
	case label.PDComponent:
		for _, m := range tc.Status.PD.FailureMembers {
			out.Insert(m.PodName)
		}
	case label.TiKVComponent:
		for _, s := range tc.Status.TiKV.FailureStores {
			out.Insert(s.PodName)
		}
	}
	out.Delete("")
	return out
}

// ClaimName is the PVC of a pod's main data volume, "<component>-<pod>", which carries the
// scheduling lock.
func ClaimName(component, podName string) string { return component + "-" + podName }
