package pdapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadsDecodePDShapes(t *testing.T) {
	ctx := context.Background()
	routes := map[string]reply{
		"GET /pd/api/v1/health":                                    {200, healthJSON},
		"GET /pd/api/v1/config":                                    {200, configJSON},
		"GET /pd/api/v1/cluster":                                   {200, clusterJSON},
		"GET /pd/api/v1/members":                                   {200, membersJSON},
		"GET /pd/api/v1/leader":                                    {200, leaderJSON},
		"GET /pd/api/v1/stores":                                    {200, storesJSON},
		"GET /pd/api/v1/stores?state=2":                            {200, tombstoneStoresJSON},
		"GET /pd/api/v1/store/1":                                   {200, storeJSON},
		"GET /pd/api/v1/schedulers":                                {200, schedulersOldJSON},
		"GET /pd/api/v1/admin/cluster/markers/snapshot-recovering": {200, `{"marked":true}`},
		"GET /pd/api/v2/ms/members/tso":                            {200, `[{"service-addr":"http://basic-tso-0.basic-tso-peer.default.svc:2379","version":"v8.5.0","git-hash":"abc","deploy-path":"/","start-timestamp":1700000000}]`},
		"GET /pd/api/v2/ms/primary/tso":                            {200, `"http://basic-tso-0.basic-tso-peer.default.svc:2379"`},
	}
	_, c := startPD(t, routes)

	cases := map[string]struct {
		// call performs the read and returns what it decoded.
		call func() (any, error)
		// want is the decoded value.
		want any
	}{
		"health lists every member with its first client URL and health": {
			call: func() (any, error) { return c.Health(ctx) },
			want: []MemberHealth{
				{Name: "basic-pd-0", MemberID: 11414007138734591519, ClientURLs: []string{"http://basic-pd-0.basic-pd-peer.default.svc:2379"}, Health: true},
				{Name: "basic-pd-1", MemberID: 3226491218325012, ClientURLs: []string{"http://basic-pd-1.basic-pd-peer.default.svc:2379"}, Health: false},
			},
		},
		"cluster keeps the full 64-bit ID": {
			call: func() (any, error) { return c.Cluster(ctx) },
			want: &Cluster{ID: 7268436329376245765, MaxPeerCount: 3},
		},
		"leader is decoded from the member object": {
			call: func() (any, error) {
				l, err := c.Leader(ctx)
				if err != nil {
					return nil, err
				}
				return []any{l.Name, l.MemberID, l.PeerURLs, l.BinaryVersion}, nil
			},
			want: []any{"basic-pd-0", uint64(11414007138734591519), []string{"http://basic-pd-0.basic-pd-peer.default.svc:2380"}, "v8.5.0"},
		},
		"members carry peer URLs, the leader and the etcd leader": {
			call: func() (any, error) {
				m, err := c.Members(ctx)
				if err != nil {
					return nil, err
				}
				return []any{len(m.Members), m.Members[1].Name, m.Members[1].PeerURLs[0], m.Leader.Name, m.EtcdLeader.MemberID, m.Header.ClusterID}, nil
			},
			want: []any{2, "basic-pd-1", "http://basic-pd-1.basic-pd-peer.default.svc:2380", "basic-pd-0", uint64(11414007138734591519), uint64(7268436329376245765)},
		},
		"stores expose state name, labels, leader count and times": {
			call: func() (any, error) {
				s, err := c.Stores(ctx)
				if err != nil {
					return nil, err
				}
				tikv, flash := s.Stores[0], s.Stores[1]
				zone, _ := tikv.Store.Label("zone")
				return []any{
					s.Count, tikv.Store.ID, tikv.Store.StateName, zone, tikv.Status.LeaderCount, tikv.Status.RegionCount,
					tikv.Status.Capacity, tikv.Status.LastHeartbeatTS.UTC(), tikv.Store.PodName(), tikv.Store.Host(),
					tikv.Store.IsTiFlash(), flash.Store.IsTiFlash(), flash.Store.StateName,
				}, nil
			},
			want: []any{
				2, uint64(1), "Up", "z1", 12, 30,
				"100GiB", time.Date(2024, 1, 2, 3, 5, 5, 0, time.UTC), "basic-tikv-0", "basic-tikv-0.basic-tikv-peer.default.svc",
				false, true, "Offline",
			},
		},
		"tombstone stores are asked for with state=2": {
			call: func() (any, error) {
				s, err := c.TombstoneStores(ctx)
				if err != nil {
					return nil, err
				}
				return []any{s.Count, s.Stores[0].Store.ID, s.Stores[0].Store.StateName}, nil
			},
			want: []any{1, uint64(4), "Tombstone"},
		},
		"one store is read by ID": {
			call: func() (any, error) {
				s, err := c.Store(ctx, 1)
				if err != nil {
					return nil, err
				}
				return []any{s.Store.ID, s.Status.LeaderCount}, nil
			},
			want: []any{uint64(1), 12},
		},
		"schedulers are a list of names": {
			call: func() (any, error) { return c.Schedulers(ctx) },
			want: []string{"balance-leader-scheduler", "balance-region-scheduler", "evict-leader-scheduler-4", "evict-leader-scheduler-12"},
		},
		"snapshot-recovering marker is read": {
			call: func() (any, error) { return c.SnapshotRecovering(ctx) },
			want: true,
		},
		"micro-service members use dashed keys": {
			call: func() (any, error) { return c.ServiceMembers(ctx, "tso") },
			want: []ServiceMember{{ServiceAddr: "http://basic-tso-0.basic-tso-peer.default.svc:2379", Version: "v8.5.0", GitHash: "abc", DeployPath: "/", StartTimestamp: 1700000000}},
		},
		"micro-service primary is a JSON string": {
			call: func() (any, error) { return c.ServicePrimary(ctx, "tso") },
			want: "http://basic-tso-0.basic-tso-peer.default.svc:2379",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.call()
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestConfigQuirks(t *testing.T) {
	cases := map[string]struct {
		// body is PD's answer to GET /config.
		body string
		// wantLabels, wantPlacement, wantStrict, wantMax are the decoded replication settings.
		wantLabels    []string
		wantPlacement bool
		wantStrict    bool
		wantMax       uint64
		// wantErr is a substring of the expected error, if any.
		wantErr string
	}{
		"comma-joined location labels become a list and string booleans become booleans": {
			body: configJSON, wantLabels: []string{"zone", "host"}, wantPlacement: true, wantStrict: false, wantMax: 3,
		},
		"an empty location-labels string is an empty list": {
			body: configNoLabelsJSON, wantLabels: []string{}, wantPlacement: false, wantStrict: true, wantMax: 5,
		},
		"a config without max-replicas is rejected instead of read as zero": {
			body: configWithoutMaxReplicas, wantErr: "max-replicas",
		},
		"a location-labels value that is not a string is an error": {
			body: `{"replication":{"max-replicas":3,"location-labels":7}}`, wantErr: "location-labels",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, c := startPD(t, map[string]reply{"GET /pd/api/v1/config": {200, tc.body}})
			cfg, err := c.Config(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.Replication
			if !reflect.DeepEqual([]string(r.LocationLabels), tc.wantLabels) {
				t.Errorf("location labels %#v, want %#v", r.LocationLabels, tc.wantLabels)
			}
			if cfg.PlacementRulesEnabled() != tc.wantPlacement {
				t.Errorf("placement rules %v, want %v", cfg.PlacementRulesEnabled(), tc.wantPlacement)
			}
			if r.StrictlyMatchLabel == nil || bool(*r.StrictlyMatchLabel) != tc.wantStrict {
				t.Errorf("strictly-match-label %v, want %v", r.StrictlyMatchLabel, tc.wantStrict)
			}
			if *r.MaxReplicas != tc.wantMax {
				t.Errorf("max-replicas %d, want %d", *r.MaxReplicas, tc.wantMax)
			}
		})
	}
}

func TestReplicationConfigEncodesPDQuirks(t *testing.T) {
	cases := map[string]struct {
		// cfg is the update to send.
		cfg ReplicationConfig
		// want is the exact JSON body PD must receive.
		want string
	}{
		"only placement rules, as a string boolean": {
			cfg:  ReplicationConfig{EnablePlacementRules: NewStringBool(true)},
			want: `{"enable-placement-rules":"true"}`,
		},
		"labels are joined with commas": {
			cfg:  ReplicationConfig{LocationLabels: LocationLabels{"zone", "rack", "host"}, StrictlyMatchLabel: NewStringBool(false)},
			want: `{"location-labels":"zone,rack,host","strictly-match-label":"false"}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, c := startPD(t, map[string]reply{"POST /pd/api/v1/config/replicate": {200, ""}})
			if err := c.UpdateReplicationConfig(context.Background(), tc.cfg); err != nil {
				t.Fatal(err)
			}
			if got := f.lastBody(); got != tc.want {
				t.Errorf("body %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStringBoolAcceptsBareBooleans(t *testing.T) {
	var v struct {
		B StringBool `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"b":true}`), &v); err != nil || !bool(v.B) {
		t.Fatalf("bare true: %v %v", v.B, err)
	}
	if err := json.Unmarshal([]byte(`{"b":"yes"}`), &v); err == nil {
		t.Fatal("expected an error for a string that is not a boolean")
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]struct {
		// code and body are PD's answer to GET /stores.
		code int
		body string
		// wantNotBootstrapped says whether errors.Is(err, ErrNotBootstrapped) must hold.
		wantNotBootstrapped bool
	}{
		"the not-bootstrapped body is recognised by its suffix": {
			code: 500, body: notBootstrappedBody, wantNotBootstrapped: true,
		},
		"the message without the trailing quote and newline still counts": {
			code: 500, body: "[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first", wantNotBootstrapped: true,
		},
		"another server error is a plain HTTP error": {
			code: 500, body: "\"etcdserver: request timed out\"\n", wantNotBootstrapped: false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, c := startPD(t, map[string]reply{"GET /pd/api/v1/stores": {tc.code, tc.body}})
			_, err := c.Stores(context.Background())
			if err == nil {
				t.Fatal("expected an error")
			}
			if got := errors.Is(err, ErrNotBootstrapped); got != tc.wantNotBootstrapped {
				t.Errorf("errors.Is(ErrNotBootstrapped) = %v, want %v", got, tc.wantNotBootstrapped)
			}
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("error %T is not an *HTTPError", err)
			}
			want := "Error response 500 URL " + c.URL() + "/pd/api/v1/stores,body response: " + tc.body
			if err.Error() != want {
				t.Errorf("message\n%q\nwant\n%q", err.Error(), want)
			}
			if !errors.Is(err, &HTTPError{Code: 500}) || errors.Is(err, &HTTPError{Code: 404}) {
				t.Error("errors.Is must match an HTTPError target by status code")
			}
			if StatusCode(err) != 500 {
				t.Errorf("StatusCode = %d", StatusCode(err))
			}
		})
	}
}

func TestReadyTreats404AsReady(t *testing.T) {
	cases := map[string]struct {
		// code is PD's answer to GET /pd/api/v2/ready.
		code int
		// wantErr says whether Ready must fail.
		wantErr bool
	}{
		"200 means ready": {code: 200},
		"404 from a PD without the endpoint is ready": {code: 404},
		"503 is not ready":                            {code: 503, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, c := startPD(t, map[string]reply{"GET /pd/api/v2/ready": {tc.code, "x"}})
			err := c.Ready(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr && StatusCode(err) != tc.code {
				t.Errorf("status in error = %d", StatusCode(err))
			}
		})
	}
}

func TestWritesAreIdempotent(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		// routes are the fake PD's answers.
		routes map[string]reply
		// call is the write under test.
		call func(Client) error
		// wantCalls are the requests PD must see, in order.
		wantCalls []string
		// wantStatus is the status code of the expected *HTTPError; 0 means success.
		wantStatus int
	}{
		"leader transfer succeeds on 200": {
			routes:    map[string]reply{"POST /pd/api/v1/leader/transfer/basic-pd-1": {200, ""}},
			call:      func(c Client) error { return c.TransferLeader(ctx, "basic-pd-1") },
			wantCalls: []string{"POST /pd/api/v1/leader/transfer/basic-pd-1"},
		},
		"leader transfer treats 404 as done": {
			routes:    map[string]reply{"POST /pd/api/v1/leader/transfer/basic-pd-1": {404, "not found"}},
			call:      func(c Client) error { return c.TransferLeader(ctx, "basic-pd-1") },
			wantCalls: []string{"POST /pd/api/v1/leader/transfer/basic-pd-1"},
		},
		"leader transfer reports other failures": {
			routes:     map[string]reply{"POST /pd/api/v1/leader/transfer/basic-pd-1": {500, "boom"}},
			call:       func(c Client) error { return c.TransferLeader(ctx, "basic-pd-1") },
			wantCalls:  []string{"POST /pd/api/v1/leader/transfer/basic-pd-1"},
			wantStatus: 500,
		},
		"deleting an absent member sends no DELETE": {
			routes:    map[string]reply{"GET /pd/api/v1/members": {200, membersJSON}},
			call:      func(c Client) error { return c.DeleteMember(ctx, "basic-pd-5") },
			wantCalls: []string{"GET /pd/api/v1/members"},
		},
		"deleting a present member by name checks first, then deletes": {
			routes: map[string]reply{
				"GET /pd/api/v1/members":                    {200, membersJSON},
				"DELETE /pd/api/v1/members/name/basic-pd-1": {200, ""},
			},
			call:      func(c Client) error { return c.DeleteMember(ctx, "basic-pd-1") },
			wantCalls: []string{"GET /pd/api/v1/members", "DELETE /pd/api/v1/members/name/basic-pd-1"},
		},
		"a member that disappears between check and delete is fine": {
			routes: map[string]reply{
				"GET /pd/api/v1/members":                    {200, membersJSON},
				"DELETE /pd/api/v1/members/name/basic-pd-1": {404, "not found"},
			},
			call:      func(c Client) error { return c.DeleteMember(ctx, "basic-pd-1") },
			wantCalls: []string{"GET /pd/api/v1/members", "DELETE /pd/api/v1/members/name/basic-pd-1"},
		},
		"a failed member delete is reported": {
			routes: map[string]reply{
				"GET /pd/api/v1/members":                    {200, membersJSON},
				"DELETE /pd/api/v1/members/name/basic-pd-1": {500, "raft busy"},
			},
			call:       func(c Client) error { return c.DeleteMember(ctx, "basic-pd-1") },
			wantCalls:  []string{"GET /pd/api/v1/members", "DELETE /pd/api/v1/members/name/basic-pd-1"},
			wantStatus: 500,
		},
		"a member delete cannot proceed when the check fails": {
			routes:     map[string]reply{"GET /pd/api/v1/members": {503, "no leader"}},
			call:       func(c Client) error { return c.DeleteMember(ctx, "basic-pd-1") },
			wantCalls:  []string{"GET /pd/api/v1/members"},
			wantStatus: 503,
		},
		"deleting a member by ID uses the numeric ID": {
			routes: map[string]reply{
				"GET /pd/api/v1/members":                        {200, membersJSON},
				"DELETE /pd/api/v1/members/id/3226491218325012": {404, ""},
			},
			call:      func(c Client) error { return c.DeleteMemberByID(ctx, 3226491218325012) },
			wantCalls: []string{"GET /pd/api/v1/members", "DELETE /pd/api/v1/members/id/3226491218325012"},
		},
		"deleting an absent member ID sends no DELETE": {
			routes:    map[string]reply{"GET /pd/api/v1/members": {200, membersJSON}},
			call:      func(c Client) error { return c.DeleteMemberByID(ctx, 42) },
			wantCalls: []string{"GET /pd/api/v1/members"},
		},
		"deleting a store that is not listed sends no DELETE": {
			routes:    map[string]reply{"GET /pd/api/v1/stores": {200, storesJSON}},
			call:      func(c Client) error { return c.DeleteStore(ctx, 99) },
			wantCalls: []string{"GET /pd/api/v1/stores"},
		},
		"deleting a listed store sends DELETE and accepts 404": {
			routes: map[string]reply{
				"GET /pd/api/v1/stores":     {200, storesJSON},
				"DELETE /pd/api/v1/store/7": {404, ""},
			},
			call:      func(c Client) error { return c.DeleteStore(ctx, 7) },
			wantCalls: []string{"GET /pd/api/v1/stores", "DELETE /pd/api/v1/store/7"},
		},
		"a failed store delete is reported": {
			routes: map[string]reply{
				"GET /pd/api/v1/stores":     {200, storesJSON},
				"DELETE /pd/api/v1/store/1": {500, "no"},
			},
			call:       func(c Client) error { return c.DeleteStore(ctx, 1) },
			wantCalls:  []string{"GET /pd/api/v1/stores", "DELETE /pd/api/v1/store/1"},
			wantStatus: 500,
		},
		"store labels are posted as a JSON object": {
			routes:    map[string]reply{"POST /pd/api/v1/store/1/label": {200, ""}},
			call:      func(c Client) error { return c.SetStoreLabels(ctx, 1, map[string]string{"zone": "z1", "host": "h1"}) },
			wantCalls: []string{"POST /pd/api/v1/store/1/label"},
		},
		"store labels fail on an error status": {
			routes:     map[string]reply{"POST /pd/api/v1/store/1/label": {400, "invalid label"}},
			call:       func(c Client) error { return c.SetStoreLabels(ctx, 1, map[string]string{"zone": "z1"}) },
			wantCalls:  []string{"POST /pd/api/v1/store/1/label"},
			wantStatus: 400,
		},
		"begin evict leader succeeds on 200 without listing": {
			routes:    map[string]reply{"POST /pd/api/v1/schedulers": {200, ""}},
			call:      func(c Client) error { return c.BeginEvictLeader(ctx, 4) },
			wantCalls: []string{"POST /pd/api/v1/schedulers"},
		},
		"begin evict leader accepts a refusal when the store's scheduler already runs": {
			routes: map[string]reply{
				"POST /pd/api/v1/schedulers": {500, "scheduler existed"},
				"GET /pd/api/v1/schedulers":  {200, schedulersOldJSON},
			},
			call:      func(c Client) error { return c.BeginEvictLeader(ctx, 12) },
			wantCalls: []string{"POST /pd/api/v1/schedulers", "GET /pd/api/v1/schedulers"},
		},
		"begin evict leader finds the store in a newer PD's shared scheduler": {
			routes: map[string]reply{
				"POST /pd/api/v1/schedulers":                                  {500, "scheduler existed"},
				"GET /pd/api/v1/schedulers":                                   {200, schedulersNewJSON},
				"GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list": {200, evictLeaderListJSON},
			},
			call: func(c Client) error { return c.BeginEvictLeader(ctx, 4) },
			wantCalls: []string{
				"POST /pd/api/v1/schedulers", "GET /pd/api/v1/schedulers",
				"GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list",
			},
		},
		"begin evict leader fails when the refusal left no scheduler": {
			routes: map[string]reply{
				"POST /pd/api/v1/schedulers": {500, "store not found"},
				"GET /pd/api/v1/schedulers":  {200, schedulersOldJSON},
			},
			call:       func(c Client) error { return c.BeginEvictLeader(ctx, 5) },
			wantCalls:  []string{"POST /pd/api/v1/schedulers", "GET /pd/api/v1/schedulers"},
			wantStatus: 500,
		},
		"end evict leader treats 404 as done without listing": {
			routes:    map[string]reply{"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-4": {404, ""}},
			call:      func(c Client) error { return c.EndEvictLeader(ctx, 4) },
			wantCalls: []string{"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-4"},
		},
		"end evict leader confirms the scheduler is gone after 200": {
			routes: map[string]reply{
				"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-5": {200, ""},
				"GET /pd/api/v1/schedulers":                             {200, schedulersOldJSON},
			},
			call:      func(c Client) error { return c.EndEvictLeader(ctx, 5) },
			wantCalls: []string{"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-5", "GET /pd/api/v1/schedulers"},
		},
		"end evict leader accepts an error answer when the scheduler is gone": {
			routes: map[string]reply{
				"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-5": {500, "scheduler not found"},
				"GET /pd/api/v1/schedulers":                             {200, schedulersOldJSON},
			},
			call:      func(c Client) error { return c.EndEvictLeader(ctx, 5) },
			wantCalls: []string{"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-5", "GET /pd/api/v1/schedulers"},
		},
		"end evict leader fails while the scheduler is still listed": {
			routes: map[string]reply{
				"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-4": {500, "etcd timeout"},
				"GET /pd/api/v1/schedulers":                             {200, schedulersOldJSON},
			},
			call:       func(c Client) error { return c.EndEvictLeader(ctx, 4) },
			wantCalls:  []string{"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-4", "GET /pd/api/v1/schedulers"},
			wantStatus: 500,
		},
		"end evict leader fails when a newer PD still lists the store": {
			routes: map[string]reply{
				"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-12":      {200, ""},
				"GET /pd/api/v1/schedulers":                                   {200, schedulersNewJSON},
				"GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list": {200, evictLeaderListJSON},
			},
			call: func(c Client) error { return c.EndEvictLeader(ctx, 12) },
			wantCalls: []string{
				"DELETE /pd/api/v1/schedulers/evict-leader-scheduler-12", "GET /pd/api/v1/schedulers",
				"GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list",
			},
			wantStatus: -1, // an error, but not an HTTP one: PD said 200
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, c := startPD(t, tc.routes)
			err := tc.call(c)
			switch {
			case tc.wantStatus == 0 && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantStatus > 0 && StatusCode(err) != tc.wantStatus:
				t.Fatalf("error %v, want an HTTP %d error", err, tc.wantStatus)
			case tc.wantStatus < 0 && (err == nil || StatusCode(err) != 0):
				t.Fatalf("error %v, want a non-HTTP error", err)
			}
			if got := f.calls(); !reflect.DeepEqual(got, tc.wantCalls) {
				t.Errorf("calls %q\nwant %q", got, tc.wantCalls)
			}
		})
	}
}

func TestWriteBodies(t *testing.T) {
	ctx := context.Background()
	f, c := startPD(t, map[string]reply{
		"POST /pd/api/v1/schedulers":    {200, ""},
		"POST /pd/api/v1/store/1/label": {200, ""},
	})
	if err := c.BeginEvictLeader(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if got, want := f.lastBody(), `{"name":"evict-leader-scheduler","store_id":4}`; got != want {
		t.Errorf("evict-leader body %s, want %s", got, want)
	}
	if err := c.SetStoreLabels(ctx, 1, map[string]string{"zone": "z1", "host": "h1"}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.lastBody(), `{"host":"h1","zone":"z1"}`; got != want {
		t.Errorf("label body %s, want %s", got, want)
	}
}

func TestEvictLeaderSchedulers(t *testing.T) {
	cases := map[string]struct {
		// routes are the fake PD's answers.
		routes map[string]reply
		// want are the per-store scheduler names.
		want []string
		// wantFor is EvictLeaderSchedulersForStores(4, 5, 12).
		wantFor map[uint64]string
	}{
		"older PD lists one scheduler per store": {
			routes:  map[string]reply{"GET /pd/api/v1/schedulers": {200, schedulersOldJSON}},
			want:    []string{"evict-leader-scheduler-4", "evict-leader-scheduler-12"},
			wantFor: map[uint64]string{4: "evict-leader-scheduler-4", 12: "evict-leader-scheduler-12"},
		},
		"newer PD's shared scheduler is expanded from its store list, in store order": {
			routes: map[string]reply{
				"GET /pd/api/v1/schedulers":                                   {200, schedulersNewJSON},
				"GET /pd/api/v1/scheduler-config/evict-leader-scheduler/list": {200, evictLeaderListJSON},
			},
			want:    []string{"evict-leader-scheduler-4", "evict-leader-scheduler-12"},
			wantFor: map[uint64]string{4: "evict-leader-scheduler-4", 12: "evict-leader-scheduler-12"},
		},
		"no evict-leader scheduler at all": {
			routes:  map[string]reply{"GET /pd/api/v1/schedulers": {200, `["balance-leader-scheduler"]`}},
			want:    nil,
			wantFor: map[uint64]string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, c := startPD(t, tc.routes)
			got, err := c.EvictLeaderSchedulers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			gotFor, err := c.EvictLeaderSchedulersForStores(context.Background(), 4, 5, 12)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotFor, tc.wantFor) {
				t.Errorf("for stores: got %v, want %v", gotFor, tc.wantFor)
			}
		})
	}
}

func TestTransportErrorsAreReturnedAsIs(t *testing.T) {
	c := New("http://127.0.0.1:1", NewHTTPClient(HTTPOptions{Timeout: time.Second}, nil))
	_, err := c.Health(context.Background())
	if err == nil {
		t.Fatal("expected a connection error")
	}
	var he *HTTPError
	if errors.As(err, &he) {
		t.Fatalf("a connection failure must not look like an HTTP answer: %v", err)
	}
	if !strings.Contains(err.Error(), "/pd/api/v1/health") {
		t.Errorf("error should name the URL: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	f := newFakePD(nil)
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
		f.ServeHTTP(w, r)
	}))
	c := New(srv, NewHTTPClient(HTTPOptions{Timeout: 100 * time.Millisecond}, nil))
	start := time.Now()
	if _, err := c.Health(context.Background()); err == nil {
		t.Fatal("expected a timeout")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
	if got := NewHTTPClient(HTTPOptions{}, nil).Timeout; got != 5*time.Second {
		t.Errorf("default timeout %v, want 5s", got)
	}
}
