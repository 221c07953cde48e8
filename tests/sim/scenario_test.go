package sim_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// The types below decode PD's answers the way the operator reads them (§3.2): only the fields
// it uses, with the JSON types it expects.

type opStoresResp struct {
	Count  int           `json:"count"`
	Stores []opStoreInfo `json:"stores"`
}

type opStoreInfo struct {
	Store struct {
		ID        uint64 `json:"id"`
		Address   string `json:"address"`
		State     int    `json:"state"`
		StateName string `json:"state_name"`
		Labels    []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"labels"`
	} `json:"store"`
	Status struct {
		LeaderCount int    `json:"leader_count"`
		RegionCount int    `json:"region_count"`
		StartTS     string `json:"start_ts"`
	} `json:"status"`
}

type opConfig struct {
	Replication struct {
		MaxReplicas          *int   `json:"max-replicas"`
		LocationLabels       string `json:"location-labels"`
		EnablePlacementRules string `json:"enable-placement-rules"`
	} `json:"replication"`
}

func decode[T any](t *testing.T, f *fixture, method, u, body string, wantStatus int) T {
	t.Helper()
	status, out := f.call(method, u, body)
	if status != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, u, status, wantStatus, out)
	}
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%s %s: decode %s: %v", method, u, out, err)
	}
	return v
}

func storeByAddress(resp opStoresResp, addr string) (opStoreInfo, bool) {
	for _, s := range resp.Stores {
		if s.Store.Address == addr {
			return s, true
		}
	}
	return opStoreInfo{}, false
}

// leaderMetric reads tikv_raftstore_region_count{type="leader"} as the operator does.
func leaderMetric(t *testing.T, f *fixture, pod string) int {
	t.Helper()
	status, body := f.call("GET", fmt.Sprintf("http://%s.basic-tikv-peer.ns.svc:20180/metrics", pod), "")
	if status != 200 {
		t.Fatalf("metrics of %s: %d", pod, status)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, `tikv_raftstore_region_count{type="leader"} `); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("leader metric %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatalf("no leader metric for %s", pod)
	return 0
}

// opCalls returns the recorded operator calls as "METHOD path" strings, leaving out reads.
func opCalls(t *testing.T, f *fixture) []string {
	t.Helper()
	calls, err := f.admin.Calls(f.ctx(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range calls {
		if c.Method != "GET" {
			out = append(out, fmt.Sprintf("%s %s -> %d", c.Method, c.Path, c.Status))
		}
	}
	return out
}

func TestScenarioScaleInTiKVStoreToTombstone(t *testing.T) {
	f := newFixture(t, model.Options{EvictLeaderPerTick: 4, RegionMovesPerTick: 4})
	f.start(3, 4)
	f.step(time.Minute)
	if err := f.admin.ResetCalls(f.ctx()); err != nil {
		t.Fatal(err)
	}
	const addr = "basic-tikv-3.basic-tikv-peer.ns.svc:20160"

	// Pre-check: Up TiKV stores must exceed max-replicas.
	cfg := decode[opConfig](t, f, "GET", pdURL+"/pd/api/v1/config", "", 200)
	if cfg.Replication.MaxReplicas == nil || *cfg.Replication.MaxReplicas != 3 {
		t.Fatalf("max-replicas missing or wrong: %+v", cfg.Replication)
	}
	stores := decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200)
	up := 0
	for _, s := range stores.Stores {
		if s.Store.StateName == "Up" {
			up++
		}
	}
	if stores.Count != 4 || up != 4 {
		t.Fatalf("stores before scale-in: %+v", stores)
	}
	target, ok := storeByAddress(stores, addr)
	if !ok || target.Status.LeaderCount == 0 {
		t.Fatalf("target store %+v", target)
	}
	id := target.Store.ID

	// Leaders first: an evict-leader scheduler, then wait for the leader count to reach zero.
	schedulers := decode[[]string](t, f, "GET", pdURL+"/pd/api/v1/schedulers", "", 200)
	if slices.Contains(schedulers, fmt.Sprintf("evict-leader-scheduler-%d", id)) {
		t.Fatal("scheduler exists before it was created")
	}
	f.expect("POST", pdURL+"/pd/api/v1/schedulers", fmt.Sprintf(`{"name":"evict-leader-scheduler","store_id":%d}`, id), 200, "\"The scheduler is created.\"\n")
	prev := target.Status.LeaderCount
	for ticks := 0; prev > 0; ticks++ {
		if ticks > 30 {
			t.Fatalf("leaders never drained: %d left", prev)
		}
		f.step(time.Second)
		s, _ := storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr)
		if s.Status.LeaderCount > prev || prev-s.Status.LeaderCount > 4 || s.Store.StateName != "Up" {
			t.Fatalf("tick %d: leaders %d -> %d, state %s", ticks, prev, s.Status.LeaderCount, s.Store.StateName)
		}
		prev = s.Status.LeaderCount
	}

	// Delete the store: Offline while regions move away, then Tombstone.
	f.expect("DELETE", pdURL+fmt.Sprintf("/pd/api/v1/store/%d", id), "", 200, "\"The store is set as Offline.\"\n")
	var regions []int
	for ticks := 0; ; ticks++ {
		if ticks > 60 {
			t.Fatalf("never tombstone; region counts %v", regions)
		}
		tomb := decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores?state=2", "", 200)
		if s, ok := storeByAddress(tomb, addr); ok {
			if s.Store.State != 2 || s.Store.StateName != "Tombstone" || s.Status.RegionCount != 0 || s.Store.ID != id {
				t.Fatalf("tombstone store %+v", s)
			}
			break
		}
		s, ok := storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr)
		if !ok || s.Store.State != 1 || s.Store.StateName != "Offline" {
			t.Fatalf("store while being removed: %+v", s)
		}
		regions = append(regions, s.Status.RegionCount)
		f.step(time.Second)
	}
	if len(regions) < 2 || regions[0] <= regions[len(regions)-1] {
		t.Fatalf("regions did not move away gradually: %v", regions)
	}
	if _, ok := storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr); ok {
		t.Fatal("the default store list shows a tombstone")
	}

	// End evict-leader, then the pod goes away.
	f.expect("DELETE", pdURL+fmt.Sprintf("/pd/api/v1/schedulers/evict-leader-scheduler-%d", id), "", 200, "\"The scheduler is removed.\"\n")
	if err := f.admin.DeletePod(f.ctx(), "ns", "basic-tikv-3"); err != nil {
		t.Fatal(err)
	}
	f.step(5 * time.Minute)
	final := decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200)
	if final.Count != 3 {
		t.Fatalf("stores after scale-in: %+v", final)
	}
	total := 0
	for _, s := range final.Stores {
		if s.Store.StateName != "Up" || s.Status.RegionCount != 64 {
			t.Fatalf("remaining store %+v", s)
		}
		total += s.Status.LeaderCount
	}
	if total != 64 {
		t.Fatalf("leaders %d, want 64", total)
	}
	want := []string{
		"POST /pd/api/v1/schedulers -> 200",
		fmt.Sprintf("DELETE /pd/api/v1/store/%d -> 200", id),
		fmt.Sprintf("DELETE /pd/api/v1/schedulers/evict-leader-scheduler-%d -> 200", id),
	}
	if got := opCalls(t, f); !slices.Equal(got, want) {
		t.Fatalf("operator writes %v, want %v", got, want)
	}
}

func TestScenarioEvictLeaderAndRestartTiKV(t *testing.T) {
	f := newFixture(t, model.Options{Regions: 600, EvictLeaderPerTick: 50, BalancePerTick: 20})
	f.start(3, 3)
	f.step(2 * time.Minute)
	const pod = "basic-tikv-2"
	const addr = pod + ".basic-tikv-peer.ns.svc:20160"
	before, _ := storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr)
	id := before.Store.ID
	if before.Status.LeaderCount < 200 {
		t.Fatalf("want at least 200 leaders to exercise the transfer-back wait, got %d", before.Status.LeaderCount)
	}
	if got := leaderMetric(t, f, pod); got != before.Status.LeaderCount {
		t.Fatalf("TiKV metrics %d, PD %d", got, before.Status.LeaderCount)
	}

	// Begin evict-leader; TiKV's own leader count drains.
	f.expect("POST", pdURL+"/pd/api/v1/schedulers", fmt.Sprintf(`{"name":"evict-leader-scheduler","store_id":%d}`, id), 200, "\"The scheduler is created.\"\n")
	prev := before.Status.LeaderCount
	for prev > 0 {
		f.step(time.Second)
		now := leaderMetric(t, f, pod)
		if want := max(prev-50, 0); now != want {
			t.Fatalf("leaders %d -> %d, want %d", prev, now, want)
		}
		prev = now
	}

	// Restart the pod (the StatefulSet deletes and recreates it).
	if err := f.admin.DeletePod(f.ctx(), "ns", pod); err != nil {
		t.Fatal(err)
	}
	// The pod's DNS name is gone with it, so the proxy cannot resolve it.
	if status, _, err := f.try("GET", "http://"+pod+".basic-tikv-peer.ns.svc:20180/metrics", ""); err != nil || status != 502 {
		t.Fatalf("metrics of a deleted pod: %d %v", status, err)
	}
	f.step(10 * time.Second)
	during, _ := storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr)
	if during.Store.StateName != "Up" {
		t.Fatalf("within 20s a restarting store is still Up, got %s", during.Store.StateName)
	}
	f.step(15 * time.Second)
	during, _ = storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr)
	if during.Store.StateName != "Disconnected" {
		t.Fatalf("after 25s without heartbeats: %s", during.Store.StateName)
	}
	f.uids["basic-tikv-2"]++
	f.pod(simapi.ComponentTiKV, 2, true)
	after, _ := storeByAddress(decode[opStoresResp](t, f, "GET", pdURL+"/pd/api/v1/stores", "", 200), addr)
	if after.Store.ID != id || after.Store.StateName != "Up" || after.Status.StartTS == before.Status.StartTS {
		t.Fatalf("restarted store %+v (before %+v)", after, before)
	}
	f.step(30 * time.Second)
	if got := leaderMetric(t, f, pod); got != 0 {
		t.Fatalf("leaders came back while the scheduler exists: %d", got)
	}

	// End evict-leader and wait for leaders to come back to 2/3 of the count before.
	f.expect("DELETE", pdURL+fmt.Sprintf("/pd/api/v1/schedulers/evict-leader-scheduler-%d", id), "", 200, "\"The scheduler is removed.\"\n")
	f.expect("DELETE", pdURL+fmt.Sprintf("/pd/api/v1/schedulers/evict-leader-scheduler-%d", id), "", 404,
		"\"[PD:scheduler:ErrSchedulerNotFound]scheduler not found\"\n")
	ticks := 0
	for leaderMetric(t, f, pod) < before.Status.LeaderCount*2/3 {
		if ticks++; ticks > 60 {
			t.Fatalf("leaders did not transfer back: %d of %d", leaderMetric(t, f, pod), before.Status.LeaderCount)
		}
		f.step(time.Second)
	}
	if ticks < 5 {
		t.Fatalf("leaders came back in %d ticks; transfer back should take time", ticks)
	}
	if list := decode[[]string](t, f, "GET", pdURL+"/pd/api/v1/schedulers", "", 200); slices.Contains(list, fmt.Sprintf("evict-leader-scheduler-%d", id)) {
		t.Fatalf("scheduler still listed: %v", list)
	}
}

func TestScenarioPDRollingRestartWithLeaderTransfer(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 1)
	type member struct {
		Name string `json:"name"`
	}
	type health struct {
		Name   string `json:"name"`
		Health bool   `json:"health"`
	}
	for ord := 2; ord >= 0; ord-- {
		name := fmt.Sprintf("basic-pd-%d", ord)
		if leader := decode[member](t, f, "GET", pdURL+"/pd/api/v1/leader", "", 200); leader.Name == name {
			target := "basic-pd-1"
			if ord != 2 {
				target = "basic-pd-2"
			}
			f.expect("POST", pdURL+"/pd/api/v1/leader/transfer/"+target, "", 200, "\"The transfer command is submitted.\"\n")
			if got := decode[member](t, f, "GET", pdURL+"/pd/api/v1/leader", "", 200); got.Name != target {
				t.Fatalf("leader %s after transfer to %s", got.Name, target)
			}
		}
		f.pod(simapi.ComponentPD, ord, false)
		for _, h := range decode[[]health](t, f, "GET", pdURL+"/pd/api/v1/health", "", 200) {
			if h.Name == name && h.Health {
				t.Fatalf("%s healthy while restarting", name)
			}
		}
		f.recreate(simapi.ComponentPD, ord)
		f.expect("GET", "http://"+name+".basic-pd-peer.ns.svc:2379/pd/api/v2/ready", "", 200, "")
		for _, h := range decode[[]health](t, f, "GET", pdURL+"/pd/api/v1/health", "", 200) {
			if !h.Health {
				t.Fatalf("%s unhealthy after %s restarted", h.Name, name)
			}
		}
	}
	if got := decode[member](t, f, "GET", pdURL+"/pd/api/v1/leader", "", 200); got.Name != "basic-pd-2" {
		t.Fatalf("final leader %s", got.Name)
	}
}
