package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func tikvMetrics(leaders, regions int) string {
	return "# HELP tikv_raftstore_region_count Number of regions collected in region_collection_worker\n" +
		"# TYPE tikv_raftstore_region_count gauge\n" +
		fmt.Sprintf("tikv_raftstore_region_count{type=\"leader\"} %d\n", leaders) +
		fmt.Sprintf("tikv_raftstore_region_count{type=\"region\"} %d\n", regions)
}

func TestTiKVMetricsReportTheStoreLeaderCount(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	u := "http://basic-tikv-0.basic-tikv-peer.ns.svc:20180/metrics"
	f.expect("GET", u, "", 200, tikvMetrics(64, 64))
	f.pod(simapi.ComponentTiKV, 1, true)
	f.pod(simapi.ComponentTiKV, 2, true)
	f.step(5 * time.Minute)
	st := f.state()
	for i := range 3 {
		s, _ := st.StoreByPod(fmt.Sprintf("basic-tikv-%d", i))
		f.expect("GET", fmt.Sprintf("http://basic-tikv-%d.basic-tikv-peer.ns:20180/metrics", i), "", 200,
			tikvMetrics(s.LeaderCount, s.RegionCount))
	}
}

func TestTiKVMetricsBeforeTheStoreRegistered(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.pod(simapi.ComponentTiKV, 0, true) // no PD yet
	f.expect("GET", "http://basic-tikv-0.basic-tikv-peer.ns.svc:20180/metrics", "", 200, tikvMetrics(0, 0))
}

func TestTiDBEndpoints(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentTiDB, 0, true)
	f.pod(simapi.ComponentTiDB, 1, true)
	base := "http://basic-tidb-1.basic-tidb-peer.ns.svc:10080"
	f.expect("GET", base+"/status", "", 200,
		`{"connections":0,"version":"8.0.11-TiDB-v8.5.0","git_hash":"0000000000000000000000000000000000000000"}`)
	f.expect("POST", base+"/labels", `{"zone":"z1","host":"h2"}`, 200, `"success!"`)
	if l := f.state().TiDB[1].Labels; l["zone"] != "z1" || l["host"] != "h2" {
		t.Fatalf("labels %v", l)
	}
	f.expect("POST", base+"/labels", `["not","a","map"]`, 400,
		"invalid labels: json: cannot unmarshal array into Go value of type map[string]string\n")
	f.expect("POST", base+"/info", "", 200,
		`{"is_owner":false,"version":"8.0.11-TiDB-v8.5.0","git_hash":"0000000000000000000000000000000000000000",`+
			`"ddl_id":"ns/basic-tidb-1","ip":"basic-tidb-1.basic-tidb-peer.ns.svc:10080","listening_port":4000,"status_port":10080}`)
	status, body := f.call("POST", "http://basic-tidb-0.basic-tidb-peer.ns:10080/info", "")
	if status != 200 || body[:15] != `{"is_owner":tru` {
		t.Fatalf("owner info %d %s", status, body)
	}
}

func TestTiFlashStoreStatusEndpoint(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentTiFlash, 0, true)
	u := "http://basic-tiflash-0.basic-tiflash-peer.ns:20292/tiflash/store-status"
	f.expect("GET", u, "", 200, "Running")
	for _, s := range []string{"Idle", "Ready", "Stopping", "Terminated"} {
		if err := f.admin.PatchPod(f.ctx(), "ns", "basic-tiflash-0", simapi.PodPatch{TiFlashStoreStatus: &s}); err != nil {
			t.Fatal(err)
		}
		f.expect("GET", u, "", 200, s)
	}
}

func TestTiCDCEndpoints(t *testing.T) {
	f := newFixture(t, model.Options{CDCTables: 4, CDCTablesPerTick: 1})
	f.start(1, 1)
	f.pod(simapi.ComponentTiCDC, 0, true)
	f.pod(simapi.ComponentTiCDC, 1, true)
	f.step(time.Minute) // tables balance 2/2
	st := f.state()
	c0, c1 := st.Captures[0], st.Captures[1]
	base := func(i int) string { return fmt.Sprintf("http://basic-ticdc-%d.basic-ticdc-peer.ns.svc:8301", i) }

	f.expect("GET", base(0)+"/status", "", 200,
		fmt.Sprintf(`{"version":"v8.5.0","git_hash":"0000000000000000000000000000000000000000","id":%q,"pid":1,"is_owner":true}`, c0.ID))
	captures := fmt.Sprintf(`[{"id":%q,"is_owner":true,"address":"basic-ticdc-0.basic-ticdc-peer.ns.svc:8301"},`+
		`{"id":%q,"is_owner":false,"address":"basic-ticdc-1.basic-ticdc-peer.ns.svc:8301"}]`, c0.ID, c1.ID)
	f.expect("GET", base(1)+"/api/v1/captures", "", 200, captures)
	f.expect("GET", base(0)+"/api/v1/health", "", 200, "")

	f.expect("PUT", base(0)+"/api/v1/captures/drain", fmt.Sprintf(`{"capture_id":%q}`, c0.ID), 503,
		`{"error_msg":"[CDC:ErrSchedulerRequestFailed]scheduler request failed, cannot drain the owner","error_code":"CDC:ErrSchedulerRequestFailed"}`)
	f.expect("POST", base(0)+"/api/v1/owner/resign", "", 202, "")
	f.expect("GET", base(0)+"/status", "", 200,
		fmt.Sprintf(`{"version":"v8.5.0","git_hash":"0000000000000000000000000000000000000000","id":%q,"pid":1,"is_owner":false}`, c0.ID))
	f.expect("PUT", base(1)+"/api/v1/captures/drain", fmt.Sprintf(`{"capture_id":%q}`, c0.ID), 202, `{"current_table_count":2}`)
	f.step(time.Second)
	f.expect("PUT", base(1)+"/api/v1/captures/drain", fmt.Sprintf(`{"capture_id":%q}`, c0.ID), 202, `{"current_table_count":1}`)
	f.step(time.Second)
	f.expect("PUT", base(1)+"/api/v1/captures/drain", fmt.Sprintf(`{"capture_id":%q}`, c0.ID), 202, `{"current_table_count":0}`)
	f.expect("PUT", base(1)+"/api/v1/captures/drain", `{"capture_id":"missing"}`, 400,
		`{"error_msg":"[CDC:ErrCaptureNotExist]capture not exists, missing","error_code":"CDC:ErrCaptureNotExist"}`)
	f.expect("PUT", base(1)+"/api/v1/captures/drain", `{}`, 400, `{"error_msg":"capture_id is required","error_code":"CDC:ErrAPIInvalidParam"}`)
}

func TestTiCDCSingleCaptureIsTheOwner(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentTiCDC, 0, true)
	f.expect("GET", "http://basic-ticdc-0.basic-ticdc-peer.ns.svc:8301/status", "", 200,
		fmt.Sprintf(`{"version":"v8.5.0","git_hash":"0000000000000000000000000000000000000000","id":%q,"pid":1,"is_owner":true}`,
			f.state().Captures[0].ID))
}
