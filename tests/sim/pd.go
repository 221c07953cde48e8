package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// Wire types of PD's HTTP API (§3.2 of the behaviour reference). Field names and JSON types
// follow PD, including its quirks: see the package documentation.

type pdHealth struct {
	Name       string   `json:"name"`
	MemberID   uint64   `json:"member_id"`
	ClientUrls []string `json:"client_urls"`
	Health     bool     `json:"health"`
}

type pdMember struct {
	Name           string   `json:"name"`
	MemberID       uint64   `json:"member_id"`
	PeerUrls       []string `json:"peer_urls"`
	ClientUrls     []string `json:"client_urls"`
	LeaderPriority int32    `json:"leader_priority"`
	DeployPath     string   `json:"deploy_path,omitempty"`
	BinaryVersion  string   `json:"binary_version,omitempty"`
	GitHash        string   `json:"git_hash,omitempty"`
}

type pdHeader struct {
	ClusterID uint64 `json:"cluster_id"`
}

type pdMembers struct {
	Header     pdHeader   `json:"header"`
	Members    []pdMember `json:"members"`
	Leader     *pdMember  `json:"leader,omitempty"`
	EtcdLeader *pdMember  `json:"etcd_leader,omitempty"`
}

type pdClusterMeta struct {
	ID           uint64 `json:"id"`
	MaxPeerCount uint32 `json:"max_peer_count"`
}

type pdConfig struct {
	Log         pdLogConfig         `json:"log"`
	Schedule    pdScheduleConfig    `json:"schedule"`
	Replication pdReplicationConfig `json:"replication"`
}

type pdLogConfig struct {
	Level string `json:"level"`
}

type pdScheduleConfig struct {
	MaxStoreDownTime     string `json:"max-store-down-time"`
	LeaderScheduleLimit  int    `json:"leader-schedule-limit"`
	RegionScheduleLimit  int    `json:"region-schedule-limit"`
	ReplicaScheduleLimit int    `json:"replica-schedule-limit"`
}

type pdReplicationConfig struct {
	MaxReplicas               int    `json:"max-replicas"`
	LocationLabels            string `json:"location-labels"`
	StrictlyMatchLabel        string `json:"strictly-match-label"`
	EnablePlacementRules      string `json:"enable-placement-rules"`
	EnablePlacementRulesCache string `json:"enable-placement-rules-cache"`
	IsolationLevel            string `json:"isolation-level"`
}

type pdStores struct {
	Count  int           `json:"count"`
	Stores []pdStoreInfo `json:"stores"`
}

type pdStoreInfo struct {
	Store  pdStoreMeta   `json:"store"`
	Status pdStoreStatus `json:"status"`
}

type pdLabel struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type pdStoreMeta struct {
	ID             uint64    `json:"id"`
	Address        string    `json:"address"`
	State          int       `json:"state"`
	Labels         []pdLabel `json:"labels"`
	Version        string    `json:"version"`
	PeerAddress    string    `json:"peer_address,omitempty"`
	StatusAddress  string    `json:"status_address"`
	GitHash        string    `json:"git_hash"`
	StartTimestamp int64     `json:"start_timestamp"`
	DeployPath     string    `json:"deploy_path"`
	LastHeartbeat  int64     `json:"last_heartbeat"`
	StateName      string    `json:"state_name"`
}

type pdStoreStatus struct {
	Capacity        string    `json:"capacity"`
	Available       string    `json:"available"`
	UsedSize        string    `json:"used_size"`
	LeaderCount     int       `json:"leader_count"`
	LeaderWeight    float64   `json:"leader_weight"`
	LeaderScore     float64   `json:"leader_score"`
	LeaderSize      int64     `json:"leader_size"`
	RegionCount     int       `json:"region_count"`
	RegionWeight    float64   `json:"region_weight"`
	RegionScore     float64   `json:"region_score"`
	RegionSize      int64     `json:"region_size"`
	StartTS         time.Time `json:"start_ts"`
	LastHeartbeatTS time.Time `json:"last_heartbeat_ts"`
	Uptime          string    `json:"uptime"`
}

type pdEvictLeaderList struct {
	StoreIDRanges map[string][]pdKeyRange `json:"store-id-ranges"`
}

type pdKeyRange struct {
	StartKey string `json:"start-key"`
	EndKey   string `json:"end-key"`
}

type pdSnapshotMarker struct {
	Marked bool `json:"marked"`
}

type pdMSMember struct {
	ServiceAddr    string `json:"service-addr"`
	Version        string `json:"version"`
	GitHash        string `json:"git-hash"`
	DeployPath     string `json:"deploy-path"`
	StartTimestamp int64  `json:"start-timestamp"`
}

// simGitHash is what simulated processes report as their build commit.
const simGitHash = "0000000000000000000000000000000000000000"

// regionSizeMiB is the size every simulated region has.
const regionSizeMiB = 96

const storeCapacity = 100 << 30

var errNoLeaderPD = withStatus(http.StatusInternalServerError,
	fmt.Errorf("[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"))

func (s *Server) pdHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pd/api/v1/health", s.pdHealth)
	mux.HandleFunc("GET /pd/api/v1/config", s.pdGetConfig)
	mux.HandleFunc("GET /pd/api/v1/cluster", s.pdCluster)
	mux.HandleFunc("GET /pd/api/v1/members", s.pdMembers)
	mux.HandleFunc("GET /pd/api/v1/leader", s.pdLeader)
	mux.HandleFunc("POST /pd/api/v1/leader/transfer/{name}", s.pdTransferLeader)
	mux.HandleFunc("DELETE /pd/api/v1/members/name/{name}", s.pdDeleteMemberByName)
	mux.HandleFunc("DELETE /pd/api/v1/members/id/{id}", s.pdDeleteMemberByID)
	mux.HandleFunc("GET /pd/api/v1/stores", s.pdStores)
	mux.HandleFunc("GET /pd/api/v1/store/{id}", s.pdStore)
	mux.HandleFunc("DELETE /pd/api/v1/store/{id}", s.pdDeleteStore)
	mux.HandleFunc("POST /pd/api/v1/store/{id}/label", s.pdStoreLabel)
	mux.HandleFunc("POST /pd/api/v1/store/{id}/state", s.pdStoreState)
	mux.HandleFunc("POST /pd/api/v1/config/replicate", s.pdReplicate)
	mux.HandleFunc("GET /pd/api/v1/schedulers", s.pdSchedulers)
	mux.HandleFunc("POST /pd/api/v1/schedulers", s.pdAddScheduler)
	mux.HandleFunc("DELETE /pd/api/v1/schedulers/{name}", s.pdRemoveScheduler)
	mux.HandleFunc("GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list", s.pdEvictLeaderList)
	mux.HandleFunc("GET /pd/api/v1/admin/cluster/markers/snapshot-recovering", s.pdSnapshotRecovering)
	mux.HandleFunc("GET /pd/api/v2/ready", s.pdReady)
	mux.HandleFunc("GET /pd/api/v2/ms/members/{service}", s.pdMSMembers)
	mux.HandleFunc("GET /pd/api/v2/ms/primary/{service}", s.pdMSPrimary)
	mux.HandleFunc("POST /autoscaling", s.pdAutoscaling)
	return mux
}

// pdDo runs fn on the request's cluster and renders its result (status 200) or its error, as
// PD does. With needLeader, a PD without a leader fails the request as PD's redirect does.
func (s *Server) pdDo(w http.ResponseWriter, r *http.Request, needLeader bool, fn func(c *model.Cluster) (any, error)) {
	var out any
	err := s.model.Cluster(infoFrom(r).cluster, func(c *model.Cluster) error {
		if needLeader && !c.HasLeader() {
			return errNoLeaderPD
		}
		var err error
		out, err = fn(c)
		return err
	})
	if err != nil {
		writePDError(w, err)
		return
	}
	writeJSONIndent(w, http.StatusOK, out)
}

func memberWire(m model.Member) pdMember {
	return pdMember{
		Name:          m.Name,
		MemberID:      m.ID,
		PeerUrls:      m.PeerURLs,
		ClientUrls:    m.ClientURLs,
		DeployPath:    "/",
		BinaryVersion: m.Version,
		GitHash:       simGitHash,
	}
}

func (s *Server) pdHealth(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, false, func(c *model.Cluster) (any, error) {
		out := []pdHealth{}
		for _, m := range c.Members() {
			out = append(out, pdHealth{Name: m.Name, MemberID: m.ID, ClientUrls: m.ClientURLs, Health: m.Healthy})
		}
		return out, nil
	})
}

func boolString(b bool) string { return strconv.FormatBool(b) }

func (s *Server) pdGetConfig(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		cfg := c.Config()
		return pdConfig{
			Log: pdLogConfig{Level: "info"},
			Schedule: pdScheduleConfig{
				MaxStoreDownTime:     cfg.MaxStoreDownTime.String(),
				LeaderScheduleLimit:  4,
				RegionScheduleLimit:  2048,
				ReplicaScheduleLimit: 64,
			},
			Replication: pdReplicationConfig{
				MaxReplicas:               cfg.MaxReplicas,
				LocationLabels:            strings.Join(cfg.LocationLabels, ","),
				StrictlyMatchLabel:        boolString(cfg.StrictlyMatchLabel),
				EnablePlacementRules:      boolString(cfg.EnablePlacementRules),
				EnablePlacementRulesCache: "false",
				IsolationLevel:            "",
			},
		}, nil
	})
}

func (s *Server) pdCluster(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		return pdClusterMeta{ID: c.ID(), MaxPeerCount: uint32(c.Config().MaxReplicas)}, nil
	})
}

func (s *Server) pdMembers(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, false, func(c *model.Cluster) (any, error) {
		out := pdMembers{Header: pdHeader{ClusterID: c.ID()}, Members: []pdMember{}}
		for _, m := range c.Members() {
			out.Members = append(out.Members, memberWire(m))
		}
		if l, err := c.Leader(); err == nil {
			lw := memberWire(l)
			out.Leader, out.EtcdLeader = &lw, &lw
		}
		return out, nil
	})
}

func (s *Server) pdLeader(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		l, err := c.Leader()
		if err != nil {
			return nil, err
		}
		return memberWire(l), nil
	})
}

func (s *Server) pdTransferLeader(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		// Any failure is a 500: the operator takes 404 for "old PD without the API, fine".
		if err := c.TransferLeader(r.PathValue("name")); err != nil {
			return nil, withStatus(http.StatusInternalServerError, err)
		}
		return "The transfer command is submitted.", nil
	})
}

func (s *Server) pdDeleteMemberByName(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		name := r.PathValue("name")
		if err := c.DeleteMemberByName(name); err != nil {
			return nil, err
		}
		return "removed, pd: " + name, nil
	})
}

func (s *Server) pdDeleteMemberByID(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, badRequest("invalid member id %q", r.PathValue("id"))
		}
		if err := c.DeleteMemberByID(id); err != nil {
			return nil, err
		}
		return fmt.Sprintf("removed, pd: %d", id), nil
	})
}

func humanBytes(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + units[i]
}

func storeWire(st model.StoreView) pdStoreInfo {
	labels := []pdLabel{}
	for _, l := range st.Labels {
		labels = append(labels, pdLabel{Key: l.Key, Value: l.Value})
	}
	used := int64(st.RegionCount) * regionSizeMiB << 20
	return pdStoreInfo{
		Store: pdStoreMeta{
			ID:             st.ID,
			Address:        st.Address,
			State:          st.State,
			Labels:         labels,
			Version:        st.Version,
			PeerAddress:    st.PeerAddress,
			StatusAddress:  st.StatusAddress,
			GitHash:        simGitHash,
			StartTimestamp: st.StartTS.Unix(),
			DeployPath:     "/",
			LastHeartbeat:  st.LastHeartbeat.UnixNano(),
			StateName:      st.StateName,
		},
		Status: pdStoreStatus{
			Capacity:        humanBytes(storeCapacity),
			Available:       humanBytes(storeCapacity - used),
			UsedSize:        humanBytes(used),
			LeaderCount:     st.LeaderCount,
			LeaderWeight:    1,
			LeaderScore:     float64(st.LeaderCount * regionSizeMiB),
			LeaderSize:      int64(st.LeaderCount * regionSizeMiB),
			RegionCount:     st.RegionCount,
			RegionWeight:    1,
			RegionScore:     float64(st.RegionCount * regionSizeMiB),
			RegionSize:      int64(st.RegionCount * regionSizeMiB),
			StartTS:         st.StartTS.UTC(),
			LastHeartbeatTS: st.LastHeartbeat.UTC(),
			Uptime:          st.LastHeartbeat.Sub(st.StartTS).String(),
		},
	}
}

func (s *Server) pdStores(w http.ResponseWriter, r *http.Request) {
	var states []int
	for _, v := range r.URL.Query()["state"] {
		n, err := strconv.Atoi(v)
		if err != nil || n < model.StateUp || n > model.StateTombstone {
			writePDError(w, badRequest("invalid state %q", v))
			return
		}
		states = append(states, n)
	}
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		stores, err := c.Stores(states)
		if err != nil {
			return nil, err
		}
		out := pdStores{Count: len(stores), Stores: []pdStoreInfo{}}
		for _, st := range stores {
			out.Stores = append(out.Stores, storeWire(st))
		}
		return out, nil
	})
}

func storeID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, badRequest("invalid store id %q", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) pdStore(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		id, err := storeID(r)
		if err != nil {
			return nil, err
		}
		st, err := c.Store(id)
		if err != nil {
			return nil, err
		}
		return storeWire(st), nil
	})
}

func (s *Server) pdDeleteStore(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		id, err := storeID(r)
		if err != nil {
			return nil, err
		}
		if err := c.DeleteStore(id); err != nil {
			return nil, err
		}
		return "The store is set as Offline.", nil
	})
}

func (s *Server) pdStoreLabel(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		id, err := storeID(r)
		if err != nil {
			return nil, err
		}
		var raw map[string]any
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return nil, badRequest("invalid labels: %v", err)
		}
		labels := map[string]string{}
		for k, v := range raw {
			str, ok := v.(string)
			if !ok {
				return nil, badRequest("label %q: value must be a string", k)
			}
			labels[k] = str
		}
		if err := c.SetStoreLabels(id, labels); err != nil {
			return nil, err
		}
		return "The store's label is updated.", nil
	})
}

func (s *Server) pdStoreState(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		id, err := storeID(r)
		if err != nil {
			return nil, err
		}
		if err := c.SetStoreState(id, r.URL.Query().Get("state")); err != nil {
			return nil, err
		}
		return "The store's state is updated.", nil
	})
}

// flexBool reads PD's string booleans ("true") and, leniently, JSON booleans.
func flexBool(raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return false, fmt.Errorf("want \"true\" or \"false\": %w", err)
	}
	return strconv.ParseBool(s)
}

// flexLabels reads PD's comma-joined location-labels and, leniently, a JSON array.
func flexLabels(raw json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return []string{}, nil
		}
		return strings.Split(s, ","), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("want a comma-joined string: %w", err)
	}
	return list, nil
}

func (s *Server) pdReplicate(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		var raw map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return nil, badRequest("invalid replication config: %v", err)
		}
		var p model.ReplicationPatch
		for k, v := range raw {
			switch k {
			case "max-replicas":
				var n int
				if err := json.Unmarshal(v, &n); err != nil {
					return nil, badRequest("max-replicas: %v", err)
				}
				p.MaxReplicas = &n
			case "location-labels":
				l, err := flexLabels(v)
				if err != nil {
					return nil, badRequest("location-labels: %v", err)
				}
				p.LocationLabels = &l
			case "enable-placement-rules", "strictly-match-label":
				b, err := flexBool(v)
				if err != nil {
					return nil, badRequest("%s: %v", k, err)
				}
				if k == "enable-placement-rules" {
					p.EnablePlacementRules = &b
				} else {
					p.StrictlyMatchLabel = &b
				}
			}
		}
		if err := c.UpdateReplication(p); err != nil {
			return nil, err
		}
		return "The config is updated.", nil
	})
}

func (s *Server) pdSchedulers(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		return c.Schedulers()
	})
}

func (s *Server) pdAddScheduler(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		var in struct {
			Name    string   `json:"name"`
			StoreID *float64 `json:"store_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Name == "" {
			return nil, badRequest("missing scheduler name")
		}
		var id uint64
		if in.Name == "evict-leader-scheduler" {
			if in.StoreID == nil {
				return nil, badRequest("missing store id")
			}
			id = uint64(*in.StoreID)
		}
		if err := c.AddScheduler(in.Name, id); err != nil {
			if model.KindOf(err) == model.KindInvalid {
				return nil, err
			}
			return nil, withStatus(http.StatusInternalServerError, err)
		}
		return "The scheduler is created.", nil
	})
}

func (s *Server) pdRemoveScheduler(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		if err := c.RemoveScheduler(r.PathValue("name")); err != nil {
			return nil, err
		}
		return "The scheduler is removed.", nil
	})
}

func (s *Server) pdEvictLeaderList(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		ids, err := c.EvictLeaderStores()
		if err != nil {
			return nil, err
		}
		out := pdEvictLeaderList{StoreIDRanges: map[string][]pdKeyRange{}}
		for _, id := range ids {
			out.StoreIDRanges[strconv.FormatUint(id, 10)] = []pdKeyRange{{StartKey: "", EndKey: ""}}
		}
		return out, nil
	})
}

func (s *Server) pdSnapshotRecovering(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		return pdSnapshotMarker{Marked: c.SnapshotRecovering()}, nil
	})
}

// pdReady answers a member's readiness: 200 when ready, 500 when not, 404 when the simulated
// PD predates the API. Through the Service it reflects whether PD has a leader.
func (s *Server) pdReady(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r)
	status := http.StatusOK
	err := s.model.Cluster(info.cluster, func(c *model.Cluster) error {
		ok, missing := c.HasLeader(), false
		if info.pod != (model.PodKey{}) {
			ok, missing = c.MemberReady(info.pod)
		}
		switch {
		case missing:
			status = http.StatusNotFound
		case !ok:
			status = http.StatusInternalServerError
		}
		return nil
	})
	if err != nil {
		writePDError(w, err)
		return
	}
	switch status {
	case http.StatusNotFound:
		http.NotFound(w, r)
	case http.StatusOK:
		w.WriteHeader(http.StatusOK)
	default:
		writeJSONIndent(w, status, "not ready")
	}
}

func msService(r *http.Request) (string, error) {
	switch svc := r.PathValue("service"); svc {
	case simapi.ComponentTSO, simapi.ComponentScheduling:
		return svc, nil
	default:
		return "", withStatus(http.StatusNotFound, fmt.Errorf("unknown micro-service %q", svc))
	}
}

func (s *Server) pdMSMembers(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		svc, err := msService(r)
		if err != nil {
			return nil, err
		}
		out := []pdMSMember{}
		for _, m := range c.MicroServiceMembers(svc) {
			out = append(out, pdMSMember{
				ServiceAddr:    m.ServiceAddr,
				Version:        m.Version,
				GitHash:        simGitHash,
				DeployPath:     "/",
				StartTimestamp: m.StartTimestamp,
			})
		}
		return out, nil
	})
}

func (s *Server) pdMSPrimary(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		svc, err := msService(r)
		if err != nil {
			return nil, err
		}
		addr, err := c.MicroServicePrimary(svc)
		if err != nil {
			return nil, withStatus(http.StatusInternalServerError, err)
		}
		return addr, nil
	})
}

// pdAutoscaling accepts a strategy and returns no plans: the simulator never suggests scaling.
func (s *Server) pdAutoscaling(w http.ResponseWriter, r *http.Request) {
	s.pdDo(w, r, true, func(c *model.Cluster) (any, error) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, badRequest("read strategy: %v", err)
		}
		var strategy map[string]any
		if err := json.Unmarshal(data, &strategy); err != nil {
			return nil, badRequest("invalid strategy: %v", err)
		}
		return []any{}, nil
	})
}
