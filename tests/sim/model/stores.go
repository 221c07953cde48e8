package model

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// Store states as PD's metapb.StoreState numbers them.
const (
	StateUp        = 0
	StateOffline   = 1
	StateTombstone = 2
)

// State names PD reports in state_name.
const (
	StateNameUp           = "Up"
	StateNameDisconnected = "Disconnected"
	StateNameDown         = "Down"
	StateNameOffline      = "Offline"
	StateNameTombstone    = "Tombstone"
)

// Label is a store label; PD keeps them in the order they were set.
type Label struct{ Key, Value string }

type store struct {
	id            uint64
	address       string
	statusAddress string
	peerAddress   string
	pod           PodKey
	podUID        string
	engine        string
	state         int
	labels        []Label
	version       string
	// running is true while the store's process runs and heartbeats.
	running       bool
	startTS       time.Time
	lastHeartbeat time.Time

	// Injected faults.
	forceDown      bool
	evictionStuck  bool
	tombstoneStuck bool
}

// StoreView is a store as PD's API shows it.
type StoreView struct {
	ID            uint64
	Address       string
	StatusAddress string
	PeerAddress   string
	State         int
	StateName     string
	Labels        []Label
	Version       string
	Engine        string
	Pod           PodKey
	LeaderCount   int
	RegionCount   int
	StartTS       time.Time
	LastHeartbeat time.Time
}

type region struct {
	id     uint64
	peers  []uint64
	leader uint64
}

func storeAddress(p simapi.Pod) string {
	if p.Component == simapi.ComponentTiFlash {
		return podDomain(p) + ":3930"
	}
	return podDomain(p) + ":20160"
}

func errStoreNotFound(id uint64) error {
	return newErr(KindNotFound, fmt.Sprintf("[PD:core:ErrStoreNotFound]store id %d not found", id))
}

func (c *Cluster) errNotBootstrapped() error {
	return newErr(KindNotBootstrapped, NotBootstrappedMessage)
}

// stateName is PD's state_name: Offline and Tombstone from the store state, otherwise derived
// from how long the store has missed heartbeats.
func (c *Cluster) stateName(s *store) string {
	switch s.state {
	case StateOffline:
		return StateNameOffline
	case StateTombstone:
		return StateNameTombstone
	}
	if s.forceDown {
		return StateNameDown
	}
	if s.running {
		return StateNameUp
	}
	since := c.now.Sub(s.lastHeartbeat)
	switch {
	case since >= c.cfg.MaxStoreDownTime:
		return StateNameDown
	case since >= c.m.opts.DisconnectAfter:
		return StateNameDisconnected
	}
	return StateNameUp
}

// alive: the store's process runs and can hold peers and leaders.
func (c *Cluster) alive(s *store) bool {
	return s != nil && s.running && !s.forceDown && s.state != StateTombstone
}

// placeable: PD may put new peers on the store.
func (c *Cluster) placeable(s *store) bool {
	return c.alive(s) && s.state == StateUp && s.engine == simapi.ComponentTiKV
}

// leaderOK: PD may move leaders onto the store.
func (c *Cluster) leaderOK(s *store) bool {
	return c.placeable(s) && !c.evicted(s.id)
}

func (c *Cluster) evicted(id uint64) bool { return slices.Contains(c.evictStores, id) }

func (c *Cluster) sortedStores() []*store {
	out := make([]*store, 0, len(c.stores))
	for _, s := range c.stores {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *store) int { return cmpU64(a.id, b.id) })
	return out
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// reconcileStores updates heartbeats of existing stores and registers stores for running
// TiKV and TiFlash pods that have none.
func (c *Cluster) reconcileStores() {
	for _, s := range c.stores {
		p := c.pods[s.pod]
		run := p.running() && s.state != StateTombstone
		if run && !s.running {
			s.startTS = c.now
		}
		s.running = run
		if run {
			s.podUID = p.spec.UID
			s.lastHeartbeat = c.now
			s.version = strings.TrimPrefix(c.m.imageVersion(p.spec.Image), "v")
		}
	}
	for _, comp := range []string{simapi.ComponentTiKV, simapi.ComponentTiFlash} {
		for _, p := range c.podsOf(comp) {
			if !p.running() {
				continue
			}
			if id, ok := c.storeByAddr[storeAddress(p.spec)]; ok {
				// A tombstoned store's own process cannot come back; only a new pod instance
				// (fresh volume) registers again.
				if s := c.stores[id]; s.state != StateTombstone || s.podUID == p.spec.UID {
					continue
				}
			}
			if c.leader == "" {
				continue // stores register through PD
			}
			if comp == simapi.ComponentTiFlash && !c.bootstrapped {
				continue // TiFlash cannot bootstrap a cluster
			}
			c.registerStore(p)
		}
	}
}

func (c *Cluster) registerStore(p *pod) {
	id := c.nextStoreID
	c.nextStoreID++
	domain := podDomain(p.spec)
	s := &store{
		id:            id,
		pod:           p.key,
		podUID:        p.spec.UID,
		engine:        p.spec.Component,
		version:       strings.TrimPrefix(c.m.imageVersion(p.spec.Image), "v"),
		running:       true,
		startTS:       c.now,
		lastHeartbeat: c.now,
	}
	if p.spec.Component == simapi.ComponentTiFlash {
		s.address = domain + ":3930"
		s.statusAddress = domain + ":20292"
		s.peerAddress = domain + ":20170"
		s.labels = []Label{{Key: "engine", Value: "tiflash"}}
	} else {
		s.address = domain + ":20160"
		s.statusAddress = domain + ":20180"
	}
	c.stores[id] = s
	c.storeByAddr[s.address] = id
	if s.engine == simapi.ComponentTiKV && !c.bootstrapped {
		c.bootstrapped = true
		for range c.m.opts.Regions {
			c.regions = append(c.regions, &region{id: c.nextRegionID, peers: []uint64{id}, leader: id})
			c.nextRegionID++
		}
	}
}

// Bootstrapped reports whether a TiKV store has bootstrapped the cluster.
func (c *Cluster) Bootstrapped() bool { return c.bootstrapped }

func (c *Cluster) counts() (regions, leaders map[uint64]int) {
	regions, leaders = map[uint64]int{}, map[uint64]int{}
	for _, r := range c.regions {
		for _, p := range r.peers {
			regions[p]++
		}
		leaders[r.leader]++
	}
	return regions, leaders
}

func (c *Cluster) storeView(s *store, regions, leaders map[uint64]int) StoreView {
	return StoreView{
		ID:            s.id,
		Address:       s.address,
		StatusAddress: s.statusAddress,
		PeerAddress:   s.peerAddress,
		State:         s.state,
		StateName:     c.stateName(s),
		Labels:        slices.Clone(s.labels),
		Version:       s.version,
		Engine:        s.engine,
		Pod:           s.pod,
		LeaderCount:   leaders[s.id],
		RegionCount:   regions[s.id],
		StartTS:       s.startTS,
		LastHeartbeat: s.lastHeartbeat,
	}
}

// Stores lists stores in the given states (PD's ?state= filter); no states means Up and
// Offline, which hides Tombstone stores, as PD does.
func (c *Cluster) Stores(states []int) ([]StoreView, error) {
	if !c.bootstrapped {
		return nil, c.errNotBootstrapped()
	}
	if len(states) == 0 {
		states = []int{StateUp, StateOffline}
	}
	regions, leaders := c.counts()
	out := []StoreView{}
	for _, s := range c.sortedStores() {
		if slices.Contains(states, s.state) {
			out = append(out, c.storeView(s, regions, leaders))
		}
	}
	return out, nil
}

// Store returns one store.
func (c *Cluster) Store(id uint64) (StoreView, error) {
	if !c.bootstrapped {
		return StoreView{}, c.errNotBootstrapped()
	}
	s := c.stores[id]
	if s == nil {
		return StoreView{}, errStoreNotFound(id)
	}
	regions, leaders := c.counts()
	return c.storeView(s, regions, leaders), nil
}

// StoreOfPod returns the current store of a pod (the newest registered at its address).
func (c *Cluster) StoreOfPod(p PodKey) (StoreView, bool) {
	pd := c.pods[p]
	if pd == nil {
		return StoreView{}, false
	}
	id, ok := c.storeByAddr[storeAddress(pd.spec)]
	if !ok {
		return StoreView{}, false
	}
	regions, leaders := c.counts()
	return c.storeView(c.stores[id], regions, leaders), true
}

// DeleteStore starts removing a store: it turns Offline, and Tombstone once its regions have
// moved away. PD refuses when too few Up stores would be left for max-replicas, or when every
// other Up store is evicting leaders.
func (c *Cluster) DeleteStore(id uint64) error {
	if !c.bootstrapped {
		return c.errNotBootstrapped()
	}
	s := c.stores[id]
	if s == nil {
		return errStoreNotFound(id)
	}
	switch s.state {
	case StateOffline:
		return nil
	case StateTombstone:
		return newErr(KindInvalid, fmt.Sprintf("[PD:core:ErrStoreRemoved]store %d has been removed", id))
	}
	var others []uint64
	for _, o := range c.sortedStores() {
		if o.state == StateUp && o.id != id {
			others = append(others, o.id)
		}
	}
	if len(others) < c.cfg.MaxReplicas {
		return newErr(KindInvalid, fmt.Sprintf(
			"[PD:core:ErrStoresNotEnough]can not remove store %d since the number of up stores would be %d while need %d",
			id, len(others), c.cfg.MaxReplicas))
	}
	evictedOthers := 0
	for _, o := range others {
		if c.evicted(o) {
			evictedOthers++
		}
	}
	if evictedOthers == len(others) {
		return newErr(KindInvalid, fmt.Sprintf(
			"[PD:core:ErrNoStoreForRegionLeader]can not remove store %d since there are no extra up store to store the leader", id))
	}
	s.state = StateOffline
	return nil
}

// SetStoreState is POST store/{id}/state?state=Up|Offline|Tombstone.
func (c *Cluster) SetStoreState(id uint64, state string) error {
	if !c.bootstrapped {
		return c.errNotBootstrapped()
	}
	s := c.stores[id]
	if s == nil {
		return errStoreNotFound(id)
	}
	switch state {
	case StateNameUp:
		if s.state == StateTombstone {
			return newErr(KindInvalid, fmt.Sprintf("[PD:core:ErrStoreRemoved]store %d has been removed", id))
		}
		s.state = StateUp
		return nil
	case StateNameOffline:
		return c.DeleteStore(id)
	case StateNameTombstone:
		regions, _ := c.counts()
		if s.state == StateOffline && regions[id] == 0 {
			s.state = StateTombstone
			s.running = false
			return nil
		}
		return newErr(KindInvalid, fmt.Sprintf("[PD:core:ErrStoreIsUp]store %d still holds regions or is not offline", id))
	}
	return newErr(KindInvalid, fmt.Sprintf("unknown state: %s", state))
}

var (
	labelKeyFormat   = regexp.MustCompile(`^[$]?[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$`)
	labelValueFormat = regexp.MustCompile(`^[-A-Za-z0-9_./]+$`)
)

// SetStoreLabels merges labels into a store's labels (POST store/{id}/label).
func (c *Cluster) SetStoreLabels(id uint64, labels map[string]string) error {
	if !c.bootstrapped {
		return c.errNotBootstrapped()
	}
	s := c.stores[id]
	if s == nil {
		return errStoreNotFound(id)
	}
	keys := make([]string, 0, len(labels))
	for k, v := range labels {
		if !labelKeyFormat.MatchString(k) {
			return newErr(KindInvalid, fmt.Sprintf("[PD:server:ErrInvalidLabelKey]invalid label key %q", k))
		}
		if !labelValueFormat.MatchString(v) {
			return newErr(KindInvalid, fmt.Sprintf("[PD:server:ErrInvalidLabelValue]invalid label value %q", v))
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		i := slices.IndexFunc(s.labels, func(l Label) bool { return l.Key == k })
		if i >= 0 {
			s.labels[i].Value = labels[k]
		} else {
			s.labels = append(s.labels, Label{Key: k, Value: labels[k]})
		}
	}
	return nil
}

// Schedulers lists PD's schedulers. Evict-leader schedulers appear as
// evict-leader-scheduler-<storeID>, or as one bare evict-leader-scheduler in combined mode.
func (c *Cluster) Schedulers() ([]string, error) {
	if !c.bootstrapped {
		return nil, c.errNotBootstrapped()
	}
	out := slices.Clone(c.schedulers)
	if c.combinedEvict {
		if len(c.evictStores) > 0 {
			out = append(out, "evict-leader-scheduler")
		}
		return out, nil
	}
	for _, id := range c.evictStores {
		out = append(out, fmt.Sprintf("evict-leader-scheduler-%d", id))
	}
	return out, nil
}

// AddScheduler creates a scheduler (POST /schedulers). Only evict-leader-scheduler (with a
// store) and the default balance schedulers are known.
func (c *Cluster) AddScheduler(name string, storeID uint64) error {
	if !c.bootstrapped {
		return c.errNotBootstrapped()
	}
	if name == "evict-leader-scheduler" {
		if s := c.stores[storeID]; s == nil || s.state == StateTombstone {
			return errStoreNotFound(storeID)
		}
		if c.evicted(storeID) {
			if c.combinedEvict {
				return nil
			}
			return newErr(KindExists, "[PD:scheduler:ErrSchedulerExisted]scheduler existed")
		}
		c.evictStores = append(c.evictStores, storeID)
		return nil
	}
	if !slices.Contains(defaultSchedulers, name) {
		return newErr(KindInvalid, fmt.Sprintf("[PD:scheduler:ErrSchedulerCreateFuncNotRegistered]create func of %s is not registered", name))
	}
	if slices.Contains(c.schedulers, name) {
		return newErr(KindExists, "[PD:scheduler:ErrSchedulerExisted]scheduler existed")
	}
	c.schedulers = append(c.schedulers, name)
	return nil
}

// RemoveScheduler deletes a scheduler (DELETE /schedulers/{name}).
func (c *Cluster) RemoveScheduler(name string) error {
	if !c.bootstrapped {
		return c.errNotBootstrapped()
	}
	notFound := newErr(KindNotFound, "[PD:scheduler:ErrSchedulerNotFound]scheduler not found")
	if rest, ok := strings.CutPrefix(name, "evict-leader-scheduler-"); ok {
		var id uint64
		if _, err := fmt.Sscan(rest, &id); err != nil || !c.evicted(id) {
			return notFound
		}
		c.evictStores = slices.DeleteFunc(c.evictStores, func(v uint64) bool { return v == id })
		return nil
	}
	if name == "evict-leader-scheduler" {
		if !c.combinedEvict || len(c.evictStores) == 0 {
			return notFound
		}
		c.evictStores = nil
		return nil
	}
	i := slices.Index(c.schedulers, name)
	if i < 0 {
		return notFound
	}
	c.schedulers = slices.Delete(c.schedulers, i, i+1)
	return nil
}

// EvictLeaderStores lists the stores of the evict-leader scheduler
// (scheduler-config/evict-leader-scheduler/list).
func (c *Cluster) EvictLeaderStores() ([]uint64, error) {
	if !c.bootstrapped {
		return nil, c.errNotBootstrapped()
	}
	if len(c.evictStores) == 0 {
		return nil, newErr(KindNotFound, "[PD:scheduler:ErrSchedulerNotFound]scheduler not found")
	}
	return slices.Clone(c.evictStores), nil
}
