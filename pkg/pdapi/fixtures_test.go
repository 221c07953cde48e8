package pdapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// The literals below reproduce what PD sends, quirks included (see the v1.6 behaviour notes,
// §3.2): location-labels as one comma-joined string, string booleans, the not-bootstrapped body
// with its trailing quote and newline.
const (
	healthJSON = `[
  {"name":"basic-pd-0","member_id":11414007138734591519,"client_urls":["http://basic-pd-0.basic-pd-peer.default.svc:2379"],"health":true},
  {"name":"basic-pd-1","member_id":3226491218325012,"client_urls":["http://basic-pd-1.basic-pd-peer.default.svc:2379"],"health":false}
]`
	configJSON = `{
  "client-urls": "http://0.0.0.0:2379",
  "log": {"level": "info", "file": {"filename": ""}},
  "schedule": {"max-snapshot-count": 64, "leader-schedule-limit": 4, "enable-cross-table-merge": "true"},
  "replication": {
    "max-replicas": 3,
    "location-labels": "zone,host",
    "strictly-match-label": "false",
    "enable-placement-rules": "true",
    "isolation-level": ""
  }
}`
	configNoLabelsJSON       = `{"replication":{"max-replicas":5,"location-labels":"","strictly-match-label":"true","enable-placement-rules":"false"}}`
	configWithoutMaxReplicas = `{"replication":{"location-labels":"zone","enable-placement-rules":"true"}}`
	clusterJSON              = `{"id":7268436329376245765,"max_peer_count":3}`
	leaderJSON               = `{"name":"basic-pd-0","member_id":11414007138734591519,"peer_urls":["http://basic-pd-0.basic-pd-peer.default.svc:2380"],"client_urls":["http://basic-pd-0.basic-pd-peer.default.svc:2379"],"leader_priority":1,"deploy_path":"/","binary_version":"v8.5.0","git_hash":"abc"}`
	membersJSON              = `{
  "header":{"cluster_id":7268436329376245765},
  "members":[
    {"name":"basic-pd-0","member_id":11414007138734591519,"peer_urls":["http://basic-pd-0.basic-pd-peer.default.svc:2380"],"client_urls":["http://basic-pd-0.basic-pd-peer.default.svc:2379"]},
    {"name":"basic-pd-1","member_id":3226491218325012,"peer_urls":["http://basic-pd-1.basic-pd-peer.default.svc:2380"],"client_urls":["http://basic-pd-1.basic-pd-peer.default.svc:2379"]}
  ],
  "leader":{"name":"basic-pd-0","member_id":11414007138734591519},
  "etcd_leader":{"name":"basic-pd-0","member_id":11414007138734591519}
}`
	storesJSON = `{
  "count": 2,
  "stores": [
    {
      "store": {"id": 1, "address": "basic-tikv-0.basic-tikv-peer.default.svc:20160", "state": 0, "state_name": "Up",
                "labels": [{"key":"zone","value":"z1"},{"key":"host","value":"node-1"}],
                "version": "8.5.0", "status_address": "basic-tikv-0.basic-tikv-peer.default.svc:20180",
                "git_hash": "abc", "start_timestamp": 1700000000, "deploy_path": "/", "last_heartbeat": 1700000100000000000},
      "status": {"capacity": "100GiB", "available": "90GiB", "used_size": "1GiB", "leader_count": 12, "leader_weight": 1,
                 "leader_score": 12, "leader_size": 12, "region_count": 30, "region_weight": 1, "region_score": 30,
                 "region_size": 30, "start_ts": "2024-01-02T03:04:05Z", "last_heartbeat_ts": "2024-01-02T03:05:05Z", "uptime": "1m0s"}
    },
    {
      "store": {"id": 7, "address": "basic-tiflash-0.basic-tiflash-peer.default.svc:3930", "state": 1, "state_name": "Offline",
                "labels": [{"key":"engine","value":"tiflash"}]},
      "status": {"leader_count": 0, "region_count": 3}
    }
  ]
}`
	tombstoneStoresJSON = `{"count":1,"stores":[{"store":{"id":4,"address":"basic-tikv-3.basic-tikv-peer.default.svc:20160","state":2,"state_name":"Tombstone"},"status":{"leader_count":0,"region_count":0}}]}`
	storeJSON           = `{"store":{"id":1,"address":"basic-tikv-0.basic-tikv-peer.default.svc:20160","state":0,"state_name":"Up"},"status":{"leader_count":12,"region_count":30}}`
	notBootstrappedBody = "\"TiKV cluster not bootstrapped, please start TiKV first\"\n"
	schedulersOldJSON   = `["balance-leader-scheduler","balance-region-scheduler","evict-leader-scheduler-4","evict-leader-scheduler-12"]`
	schedulersNewJSON   = `["balance-leader-scheduler","evict-leader-scheduler"]`
	evictLeaderListJSON = `{"store-id-ranges":{"12":[{"start-key":"","end-key":""}],"4":[{"start-key":"","end-key":""}]}}`
)

// reply is what the fake PD answers for one route.
type reply struct {
	code int
	body string
}

// request is what the fake PD received.
type request struct {
	method, path, query, host, body string
}

// fakePD answers fixed replies keyed by "METHOD /path" or "METHOD /path?query" and records
// every request. Unknown routes get 599 so that an unexpected call shows in the test.
type fakePD struct {
	mu       sync.Mutex
	routes   map[string]reply
	requests []request
}

func newFakePD(routes map[string]reply) *fakePD {
	return &fakePD{routes: routes}
}

func (f *fakePD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, request{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, host: r.Host, body: string(body)})
	key := r.Method + " " + r.URL.Path
	rep, ok := f.routes[key+"?"+r.URL.RawQuery]
	if !ok || r.URL.RawQuery == "" {
		rep, ok = f.routes[key]
	}
	f.mu.Unlock()
	if !ok {
		rep = reply{code: 599, body: "no route for " + key}
	}
	w.WriteHeader(rep.code)
	_, _ = io.WriteString(w, rep.body)
}

// calls returns "METHOD /path" for each request, in order.
func (f *fakePD) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.requests))
	for _, r := range f.requests {
		c := r.method + " " + r.path
		if r.query != "" {
			c += "?" + r.query
		}
		out = append(out, c)
	}
	return out
}

func (f *fakePD) lastBody() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return ""
	}
	return f.requests[len(f.requests)-1].body
}

// startPD serves routes and returns a client for it with the package's default HTTP settings.
func startPD(t *testing.T, routes map[string]reply) (*fakePD, Client) {
	t.Helper()
	f := newFakePD(routes)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, New(srv.URL, NewHTTPClient(HTTPOptions{}, nil))
}
