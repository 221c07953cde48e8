package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// ClusterKey names the TidbCluster whose PD a cluster model belongs to.
type ClusterKey struct{ Namespace, Name string }

func (k ClusterKey) String() string { return k.Namespace + "/" + k.Name }

// PodKey names a pod.
type PodKey struct{ Namespace, Name string }

func (k PodKey) String() string { return k.Namespace + "/" + k.Name }

// pod is a known pod and the cluster (PD) it belongs to.
type pod struct {
	spec    simapi.Pod
	key     PodKey
	cluster ClusterKey
	// tiflashStatus overrides the TiFlash store-status answer when not empty.
	tiflashStatus string
	// since is when the current pod instance started running.
	since time.Time
}

func (p *pod) running() bool { return p != nil && p.spec.Running }

// Model holds every simulated cluster. It is safe for concurrent use.
type Model struct {
	mu       sync.Mutex
	opts     Options
	rnd      *rand.Rand
	lastTick time.Time
	clusters map[ClusterKey]*Cluster
	pods     map[PodKey]*pod
	// seeds hold configuration read from TidbCluster specs, applied to a cluster until its PD
	// has started (PD persists its configuration at first start and ignores the file later).
	seeds map[ClusterKey]simapi.ClusterPatch
}

// New returns an empty model.
func New(opts Options) *Model {
	opts = opts.withDefaults()
	seed := opts.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	return &Model{
		opts:     opts,
		rnd:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		lastTick: opts.Clock.Now(),
		clusters: map[ClusterKey]*Cluster{},
		pods:     map[PodKey]*pod{},
		seeds:    map[ClusterKey]simapi.ClusterPatch{},
	}
}

// Now is the model's clock.
func (m *Model) Now() time.Time { return m.opts.Clock.Now() }

// Options returns the effective options.
func (m *Model) Options() Options { return m.opts }

// Components the model simulates; pods of other components are ignored.
var simulated = map[string]bool{
	simapi.ComponentPD: true, simapi.ComponentTiKV: true, simapi.ComponentTiDB: true,
	simapi.ComponentTiFlash: true, simapi.ComponentTiCDC: true, simapi.ComponentTSO: true,
	simapi.ComponentScheduling: true,
}

// Simulated reports whether pods of the component are simulated.
func Simulated(component string) bool { return simulated[component] }

// UpsertPod adds or updates a pod. Pods of components the model does not simulate are ignored.
func (m *Model) UpsertPod(p simapi.Pod) error {
	if p.Namespace == "" || p.Name == "" || p.Cluster == "" {
		return fmt.Errorf("pod %s/%s of cluster %q: %w", p.Namespace, p.Name, p.Cluster,
			newErr(KindInvalid, "namespace, name and cluster are required"))
	}
	if !simulated[p.Component] {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	key := PodKey{p.Namespace, p.Name}
	ck := ClusterKey{p.Namespace, p.Cluster}
	if p.PDCluster != nil && p.PDCluster.Name != "" {
		ns := p.PDCluster.Namespace
		if ns == "" {
			ns = p.Namespace
		}
		ck = ClusterKey{ns, p.PDCluster.Name}
	}
	old := m.pods[key]
	if old != nil && old.cluster != ck {
		if oc := m.clusters[old.cluster]; oc != nil {
			delete(oc.pods, key)
			oc.reconcile()
		}
	}
	pd := &pod{spec: p, key: key, cluster: ck, since: m.opts.Clock.Now()}
	if old != nil {
		pd.tiflashStatus = old.tiflashStatus
		if old.spec.Running && p.Running && old.spec.UID == p.UID {
			pd.since = old.since
		}
	}
	m.pods[key] = pd
	c := m.clusterLocked(ck)
	c.pods[key] = pd
	c.reconcile()
	return nil
}

// DeletePod forgets a pod, as when it is deleted from Kubernetes.
func (m *Model) DeletePod(namespace, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	key := PodKey{namespace, name}
	p := m.pods[key]
	if p == nil {
		return
	}
	delete(m.pods, key)
	if c := m.clusters[p.cluster]; c != nil {
		delete(c.pods, key)
		c.reconcile()
	}
}

// Pods lists the known pods, sorted by namespace and name.
func (m *Model) Pods() []simapi.Pod {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]simapi.Pod, 0, len(m.pods))
	for _, p := range m.pods {
		out = append(out, p.spec)
	}
	slices.SortFunc(out, func(a, b simapi.Pod) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
}

// PatchPod changes the behaviour of a pod's simulated process.
func (m *Model) PatchPod(namespace, name string, patch simapi.PodPatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pods[PodKey{namespace, name}]
	if p == nil {
		return newErr(KindNotFound, fmt.Sprintf("pod %s/%s not found", namespace, name))
	}
	if patch.TiFlashStoreStatus != nil {
		p.tiflashStatus = *patch.TiFlashStoreStatus
	}
	return nil
}

// PodInfo is what request routing needs to know about a pod.
type PodInfo struct {
	Spec    simapi.Pod
	Cluster ClusterKey
}

// LookupPod returns a known pod.
func (m *Model) LookupPod(namespace, name string) (PodInfo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pods[PodKey{namespace, name}]
	if p == nil {
		return PodInfo{}, false
	}
	return PodInfo{Spec: p.spec, Cluster: p.cluster}, true
}

// ServiceTarget resolves the Service <tc>-<component> (or its headless -peer twin) in a
// namespace: whether it exists, whether any pod behind it runs, and which cluster those pods
// belong to. A PD service exists as soon as the cluster is known, even with no PD pod.
func (m *Model) ServiceTarget(namespace, tc, component string) (key ClusterKey, exists, reachable bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key = ClusterKey{namespace, tc}
	if component == simapi.ComponentPD {
		_, exists = m.clusters[key]
	}
	for _, p := range m.pods {
		if p.spec.Namespace != namespace || p.spec.Cluster != tc || p.spec.Component != component {
			continue
		}
		if !reachable {
			key = p.cluster
		}
		exists = true
		if p.running() {
			reachable = true
		}
	}
	return key, exists, reachable
}

// SeedConfig records PD configuration from a TidbCluster spec. It applies to the cluster as
// long as no PD member has ever run, like a config file PD reads only at its first start.
func (m *Model) SeedConfig(key ClusterKey, p simapi.ClusterPatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seeds[key] = p
	if c := m.clusters[key]; c != nil && !c.pdStarted {
		c.applyConfigPatch(p)
	}
}

// RemoveCluster forgets a cluster and the pods that belong to it, as when the TidbCluster is
// deleted; a new cluster of the same name starts from scratch.
func (m *Model) RemoveCluster(key ClusterKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.clusters, key)
	delete(m.seeds, key)
	for k, p := range m.pods {
		if p.cluster == key {
			delete(m.pods, k)
		}
	}
}

// Clusters lists the simulated clusters, sorted.
func (m *Model) Clusters() []ClusterKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sortedKeysLocked()
}

// Cluster runs fn on one cluster, with the model locked and advanced to the current time.
// fn must not keep the *Cluster after it returns.
func (m *Model) Cluster(key ClusterKey, fn func(c *Cluster) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	c := m.clusters[key]
	if c == nil {
		return newErr(KindUnknownCluster, fmt.Sprintf("cluster %s is not simulated", key))
	}
	err := fn(c)
	c.reconcile()
	return err
}

// PatchCluster changes settings of a cluster, creating it if needed (so a test can configure
// PD before any pod starts).
func (m *Model) PatchCluster(key ClusterKey, p simapi.ClusterPatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
	c := m.clusterLocked(key)
	if p.MaxReplicas != nil && *p.MaxReplicas <= 0 {
		return newErr(KindInvalid, "maxReplicas must be positive")
	}
	c.applyConfigPatch(p)
	if p.SnapshotRecovering != nil {
		c.snapshotRecovering = *p.SnapshotRecovering
	}
	if p.ReadyAPIMissing != nil {
		c.readyAPIMissing = *p.ReadyAPIMissing
	}
	if p.CombinedEvictLeader != nil {
		c.combinedEvict = *p.CombinedEvictLeader
	}
	if p.CDCTables != nil {
		c.setCDCTables(*p.CDCTables)
	}
	c.reconcile()
	return nil
}

// PatchStore injects or clears store faults.
func (m *Model) PatchStore(key ClusterKey, id uint64, p simapi.StorePatch) error {
	return m.Cluster(key, func(c *Cluster) error {
		s := c.stores[id]
		if s == nil {
			return errStoreNotFound(id)
		}
		if p.ForceDown != nil {
			s.forceDown = *p.ForceDown
		}
		if p.EvictionStuck != nil {
			s.evictionStuck = *p.EvictionStuck
		}
		if p.TombstoneStuck != nil {
			s.tombstoneStuck = *p.TombstoneStuck
		}
		return nil
	})
}

// PatchMember injects or clears PD member faults.
func (m *Model) PatchMember(key ClusterKey, name string, p simapi.MemberPatch) error {
	return m.Cluster(key, func(c *Cluster) error {
		mb := c.members[name]
		if mb == nil {
			return newErr(KindNotFound, fmt.Sprintf("member %s not found", name))
		}
		if p.Unhealthy != nil {
			mb.forcedUnhealthy = *p.Unhealthy
		}
		return nil
	})
}

// Snapshot returns the state of one cluster.
func (m *Model) Snapshot(key ClusterKey) (simapi.ClusterState, error) {
	var st simapi.ClusterState
	err := m.Cluster(key, func(c *Cluster) error {
		st = c.snapshot()
		return nil
	})
	return st, err
}

// Advance replays the ticks due up to the clock's current time. Every other method does this
// first, so calling it is only needed to make time pass without any other interaction.
func (m *Model) Advance() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advanceLocked()
}

func (m *Model) clusterLocked(key ClusterKey) *Cluster {
	c := m.clusters[key]
	if c == nil {
		c = newCluster(m, key)
		c.now = m.lastTick
		if seed, ok := m.seeds[key]; ok {
			c.applyConfigPatch(seed)
		}
		m.clusters[key] = c
	}
	return c
}

func (m *Model) sortedKeysLocked() []ClusterKey {
	keys := make([]ClusterKey, 0, len(m.clusters))
	for k := range m.clusters {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ClusterKey) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

// advanceLocked replays every tick due by now, then brings instant state (heartbeats,
// elections) up to now.
func (m *Model) advanceLocked() {
	now := m.opts.Clock.Now()
	keys := m.sortedKeysLocked()
	for n := 0; !m.lastTick.Add(m.opts.TickInterval).After(now); n++ {
		if n >= m.opts.MaxTicksPerAdvance {
			m.lastTick = now
			break
		}
		m.lastTick = m.lastTick.Add(m.opts.TickInterval)
		for _, k := range keys {
			c := m.clusters[k]
			c.now = m.lastTick
			c.reconcile()
			c.step()
		}
	}
	for _, k := range keys {
		c := m.clusters[k]
		c.now = now
		c.reconcile()
	}
}

// newID returns a random non-zero ID, like the IDs etcd and PD generate.
func (m *Model) newID() uint64 {
	for {
		if v := m.rnd.Uint64(); v != 0 {
			return v
		}
	}
}

// imageVersion returns the version a process started from image would report, with a leading
// "v" (e.g. "pingcap/tikv:v8.5.0" → "v8.5.0").
func (m *Model) imageVersion(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	tag := ""
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
		tag = image[i+1:]
	}
	if tag == "" || tag == "latest" || tag == "nightly" {
		return m.opts.DefaultVersion
	}
	if !strings.HasPrefix(tag, "v") {
		tag = "v" + tag
	}
	return tag
}
