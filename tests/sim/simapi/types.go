package simapi

import (
	"encoding/json"
	"fmt"
	"time"
)

// PathPrefix starts every admin path. The simulator answers admin requests only when they are
// sent to it directly (not through it as a proxy), so a simulated component never shadows them.
const PathPrefix = "/_sim/"

// Components the simulator knows, as in the pod label app.kubernetes.io/component.
const (
	ComponentPD         = "pd"
	ComponentTiKV       = "tikv"
	ComponentTiDB       = "tidb"
	ComponentTiFlash    = "tiflash"
	ComponentTiCDC      = "ticdc"
	ComponentTSO        = "tso"
	ComponentScheduling = "scheduling"
)

// Duration is a time.Duration that travels as a Go duration string ("1.5s") in JSON.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string such as "30m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts a duration string ("20s") or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("parse duration %q: %w", s, err)
		}
		d.Duration = v
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"20s\" or nanoseconds: %w", err)
	}
	d.Duration = time.Duration(n)
	return nil
}

// ClusterRef names a TidbCluster.
type ClusterRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r ClusterRef) String() string { return r.Namespace + "/" + r.Name }

// Pod is what the simulator needs to know about one pod of a TidbCluster. The Kubernetes
// adapter fills it from the Pod object; tests without Kubernetes send it to PUT /_sim/pods/.
type Pod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// UID changes when the pod is recreated. A new UID on the address of a tombstoned store,
	// or of a deleted PD member, means fresh data: a new store or member is created.
	UID string `json:"uid"`
	// Cluster is the TidbCluster the pod belongs to; it names the pod's hosts
	// (<pod>.<cluster>-<component>-peer.<namespace>.svc).
	Cluster string `json:"cluster"`
	// Component is the value of the app.kubernetes.io/component label.
	Component string `json:"component"`
	// Instance is the value of the app.kubernetes.io/instance label (informational).
	Instance string `json:"instance,omitempty"`
	// Running is true while the pod's process would run: phase Running and not being deleted.
	Running bool `json:"running"`
	// Ready mirrors the pod's Ready condition (informational; health follows Running).
	Ready bool `json:"ready,omitempty"`
	// Image is the main container image; its tag becomes the reported version.
	Image string `json:"image,omitempty"`
	// ClusterDomain, when set, is appended to advertised addresses (<...>.svc.<domain>).
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// PDCluster is the cluster whose PD the pod joins, when it is not its own (a heterogeneous
	// cluster, spec.cluster in the TidbCluster).
	PDCluster *ClusterRef `json:"pdCluster,omitempty"`
}

// PodPatch changes how one simulated process behaves.
type PodPatch struct {
	// TiFlashStoreStatus overrides the body of GET :20292/tiflash/store-status (Idle, Ready,
	// Running, Stopping, Terminated). An empty string removes the override.
	TiFlashStoreStatus *string `json:"tiflashStoreStatus,omitempty"`
}

// Call is one request the simulator received for a simulated component.
type Call struct {
	// Seq orders calls by arrival.
	Seq uint64 `json:"seq"`
	// Time is the simulator clock at arrival.
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	// Host is host:port as the client addressed it.
	Host string `json:"host"`
	// Path is the path plus, when present, "?" and the raw query.
	Path string `json:"path"`
	Body string `json:"body,omitempty"`
	// Namespace, Cluster, Component and Pod describe what Host resolved to; Pod is empty for a
	// service address.
	Namespace string `json:"namespace,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
	Component string `json:"component,omitempty"`
	Pod       string `json:"pod,omitempty"`
	// Status is the HTTP status sent back; 0 if the connection was dropped or the call is still
	// being served.
	Status int `json:"status"`
	// Fault is the ID of the injected fault that shaped the answer, if any.
	Fault string `json:"fault,omitempty"`
}

// FaultKind says what an injected fault does to matching requests.
type FaultKind string

const (
	// FaultUnreachable resets the connection without an answer, as if nothing listened.
	FaultUnreachable FaultKind = "unreachable"
	// FaultError answers with Status (default 503) and a JSON string body.
	FaultError FaultKind = "error"
	// FaultTimeout never answers; the connection is held until the client gives up (or
	// Latency, if set, has passed, after which it is dropped).
	FaultTimeout FaultKind = "timeout"
	// FaultLatency delays the answer by Latency, then serves the request normally.
	FaultLatency FaultKind = "latency"
)

// Fault is a rule applied to requests for simulated components. Empty matcher fields match
// anything. The first matching fault that fires (see Fraction) applies; latency faults add up
// with a following fault of another kind.
type Fault struct {
	// ID is assigned by the simulator when the fault is added.
	ID   string    `json:"id,omitempty"`
	Kind FaultKind `json:"kind"`

	Namespace string `json:"namespace,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
	Component string `json:"component,omitempty"`
	// Pod matches requests to that pod's own address; a request to a service never matches a
	// fault that names a pod.
	Pod string `json:"pod,omitempty"`
	// Method matches the HTTP method exactly; Path matches a prefix of the URL path.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`

	// Fraction of matching requests the fault fires on, in (0, 1]; 0 means 1.
	Fraction float64 `json:"fraction,omitempty"`
	// Status for FaultError; 0 means 503.
	Status int `json:"status,omitempty"`
	// Latency for FaultLatency, and the hold time for FaultTimeout (0 means until the client
	// disconnects, at most ten minutes).
	Latency Duration `json:"latency,omitzero"`
	// Times limits how often the fault fires before it removes itself; 0 means no limit.
	Times int `json:"times,omitempty"`
}

// Config is the PD configuration the simulator models.
type Config struct {
	MaxReplicas          int      `json:"maxReplicas"`
	LocationLabels       []string `json:"locationLabels"`
	EnablePlacementRules bool     `json:"enablePlacementRules"`
	StrictlyMatchLabel   bool     `json:"strictlyMatchLabel"`
	// MaxStoreDownTime is how long a store may miss heartbeats before PD calls it Down.
	MaxStoreDownTime Duration `json:"maxStoreDownTime"`
}

// ClusterPatch changes a simulated cluster. Nil fields are left alone.
type ClusterPatch struct {
	MaxReplicas          *int      `json:"maxReplicas,omitempty"`
	LocationLabels       *[]string `json:"locationLabels,omitempty"`
	EnablePlacementRules *bool     `json:"enablePlacementRules,omitempty"`
	StrictlyMatchLabel   *bool     `json:"strictlyMatchLabel,omitempty"`
	MaxStoreDownTime     *Duration `json:"maxStoreDownTime,omitempty"`
	// SnapshotRecovering is the answer of GET /pd/api/v1/admin/cluster/markers/snapshot-recovering.
	SnapshotRecovering *bool `json:"snapshotRecovering,omitempty"`
	// ReadyAPIMissing makes GET /pd/api/v2/ready answer 404, as PD before v8.5.2 does.
	ReadyAPIMissing *bool `json:"readyAPIMissing,omitempty"`
	// CombinedEvictLeader makes PD list one bare "evict-leader-scheduler" and answer
	// scheduler-config/evict-leader-scheduler/list, as newer PD does.
	CombinedEvictLeader *bool `json:"combinedEvictLeader,omitempty"`
	// CDCTables sets how many tables the TiCDC captures of the cluster replicate in total.
	CDCTables *int `json:"cdcTables,omitempty"`
}

// StorePatch injects store faults. Nil fields are left alone.
type StorePatch struct {
	// ForceDown makes PD report the store Down at once and treats it as dead.
	ForceDown *bool `json:"forceDown,omitempty"`
	// EvictionStuck keeps leaders on the store even under an evict-leader scheduler.
	EvictionStuck *bool `json:"evictionStuck,omitempty"`
	// TombstoneStuck keeps a deleted store Offline with its regions forever.
	TombstoneStuck *bool `json:"tombstoneStuck,omitempty"`
}

// MemberPatch injects PD member faults. Nil fields are left alone.
type MemberPatch struct {
	// Unhealthy makes the member report health=false (and not ready) although its pod runs.
	Unhealthy *bool `json:"unhealthy,omitempty"`
}

// ClusterState is a snapshot of one simulated cluster, for assertions.
type ClusterState struct {
	Namespace          string         `json:"namespace"`
	Name               string         `json:"name"`
	ClusterID          uint64         `json:"clusterID"`
	Bootstrapped       bool           `json:"bootstrapped"`
	Leader             string         `json:"leader"`
	Members            []Member       `json:"members"`
	Stores             []Store        `json:"stores"`
	Schedulers         []string       `json:"schedulers"`
	Config             Config         `json:"config"`
	Regions            int            `json:"regions"`
	SnapshotRecovering bool           `json:"snapshotRecovering"`
	TiDB               []TiDBServer   `json:"tidb"`
	Captures           []Capture      `json:"captures"`
	MicroServices      []MicroService `json:"microServices"`
}

// Member is a PD member.
type Member struct {
	Name            string   `json:"name"`
	ID              uint64   `json:"id"`
	Pod             string   `json:"pod"`
	ClientURLs      []string `json:"clientURLs"`
	PeerURLs        []string `json:"peerURLs"`
	Healthy         bool     `json:"healthy"`
	ForcedUnhealthy bool     `json:"forcedUnhealthy"`
}

// Store is a TiKV or TiFlash store as PD sees it.
type Store struct {
	ID          uint64            `json:"id"`
	Address     string            `json:"address"`
	Pod         string            `json:"pod"`
	Engine      string            `json:"engine"`
	StateName   string            `json:"stateName"`
	LeaderCount int               `json:"leaderCount"`
	RegionCount int               `json:"regionCount"`
	Labels      map[string]string `json:"labels"`
	// EvictLeader is true while an evict-leader scheduler targets the store.
	EvictLeader    bool `json:"evictLeader"`
	ForceDown      bool `json:"forceDown"`
	EvictionStuck  bool `json:"evictionStuck"`
	TombstoneStuck bool `json:"tombstoneStuck"`
}

// TiDBServer is one TiDB pod.
type TiDBServer struct {
	Pod     string            `json:"pod"`
	Running bool              `json:"running"`
	Owner   bool              `json:"owner"`
	Labels  map[string]string `json:"labels"`
}

// Capture is one running TiCDC capture.
type Capture struct {
	Pod      string `json:"pod"`
	ID       string `json:"id"`
	Owner    bool   `json:"owner"`
	Tables   int    `json:"tables"`
	Draining bool   `json:"draining"`
}

// MicroService is one running PD micro-service (tso or scheduling) pod.
type MicroService struct {
	Service string `json:"service"`
	Pod     string `json:"pod"`
	Addr    string `json:"addr"`
	Primary bool   `json:"primary"`
}

// StoreByPod returns the newest store whose pod is pod (a tombstoned store is superseded by a
// store registered later from the same pod).
func (s ClusterState) StoreByPod(pod string) (Store, bool) {
	var found Store
	ok := false
	for _, st := range s.Stores {
		if st.Pod == pod && (!ok || st.ID > found.ID) {
			found, ok = st, true
		}
	}
	return found, ok
}

// MemberByName returns the PD member with that name.
func (s ClusterState) MemberByName(name string) (Member, bool) {
	for _, m := range s.Members {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// CaptureByPod returns the running capture of pod.
func (s ClusterState) CaptureByPod(pod string) (Capture, bool) {
	for _, c := range s.Captures {
		if c.Pod == pod {
			return c, true
		}
	}
	return Capture{}, false
}
