package model

import (
	"slices"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func (c *Cluster) snapshot() simapi.ClusterState {
	st := simapi.ClusterState{
		Namespace:    c.key.Namespace,
		Name:         c.key.Name,
		ClusterID:    c.id,
		Bootstrapped: c.bootstrapped,
		Leader:       c.leader,
		Members:      []simapi.Member{},
		Stores:       []simapi.Store{},
		Config: simapi.Config{
			MaxReplicas:          c.cfg.MaxReplicas,
			LocationLabels:       slices.Clone(c.cfg.LocationLabels),
			EnablePlacementRules: c.cfg.EnablePlacementRules,
			StrictlyMatchLabel:   c.cfg.StrictlyMatchLabel,
			MaxStoreDownTime:     simapi.Duration{Duration: c.cfg.MaxStoreDownTime},
		},
		Regions:            len(c.regions),
		SnapshotRecovering: c.snapshotRecovering,
		TiDB:               []simapi.TiDBServer{},
		Captures:           []simapi.Capture{},
		MicroServices:      []simapi.MicroService{},
	}
	if st.Config.LocationLabels == nil {
		st.Config.LocationLabels = []string{}
	}
	for _, n := range c.memberNames() {
		mb := c.members[n]
		st.Members = append(st.Members, simapi.Member{
			Name:            mb.name,
			ID:              mb.id,
			Pod:             mb.pod.Name,
			ClientURLs:      []string{mb.clientURL},
			PeerURLs:        []string{mb.peerURL},
			Healthy:         c.healthy(mb),
			ForcedUnhealthy: mb.forcedUnhealthy,
		})
	}
	regions, leaders := c.counts()
	for _, s := range c.sortedStores() {
		labels := map[string]string{}
		for _, l := range s.labels {
			labels[l.Key] = l.Value
		}
		st.Stores = append(st.Stores, simapi.Store{
			ID:             s.id,
			Address:        s.address,
			Pod:            s.pod.Name,
			Engine:         s.engine,
			StateName:      c.stateName(s),
			LeaderCount:    leaders[s.id],
			RegionCount:    regions[s.id],
			Labels:         labels,
			EvictLeader:    c.evicted(s.id),
			ForceDown:      s.forceDown,
			EvictionStuck:  s.evictionStuck,
			TombstoneStuck: s.tombstoneStuck,
		})
	}
	if c.bootstrapped {
		st.Schedulers, _ = c.Schedulers()
	} else {
		st.Schedulers = slices.Clone(c.schedulers)
	}
	for _, p := range c.podsOf(simapi.ComponentTiDB) {
		srv := c.tidb[p.key]
		labels := map[string]string{}
		if srv != nil {
			for k, v := range srv.labels {
				labels[k] = v
			}
		}
		st.TiDB = append(st.TiDB, simapi.TiDBServer{
			Pod:     p.key.Name,
			Running: p.running(),
			Owner:   c.ddlOwner == p.key,
			Labels:  labels,
		})
	}
	for _, k := range c.captureKeys() {
		cp := c.captures[k]
		st.Captures = append(st.Captures, simapi.Capture{
			Pod:      k.Name,
			ID:       cp.id,
			Owner:    c.cdcOwner == k,
			Tables:   cp.tables,
			Draining: cp.draining,
		})
	}
	for _, svc := range []string{simapi.ComponentTSO, simapi.ComponentScheduling} {
		for _, mb := range c.MicroServiceMembers(svc) {
			st.MicroServices = append(st.MicroServices, simapi.MicroService{
				Service: svc,
				Pod:     mb.Pod.Name,
				Addr:    mb.ServiceAddr,
				Primary: c.msPrimary[svc] == mb.Pod,
			})
		}
	}
	return st
}
