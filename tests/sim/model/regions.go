package model

import (
	"slices"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// This file holds what PD's schedulers and checkers do to regions, one tick at a time.

// failoverLeaders moves leaders off dead stores at once: the surviving peers of a region elect
// a new leader on their own, without waiting for PD.
func (c *Cluster) failoverLeaders() {
	_, leaders := c.counts()
	for _, r := range c.regions {
		if c.alive(c.stores[r.leader]) {
			continue
		}
		t := c.pickLeader(r, r.leader, leaders)
		if t == 0 {
			for _, p := range r.peers {
				if c.alive(c.stores[p]) {
					t = p
					break
				}
			}
		}
		if t != 0 {
			leaders[r.leader]--
			r.leader = t
			leaders[t]++
		}
	}
}

// pickLeader returns the peer of r, other than exclude, that may take the leader and has the
// fewest leaders; 0 if none.
func (c *Cluster) pickLeader(r *region, exclude uint64, leaders map[uint64]int) uint64 {
	var best uint64
	for _, p := range r.peers {
		if p == exclude || !c.leaderOK(c.stores[p]) {
			continue
		}
		if best == 0 || leaders[p] < leaders[best] || (leaders[p] == leaders[best] && p < best) {
			best = p
		}
	}
	return best
}

// pickTarget returns the placeable store without a peer of r that has the fewest regions.
func (c *Cluster) pickTarget(r *region, regions map[uint64]int) uint64 {
	var best uint64
	for _, s := range c.sortedStores() {
		if !c.placeable(s) || slices.Contains(r.peers, s.id) {
			continue
		}
		if best == 0 || regions[s.id] < regions[best] {
			best = s.id
		}
	}
	return best
}

// movePeer replaces the peer on from with one on to. If from held the leader, the leader goes
// to another peer that may take it (the new one included); without any, nothing moves.
func (c *Cluster) movePeer(r *region, from, to uint64, regions, leaders map[uint64]int) bool {
	newLeader := r.leader
	if r.leader == from {
		newLeader = c.pickLeader(r, from, leaders)
		if newLeader == 0 && c.leaderOK(c.stores[to]) {
			newLeader = to
		}
		if newLeader == 0 {
			return false
		}
	}
	i := slices.Index(r.peers, from)
	r.peers[i] = to
	regions[from]--
	regions[to]++
	if newLeader != r.leader {
		leaders[r.leader]--
		leaders[newLeader]++
		r.leader = newLeader
	}
	return true
}

// evictLeaders moves up to EvictLeaderPerTick leaders off each store under an evict-leader
// scheduler.
func (c *Cluster) evictLeaders() {
	_, leaders := c.counts()
	for _, id := range c.evictStores {
		s := c.stores[id]
		if s == nil || s.evictionStuck {
			continue
		}
		moved := 0
		for _, r := range c.regions {
			if moved >= c.m.opts.EvictLeaderPerTick {
				break
			}
			if r.leader != id {
				continue
			}
			if t := c.pickLeader(r, id, leaders); t != 0 {
				leaders[id]--
				leaders[t]++
				r.leader = t
				moved++
			}
		}
	}
}

// drainStores moves peers off Offline stores (being deleted) and off Down stores (replaced
// after max-store-down-time), up to RegionMovesPerTick per store.
func (c *Cluster) drainStores() {
	regions, leaders := c.counts()
	for _, s := range c.sortedStores() {
		offline := s.state == StateOffline && !s.tombstoneStuck
		down := s.state == StateUp && c.stateName(s) == StateNameDown
		if !offline && !down {
			continue
		}
		moved := 0
		for _, r := range c.regions {
			if moved >= c.m.opts.RegionMovesPerTick {
				break
			}
			if !slices.Contains(r.peers, s.id) {
				continue
			}
			t := c.pickTarget(r, regions)
			if t == 0 {
				break
			}
			if c.movePeer(r, s.id, t, regions, leaders) {
				moved++
			}
		}
	}
}

// repairReplicas adds missing replicas (up to max-replicas, as far as placeable stores
// allow) and removes surplus ones, for up to 4×RegionMovesPerTick regions per tick.
func (c *Cluster) repairReplicas() {
	regions, _ := c.counts()
	placeable := 0
	for _, s := range c.stores {
		if c.placeable(s) {
			placeable++
		}
	}
	want := min(c.cfg.MaxReplicas, placeable)
	budget := 4 * c.m.opts.RegionMovesPerTick
	for _, r := range c.regions {
		if budget == 0 {
			return
		}
		switch {
		case len(r.peers) < want:
			if t := c.pickTarget(r, regions); t != 0 {
				r.peers = append(r.peers, t)
				regions[t]++
				budget--
			}
		case len(r.peers) > c.cfg.MaxReplicas:
			if v := c.pickSurplus(r, regions); v != 0 {
				r.peers = slices.DeleteFunc(r.peers, func(p uint64) bool { return p == v })
				regions[v]--
				budget--
			}
		}
	}
}

// pickSurplus chooses the peer to drop from an over-replicated region: never the leader; a
// dead store first, then the store with the most regions.
func (c *Cluster) pickSurplus(r *region, regions map[uint64]int) uint64 {
	var best uint64
	bestDead := false
	for _, p := range r.peers {
		if p == r.leader {
			continue
		}
		dead := !c.alive(c.stores[p])
		switch {
		case best == 0, dead && !bestDead, dead == bestDead && regions[p] > regions[best]:
			best, bestDead = p, dead
		}
	}
	return best
}

func (c *Cluster) schedulerEnabled(name string) bool { return slices.Contains(c.schedulers, name) }

// balanceRegions moves regions from the placeable store with the most to the one with the
// fewest while they differ by more than one.
func (c *Cluster) balanceRegions() {
	if !c.schedulerEnabled("balance-region-scheduler") {
		return
	}
	regions, leaders := c.counts()
	for range c.m.opts.BalancePerTick {
		var hi, lo *store
		for _, s := range c.sortedStores() {
			if !c.placeable(s) {
				continue
			}
			if hi == nil || regions[s.id] > regions[hi.id] {
				hi = s
			}
			if lo == nil || regions[s.id] < regions[lo.id] {
				lo = s
			}
		}
		if hi == nil || regions[hi.id]-regions[lo.id] <= 1 {
			return
		}
		moved := false
		for _, r := range c.regions {
			if slices.Contains(r.peers, hi.id) && !slices.Contains(r.peers, lo.id) &&
				c.movePeer(r, hi.id, lo.id, regions, leaders) {
				moved = true
				break
			}
		}
		if !moved {
			return
		}
	}
}

// balanceLeaders transfers leaders from the store with the most to the one with the fewest,
// among stores that may take leaders, while they differ by more than one.
func (c *Cluster) balanceLeaders() {
	if !c.schedulerEnabled("balance-leader-scheduler") {
		return
	}
	_, leaders := c.counts()
	for range c.m.opts.BalancePerTick {
		var hi, lo *store
		for _, s := range c.sortedStores() {
			if !c.leaderOK(s) {
				continue
			}
			if hi == nil || leaders[s.id] > leaders[hi.id] {
				hi = s
			}
			if lo == nil || leaders[s.id] < leaders[lo.id] {
				lo = s
			}
		}
		if hi == nil || leaders[hi.id]-leaders[lo.id] <= 1 {
			return
		}
		moved := false
		for _, r := range c.regions {
			if r.leader == hi.id && slices.Contains(r.peers, lo.id) {
				r.leader = lo.id
				leaders[hi.id]--
				leaders[lo.id]++
				moved = true
				break
			}
		}
		if !moved {
			return
		}
	}
}

// finishTombstones turns Offline stores without regions into Tombstone.
func (c *Cluster) finishTombstones() {
	regions, _ := c.counts()
	for _, s := range c.stores {
		if s.state == StateOffline && !s.tombstoneStuck && regions[s.id] == 0 {
			s.state = StateTombstone
			s.running = false
		}
	}
}

// TiKVLeaderCount is what TiKV's own metrics report as its leader count: the leaders of the
// pod's current store.
func (c *Cluster) TiKVLeaderCount(p PodKey) (leaders, regions int) {
	st, ok := c.StoreOfPod(p)
	if !ok || st.Engine != simapi.ComponentTiKV {
		return 0, 0
	}
	return st.LeaderCount, st.RegionCount
}
