package pdapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// API paths, relative to the PD base URL.
const (
	healthPath             = "/pd/api/v1/health"
	configPath             = "/pd/api/v1/config"
	replicationConfigPath  = "/pd/api/v1/config/replicate"
	clusterPath            = "/pd/api/v1/cluster"
	membersPath            = "/pd/api/v1/members"
	leaderPath             = "/pd/api/v1/leader"
	leaderTransferPath     = "/pd/api/v1/leader/transfer/"
	storesPath             = "/pd/api/v1/stores"
	storePath              = "/pd/api/v1/store/"
	schedulersPath         = "/pd/api/v1/schedulers"
	evictLeaderListPath    = "/pd/api/v1/scheduler-config/evict-leader-scheduler/list"
	snapshotRecoveringPath = "/pd/api/v1/admin/cluster/markers/snapshot-recovering"
	readyPath              = "/pd/api/v2/ready"
	msMembersPath          = "/pd/api/v2/ms/members/"
	msPrimaryPath          = "/pd/api/v2/ms/primary/"
)

// EvictLeaderSchedulerName is the scheduler kind PD runs to move leaders off a store. Older PD
// versions run one instance per store, named EvictLeaderSchedulerName + "-<storeID>".
const EvictLeaderSchedulerName = "evict-leader-scheduler"

// EvictLeaderSchedulerFor returns the per-store scheduler name, "evict-leader-scheduler-<id>".
func EvictLeaderSchedulerFor(storeID uint64) string {
	return EvictLeaderSchedulerName + "-" + strconv.FormatUint(storeID, 10)
}

// Reader is the read side of PD's API.
type Reader interface {
	// Health lists every member with its health.
	Health(ctx context.Context) ([]MemberHealth, error)
	// Config returns PD's config; replication.max-replicas is guaranteed to be set.
	Config(ctx context.Context) (*Config, error)
	// Cluster returns the cluster ID.
	Cluster(ctx context.Context) (*Cluster, error)
	// Members lists the PD members and the current leader.
	Members(ctx context.Context) (*MembersInfo, error)
	// Leader returns the current PD leader.
	Leader(ctx context.Context) (*Member, error)
	// Stores lists the stores that are Up, Down or Offline. Before the first TiKV bootstraps
	// the cluster the error matches ErrNotBootstrapped.
	Stores(ctx context.Context) (*StoresInfo, error)
	// TombstoneStores lists the stores in Tombstone state.
	TombstoneStores(ctx context.Context) (*StoresInfo, error)
	// Store returns one store.
	Store(ctx context.Context, storeID uint64) (*StoreInfo, error)
	// Schedulers lists the names of the running schedulers.
	Schedulers(ctx context.Context) ([]string, error)
	// EvictLeaderSchedulers lists the evict-leader schedulers as per-store names
	// ("evict-leader-scheduler-<id>"), also on PD versions that run one shared scheduler.
	EvictLeaderSchedulers(ctx context.Context) ([]string, error)
	// EvictLeaderSchedulersForStores returns, for those of storeIDs that have an evict-leader
	// scheduler, the scheduler's name.
	EvictLeaderSchedulersForStores(ctx context.Context, storeIDs ...uint64) (map[uint64]string, error)
	// Ready returns nil when the member behind this client is ready to serve. PD versions
	// without /pd/api/v2/ready (before v8.5.2) answer 404, which counts as ready.
	Ready(ctx context.Context) error
	// SnapshotRecovering reports whether a volume-snapshot restore is in progress.
	SnapshotRecovering(ctx context.Context) (bool, error)
	// ServiceMembers lists the instances of a PD micro-service ("tso" or "scheduling").
	ServiceMembers(ctx context.Context, service string) ([]ServiceMember, error)
	// ServicePrimary returns the address of a PD micro-service's primary.
	ServicePrimary(ctx context.Context, service string) (string, error)
}

// Writer is the write side of PD's API. Every method is safe to retry: removing what is
// already gone succeeds.
type Writer interface {
	// TransferLeader makes the named member PD leader. 404 counts as success.
	TransferLeader(ctx context.Context, memberName string) error
	// DeleteMember removes a member by name; absent members are not an error.
	DeleteMember(ctx context.Context, name string) error
	// DeleteMemberByID removes a member by ID; absent members are not an error.
	DeleteMemberByID(ctx context.Context, memberID uint64) error
	// DeleteStore starts taking a store offline; absent stores are not an error.
	DeleteStore(ctx context.Context, storeID uint64) error
	// SetStoreLabels sets labels on a store.
	SetStoreLabels(ctx context.Context, storeID uint64, labels map[string]string) error
	// BeginEvictLeader starts moving leaders off a store. An already running scheduler for the
	// store counts as success.
	BeginEvictLeader(ctx context.Context, storeID uint64) error
	// EndEvictLeader stops evicting leaders from a store. It fails only when the scheduler is
	// still listed afterwards.
	EndEvictLeader(ctx context.Context, storeID uint64) error
	// UpdateReplicationConfig changes the replication settings that are set in cfg.
	UpdateReplicationConfig(ctx context.Context, cfg ReplicationConfig) error
}

// Client reads and writes.
type Client interface {
	Reader
	Writer
	// URL is the base URL the client talks to.
	URL() string
}

// New returns a Client for the PD at baseURL (e.g. "http://basic-pd.default:2379").
func New(baseURL string, hc *http.Client) Client {
	return &client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

type client struct {
	base string
	hc   *http.Client
}

var _ Client = (*client)(nil)

func (c *client) URL() string { return c.base }

func (c *client) do(ctx context.Context, method, path string, body any) (*Response, error) {
	return Do(ctx, c.hc, method, c.base+path, body)
}

func (c *client) getJSON(ctx context.Context, path string, out any) error {
	res, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return res.DecodeJSON(out)
}

// okOrNotFound accepts 2xx/3xx and 404, the success answers of PD's idempotent writes.
func okOrNotFound(res *Response) error {
	if res.Code == http.StatusNotFound {
		return nil
	}
	return res.Err()
}

func (c *client) Health(ctx context.Context) ([]MemberHealth, error) {
	var out []MemberHealth
	if err := c.getJSON(ctx, healthPath, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Config(ctx context.Context) (*Config, error) {
	out := &Config{}
	if err := c.getJSON(ctx, configPath, out); err != nil {
		return nil, err
	}
	if out.Replication.MaxReplicas == nil {
		return nil, fmt.Errorf("PD config from %s has no replication.max-replicas", c.base+configPath)
	}
	return out, nil
}

func (c *client) Cluster(ctx context.Context) (*Cluster, error) {
	out := &Cluster{}
	if err := c.getJSON(ctx, clusterPath, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Members(ctx context.Context) (*MembersInfo, error) {
	out := &MembersInfo{}
	if err := c.getJSON(ctx, membersPath, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Leader(ctx context.Context) (*Member, error) {
	out := &Member{}
	if err := c.getJSON(ctx, leaderPath, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Stores(ctx context.Context) (*StoresInfo, error) {
	out := &StoresInfo{}
	if err := c.getJSON(ctx, storesPath, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) TombstoneStores(ctx context.Context) (*StoresInfo, error) {
	out := &StoresInfo{}
	if err := c.getJSON(ctx, storesPath+"?state="+strconv.Itoa(storeStateTombstone), out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Store(ctx context.Context, storeID uint64) (*StoreInfo, error) {
	out := &StoreInfo{}
	if err := c.getJSON(ctx, storePath+strconv.FormatUint(storeID, 10), out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Schedulers(ctx context.Context) ([]string, error) {
	var out []string
	if err := c.getJSON(ctx, schedulersPath, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) EvictLeaderSchedulers(ctx context.Context) ([]string, error) {
	all, err := c.Schedulers(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range all {
		if strings.HasPrefix(s, EvictLeaderSchedulerName) {
			names = append(names, s)
		}
	}
	// Newer PD versions run a single "evict-leader-scheduler" covering many stores; which stores
	// it covers is only visible in its config. Report it as the per-store names older versions
	// used, so callers need not care which PD they talk to.
	if len(names) != 1 || names[0] != EvictLeaderSchedulerName {
		return names, nil
	}
	var list evictLeaderList
	if err := c.getJSON(ctx, evictLeaderListPath, &list); err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, len(list.StoreIDRanges))
	for key := range list.StoreIDRanges {
		id, err := strconv.ParseUint(key, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("evict-leader scheduler config lists store %q, not a store ID: %w", key, err)
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	names = make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, EvictLeaderSchedulerFor(id))
	}
	return names, nil
}

func (c *client) EvictLeaderSchedulersForStores(ctx context.Context, storeIDs ...uint64) (map[uint64]string, error) {
	names, err := c.EvictLeaderSchedulers(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]string)
	for _, id := range storeIDs {
		name := EvictLeaderSchedulerFor(id)
		if slices.Contains(names, name) {
			out[id] = name
		}
	}
	return out, nil
}

func (c *client) Ready(ctx context.Context) error {
	res, err := c.do(ctx, http.MethodGet, readyPath, nil)
	if err != nil {
		return err
	}
	return okOrNotFound(res)
}

func (c *client) SnapshotRecovering(ctx context.Context) (bool, error) {
	var out snapshotRecoveringMark
	if err := c.getJSON(ctx, snapshotRecoveringPath, &out); err != nil {
		return false, err
	}
	return out.Marked, nil
}

func (c *client) ServiceMembers(ctx context.Context, service string) ([]ServiceMember, error) {
	var out []ServiceMember
	if err := c.getJSON(ctx, msMembersPath+url.PathEscape(service), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) ServicePrimary(ctx context.Context, service string) (string, error) {
	var out string
	if err := c.getJSON(ctx, msPrimaryPath+url.PathEscape(service), &out); err != nil {
		return "", err
	}
	return out, nil
}

func (c *client) TransferLeader(ctx context.Context, memberName string) error {
	res, err := c.do(ctx, http.MethodPost, leaderTransferPath+url.PathEscape(memberName), nil)
	if err != nil {
		return err
	}
	return okOrNotFound(res)
}

// hasMember looks the member up first: deleting a member that already left must not depend on
// how a given PD version answers a DELETE for an unknown name.
func (c *client) hasMember(ctx context.Context, match func(*Member) bool) (bool, error) {
	info, err := c.Members(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range info.Members {
		if m != nil && match(m) {
			return true, nil
		}
	}
	return false, nil
}

func (c *client) DeleteMember(ctx context.Context, name string) error {
	found, err := c.hasMember(ctx, func(m *Member) bool { return m.Name == name })
	if err != nil || !found {
		return err
	}
	res, err := c.do(ctx, http.MethodDelete, membersPath+"/name/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	return okOrNotFound(res)
}

func (c *client) DeleteMemberByID(ctx context.Context, memberID uint64) error {
	found, err := c.hasMember(ctx, func(m *Member) bool { return m.MemberID == memberID })
	if err != nil || !found {
		return err
	}
	res, err := c.do(ctx, http.MethodDelete, membersPath+"/id/"+strconv.FormatUint(memberID, 10), nil)
	if err != nil {
		return err
	}
	return okOrNotFound(res)
}

func (c *client) DeleteStore(ctx context.Context, storeID uint64) error {
	stores, err := c.Stores(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, s := range stores.Stores {
		if s != nil && s.Store != nil && s.Store.ID == storeID {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	res, err := c.do(ctx, http.MethodDelete, storePath+strconv.FormatUint(storeID, 10), nil)
	if err != nil {
		return err
	}
	return okOrNotFound(res)
}

func (c *client) SetStoreLabels(ctx context.Context, storeID uint64, labels map[string]string) error {
	res, err := c.do(ctx, http.MethodPost, storePath+strconv.FormatUint(storeID, 10)+"/label", labels)
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	if res.Code != http.StatusOK {
		return fmt.Errorf("set labels of store %d: unexpected status %d from %s", storeID, res.Code, res.URL)
	}
	return nil
}

func (c *client) BeginEvictLeader(ctx context.Context, storeID uint64) error {
	res, err := c.do(ctx, http.MethodPost, schedulersPath, evictLeaderRequest{Name: EvictLeaderSchedulerName, StoreID: storeID})
	if err != nil {
		return err
	}
	if res.Code == http.StatusOK {
		return nil
	}
	// PD refuses to add a scheduler that already runs, with a status that varies by version.
	// What matters is whether the store's scheduler exists now.
	existing, err := c.EvictLeaderSchedulersForStores(ctx, storeID)
	if err != nil {
		return fmt.Errorf("begin evict leader on store %d: add scheduler answered %d, then listing schedulers failed: %w", storeID, res.Code, err)
	}
	if _, ok := existing[storeID]; ok {
		return nil
	}
	if err := res.Err(); err != nil {
		return err
	}
	return fmt.Errorf("begin evict leader on store %d: unexpected status %d from %s and no scheduler was created", storeID, res.Code, res.URL)
}

func (c *client) EndEvictLeader(ctx context.Context, storeID uint64) error {
	name := EvictLeaderSchedulerFor(storeID)
	res, err := c.do(ctx, http.MethodDelete, schedulersPath+"/"+name, nil)
	if err != nil {
		return err
	}
	if res.Code == http.StatusNotFound {
		return nil
	}
	// Whatever the answer (PD reports "scheduler not found" with a non-standard status), the
	// list of schedulers is the truth.
	existing, err := c.EvictLeaderSchedulersForStores(ctx, storeID)
	if err != nil {
		return fmt.Errorf("end evict leader on store %d: %w", storeID, err)
	}
	if _, ok := existing[storeID]; ok {
		if herr := res.Err(); herr != nil {
			return fmt.Errorf("end evict leader on store %d: scheduler %s still exists: %w", storeID, name, herr)
		}
		return fmt.Errorf("end evict leader on store %d: scheduler %s still exists", storeID, name)
	}
	return nil
}

func (c *client) UpdateReplicationConfig(ctx context.Context, cfg ReplicationConfig) error {
	res, err := c.do(ctx, http.MethodPost, replicationConfigPath, cfg)
	if err != nil {
		return err
	}
	return res.Err()
}
