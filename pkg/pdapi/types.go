package pdapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// MemberHealth is one entry of GET /pd/api/v1/health.
type MemberHealth struct {
	Name       string   `json:"name"`
	MemberID   uint64   `json:"member_id"`
	ClientURLs []string `json:"client_urls"`
	Health     bool     `json:"health"`
}

// ClientURL is the first advertised client URL, the one the operator records in status.
func (m MemberHealth) ClientURL() string {
	if len(m.ClientURLs) == 0 {
		return ""
	}
	return m.ClientURLs[0]
}

// Cluster is GET /pd/api/v1/cluster.
type Cluster struct {
	ID           uint64 `json:"id"`
	MaxPeerCount uint32 `json:"max_peer_count"`
}

// Member is a PD member as PD renders it (pdpb.Member), in /members and /leader.
type Member struct {
	Name           string   `json:"name"`
	MemberID       uint64   `json:"member_id"`
	PeerURLs       []string `json:"peer_urls,omitempty"`
	ClientURLs     []string `json:"client_urls,omitempty"`
	LeaderPriority int32    `json:"leader_priority,omitempty"`
	DeployPath     string   `json:"deploy_path,omitempty"`
	BinaryVersion  string   `json:"binary_version,omitempty"`
	GitHash        string   `json:"git_hash,omitempty"`
	DCLocation     string   `json:"dc_location,omitempty"`
}

// ResponseHeader is the header PD puts on /members.
type ResponseHeader struct {
	ClusterID uint64 `json:"cluster_id"`
}

// MembersInfo is GET /pd/api/v1/members.
type MembersInfo struct {
	Header     *ResponseHeader `json:"header,omitempty"`
	Members    []*Member       `json:"members"`
	Leader     *Member         `json:"leader,omitempty"`
	EtcdLeader *Member         `json:"etcd_leader,omitempty"`
}

// Store states as PD names them in state_name. v1.6 copies the name into TiKVStore.state.
const (
	StoreStateUp        = "Up"
	StoreStateDown      = "Down"
	StoreStateOffline   = "Offline"
	StoreStateTombstone = "Tombstone"
	// StoreStateDisconnected: the store missed heartbeats for a short while (PD shows it
	// before Down).
	StoreStateDisconnected = "Disconnected"
)

// storeStateTombstone is the numeric metapb.StoreState of a tombstone, used as ?state=2.
const storeStateTombstone = 2

// StoreLabel is one label of a store.
type StoreLabel struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MetaStore is the "store" half of a store entry.
type MetaStore struct {
	ID                  uint64       `json:"id"`
	Address             string       `json:"address"`
	State               int          `json:"state"`
	StateName           string       `json:"state_name"`
	Labels              []StoreLabel `json:"labels,omitempty"`
	Version             string       `json:"version,omitempty"`
	PeerAddress         string       `json:"peer_address,omitempty"`
	StatusAddress       string       `json:"status_address,omitempty"`
	GitHash             string       `json:"git_hash,omitempty"`
	DeployPath          string       `json:"deploy_path,omitempty"`
	StartTimestamp      int64        `json:"start_timestamp,omitempty"`
	LastHeartbeat       int64        `json:"last_heartbeat,omitempty"`
	PhysicallyDestroyed bool         `json:"physically_destroyed,omitempty"`
}

// StoreStatus is the "status" half of a store entry. Sizes are PD's humanized strings
// ("100GiB"); the operator only reads counts and times.
type StoreStatus struct {
	Capacity        string     `json:"capacity,omitempty"`
	Available       string     `json:"available,omitempty"`
	UsedSize        string     `json:"used_size,omitempty"`
	LeaderCount     int        `json:"leader_count"`
	LeaderWeight    float64    `json:"leader_weight,omitempty"`
	LeaderScore     float64    `json:"leader_score,omitempty"`
	LeaderSize      int64      `json:"leader_size,omitempty"`
	RegionCount     int        `json:"region_count"`
	RegionWeight    float64    `json:"region_weight,omitempty"`
	RegionScore     float64    `json:"region_score,omitempty"`
	RegionSize      int64      `json:"region_size,omitempty"`
	StartTS         *time.Time `json:"start_ts,omitempty"`
	LastHeartbeatTS *time.Time `json:"last_heartbeat_ts,omitempty"`
	Uptime          string     `json:"uptime,omitempty"`
}

// StoreInfo is one store, as in GET /pd/api/v1/store/{id} and each element of /stores.
type StoreInfo struct {
	Store  *MetaStore   `json:"store"`
	Status *StoreStatus `json:"status"`
}

// StoresInfo is GET /pd/api/v1/stores.
type StoresInfo struct {
	Count  int          `json:"count"`
	Stores []*StoreInfo `json:"stores"`
}

// Label returns the value of a store label and whether it is set.
func (s *MetaStore) Label(key string) (string, bool) {
	for _, l := range s.Labels {
		if l.Key == key {
			return l.Value, true
		}
	}
	return "", false
}

// IsTiFlash tells TiFlash stores apart from TiKV ones: TiFlash registers with engine=tiflash.
func (s *MetaStore) IsTiFlash() bool {
	v, _ := s.Label("engine")
	return v == "tiflash"
}

// Host is the host part of the store address (an IP or a DNS name).
func (s *MetaStore) Host() string {
	host, _, err := net.SplitHostPort(s.Address)
	if err != nil {
		return s.Address
	}
	return host
}

// PodName is the first DNS label of the store's host: with the operator's advertise address
// "<pod>.<tc>-tikv-peer.<ns>.svc:20160" that is the pod name.
func (s *MetaStore) PodName() string {
	host := s.Host()
	name, _, _ := strings.Cut(host, ".")
	return name
}

// LocationLabels is replication.location-labels. PD renders it as one comma-joined string
// ("zone,host"); the Go value is the list. Arrays are accepted too, for tolerance.
type LocationLabels []string

// MarshalJSON writes the comma-joined string PD expects.
func (l LocationLabels) MarshalJSON() ([]byte, error) {
	return json.Marshal(strings.Join(l, ","))
}

// UnmarshalJSON reads the comma-joined string (or an array of strings).
func (l *LocationLabels) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*l = nil
		return nil
	}
	if len(data) > 0 && data[0] == '[' {
		var list []string
		if err := json.Unmarshal(data, &list); err != nil {
			return fmt.Errorf("location-labels: %w", err)
		}
		*l = list
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("location-labels must be a comma-joined string: %w", err)
	}
	if strings.TrimSpace(s) == "" {
		*l = LocationLabels{}
		return nil
	}
	parts := strings.Split(s, ",")
	out := make(LocationLabels, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*l = out
	return nil
}

// StringBool is a boolean that PD renders as the string "true" or "false" (Go's `,string`
// tag). Bare JSON booleans are accepted on input.
type StringBool bool

// MarshalJSON writes "true" or "false" as a JSON string.
func (b StringBool) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatBool(bool(b)))
}

// UnmarshalJSON reads a quoted or bare boolean.
func (b *StringBool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	} else {
		s = string(data)
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("expected a boolean, got %s: %w", data, err)
	}
	*b = StringBool(v)
	return nil
}

// NewStringBool returns a pointer for the optional fields of ReplicationConfig.
func NewStringBool(v bool) *StringBool {
	b := StringBool(v)
	return &b
}

// ReplicationConfig is the "replication" section of PD's config, and the body of
// POST /pd/api/v1/config/replicate, where only the fields that are set get sent.
type ReplicationConfig struct {
	// MaxReplicas is always present in GET /config; Config rejects an answer without it,
	// because TiKV scale-in decisions depend on it.
	MaxReplicas          *uint64        `json:"max-replicas,omitempty"`
	LocationLabels       LocationLabels `json:"location-labels,omitempty"`
	StrictlyMatchLabel   *StringBool    `json:"strictly-match-label,omitempty"`
	EnablePlacementRules *StringBool    `json:"enable-placement-rules,omitempty"`
	IsolationLevel       *string        `json:"isolation-level,omitempty"`
}

// Config is GET /pd/api/v1/config. Only replication is typed; the other sections are kept raw
// because the operator does not act on them.
type Config struct {
	Replication ReplicationConfig          `json:"replication"`
	Schedule    map[string]json.RawMessage `json:"schedule,omitempty"`
	Log         map[string]json.RawMessage `json:"log,omitempty"`
}

// PlacementRulesEnabled reports replication.enable-placement-rules (false when absent).
func (c *Config) PlacementRulesEnabled() bool {
	return c.Replication.EnablePlacementRules != nil && bool(*c.Replication.EnablePlacementRules)
}

// evictLeaderList is GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list on PD versions
// that run one evict-leader scheduler for many stores.
type evictLeaderList struct {
	StoreIDRanges map[string]json.RawMessage `json:"store-id-ranges"`
}

// evictLeaderRequest is the body of POST /pd/api/v1/schedulers that starts evicting leaders.
type evictLeaderRequest struct {
	Name    string `json:"name"`
	StoreID uint64 `json:"store_id"`
}

// snapshotRecoveringMark is GET /pd/api/v1/admin/cluster/markers/snapshot-recovering.
type snapshotRecoveringMark struct {
	Marked bool `json:"marked"`
}

// ServiceMember is a PD micro-service instance (GET /pd/api/v2/ms/members/{service}).
type ServiceMember struct {
	ServiceAddr    string `json:"service-addr"`
	Version        string `json:"version"`
	GitHash        string `json:"git-hash"`
	DeployPath     string `json:"deploy-path"`
	StartTimestamp int64  `json:"start-timestamp"`
}
