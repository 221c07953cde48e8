package model

import (
	"slices"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// Cluster is the simulated state behind one PD: its members, stores, regions and the TiDB,
// TiCDC and PD micro-service processes that use it. Its methods are called with the model
// locked (through Model.Cluster).
type Cluster struct {
	m   *Model
	key ClusterKey
	id  uint64
	// now is the time the current operation happens at (a tick, or the clock at a request).
	now  time.Time
	pods map[PodKey]*pod

	cfg Config

	// PD members by member name; the leader's name or "".
	members map[string]*member
	leader  string
	// pdStarted is set once any member has run; from then on PD ignores seeded configuration.
	pdStarted bool
	// deletedMembers maps a deleted member's name to the pod UID it had: that pod instance may
	// not rejoin, a new one (fresh volume) may.
	deletedMembers map[string]string

	bootstrapped bool
	nextStoreID  uint64
	nextRegionID uint64
	stores       map[uint64]*store
	// storeByAddr maps an address to the newest store registered there.
	storeByAddr map[string]uint64
	regions     []*region

	// schedulers other than evict-leader, in listing order.
	schedulers []string
	// evictStores are the stores under an evict-leader scheduler, in creation order.
	evictStores   []uint64
	combinedEvict bool

	readyAPIMissing    bool
	snapshotRecovering bool

	tidb     map[PodKey]*tidbServer
	ddlOwner PodKey

	captures      map[PodKey]*capture
	cdcOwner      PodKey
	cdcTables     int
	cdcUnassigned int

	// msPrimary maps a PD micro-service (tso, scheduling) to its primary pod.
	msPrimary map[string]PodKey
}

// Config is the PD configuration the model uses.
type Config struct {
	MaxReplicas          int
	LocationLabels       []string
	EnablePlacementRules bool
	StrictlyMatchLabel   bool
	MaxStoreDownTime     time.Duration
}

// defaultSchedulers are the schedulers a fresh PD lists.
var defaultSchedulers = []string{"balance-hot-region-scheduler", "balance-leader-scheduler", "balance-region-scheduler"}

func newCluster(m *Model, key ClusterKey) *Cluster {
	// PD derives cluster IDs from a timestamp, so they stay below 2^63.
	id := m.newID() >> 1
	if id == 0 {
		id = 1
	}
	return &Cluster{
		m:    m,
		key:  key,
		id:   id,
		pods: map[PodKey]*pod{},
		cfg: Config{
			MaxReplicas:          m.opts.MaxReplicas,
			EnablePlacementRules: true,
			MaxStoreDownTime:     m.opts.MaxStoreDownTime,
		},
		members:        map[string]*member{},
		deletedMembers: map[string]string{},
		nextStoreID:    1,
		nextRegionID:   1,
		stores:         map[uint64]*store{},
		storeByAddr:    map[string]uint64{},
		schedulers:     slices.Clone(defaultSchedulers),
		tidb:           map[PodKey]*tidbServer{},
		captures:       map[PodKey]*capture{},
		cdcTables:      max(m.opts.CDCTables, 0),
		cdcUnassigned:  max(m.opts.CDCTables, 0),
		msPrimary:      map[string]PodKey{},
	}
}

// Key names the cluster.
func (c *Cluster) Key() ClusterKey { return c.key }

// ID is the PD cluster ID.
func (c *Cluster) ID() uint64 { return c.id }

// Now is the time of the current operation.
func (c *Cluster) Now() time.Time { return c.now }

// Config returns the current PD configuration.
func (c *Cluster) Config() Config {
	cfg := c.cfg
	cfg.LocationLabels = slices.Clone(cfg.LocationLabels)
	return cfg
}

// ReplicationPatch is a change to PD's replication configuration (POST config/replicate).
type ReplicationPatch struct {
	MaxReplicas          *int
	LocationLabels       *[]string
	EnablePlacementRules *bool
	StrictlyMatchLabel   *bool
}

// UpdateReplication applies a replication change, as POST /pd/api/v1/config/replicate does.
func (c *Cluster) UpdateReplication(p ReplicationPatch) error {
	if p.MaxReplicas != nil && *p.MaxReplicas <= 0 {
		return newErr(KindInvalid, "[PD:config:ErrConfigItem]max-replicas should be positive")
	}
	c.applyConfigPatch(simapi.ClusterPatch{
		MaxReplicas:          p.MaxReplicas,
		LocationLabels:       p.LocationLabels,
		EnablePlacementRules: p.EnablePlacementRules,
		StrictlyMatchLabel:   p.StrictlyMatchLabel,
	})
	return nil
}

func (c *Cluster) applyConfigPatch(p simapi.ClusterPatch) {
	if p.MaxReplicas != nil && *p.MaxReplicas > 0 {
		c.cfg.MaxReplicas = *p.MaxReplicas
	}
	if p.LocationLabels != nil {
		c.cfg.LocationLabels = nil
		for _, l := range *p.LocationLabels {
			if l = strings.TrimSpace(l); l != "" {
				c.cfg.LocationLabels = append(c.cfg.LocationLabels, l)
			}
		}
	}
	if p.EnablePlacementRules != nil {
		c.cfg.EnablePlacementRules = *p.EnablePlacementRules
	}
	if p.StrictlyMatchLabel != nil {
		c.cfg.StrictlyMatchLabel = *p.StrictlyMatchLabel
	}
	if p.MaxStoreDownTime != nil && p.MaxStoreDownTime.Duration > 0 {
		c.cfg.MaxStoreDownTime = p.MaxStoreDownTime.Duration
	}
}

// podsOf returns the cluster's pods of one component, sorted by namespace and name.
func (c *Cluster) podsOf(component string) []*pod {
	var out []*pod
	for _, p := range c.pods {
		if p.spec.Component == component {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *pod) int { return strings.Compare(a.key.String(), b.key.String()) })
	return out
}

// reconcile brings instantaneous state up to c.now: membership, elections, store
// registration and heartbeats, leader failover, owners and primaries.
func (c *Cluster) reconcile() {
	c.reconcileMembers()
	c.reconcileStores()
	c.failoverLeaders()
	c.reconcileTiDB()
	c.reconcileCaptures()
	c.reconcileMicroServices()
}

// step runs one tick of the gradual processes.
func (c *Cluster) step() {
	c.evictLeaders()
	c.drainStores()
	c.repairReplicas()
	c.balanceRegions()
	c.balanceLeaders()
	c.finishTombstones()
	c.stepCaptures()
}

// podDomain is the DNS name a pod advertises: <pod>.<tc>-<component>-peer.<ns>.svc[.<domain>].
func podDomain(p simapi.Pod) string {
	d := p.Name + "." + p.Cluster + "-" + p.Component + "-peer." + p.Namespace + ".svc"
	if p.ClusterDomain != "" {
		d += "." + p.ClusterDomain
	}
	return d
}
