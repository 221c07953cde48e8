package tasks

import (
	"sort"
	"time"
)

// DefaultMaxFailoverCount is v1.6's default of spec.<component>.maxFailoverCount.
const DefaultMaxFailoverCount = 3

// MaxFailover reads spec.<component>.maxFailoverCount: 3 when unset.
func MaxFailover(n *int32) int {
	if n == nil {
		return DefaultMaxFailoverCount
	}
	return int(*n)
}

// FailoverStore is one TiKV store as the failover decision sees it.
type FailoverStore struct {
	ID, PodName string
	// Ordinal of the pod; Desired: the ordinal is below the StatefulSet's desired replicas.
	Ordinal int32
	Desired bool
	// Down: PD reports the store Down; DownFor: for how long (since its state last changed).
	Down    bool
	DownFor time.Duration
}

// TiKVFailoverInput is what TiKV auto-failover looks at.
type TiKVFailoverInput struct {
	// Max is spec.tikv.maxFailoverCount; Period is -tikv-failover-period.
	Max    int
	Period time.Duration
	// AllPodsStarted: the StatefulSet runs as many pods as desired; AllStoresUp: each desired
	// ordinal's store is Up.
	AllPodsStarted, AllStoresUp bool
	// Stores of the cluster, and the pods that already have a failure record.
	Stores   []FailoverStore
	Recorded map[string]bool
	// Recover: spec.tikv.recoverFailover, or failover.recoverByUID naming the current failover.
	Recover bool
	// OriginalUp: every pod below spec.tikv.replicas is Ready and its store Up.
	OriginalUp bool
}

// TiKVFailoverDecision says which stores get a failure record (each adds a pod), or that the
// records are cleared (the added pods are then scaled in normally).
type TiKVFailoverDecision struct {
	Add   []FailoverStore
	Clear bool
	// Capped is set when a store qualified but maxFailoverCount was reached.
	Capped []FailoverStore
}

// DecideTiKVFailover follows v1.6: once every pod has started but some store is not Up, a store
// Down for longer than the failover period gets a record, up to maxFailoverCount records, and
// the StatefulSet grows by one pod per record so that its Regions get replicas elsewhere. The
// failed store itself is never deleted. Records go only when the user asks for recovery
// (recoverFailover or recoverByUID) and every original pod is back with its store Up.
func DecideTiKVFailover(in TiKVFailoverInput) TiKVFailoverDecision {
	var d TiKVFailoverDecision
	if in.Max <= 0 || !in.AllPodsStarted {
		return d
	}
	if in.AllStoresUp {
		d.Clear = len(in.Recorded) > 0 && in.Recover && in.OriginalUp
		return d
	}
	stores := append([]FailoverStore(nil), in.Stores...)
	sort.Slice(stores, func(i, j int) bool { return stores[i].Ordinal < stores[j].Ordinal })
	count := len(in.Recorded)
	for _, s := range stores {
		if !s.Desired || !s.Down || s.DownFor <= in.Period || in.Recorded[s.PodName] {
			continue
		}
		if count >= in.Max {
			d.Capped = append(d.Capped, s)
			continue
		}
		d.Add = append(d.Add, s)
		count++
	}
	return d
}

// FailoverMember is one TiDB server as the failover decision sees it.
type FailoverMember struct {
	PodName string
	Healthy bool
	// UnhealthyFor: since its health last changed; Scheduled: its pod is PodScheduled=True.
	UnhealthyFor time.Duration
	Scheduled    bool
}

// TiDBFailoverInput is what TiDB auto-failover looks at.
type TiDBFailoverInput struct {
	// Max is spec.tidb.maxFailoverCount; Period is -tidb-failover-period.
	Max    int
	Period time.Duration
	// Members are the TiDB servers in status (the desired ordinals), Recorded the failure records.
	Members  []FailoverMember
	Recorded map[string]bool
	// OriginalHealthy: every pod below spec.tidb.replicas is healthy.
	OriginalHealthy bool
}

// TiDBFailoverDecision lists records to add and drop, or clears them all.
type TiDBFailoverDecision struct {
	Add, Drop []string
	Clear     bool
	Capped    bool
}

// DecideTiDBFailover follows v1.6: a server unhealthy for longer than the failover period whose
// pod is scheduled gets a record (one per round, up to maxFailoverCount), which adds a TiDB pod;
// a record goes when its server is healthy again, and all go once every original server is
// healthy, so the added pods are scaled in.
func DecideTiDBFailover(in TiDBFailoverInput) TiDBFailoverDecision {
	var d TiDBFailoverDecision
	if len(in.Recorded) > 0 && in.OriginalHealthy {
		d.Clear = true
		return d
	}
	members := append([]FailoverMember(nil), in.Members...)
	sort.Slice(members, func(i, j int) bool { return members[i].PodName < members[j].PodName })
	count := len(in.Recorded)
	for _, m := range members {
		if in.Recorded[m.PodName] && m.Healthy {
			d.Drop = append(d.Drop, m.PodName)
			count--
		}
	}
	if in.Max <= 0 {
		return d
	}
	for _, m := range members {
		if m.Healthy || in.Recorded[m.PodName] || !m.Scheduled || m.UnhealthyFor <= in.Period {
			continue
		}
		if count >= in.Max {
			d.Capped = true
			break
		}
		d.Add = append(d.Add, m.PodName)
		break
	}
	return d
}
