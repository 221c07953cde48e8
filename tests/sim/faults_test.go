package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func (f *fixture) fault(flt simapi.Fault) simapi.Fault {
	f.t.Helper()
	out, err := f.admin.AddFault(f.ctx(), flt)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// startTwoClusters runs "basic" and "other" in namespace ns, one PD each.
func startTwoClusters(f *fixture) {
	f.start(1, 1)
	if err := f.admin.PutPod(f.ctx(), simapi.Pod{Namespace: "ns", Name: "other-pd-0", UID: "o", Cluster: "other", Component: "pd", Running: true}); err != nil {
		f.t.Fatal(err)
	}
}

func TestUnreachablePDFault(t *testing.T) {
	f := newFixture(t, model.Options{})
	startTwoClusters(f)
	flt := f.fault(simapi.Fault{Kind: simapi.FaultUnreachable, Namespace: "ns", Cluster: "basic", Component: "pd"})
	for _, u := range []string{pdURL + "/pd/api/v1/health", "http://basic-pd-0.basic-pd-peer.ns.svc:2379/pd/api/v2/ready"} {
		if status, _, err := f.try("GET", u, ""); err == nil {
			t.Fatalf("%s answered %d through an unreachable fault", u, status)
		} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
			t.Fatalf("want a reset or EOF, got %v", err)
		}
	}
	f.call("GET", "http://other-pd.ns:2379/pd/api/v1/health", "") // other clusters still answer
	f.call("GET", "http://basic-tikv-0.basic-tikv-peer.ns:20180/metrics", "")
	if err := f.admin.RemoveFault(f.ctx(), flt.ID); err != nil {
		t.Fatal(err)
	}
	f.call("GET", pdURL+"/pd/api/v1/health", "")
}

func TestErrorFaultFraction(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	flt := f.fault(simapi.Fault{Kind: simapi.FaultError, Component: "pd", Path: "/pd/api/v1/stores", Fraction: 0.5})
	failed := 0
	for range 200 {
		status, body := f.call("GET", pdURL+"/pd/api/v1/stores", "")
		switch status {
		case 503:
			failed++
			if body != "\"simulated fault "+flt.ID+"\"\n" {
				t.Fatalf("fault body %q", body)
			}
		case 200:
		default:
			t.Fatalf("status %d", status)
		}
	}
	if failed < 60 || failed > 140 {
		t.Fatalf("%d of 200 failed with fraction 0.5", failed)
	}
	if status, _ := f.call("GET", pdURL+"/pd/api/v1/health", ""); status != 200 {
		t.Fatalf("a path outside the fault failed: %d", status)
	}
}

func TestErrorFaultStatusMethodAndTimes(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 4)
	f.fault(simapi.Fault{Kind: simapi.FaultError, Status: 500, Method: "DELETE", Path: "/pd/api/v1/store/", Times: 2})
	f.expect("GET", pdURL+"/pd/api/v1/store/4", "", 200, f.mustBody("GET", pdURL+"/pd/api/v1/store/4"))
	for range 2 {
		if status, _ := f.call("DELETE", pdURL+"/pd/api/v1/store/4", ""); status != 500 {
			t.Fatalf("status %d", status)
		}
	}
	f.expect("DELETE", pdURL+"/pd/api/v1/store/4", "", 200, "\"The store is set as Offline.\"\n")
	if list, _ := f.admin.Faults(f.ctx()); len(list) != 0 {
		t.Fatalf("a spent fault is still installed: %+v", list)
	}
}

func (f *fixture) mustBody(method, u string) string {
	f.t.Helper()
	_, b := f.call(method, u, "")
	return b
}

func TestTimeoutFault(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.fault(simapi.Fault{Kind: simapi.FaultTimeout, Component: "tikv", Pod: "basic-tikv-0"})
	f.proxy.Timeout = 300 * time.Millisecond
	begin := time.Now()
	_, _, err := f.try("GET", "http://basic-tikv-0.basic-tikv-peer.ns:20180/metrics", "")
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
		t.Fatalf("want a client timeout, got %v", err)
	}
	if d := time.Since(begin); d < 300*time.Millisecond {
		t.Fatalf("gave up after %v", d)
	}
	f.proxy.Timeout = 5 * time.Second
	f.call("GET", pdURL+"/pd/api/v1/health", "") // other targets answer
}

func TestTimeoutFaultWithAHoldTimeDropsTheConnection(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.fault(simapi.Fault{Kind: simapi.FaultTimeout, Component: "pd", Latency: simapi.Duration{Duration: 100 * time.Millisecond}})
	begin := time.Now()
	_, _, err := f.try("GET", pdURL+"/pd/api/v1/health", "")
	if err == nil || time.Since(begin) < 100*time.Millisecond || strings.Contains(err.Error(), "Client.Timeout") {
		t.Fatalf("after %v: %v", time.Since(begin), err)
	}
}

func TestLatencyFaultDelaysThenAnswers(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.fault(simapi.Fault{Kind: simapi.FaultLatency, Component: "pd", Latency: simapi.Duration{Duration: 150 * time.Millisecond}})
	begin := time.Now()
	status, _ := f.call("GET", pdURL+"/pd/api/v1/health", "")
	if status != 200 || time.Since(begin) < 150*time.Millisecond {
		t.Fatalf("status %d after %v", status, time.Since(begin))
	}
}

func TestInvalidFaultsAreRejected(t *testing.T) {
	f := newFixture(t, model.Options{})
	for name, flt := range map[string]simapi.Fault{
		"an unknown kind":               {Kind: "explode"},
		"a latency fault without delay": {Kind: simapi.FaultLatency},
		"a fraction above one":          {Kind: simapi.FaultError, Fraction: 2},
		"a success status":              {Kind: simapi.FaultError, Status: 200},
	} {
		if _, err := f.admin.AddFault(f.ctx(), flt); err == nil {
			t.Fatalf("%s was accepted", name)
		}
	}
}

func TestModelFaultsThroughTheAdminAPI(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 4)
	st := f.state()
	s0, _ := st.StoreByPod("basic-tikv-0")
	s3, _ := st.StoreByPod("basic-tikv-3")
	yes := true

	// A forced Down store shows Down in PD's store list at once.
	if err := f.admin.PatchStore(f.ctx(), "ns", "basic", s0.ID, simapi.StorePatch{ForceDown: &yes}); err != nil {
		t.Fatal(err)
	}
	if body := f.mustBody("GET", pdURL+"/pd/api/v1/store/1"); !strings.Contains(body, `"state_name": "Down"`) {
		t.Fatalf("forced down store:\n%s", body)
	}

	// An eviction that never completes keeps the leader count TiKV reports.
	if err := f.admin.PatchStore(f.ctx(), "ns", "basic", s3.ID, simapi.StorePatch{EvictionStuck: &yes, TombstoneStuck: &yes}); err != nil {
		t.Fatal(err)
	}
	leaderLine := func() string {
		body := f.mustBody("GET", "http://basic-tikv-3.basic-tikv-peer.ns:20180/metrics")
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, `tikv_raftstore_region_count{type="leader"}`) {
				return l
			}
		}
		t.Fatalf("no leader metric in\n%s", body)
		return ""
	}
	metrics := leaderLine()
	if strings.HasSuffix(metrics, " 0") {
		t.Fatalf("store 4 starts without leaders: %s", metrics)
	}
	f.call("POST", pdURL+"/pd/api/v1/schedulers", `{"name":"evict-leader-scheduler","store_id":4}`)
	f.step(time.Hour)
	if got := leaderLine(); got != metrics {
		t.Fatalf("leaders moved under a stuck eviction:\n%s\nwas\n%s", got, metrics)
	}

	// A tombstone that never arrives leaves the store Offline.
	if err := f.admin.PatchStore(f.ctx(), "ns", "basic", s0.ID, simapi.StorePatch{ForceDown: new(bool)}); err != nil {
		t.Fatal(err)
	}
	f.expect("DELETE", pdURL+"/pd/api/v1/store/4", "", 200, "\"The store is set as Offline.\"\n")
	f.step(time.Hour)
	if body := f.mustBody("GET", pdURL+"/pd/api/v1/store/4"); !strings.Contains(body, `"state_name": "Offline"`) {
		t.Fatalf("store with a stuck tombstone:\n%s", body)
	}

	// An unhealthy PD member shows in health and loses the leadership.
	if err := f.admin.PatchMember(f.ctx(), "ns", "basic", "basic-pd-0", simapi.MemberPatch{Unhealthy: &yes}); err != nil {
		t.Fatal(err)
	}
	health := f.mustBody("GET", pdURL+"/pd/api/v1/health")
	if !strings.Contains(health, "\"name\": \"basic-pd-0\",\n    \"member_id\"") || strings.Count(health, `"health": false`) != 1 {
		t.Fatalf("health:\n%s", health)
	}
	if leader := f.mustBody("GET", pdURL+"/pd/api/v1/leader"); !strings.Contains(leader, `"name": "basic-pd-1"`) {
		t.Fatalf("leader:\n%s", leader)
	}
	if err := f.admin.PatchMember(f.ctx(), "ns", "basic", "basic-pd-9", simapi.MemberPatch{Unhealthy: &yes}); err == nil {
		t.Fatal("patching an unknown member succeeded")
	}
}
