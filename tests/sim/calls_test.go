package sim_test

import (
	"testing"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func TestEveryCallIsRecordedInOrder(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 3)
	f.fault(simapi.Fault{Kind: simapi.FaultError, Path: "/pd/api/v1/leader", Times: 1})
	f.call("GET", pdURL+"/pd/api/v1/leader", "")
	f.call("POST", pdURL+"/pd/api/v1/schedulers", `{"name":"evict-leader-scheduler","store_id":2}`)
	f.call("GET", "http://basic-tikv-1.basic-tikv-peer.ns.svc:20180/metrics", "")
	f.call("GET", "http://nobody-pd.ns:2379/pd/api/v1/health", "") // not a known cluster: 502, still recorded
	f.call("GET", "http://basic-pd:2379/pd/api/v1/health", "")     // no namespace: names nothing, still recorded

	calls, err := f.admin.Calls(f.ctx(), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []simapi.Call{
		{Seq: 1, Method: "GET", Host: "basic-pd.ns:2379", Path: "/pd/api/v1/leader", Namespace: "ns", Cluster: "basic", Component: "pd", Status: 503, Fault: "f1"},
		{Seq: 2, Method: "POST", Host: "basic-pd.ns:2379", Path: "/pd/api/v1/schedulers", Body: `{"name":"evict-leader-scheduler","store_id":2}`,
			Namespace: "ns", Cluster: "basic", Component: "pd", Status: 200},
		{Seq: 3, Method: "GET", Host: "basic-tikv-1.basic-tikv-peer.ns.svc:20180", Path: "/metrics",
			Namespace: "ns", Cluster: "basic", Component: "tikv", Pod: "basic-tikv-1", Status: 200},
		{Seq: 4, Method: "GET", Host: "nobody-pd.ns:2379", Path: "/pd/api/v1/health", Namespace: "ns", Cluster: "nobody", Component: "pd", Status: 502},
		{Seq: 5, Method: "GET", Host: "basic-pd:2379", Path: "/pd/api/v1/health", Status: 502},
	}
	if len(calls) != len(want) {
		t.Fatalf("got %d calls: %+v", len(calls), calls)
	}
	for i := range want {
		got := calls[i]
		if !got.Time.Equal(t0.Add(60e9)) {
			t.Fatalf("call %d time %v, want the simulator clock", i, got.Time)
		}
		got.Time = want[i].Time
		if got != want[i] {
			t.Fatalf("call %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	since, _ := f.admin.Calls(f.ctx(), 2)
	if len(since) != 3 || since[0].Seq != 3 {
		t.Fatalf("since 2: %+v", since)
	}
	if err := f.admin.ResetCalls(f.ctx()); err != nil {
		t.Fatal(err)
	}
	f.call("GET", pdURL+"/pd/api/v1/health", "")
	after, _ := f.admin.Calls(f.ctx(), 0)
	if len(after) != 1 || after[0].Seq != 6 {
		t.Fatalf("after reset: %+v", after)
	}
}

func TestCallsToUnreachableTargetsHaveNoStatus(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	f.fault(simapi.Fault{Kind: simapi.FaultUnreachable})
	if _, _, err := f.try("GET", pdURL+"/pd/api/v1/health", ""); err == nil {
		t.Fatal("an unreachable fault answered")
	}
	calls, _ := f.admin.Calls(f.ctx(), 0)
	if len(calls) != 1 || calls[0].Status != 0 || calls[0].Fault != "f1" {
		t.Fatalf("%+v", calls)
	}
}
