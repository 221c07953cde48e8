package tasks

import (
	"fmt"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// The functions in this file make every scaling and gating decision of the TidbCluster
// controller. They are pure (no client, no clock), so each rule is table-tested on its own;
// the tasks only gather the inputs and carry out the answer.

// ReplicaStep is the replica count a StatefulSet moves to in this reconcile.
type ReplicaStep struct {
	// Replicas is the count to write.
	Replicas int32
	// Direction is "", "out" or "in".
	Direction string
}

// NextReplicas moves current towards desired by at most step pods: scale-out goes up to step at
// a time, scale-in one batch of up to step at a time. A step below one counts as one.
func NextReplicas(current, desired, step int32) ReplicaStep {
	if step < 1 {
		step = 1
	}
	switch {
	case desired > current:
		return ReplicaStep{Replicas: min(desired, current+step), Direction: "out"}
	case desired < current:
		return ReplicaStep{Replicas: max(desired, current-step), Direction: "in"}
	default:
		return ReplicaStep{Replicas: current}
	}
}

// Parallelism reads a scalePolicy parallelism, 1 when unset or not positive.
func Parallelism(p *int32) int32 {
	if p == nil || *p < 1 {
		return 1
	}
	return *p
}

// PDAvailable is v1.6's gate for everything that needs PD: a majority of the desired members
// (counting peer members of other clusters in the same PD cluster) are healthy, as many PD
// pods (plus healthy peers) are ready, and PD is not suspended.
func PDAvailable(tc *v1alpha1.TidbCluster, readyReplicas int32) bool {
	if tc.Spec.PD == nil {
		return true
	}
	if tc.Status.PD.Phase == v1alpha1.SuspendPhase {
		return false
	}
	healthy, healthyPeers := 0, 0
	for _, m := range tc.Status.PD.Members {
		if m.Health {
			healthy++
		}
	}
	for _, m := range tc.Status.PD.PeerMembers {
		if m.Health {
			healthyPeers++
		}
	}
	quorum := (int(tc.Spec.PD.Replicas)+len(tc.Status.PD.PeerMembers))/2 + 1
	return healthy+healthyPeers >= quorum && int(readyReplicas)+healthyPeers >= quorum
}

// TiKVAvailable is v1.6's gate for TiDB: at least one Up store and one ready TiKV pod, and TiKV
// not suspended.
func TiKVAvailable(tc *v1alpha1.TidbCluster, readyReplicas int32) bool {
	if tc.Spec.TiKV == nil {
		return true
	}
	if tc.Status.TiKV.Phase == v1alpha1.SuspendPhase || readyReplicas < 1 {
		return false
	}
	for _, s := range tc.Status.TiKV.Stores {
		if s.State == v1alpha1.TiKVStateUp {
			return true
		}
	}
	return false
}

// PDScaleInAction is the one thing to do next to remove the highest PD member.
type PDScaleInAction int

const (
	// PDScaleInRefuse: do nothing; Reason says why.
	PDScaleInRefuse PDScaleInAction = iota
	// PDScaleInTransferLeader: the leaving member leads; hand leadership to Target first.
	PDScaleInTransferLeader
	// PDScaleInDeleteMember: remove the member Member from PD.
	PDScaleInDeleteMember
	// PDScaleInShrink: the member is gone from PD; mark its volumes and lower the replicas.
	PDScaleInShrink
)

// PDScaleInInput is what the PD scale-in decision looks at.
type PDScaleInInput struct {
	// Current and Desired replica counts of the PD StatefulSet.
	Current, Desired int32
	// PDReachable is true when PD answered in this reconcile; Synced mirrors status.pd.synced.
	PDReachable, Synced bool
	// OtherComponents is true when the cluster also runs TiKV, TiDB or another PD client.
	OtherComponents bool
	// Leaving is the member name of the pod that goes (the highest ordinal).
	Leaving string
	// Leader is the current PD leader's name.
	Leader string
	// Members are the member names PD lists, with their health.
	Members map[string]bool
	// SetName is the StatefulSet name, to name the transfer target by ordinal.
	SetName string
}

// PDScaleInDecision is the answer.
type PDScaleInDecision struct {
	Action PDScaleInAction
	// Target is the member to hand leadership to.
	Target string
	// Reason explains a refusal, for the condition and the event.
	Reason  string
	Message string
}

// DecidePDScaleIn removes PD members one at a time: never without fresh word from PD, never to
// zero while other components need PD, and never while the leaving member leads.
func DecidePDScaleIn(in PDScaleInInput) PDScaleInDecision {
	switch {
	case in.Desired == 0 && in.OtherComponents:
		return PDScaleInDecision{Action: PDScaleInRefuse, Reason: "OtherComponentsNeedPD",
			Message: "refusing to scale PD to 0 replicas while TiKV, TiDB or other components use it; remove those components first or keep at least one PD replica"}
	case !in.PDReachable || !in.Synced:
		return PDScaleInDecision{Action: PDScaleInRefuse, Reason: "PDStatusNotSynced",
			Message: "PD scale-in waits until PD can be reached and its status is in sync"}
	}
	if _, member := in.Members[in.Leaving]; !member {
		return PDScaleInDecision{Action: PDScaleInShrink}
	}
	if in.Leader == in.Leaving && len(in.Members) > 1 {
		target := pdTransferTarget(in)
		if target == "" {
			return PDScaleInDecision{Action: PDScaleInRefuse, Reason: "NoLeaderTransferTarget",
				Message: fmt.Sprintf("PD member %s leads and no other healthy member can take over", in.Leaving)}
		}
		return PDScaleInDecision{Action: PDScaleInTransferLeader, Target: target}
	}
	return PDScaleInDecision{Action: PDScaleInDeleteMember}
}

// pdTransferTarget prefers the lowest ordinal (v1.6: the minimum ordinal, or the maximum one
// when the leaving member is the minimum), then any healthy member.
func pdTransferTarget(in PDScaleInInput) string {
	candidates := []string{fmt.Sprintf("%s-%d", in.SetName, 0)}
	if in.Leaving == candidates[0] {
		candidates = []string{fmt.Sprintf("%s-%d", in.SetName, in.Current-1)}
	}
	for _, c := range candidates {
		if healthy, ok := in.Members[c]; ok && healthy && c != in.Leaving {
			return c
		}
	}
	best := ""
	for name, healthy := range in.Members {
		if healthy && name != in.Leaving && (best == "" || name < best) {
			best = name
		}
	}
	return best
}

// StoreScaleInAction is the next thing to do to remove a TiKV pod.
type StoreScaleInAction int

const (
	// StoreScaleInRefuse: leave the pod; Reason says why.
	StoreScaleInRefuse StoreScaleInAction = iota
	// StoreScaleInDeleteStore: ask PD to take the store offline.
	StoreScaleInDeleteStore
	// StoreScaleInWaitTombstone: the store is being emptied; come back later.
	StoreScaleInWaitTombstone
	// StoreScaleInShrink: the store is a tombstone (or never registered); mark the volumes and
	// lower the replicas.
	StoreScaleInShrink
	// StoreScaleInEvictLeaders: move the Region leaders off the store first, so that deleting
	// it does not make those Regions wait for an election.
	StoreScaleInEvictLeaders
)

// EvictLeaderTimeoutWhenScaleIn bounds how long a scale-in waits for leaders to leave a store
// before deleting it anyway (v1.6's value).
const EvictLeaderTimeoutWhenScaleIn = 5 * time.Minute

// StoreScaleInInput is what the TiKV scale-in decision looks at for one leaving pod.
type StoreScaleInInput struct {
	// PDReachable: the store lists were read from PD in this reconcile.
	PDReachable bool
	// StoreState is the state of the pod's store in PD's active list ("" when it has none).
	StoreState string
	// Tombstone is true when the pod's store is in the tombstone list.
	Tombstone bool
	// UpStores counts Up TiKV stores (all clusters sharing PD, TiFlash excluded), minus those
	// already being removed in this reconcile.
	UpStores int
	// MaxReplicas is PD's replication.max-replicas.
	MaxReplicas int
	// LeaderCount is the number of Region leaders on the store.
	LeaderCount int
	// Evicting is true when the scale-in start time is recorded on the pod; EvictingFor is how
	// long ago that was. Without a pod to record it on, leaders are not evicted first.
	Evicting    bool
	EvictingFor time.Duration
}

// StoreScaleInDecision is the answer.
type StoreScaleInDecision struct {
	Action  StoreScaleInAction
	Reason  string
	Message string
}

// DecideStoreScaleIn follows v1.6: a store is deleted only while enough Up stores remain to
// hold max-replicas copies of every region, after its leaders moved away (or five minutes of
// trying), then the pod waits for its store to become a tombstone before it is removed.
func DecideStoreScaleIn(in StoreScaleInInput) StoreScaleInDecision {
	if !in.PDReachable {
		return StoreScaleInDecision{Action: StoreScaleInRefuse, Reason: "PDStatusNotSynced",
			Message: "TiKV scale-in waits until PD can be reached"}
	}
	switch {
	case in.StoreState == "" && in.Tombstone:
		return StoreScaleInDecision{Action: StoreScaleInShrink}
	case in.StoreState == "":
		// The pod never registered a store: nothing holds data on it.
		return StoreScaleInDecision{Action: StoreScaleInShrink}
	case in.StoreState == v1alpha1.TiKVStateOffline:
		return StoreScaleInDecision{Action: StoreScaleInWaitTombstone}
	case in.StoreState == v1alpha1.TiKVStateTombstone:
		return StoreScaleInDecision{Action: StoreScaleInShrink}
	}
	enough := in.UpStores > in.MaxReplicas || (in.UpStores == in.MaxReplicas && in.StoreState != v1alpha1.TiKVStateUp)
	if !enough {
		return StoreScaleInDecision{Action: StoreScaleInRefuse, Reason: "TooFewUpStores",
			Message: fmt.Sprintf("refusing to remove a TiKV store: %d Up stores would leave fewer than PD's max-replicas (%d); add stores or lower max-replicas first", in.UpStores, in.MaxReplicas)}
	}
	if in.Evicting && in.LeaderCount > 0 && in.EvictingFor < EvictLeaderTimeoutWhenScaleIn {
		return StoreScaleInDecision{Action: StoreScaleInEvictLeaders}
	}
	return StoreScaleInDecision{Action: StoreScaleInDeleteStore}
}

// ReadyInput is what the Ready condition looks at.
type ReadyInput struct {
	// StatefulSetsUpToDate is false while any component StatefulSet has pods of an old revision.
	StatefulSetsUpToDate bool
	// HasPD, HasTiKV, HasTiDB say which components the cluster runs.
	HasPD, HasTiKV, HasTiDB bool
	// PD, TiKV and TiDB desired StatefulSet replicas.
	PDDesired, TiKVDesired, TiDBDesired int32
	Status                              *v1alpha1.TidbClusterStatus
}

// ReadyDecision is the Ready condition's status, reason and message.
type ReadyDecision struct {
	Ready   bool
	Reason  string
	Message string
}

// Messages of the Ready condition when it is False, one per reason.
const (
	msgStatefulSetNotUpToDate = "Statefulset(s) are in progress"
	msgPDUnhealthy            = "PD(s) are not healthy"
	msgTiKVStoreNotUp         = "TiKV store(s) are not up"
	msgTiDBUnhealthy          = "TiDB(s) are not healthy"
)

// DecideReady checks v1.6's reasons in order; the first that applies wins.
func DecideReady(in ReadyInput) ReadyDecision {
	st := in.Status
	switch {
	case !in.StatefulSetsUpToDate:
		return ReadyDecision{Reason: v1alpha1.ReasonStatefulSetNotUpToDate, Message: msgStatefulSetNotUpToDate}
	case in.HasPD && !allPDMembersHealthy(st, in.PDDesired):
		return ReadyDecision{Reason: v1alpha1.ReasonPDUnhealthy, Message: msgPDUnhealthy}
	case in.HasTiKV && !allStoresUp(st.TiKV.Stores, in.TiKVDesired):
		return ReadyDecision{Reason: v1alpha1.ReasonTiKVStoreNotUp, Message: msgTiKVStoreNotUp}
	case in.HasTiDB && !allTiDBHealthy(st, in.TiDBDesired):
		return ReadyDecision{Reason: v1alpha1.ReasonTiDBUnhealthy, Message: msgTiDBUnhealthy}
	}
	return ReadyDecision{Ready: true, Reason: v1alpha1.ReasonReady, Message: "TiDB cluster is fully up and running"}
}

func allPDMembersHealthy(st *v1alpha1.TidbClusterStatus, desired int32) bool {
	if int(desired) != len(st.PD.Members) {
		return false
	}
	for _, m := range st.PD.Members {
		if !m.Health {
			return false
		}
	}
	return true
}

func allStoresUp(stores map[string]v1alpha1.TiKVStore, desired int32) bool {
	if int(desired) != len(stores) {
		return false
	}
	for _, s := range stores {
		if s.State != v1alpha1.TiKVStateUp {
			return false
		}
	}
	return true
}

func allTiDBHealthy(st *v1alpha1.TidbClusterStatus, desired int32) bool {
	if int(desired) != len(st.TiDB.Members) {
		return false
	}
	for _, m := range st.TiDB.Members {
		if !m.Health {
			return false
		}
	}
	return true
}

// StatefulSetFacts is what the phase decision knows about a component's StatefulSet.
type StatefulSetFacts struct {
	// Exists is false before the StatefulSet is created.
	Exists bool
	// SpecReplicas is .spec.replicas.
	SpecReplicas int32
	// Upgrading: currentRevision differs from updateRevision, or the controller has not yet
	// observed the latest generation.
	Upgrading bool
}

// DecidePhase is v1.6's component phase: Scale while the replica count moves, Upgrade while the
// pods roll (unless blocked says a component this one follows is still upgrading), else Normal.
func DecidePhase(desired int32, sts StatefulSetFacts, blocked bool) v1alpha1.MemberPhase {
	switch {
	case !sts.Exists:
		return v1alpha1.NormalPhase
	case desired != sts.SpecReplicas:
		return v1alpha1.ScalePhase
	case sts.Upgrading && !blocked:
		return v1alpha1.UpgradePhase
	default:
		return v1alpha1.NormalPhase
	}
}

// SuspendOrder is the order in which v1.6 suspends components: the ones that serve clients
// first, PD (which everything else needs) last.
var SuspendOrder = []string{"tidb", "tikv", "pd"}

// SuspendInput is what the suspend decision looks at for one component.
type SuspendInput struct {
	// Want: the component's (or the cluster's) suspendAction asks to delete its StatefulSet.
	Want bool
	// Phase is the component's phase as last written.
	Phase v1alpha1.MemberPhase
	// EarlierSuspended: every component before this one in SuspendOrder is suspended (or absent).
	EarlierSuspended bool
	// StatefulSetExists: the component's StatefulSet is still there (possibly being deleted).
	StatefulSetExists bool
}

// SuspendStep is what to do with a component about suspension in this reconcile.
type SuspendStep int

const (
	// SuspendNone: not suspended, nothing to do; the component syncs normally.
	SuspendNone SuspendStep = iota
	// SuspendWait: suspension is asked for but must wait (the component is scaling or upgrading,
	// or an earlier component is not suspended yet); the component syncs normally meanwhile.
	SuspendWait
	// SuspendDelete: phase Suspend; delete the StatefulSet (its PVCs stay) and skip the component.
	SuspendDelete
	// SuspendDone: the StatefulSet is gone; clear the component's status and skip it.
	SuspendDone
	// SuspendResume: the action was removed; phase Normal, and the StatefulSet comes back in
	// the next round, like a fresh create.
	SuspendResume
)

// DecideSuspend follows v1.6's suspender: only a Normal (or already suspended) component is
// suspended, in SuspendOrder, and resuming skips one round.
func DecideSuspend(in SuspendInput) SuspendStep {
	switch {
	case !in.Want && in.Phase == v1alpha1.SuspendPhase:
		return SuspendResume
	case !in.Want:
		return SuspendNone
	case in.Phase != v1alpha1.SuspendPhase && in.Phase != v1alpha1.NormalPhase && in.Phase != "":
		return SuspendWait
	case in.Phase != v1alpha1.SuspendPhase && !in.EarlierSuspended:
		return SuspendWait
	case in.StatefulSetExists:
		return SuspendDelete
	default:
		return SuspendDone
	}
}

// BlocksLater reports whether a component in this step holds back the components after it in
// SuspendOrder: only one that is asked to suspend and is not gone yet does.
func BlocksLater(step SuspendStep) bool {
	return step == SuspendWait || step == SuspendDelete
}
