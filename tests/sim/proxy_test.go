package sim_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func TestParseHost(t *testing.T) {
	cases := map[string]struct {
		host string
		want sim.Target
		ok   bool
	}{
		"the PD service by short name":          {"basic-pd.ns:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Port: 2379}, true},
		"the PD service with .svc":              {"basic-pd.ns.svc:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Port: 2379}, true},
		"the PD service with a cluster domain":  {"basic-pd.ns.svc.cluster.local:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Port: 2379}, true},
		"the headless PD service":               {"basic-pd-peer.ns.svc:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Port: 2379}, true},
		"a PD member":                           {"basic-pd-0.basic-pd-peer.ns.svc:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Pod: "basic-pd-0", Port: 2379}, true},
		"a PD member with a cluster domain":     {"basic-pd-2.basic-pd-peer.ns.svc.cluster.local:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Pod: "basic-pd-2", Port: 2379}, true},
		"a TiKV pod without .svc":               {"basic-tikv-1.basic-tikv-peer.ns:20180", sim.Target{Namespace: "ns", Cluster: "basic", Component: "tikv", Pod: "basic-tikv-1", Port: 20180}, true},
		"a TiDB pod":                            {"basic-tidb-0.basic-tidb-peer.ns.svc:10080", sim.Target{Namespace: "ns", Cluster: "basic", Component: "tidb", Pod: "basic-tidb-0", Port: 10080}, true},
		"a TiFlash pod":                         {"basic-tiflash-0.basic-tiflash-peer.ns:20292", sim.Target{Namespace: "ns", Cluster: "basic", Component: "tiflash", Pod: "basic-tiflash-0", Port: 20292}, true},
		"a TiCDC pod":                           {"basic-ticdc-3.basic-ticdc-peer.ns.svc:8301", sim.Target{Namespace: "ns", Cluster: "basic", Component: "ticdc", Pod: "basic-ticdc-3", Port: 8301}, true},
		"the TSO service":                       {"basic-tso.ns:2379", sim.Target{Namespace: "ns", Cluster: "basic", Component: "tso", Port: 2379}, true},
		"a cluster whose name ends like a role": {"my-pd-pd.ns:2379", sim.Target{Namespace: "ns", Cluster: "my-pd", Component: "pd", Port: 2379}, true},
		"no port means 80":                      {"basic-pd.ns", sim.Target{Namespace: "ns", Cluster: "basic", Component: "pd", Port: 80}, true},
		"an unrelated host":                     {"example.com:80", sim.Target{}, false},
		"a pod of a non-peer service":           {"basic-pd-0.basic-pd.ns.svc:2379", sim.Target{}, false},
		"a pod that does not match its service": {"other-0.basic-tikv-peer.ns:20180", sim.Target{}, false},
		"loopback":                              {"127.0.0.1:2379", sim.Target{}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := sim.ParseHost(tc.host)
			if tc.ok {
				tc.want.Host = tc.host
			}
			if ok != tc.ok || got != tc.want {
				t.Fatalf("ParseHost(%q) = %+v, %v; want %+v, %v", tc.host, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestProxyRoutesEveryPDAddressForm(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(3, 0)
	for _, host := range []string{
		"basic-pd.ns:2379", "basic-pd.ns.svc:2379", "basic-pd.ns.svc.cluster.local:2379", "basic-pd-peer.ns:2379",
		"basic-pd-1.basic-pd-peer.ns.svc:2379", "basic-pd-1.basic-pd-peer.ns.svc.cluster.local:2379", "basic-pd-2.basic-pd-peer.ns:2379",
	} {
		status, body := f.call("GET", "http://"+host+"/pd/api/v1/leader", "")
		if status != 200 || !strings.Contains(body, `"name": "basic-pd-0"`) {
			t.Fatalf("%s: %d %s", host, status, body)
		}
	}
}

func TestDirectRequestsRouteByHostHeader(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 0)
	req, _ := http.NewRequest("GET", f.url+"/pd/api/v1/health", nil)
	req.Host = "basic-pd.ns.svc:2379"
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"health": true`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestProxyAnswersForHostsWithoutARunningProcess(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentTiDB, 0, false)
	cases := map[string]struct {
		url        string
		wantStatus int    // 0: the connection must fail
		wantBody   string // for a status answer
	}{
		"an unknown cluster is a DNS failure":          {"http://other-pd.ns:2379/pd/api/v1/health", 502, "dial tcp: lookup other-pd.ns: no such host\n"},
		"an unknown pod is a DNS failure":              {"http://basic-tikv-7.basic-tikv-peer.ns.svc:20180/metrics", 502, "dial tcp: lookup basic-tikv-7.basic-tikv-peer.ns.svc: no such host\n"},
		"an unrelated host is a DNS failure":           {"http://example.invalid/", 502, "dial tcp: lookup example.invalid: no such host\n"},
		"a pod that is not running refuses":            {"http://basic-tidb-0.basic-tidb-peer.ns.svc:10080/status", 0, ""},
		"a port nothing listens on refuses":            {"http://basic-tikv-0.basic-tikv-peer.ns.svc:20181/metrics", 0, ""},
		"the TiDB service without running TiDB fails":  {"http://basic-tidb.ns:10080/status", 0, ""},
		"an unknown path is 404":                       {"http://basic-pd.ns:2379/pd/api/v1/nope", 404, "404 page not found\n"},
		"admin paths are not served through the proxy": {"http://basic-pd.ns:2379/_sim/calls", 404, "404 page not found\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, body, err := f.try("GET", tc.url, "")
			if tc.wantStatus == 0 {
				if err == nil {
					t.Fatalf("want a connection error, got %d %q", status, body)
				}
				return
			}
			if err != nil || status != tc.wantStatus || body != tc.wantBody {
				t.Fatalf("got %d %q %v; want %d %q", status, body, err, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestPDServiceRefusesWhenNoPDPodRuns(t *testing.T) {
	f := newFixture(t, model.Options{})
	f.start(1, 1)
	f.pod(simapi.ComponentPD, 0, false)
	if status, body, err := f.try("GET", pdURL+"/pd/api/v1/health", ""); err == nil {
		t.Fatalf("want connection refused, got %d %s", status, body)
	}
	f.pod(simapi.ComponentPD, 0, true)
	f.call("GET", pdURL+"/pd/api/v1/health", "")
}

func TestConnectIsNotSupported(t *testing.T) {
	f := newFixture(t, model.Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	// Only PD's client port is tunnelled (to etcd, see connect_test.go); other hosts refuse.
	if _, err := fmt.Fprintf(conn, "CONNECT basic-tikv-0.basic-tikv-peer.ns:20180 HTTP/1.1\r\nHost: basic-tikv-0.basic-tikv-peer.ns:20180\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestAdminIsServedDirectly(t *testing.T) {
	f := newFixture(t, model.Options{})
	if err := f.admin.Healthz(f.ctx()); err != nil {
		t.Fatal(err)
	}
	f.start(1, 0)
	refs, err := f.admin.Clusters(f.ctx())
	if err != nil || len(refs) != 1 || refs[0] != (simapi.ClusterRef{Namespace: "ns", Name: "basic"}) {
		t.Fatalf("%v %v", refs, err)
	}
	pods, err := f.admin.Pods(f.ctx())
	if err != nil || len(pods) != 1 || pods[0].Name != "basic-pd-0" {
		t.Fatalf("%v %v", pods, err)
	}
	if _, err := f.admin.Cluster(f.ctx(), "ns", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown cluster: %v", err)
	}
	if err := f.admin.PutPod(f.ctx(), simapi.Pod{Namespace: "ns", Name: "x", Cluster: "basic", Component: "pump"}); err == nil {
		t.Fatal("a pod of an unsimulated component was accepted")
	}
	if err := f.admin.ForgetCluster(f.ctx(), "ns", "basic"); err != nil {
		t.Fatal(err)
	}
	if refs, _ := f.admin.Clusters(f.ctx()); len(refs) != 0 {
		t.Fatalf("cluster not forgotten: %v", refs)
	}
}
