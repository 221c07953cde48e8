package common

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Now is the current time at the precision the API server stores (seconds). Times written into
// status are taken from here, so that a status read back compares equal to the one computed.
func Now() metav1.Time {
	return metav1.NewTime(time.Now().Truncate(time.Second))
}

// ReadyMessage is the message of Ready=True, as v1.6 words it.
const ReadyMessage = "TiDB cluster is fully up and running"

// ReadyCondition builds the TidbCluster Ready condition.
func ReadyCondition(ready bool, reason, message string) v1alpha1.TidbClusterCondition {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return v1alpha1.TidbClusterCondition{Type: v1alpha1.TidbClusterReady, Status: st, Reason: reason, Message: message}
}

// SetTidbClusterCondition puts cond into conds, replacing the condition of the same type. The
// times move only when something changed: lastTransitionTime when the status flips,
// lastUpdateTime when the status, reason or message changes. An unchanged condition therefore
// leaves the status byte for byte as it was, and no write follows.
func SetTidbClusterCondition(conds []v1alpha1.TidbClusterCondition, cond v1alpha1.TidbClusterCondition, now metav1.Time) []v1alpha1.TidbClusterCondition {
	for i := range conds {
		cur := &conds[i]
		if cur.Type != cond.Type {
			continue
		}
		if cur.Status == cond.Status && cur.Reason == cond.Reason && cur.Message == cond.Message {
			return conds
		}
		cond.LastUpdateTime = now
		cond.LastTransitionTime = cur.LastTransitionTime
		if cur.Status != cond.Status || cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
		conds[i] = cond
		return conds
	}
	cond.LastUpdateTime, cond.LastTransitionTime = now, now
	return append(conds, cond)
}

// Component condition types (metav1.Condition in status.<component>.conditions) the TidbCluster
// controller maintains.
const (
	// ConditionPDReachable on status.pd.conditions is False while PD cannot be reached or
	// answers errors. Everything else in status then shows what was last seen, and the operator
	// takes no step that needs PD's consent (scale-in, member or store removal).
	ConditionPDReachable = "PDReachable"
	// ConditionScaleInBlocked on status.<component>.conditions is True while a requested
	// scale-in is refused because it would be unsafe; the message says why and what to do.
	ConditionScaleInBlocked = "ScaleInBlocked"
	// ConditionUpgradeBlocked on status.<component>.conditions is True while a rolling upgrade
	// holds back a pod restart because it cannot be done safely now; the message says why.
	ConditionUpgradeBlocked = "UpgradeBlocked"
)

// Reasons of the component conditions.
const (
	ReasonPDReachable           = "PDReachable"
	ReasonPDUnreachable         = "PDUnreachable"
	ReasonScaleInAllowed        = "ScaleInAllowed"
	ReasonTooFewStores          = "TooFewUpStores"
	ReasonOtherComponentsNeedPD = "OtherComponentsNeedPD"
	ReasonPDNotSynced           = "PDStatusNotSynced"
)

// SetComponentCondition sets a metav1.Condition with the cluster's generation; the transition
// time moves only when the status flips (meta.SetStatusCondition's rule).
func SetComponentCondition(conds *[]metav1.Condition, typ string, status bool, reason, message string, generation int64) {
	st := metav1.ConditionFalse
	if status {
		st = metav1.ConditionTrue
	}
	existing := meta.FindStatusCondition(*conds, typ)
	c := metav1.Condition{Type: typ, Status: st, Reason: reason, Message: message, ObservedGeneration: generation}
	if existing == nil || existing.Status != st {
		c.LastTransitionTime = Now()
	}
	meta.SetStatusCondition(conds, c)
}

// RemoveComponentCondition drops a condition type.
func RemoveComponentCondition(conds *[]metav1.Condition, typ string) {
	meta.RemoveStatusCondition(conds, typ)
}
