package tasks

import (
	"fmt"
	"time"
)

// UpgradePod is one pod of a component during a rolling upgrade, as seen in this reconcile.
type UpgradePod struct {
	// Name of the pod.
	Name string
	// Exists is false while the StatefulSet controller has not (re)created the pod.
	Exists bool
	// Terminating: the pod has a deletion timestamp.
	Terminating bool
	// Upgraded: the pod runs the StatefulSet's update revision.
	Upgraded bool
	// Ready is the pod's Ready condition; ReadyFor how long it has been True.
	Ready    bool
	ReadyFor time.Duration
}

// UpgradeInput is what the rolling-upgrade decision looks at for one component.
type UpgradeInput struct {
	// Replicas of the StatefulSet and its current RollingUpdate partition.
	Replicas, Partition int32
	// Pods by ordinal, 0 to Replicas-1.
	Pods []UpgradePod
	// MinReady is how long an upgraded pod must have been Ready (the TidbCluster annotation
	// tidb.pingcap.com/<component>-min-ready-seconds).
	MinReady time.Duration
}

// UpgradeAction is the one thing to do next in a rolling upgrade.
type UpgradeAction int

const (
	// UpgradeWait: an upgraded pod is not yet available or healthy, or the StatefulSet controller
	// is replacing one; Message says which.
	UpgradeWait UpgradeAction = iota
	// UpgradeNext: Ordinal is the next pod to upgrade; prepare it (leader transfer, leader
	// eviction) and lower the partition to it.
	UpgradeNext
	// UpgradeDone: every pod runs the update revision and is healthy.
	UpgradeDone
)

// UpgradeDecision is the answer.
type UpgradeDecision struct {
	Action  UpgradeAction
	Ordinal int32
	Message string
}

// DecideUpgrade walks the pods from the highest ordinal down, as v1.6 does: every pod already on
// the new revision must be Ready for MinReady and healthy (healthy asks the component: PD member
// health, TiKV store Up, TiDB status) before the next one is touched, so that at most one pod of
// the component is ever down for the upgrade. healthy is called for upgraded pods only, in
// order, and not after the first that is not.
func DecideUpgrade(in UpgradeInput, healthy func(ordinal int32) (bool, string)) UpgradeDecision {
	for ord := in.Replicas - 1; ord >= 0; ord-- {
		if int(ord) >= len(in.Pods) || !in.Pods[ord].Exists {
			return UpgradeDecision{Action: UpgradeWait, Ordinal: ord, Message: fmt.Sprintf("waiting for pod of ordinal %d to be created", ord)}
		}
		p := in.Pods[ord]
		if p.Terminating {
			return UpgradeDecision{Action: UpgradeWait, Ordinal: ord, Message: fmt.Sprintf("waiting for pod %s to be replaced", p.Name)}
		}
		if !p.Upgraded {
			if in.Partition <= ord {
				// The partition already lets the StatefulSet controller replace it.
				return UpgradeDecision{Action: UpgradeWait, Ordinal: ord, Message: fmt.Sprintf("waiting for the StatefulSet controller to replace pod %s", p.Name)}
			}
			// Pods below are not upgraded yet and were not checked on the way down; one that
			// is down (a restart from an earlier, abandoned template, a crash) would make this
			// restart the second pod down at once.
			for low := ord - 1; low >= 0; low-- {
				if q := in.Pods[low]; !q.Exists || q.Terminating || !q.Ready {
					return UpgradeDecision{Action: UpgradeWait, Ordinal: low, Message: fmt.Sprintf("pod %s is not ready; restarting %s now would take a second pod down", q.Name, p.Name)}
				}
			}
			return UpgradeDecision{Action: UpgradeNext, Ordinal: ord, Message: fmt.Sprintf("upgrading pod %s", p.Name)}
		}
		switch {
		case !p.Ready:
			return UpgradeDecision{Action: UpgradeWait, Ordinal: ord, Message: fmt.Sprintf("waiting for upgraded pod %s to be ready", p.Name)}
		case p.ReadyFor < in.MinReady:
			return UpgradeDecision{Action: UpgradeWait, Ordinal: ord, Message: fmt.Sprintf("waiting for upgraded pod %s to be ready for %s (ready for %s)", p.Name, in.MinReady, p.ReadyFor.Truncate(time.Second))}
		}
		if ok, why := healthy(ord); !ok {
			return UpgradeDecision{Action: UpgradeWait, Ordinal: ord, Message: fmt.Sprintf("waiting for upgraded pod %s: %s", p.Name, why)}
		}
	}
	return UpgradeDecision{Action: UpgradeDone, Message: "all pods upgraded"}
}

// UpgradeGate says whether a component's rolling upgrade may proceed given the phases of the
// components it follows (v1.6's order PD → TiKV → TiDB): TiKV waits while PD upgrades or
// scales, TiDB while PD or TiKV do. busy lists the components that are upgrading or scaling.
func UpgradeGate(component string, busy map[string]bool) (ok bool, waitFor string) {
	var before []string
	switch component {
	case "tikv":
		before = []string{"pd"}
	case "tidb":
		before = []string{"pd", "tikv"}
	}
	for _, c := range before {
		if busy[c] {
			return false, c
		}
	}
	return true, ""
}

// PDUpgradeTransferTarget picks the member to hand PD leadership to before the leader's pod is
// upgraded: the highest healthy ordinal above it (already upgraded), else the lowest healthy
// ordinal below it, else a healthy peer member (another cluster sharing this PD). members maps
// ordinal to (name, healthy); "" when nobody can take over.
func PDUpgradeTransferTarget(ordinal int32, members map[int32]PDMemberRef, peers []PDMemberRef) string {
	best := int32(-1)
	for ord, m := range members {
		if ord > ordinal && m.Healthy && ord > best {
			best = ord
		}
	}
	if best >= 0 {
		return members[best].Name
	}
	for ord, m := range members {
		if ord < ordinal && m.Healthy && (best < 0 || ord < best) {
			best = ord
		}
	}
	if best >= 0 {
		return members[best].Name
	}
	name := ""
	for _, p := range peers {
		if p.Healthy && (name == "" || p.Name < name) {
			name = p.Name
		}
	}
	return name
}

// PDMemberRef is a PD member's name and health.
type PDMemberRef struct {
	Name    string
	Healthy bool
}

// EvictLeadersInput is what the decision to restart a TiKV pod for an upgrade looks at.
type EvictLeadersInput struct {
	// LeaderCount on the store (from the TiKV pod's metrics); -1 when it could not be read.
	LeaderCount int
	// Evicting: the eviction began (the pod carries evictLeaderBeginTime); EvictingFor is how
	// long ago.
	Evicting    bool
	EvictingFor time.Duration
	// Timeout is spec.tikv.evictLeaderTimeout.
	Timeout time.Duration
}

// EvictLeadersAction is the next step of moving leaders off a TiKV store before its restart.
type EvictLeadersAction int

const (
	// EvictLeadersBegin: add the evict-leader scheduler and record the start.
	EvictLeadersBegin EvictLeadersAction = iota
	// EvictLeadersWait: leaders are still leaving; come back.
	EvictLeadersWait
	// EvictLeadersDone: the store holds no leaders, or the timeout passed; restart the pod.
	EvictLeadersDone
)

// DecideEvictLeaders follows v1.6: a TiKV pod restarts for an upgrade once its store leads no
// Region (so no Region waits for an election), or once spec.tikv.evictLeaderTimeout has passed
// since the eviction began, whichever is first.
func DecideEvictLeaders(in EvictLeadersInput) EvictLeadersAction {
	switch {
	case !in.Evicting:
		return EvictLeadersBegin
	case in.LeaderCount == 0, in.EvictingFor >= in.Timeout:
		return EvictLeadersDone
	default:
		return EvictLeadersWait
	}
}

// LeadersBackInput is what the wait for leaders to return to an upgraded TiKV store looks at.
type LeadersBackInput struct {
	// Before is the leader count recorded before the eviction; nil when none was recorded.
	Before *int32
	// Now is the store's leader count.
	Now int32
	// Since is how long ago the eviction ended; Timeout is spec.tikv.waitLeaderTransferBackTimeout.
	Since, Timeout time.Duration
}

// LeadersBack reports whether an upgraded TiKV store has taken back enough leaders for the next
// store to be evicted: stores that led fewer than 200 Regions do not wait; others wait for two
// thirds of their former count, or the timeout (v1.6's rule).
func LeadersBack(in LeadersBackInput) bool {
	if in.Before == nil || *in.Before < 200 {
		return true
	}
	return int64(in.Now)*3 >= int64(*in.Before)*2 || in.Since >= in.Timeout
}
