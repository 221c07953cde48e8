package sim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func TestPDHealthShape(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 0)
	f.pod(simapi.ComponentPD, 2, false)
	st := f.state()
	want := dedent(fmt.Sprintf(`
		[
		  {
		    "name": "basic-pd-0",
		    "member_id": %d,
		    "client_urls": [
		      "http://basic-pd-0.basic-pd-peer.ns.svc:2379"
		    ],
		    "health": true
		  },
		  {
		    "name": "basic-pd-1",
		    "member_id": %d,
		    "client_urls": [
		      "http://basic-pd-1.basic-pd-peer.ns.svc:2379"
		    ],
		    "health": true
		  },
		  {
		    "name": "basic-pd-2",
		    "member_id": %d,
		    "client_urls": [
		      "http://basic-pd-2.basic-pd-peer.ns.svc:2379"
		    ],
		    "health": false
		  }
		]
		`, st.Members[0].ID, st.Members[1].ID, st.Members[2].ID))
	f.expect("GET", pdURL+"/pd/api/v1/health", "", 200, want)
}

func TestPDConfigShapeAndReplicateUpdate(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	config := func(maxReplicas int, labels, placement string) string {
		return dedent(fmt.Sprintf(`
			{
			  "log": {
			    "level": "info"
			  },
			  "schedule": {
			    "max-store-down-time": "30m0s",
			    "leader-schedule-limit": 4,
			    "region-schedule-limit": 2048,
			    "replica-schedule-limit": 64
			  },
			  "replication": {
			    "max-replicas": %d,
			    "location-labels": %q,
			    "strictly-match-label": "false",
			    "enable-placement-rules": %q,
			    "enable-placement-rules-cache": "false",
			    "isolation-level": ""
			  }
			}
			`, maxReplicas, labels, placement))
	}
	f.expect("GET", pdURL+"/pd/api/v1/config", "", 200, config(3, "", "true"))
	f.expect("POST", pdURL+"/pd/api/v1/config/replicate",
		`{"enable-placement-rules":"false","location-labels":"zone,host","max-replicas":5}`, 200, "\"The config is updated.\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/config", "", 200, config(5, "zone,host", "false"))
	f.expect("POST", pdURL+"/pd/api/v1/config/replicate", `{"enable-placement-rules":"true"}`, 200, "\"The config is updated.\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/config", "", 200, config(5, "zone,host", "true"))
	f.expect("POST", pdURL+"/pd/api/v1/config/replicate", `{"max-replicas":"many"}`, 400,
		"\"max-replicas: json: cannot unmarshal string into Go value of type int\"\n")
}

func TestPDClusterShape(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	f.expect("GET", pdURL+"/pd/api/v1/cluster", "", 200,
		dedent(fmt.Sprintf(`
			{
			  "id": %d,
			  "max_peer_count": 3
			}
			`, f.state().ClusterID)))
}

func memberJSON(indent string, name string, id uint64) string {
	lines := []string{
		`{`,
		fmt.Sprintf(`  "name": %q,`, name),
		fmt.Sprintf(`  "member_id": %d,`, id),
		`  "peer_urls": [`,
		fmt.Sprintf(`    "http://%s.basic-pd-peer.ns.svc:2380"`, name),
		`  ],`,
		`  "client_urls": [`,
		fmt.Sprintf(`    "http://%s.basic-pd-peer.ns.svc:2379"`, name),
		`  ],`,
		`  "leader_priority": 0,`,
		`  "deploy_path": "/",`,
		`  "binary_version": "8.5.0",`,
		`  "git_hash": "0000000000000000000000000000000000000000"`,
		`}`,
	}
	return strings.Join(lines, "\n"+indent)
}

func TestPDMembersAndLeaderShape(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(2, 0)
	st := f.state()
	m0, m1 := st.Members[0], st.Members[1]
	want := "{\n" +
		fmt.Sprintf("  \"header\": {\n    \"cluster_id\": %d\n  },\n", st.ClusterID) +
		"  \"members\": [\n    " + memberJSON("    ", m0.Name, m0.ID) + ",\n    " + memberJSON("    ", m1.Name, m1.ID) + "\n  ],\n" +
		"  \"leader\": " + memberJSON("  ", m0.Name, m0.ID) + ",\n" +
		"  \"etcd_leader\": " + memberJSON("  ", m0.Name, m0.ID) + "\n}\n"
	f.expect("GET", pdURL+"/pd/api/v1/members", "", 200, want)
	f.expect("GET", pdURL+"/pd/api/v1/leader", "", 200, memberJSON("", m0.Name, m0.ID)+"\n")
}

func TestPDLeaderTransfer(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 0)
	f.expect("POST", pdURL+"/pd/api/v1/leader/transfer/basic-pd-2", "", 200, "\"The transfer command is submitted.\"\n")
	if got := f.state().Leader; got != "basic-pd-2" {
		t.Fatalf("leader %q", got)
	}
	// Never 404: the operator would take that for success.
	f.expect("POST", pdURL+"/pd/api/v1/leader/transfer/basic-pd-9", "", 500, "\"member basic-pd-9 not found\"\n")
	f.pod(simapi.ComponentPD, 1, false)
	f.expect("POST", pdURL+"/pd/api/v1/leader/transfer/basic-pd-1", "", 500, "\"member basic-pd-1 is not healthy\"\n")
}

func TestPDDeleteMembers(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 0)
	id := f.state().Members[2].ID
	f.expect("DELETE", pdURL+"/pd/api/v1/members/name/basic-pd-1", "", 200, "\"removed, pd: basic-pd-1\"\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/members/name/basic-pd-1", "", 404, "\"member basic-pd-1 not found\"\n")
	f.expect("DELETE", pdURL+fmt.Sprintf("/pd/api/v1/members/id/%d", id), "", 200, fmt.Sprintf("\"removed, pd: %d\"\n", id))
	f.expect("DELETE", pdURL+fmt.Sprintf("/pd/api/v1/members/id/%d", id), "", 404, fmt.Sprintf("\"member %d not found\"\n", id))
	f.expect("DELETE", pdURL+"/pd/api/v1/members/id/abc", "", 400, "\"invalid member id \\\"abc\\\"\"\n")
	if st := f.state(); len(st.Members) != 1 {
		t.Fatalf("members %+v", st.Members)
	}
}

func TestPDNotBootstrappedError(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	const body = "\"[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first\"\n"
	for _, path := range []string{"/pd/api/v1/stores", "/pd/api/v1/stores?state=2", "/pd/api/v1/store/1", "/pd/api/v1/schedulers"} {
		status, got := f.call("GET", pdURL+path, "")
		if status < 400 || got != body {
			t.Fatalf("GET %s: %d %q", path, status, got)
		}
		// The operator recognises the error by this suffix of its error string.
		if !strings.HasSuffix(got, "TiKV cluster not bootstrapped, please start TiKV first\"\n") {
			t.Fatalf("suffix missing in %q", got)
		}
	}
	f.expect("DELETE", pdURL+"/pd/api/v1/store/1", "", 500, body)
}

func storeJSON(id uint64, pod string, start, heartbeat time.Time, leaders, regions int, stateName string, state int, labels string) string {
	used := regions * 96
	return dedent(fmt.Sprintf(`
		{
		  "store": {
		    "id": %d,
		    "address": "%s.basic-tikv-peer.ns.svc:20160",
		    "state": %d,
		    "labels": %s,
		    "version": "8.5.0",
		    "status_address": "%s.basic-tikv-peer.ns.svc:20180",
		    "git_hash": "0000000000000000000000000000000000000000",
		    "start_timestamp": %d,
		    "deploy_path": "/",
		    "last_heartbeat": %d,
		    "state_name": %q
		  },
		  "status": {
		    "capacity": "100GiB",
		    "available": "%s",
		    "used_size": "%s",
		    "leader_count": %d,
		    "leader_weight": 1,
		    "leader_score": %d,
		    "leader_size": %d,
		    "region_count": %d,
		    "region_weight": 1,
		    "region_score": %d,
		    "region_size": %d,
		    "start_ts": %q,
		    "last_heartbeat_ts": %q,
		    "uptime": %q
		  }
		}`, id, pod, state, labels, pod, start.Unix(), heartbeat.UnixNano(), stateName,
		humanMiB(100*1024-used), humanMiB(used), leaders, leaders*96, leaders*96, regions, regions*96, regions*96,
		start.Format(time.RFC3339Nano), heartbeat.Format(time.RFC3339Nano), heartbeat.Sub(start).String()))
}

// humanMiB formats like PD's byte sizes for the round values the tests use.
func humanMiB(mib int) string {
	switch {
	case mib == 0:
		return "0B"
	case mib%1024 == 0:
		return fmt.Sprintf("%dGiB", mib/1024)
	case mib < 1024:
		return fmt.Sprintf("%dMiB", mib)
	}
	return fmt.Sprintf("%.4gGiB", float64(mib)/1024)
}

// indent shifts every line but the first by n spaces.
func indent(s string, n int) string {
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
}

func TestPDStoresShape(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	hb := t0.Add(time.Minute)
	one := storeJSON(1, "basic-tikv-0", t0, hb, 64, 64, "Up", 0, "[]")
	f.expect("GET", pdURL+"/pd/api/v1/stores", "", 200,
		"{\n  \"count\": 1,\n  \"stores\": [\n    "+indent(one, 4)+"\n  ]\n}\n")
	f.expect("GET", pdURL+"/pd/api/v1/store/1", "", 200, one+"\n")
	f.expect("GET", pdURL+"/pd/api/v1/stores?state=2", "", 200, "{\n  \"count\": 0,\n  \"stores\": []\n}\n")
	f.expect("GET", pdURL+"/pd/api/v1/stores?state=up", "", 400, "\"invalid state \\\"up\\\"\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/store/7", "", 404, "\"[PD:core:ErrStoreNotFound]store id 7 not found\"\n")

	f.expect("POST", pdURL+"/pd/api/v1/store/1/label", `{"zone":"z1","host":"h1"}`, 200, "\"The store's label is updated.\"\n")
	labels := "[\n      {\n        \"key\": \"host\",\n        \"value\": \"h1\"\n      },\n      {\n        \"key\": \"zone\",\n        \"value\": \"z1\"\n      }\n    ]"
	f.expect("GET", pdURL+"/pd/api/v1/store/1", "", 200, storeJSON(1, "basic-tikv-0", t0, hb, 64, 64, "Up", 0, labels)+"\n")
	f.expect("POST", pdURL+"/pd/api/v1/store/1/label", `{"zone":3}`, 400, "\"label \\\"zone\\\": value must be a string\"\n")
	f.expect("POST", pdURL+"/pd/api/v1/store/9/label", `{"zone":"z"}`, 404, "\"[PD:core:ErrStoreNotFound]store id 9 not found\"\n")
}

func TestPDStoresShowTiFlashWithEngineLabel(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentTiFlash, 0, true)
	status, body := f.call("GET", pdURL+"/pd/api/v1/store/2", "")
	for _, want := range []string{
		`"address": "basic-tiflash-0.basic-tiflash-peer.ns.svc:3930"`,
		`"peer_address": "basic-tiflash-0.basic-tiflash-peer.ns.svc:20170"`,
		`"status_address": "basic-tiflash-0.basic-tiflash-peer.ns.svc:20292"`,
		"\"labels\": [\n      {\n        \"key\": \"engine\",\n        \"value\": \"tiflash\"\n      }\n    ]",
		`"leader_count": 0`,
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("status %d, body lacks %s:\n%s", status, want, body)
		}
	}
}

func TestPDDeleteStore(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 4)
	f.expect("DELETE", pdURL+"/pd/api/v1/store/4", "", 200, "\"The store is set as Offline.\"\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/store/4", "", 200, "\"The store is set as Offline.\"\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/store/3", "", 400,
		"\"[PD:core:ErrStoresNotEnough]can not remove store 3 since the number of up stores would be 2 while need 3\"\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/store/99", "", 404, "\"[PD:core:ErrStoreNotFound]store id 99 not found\"\n")
	f.step(time.Minute)
	f.expect("DELETE", pdURL+"/pd/api/v1/store/4", "", 400, "\"[PD:core:ErrStoreRemoved]store 4 has been removed\"\n")
	f.expect("POST", pdURL+"/pd/api/v1/store/3/state?state=Offline", "", 400,
		"\"[PD:core:ErrStoresNotEnough]can not remove store 3 since the number of up stores would be 2 while need 3\"\n")
	f.expect("POST", pdURL+"/pd/api/v1/store/3/state?state=Up", "", 200, "\"The store's state is updated.\"\n")
}

func TestPDSchedulers(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 3)
	defaults := `"balance-hot-region-scheduler",` + "\n  " + `"balance-leader-scheduler",` + "\n  " + `"balance-region-scheduler"`
	f.expect("GET", pdURL+"/pd/api/v1/schedulers", "", 200, "[\n  "+defaults+"\n]\n")
	f.expect("POST", pdURL+"/pd/api/v1/schedulers", `{"name":"evict-leader-scheduler","store_id":2}`, 200, "\"The scheduler is created.\"\n")
	f.expect("POST", pdURL+"/pd/api/v1/schedulers", `{"name":"evict-leader-scheduler","store_id":2}`, 500,
		"\"[PD:scheduler:ErrSchedulerExisted]scheduler existed\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/schedulers", "", 200, "[\n  "+defaults+",\n  \"evict-leader-scheduler-2\"\n]\n")
	f.expect("POST", pdURL+"/pd/api/v1/schedulers", `{"name":"evict-leader-scheduler"}`, 400, "\"missing store id\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/scheduler-config/evict-leader-scheduler/list", "", 200,
		"{\n  \"store-id-ranges\": {\n    \"2\": [\n      {\n        \"start-key\": \"\",\n        \"end-key\": \"\"\n      }\n    ]\n  }\n}\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/schedulers/evict-leader-scheduler-2", "", 200, "\"The scheduler is removed.\"\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/schedulers/evict-leader-scheduler-2", "", 404,
		"\"[PD:scheduler:ErrSchedulerNotFound]scheduler not found\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/scheduler-config/evict-leader-scheduler/list", "", 404,
		"\"[PD:scheduler:ErrSchedulerNotFound]scheduler not found\"\n")
}

func TestPDCombinedEvictLeaderScheduler(t *testing.T) {
	f := newFixture(t, model.Options{})
	yes := true
	if err := f.admin.PatchCluster(f.ctx(), "ns", "basic", simapi.ClusterPatch{CombinedEvictLeader: &yes}); err != nil {
		t.Fatal(err)
	}
	f.start(1, 3)
	for _, id := range []int{1, 3} {
		f.expect("POST", pdURL+"/pd/api/v1/schedulers", fmt.Sprintf(`{"name":"evict-leader-scheduler","store_id":%d}`, id), 200, "\"The scheduler is created.\"\n")
	}
	status, body := f.call("GET", pdURL+"/pd/api/v1/schedulers", "")
	if status != 200 || strings.Count(body, "evict-leader-scheduler") != 1 || !strings.Contains(body, "\"evict-leader-scheduler\"\n]") {
		t.Fatalf("list %d %s", status, body)
	}
	f.expect("GET", pdURL+"/pd/api/v1/scheduler-config/evict-leader-scheduler/list", "", 200,
		"{\n  \"store-id-ranges\": {\n    \"1\": [\n      {\n        \"start-key\": \"\",\n        \"end-key\": \"\"\n      }\n    ],\n"+
			"    \"3\": [\n      {\n        \"start-key\": \"\",\n        \"end-key\": \"\"\n      }\n    ]\n  }\n}\n")
	f.expect("DELETE", pdURL+"/pd/api/v1/schedulers/evict-leader-scheduler-1", "", 200, "\"The scheduler is removed.\"\n")
}

func TestPDSnapshotRecoveringMarker(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.expect("GET", pdURL+"/pd/api/v1/admin/cluster/markers/snapshot-recovering", "", 200, "{\n  \"marked\": false\n}\n")
	yes := true
	if err := f.admin.PatchCluster(f.ctx(), "ns", "basic", simapi.ClusterPatch{SnapshotRecovering: &yes}); err != nil {
		t.Fatal(err)
	}
	f.expect("GET", pdURL+"/pd/api/v1/admin/cluster/markers/snapshot-recovering", "", 200, "{\n  \"marked\": true\n}\n")
}

func TestPDReadyPerMember(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 0)
	member := "http://basic-pd-1.basic-pd-peer.ns.svc:2379/pd/api/v2/ready"
	f.expect("GET", member, "", 200, "")
	yes, no := true, false
	if err := f.admin.PatchMember(f.ctx(), "ns", "basic", "basic-pd-1", simapi.MemberPatch{Unhealthy: &yes}); err != nil {
		t.Fatal(err)
	}
	f.expect("GET", member, "", 500, "\"not ready\"\n")
	if err := f.admin.PatchMember(f.ctx(), "ns", "basic", "basic-pd-1", simapi.MemberPatch{Unhealthy: &no}); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.PatchCluster(f.ctx(), "ns", "basic", simapi.ClusterPatch{ReadyAPIMissing: &yes}); err != nil {
		t.Fatal(err)
	}
	f.expect("GET", member, "", 404, "404 page not found\n")
}

func TestPDMicroServiceEndpoints(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	f.pod(simapi.ComponentTSO, 0, true)
	f.pod(simapi.ComponentTSO, 1, true)
	entry := func(i int) string {
		return fmt.Sprintf("{\n    \"service-addr\": \"http://basic-tso-%d.basic-tso-peer.ns.svc:2379\",\n    \"version\": \"v8.5.0\",\n"+
			"    \"git-hash\": \"0000000000000000000000000000000000000000\",\n    \"deploy-path\": \"/\",\n    \"start-timestamp\": %d\n  }",
			i, t0.Add(time.Minute).Unix())
	}
	f.expect("GET", pdURL+"/pd/api/v2/ms/members/tso", "", 200, "[\n  "+entry(0)+",\n  "+entry(1)+"\n]\n")
	f.expect("GET", pdURL+"/pd/api/v2/ms/members/scheduling", "", 200, "[]\n")
	f.expect("GET", pdURL+"/pd/api/v2/ms/members/nope", "", 404, "\"unknown micro-service \\\"nope\\\"\"\n")
	f.expect("GET", pdURL+"/pd/api/v2/ms/primary/tso", "", 200, "\"http://basic-tso-0.basic-tso-peer.ns.svc:2379\"\n")
	f.expect("GET", "http://basic-tso.ns:2379/tso/api/v1/health", "", 200, "")
	f.expect("POST", "http://basic-tso.ns:2379/tso/api/v1/primary/transfer", `{"new_primary":"basic-tso-1"}`, 200, "\"success\"\n")
	f.expect("GET", pdURL+"/pd/api/v2/ms/primary/tso", "", 200, "\"http://basic-tso-1.basic-tso-peer.ns.svc:2379\"\n")
	f.expect("GET", pdURL+"/pd/api/v2/ms/primary/scheduling", "", 500, "\"no primary for scheduling\"\n")
}

func TestPDAutoscalingReturnsNoPlans(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	f.expect("POST", pdURL+"/autoscaling", `{"rules":[],"resources":[]}`, 200, "[]\n")
	status, _ := f.call("POST", pdURL+"/autoscaling", `not json`)
	if status != http.StatusBadRequest {
		t.Fatalf("status %d", status)
	}
}

func TestPDWithoutLeaderStillReportsHealth(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 1)
	f.pod(simapi.ComponentPD, 0, false)
	f.pod(simapi.ComponentPD, 1, false)
	f.expect("GET", pdURL+"/pd/api/v1/stores", "", 500, "\"[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\"\n")
	f.expect("GET", pdURL+"/pd/api/v1/leader", "", 500, "\"[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader\"\n")
	status, body := f.call("GET", pdURL+"/pd/api/v1/health", "")
	if status != 200 || strings.Count(body, `"health": false`) != 2 || strings.Count(body, `"health": true`) != 1 {
		t.Fatalf("health %d %s", status, body)
	}
}
