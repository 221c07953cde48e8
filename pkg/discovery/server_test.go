package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/testr"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// fakeClusters is a mutable TidbCluster store.
type fakeClusters struct {
	mu       sync.Mutex
	clusters map[string]*Cluster
}

func (f *fakeClusters) GetCluster(_ context.Context, ns, name string) (*Cluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clusters[ns+"/"+name]
	if !ok {
		return nil, fmt.Errorf("tidbclusters %q not found", name)
	}
	cp := *c
	return &cp, nil
}

func (f *fakeClusters) update(key string, mutate func(*Cluster)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	mutate(f.clusters[key])
}

// fakePDs is every PD the server may reach, by base URL. A URL without an entry, or with
// up=false, is unreachable.
type fakePDs struct {
	mu     sync.Mutex
	pds    map[string]*fakePD
	dialed []string
}

type fakePD struct {
	up       bool
	peerURLs []string
}

func (f *fakePDs) set(base string, up bool, peerURLs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pds[base] = &fakePD{up: up, peerURLs: peerURLs}
}

func (f *fakePDs) dial(_ context.Context, _ pdapi.ClusterTarget, base string) (PD, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dialed = append(f.dialed, base)
	return pdView{f: f, base: base}, nil
}

type pdView struct {
	f    *fakePDs
	base string
}

func (v pdView) get() (*fakePD, error) {
	v.f.mu.Lock()
	defer v.f.mu.Unlock()
	pd := v.f.pds[v.base]
	if pd == nil || !pd.up {
		return nil, fmt.Errorf("Get %q: dial tcp: connection refused", v.base)
	}
	return pd, nil
}

func (v pdView) Members(context.Context) (*pdapi.MembersInfo, error) {
	pd, err := v.get()
	if err != nil {
		return nil, err
	}
	info := &pdapi.MembersInfo{}
	for i, u := range pd.peerURLs {
		info.Members = append(info.Members, &pdapi.Member{Name: fmt.Sprintf("m%d", i), PeerURLs: []string{u}})
	}
	return info, nil
}

func (v pdView) Health(context.Context) ([]pdapi.MemberHealth, error) {
	if _, err := v.get(); err != nil {
		return nil, err
	}
	return []pdapi.MemberHealth{{Name: "m0", Health: true}}, nil
}

// env is a discovery server for namespace "default" behind an httptest server.
type env struct {
	t        *testing.T
	clusters *fakeClusters
	pds      *fakePDs
	url      string
	server   *Server
}

func newEnv(t *testing.T, clusters map[string]*Cluster, mutate ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clusters: &fakeClusters{clusters: clusters}, pds: &fakePDs{pds: map[string]*fakePD{}}}
	cfg := Config{Namespace: "default", Clusters: e.clusters, PD: e.pds.dial, Logger: testr.New(t)}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.server = srv
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

// ask is what a start script does: GET /new/<base64> and read the answer.
func (e *env) ask(advertisePeerURL string, c Component) (string, int) {
	e.t.Helper()
	ans, err := Ask(context.Background(), http.DefaultClient, NewURL(e.url, advertisePeerURL, c))
	if err != nil {
		return "", pdapi.StatusCode(err)
	}
	return ans, http.StatusOK
}

func peer(pod, tc, ns string) string { return fmt.Sprintf("%s.%s-pd-peer.%s.svc:2380", pod, tc, ns) }

const basicPD = "http://basic-pd.default:2379"

func TestThreePodsBootstrapExactlyOnce(t *testing.T) {
	e := newEnv(t, map[string]*Cluster{"default/basic": {ResourceVersion: "1", Replicas: 3, LocalPD: true}})
	p0, p1, p2 := peer("basic-pd-0", "basic", "default"), peer("basic-pd-1", "basic", "default"), peer("basic-pd-2", "basic", "default")

	var answers []string
	step := func(pod string, wantCode int, want string) {
		t.Helper()
		got, code := e.ask(pod, ComponentPD)
		if code != wantCode || got != want {
			t.Fatalf("%s: got %d %q, want %d %q", pod, code, got, wantCode, want)
		}
		answers = append(answers, got)
	}

	// PD is not running yet: the first two askers are told to retry.
	step(p0, 500, "")
	step(p1, 500, "")
	// The third question completes the replica count: that pod starts the cluster alone.
	step(p2, 200, "--initial-cluster=basic-pd-2=http://"+p2)
	// The retries now join the member that exists.
	e.pds.set(basicPD, true, "http://"+p2)
	step(p0, 200, "--join=http://basic-pd-2.basic-pd-peer.default.svc:2379")
	e.pds.set(basicPD, true, "http://"+p2, "http://"+p0)
	step(p1, 200, "--join=http://basic-pd-2.basic-pd-peer.default.svc:2379,http://basic-pd-0.basic-pd-peer.default.svc:2379")
	// Asking again never bootstraps a second cluster.
	step(p0, 200, "--join=http://basic-pd-2.basic-pd-peer.default.svc:2379")

	initial := 0
	for _, a := range answers {
		if strings.HasPrefix(a, "--initial-cluster=") {
			initial++
		}
	}
	if initial != 1 {
		t.Errorf("%d --initial-cluster answers, want exactly 1: %q", initial, answers)
	}
}

func TestResourceVersionChangeStartsANewRound(t *testing.T) {
	e := newEnv(t, map[string]*Cluster{"default/basic": {ResourceVersion: "1", Replicas: 3, LocalPD: true}})
	p0, p1, p2 := peer("basic-pd-0", "basic", "default"), peer("basic-pd-1", "basic", "default"), peer("basic-pd-2", "basic", "default")

	for _, p := range []string{p0, p1} {
		if _, code := e.ask(p, ComponentPD); code != 500 {
			t.Fatalf("%s: status %d, want 500 while PD is down", p, code)
		}
	}
	e.clusters.update("default/basic", func(c *Cluster) { c.ResourceVersion = "2" })
	// Without the reset p2 would complete {p0,p1,p2}; after it p2 is alone and must wait.
	if got, code := e.ask(p2, ComponentPD); code != 500 {
		t.Fatalf("p2 after the change: got %d %q, want 500", code, got)
	}
	if _, code := e.ask(p0, ComponentPD); code != 500 {
		t.Fatalf("p0: status %d", code)
	}
	got, code := e.ask(p1, ComponentPD)
	if code != 200 || got != "--initial-cluster=basic-pd-1=http://"+p1 {
		t.Fatalf("p1 completes the new round: got %d %q", code, got)
	}
}

func TestDiscoverAnswers(t *testing.T) {
	cases := map[string]struct {
		// cluster is the TidbCluster "basic" in "default".
		cluster Cluster
		// pds are the reachable PDs: base URL -> member peer URLs.
		pds map[string][]string
		// before are advertise URLs that ask first (answers ignored).
		before []string
		// asker is the advertise peer URL of the question under test.
		asker string
		// want is the answer; wantCode the status (200 when zero).
		want     string
		wantCode int
	}{
		"a single replica bootstraps at once": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--initial-cluster=basic-pd-0=http://basic-pd-0.basic-pd-peer.default.svc:2380",
		},
		"TLS clusters bootstrap with https": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true, TLS: true},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--initial-cluster=basic-pd-0=https://basic-pd-0.basic-pd-peer.default.svc:2380",
		},
		"with a cluster domain the member is named by its FQDN": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true, ClusterDomain: "cluster.local"},
			asker:   "basic-pd-0.basic-pd-peer.default.svc.cluster.local:2380",
			want:    "--initial-cluster=basic-pd-0.basic-pd-peer.default.svc.cluster.local=http://basic-pd-0.basic-pd-peer.default.svc.cluster.local:2380",
		},
		"across Kubernetes clusters the member is named by its FQDN": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true, AcrossK8s: true},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--initial-cluster=basic-pd-0.basic-pd-peer.default.svc=http://basic-pd-0.basic-pd-peer.default.svc:2380",
		},
		"PD addresses replace bootstrapping with joining them": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true, PDAddresses: []string{"http://ext-pd-0:2379", "http://ext-pd-1:2379"}},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--join=http://ext-pd-0:2379,http://ext-pd-1:2379",
		},
		"PD addresses are added to the members to join": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true, PDAddresses: []string{"http://ext-pd-0:2379"}},
			pds:     map[string][]string{basicPD: {"http://basic-pd-0.basic-pd-peer.default.svc:2380"}},
			asker:   peer("basic-pd-1", "basic", "default"),
			want:    "--join=http://basic-pd-0.basic-pd-peer.default.svc:2379,http://ext-pd-0:2379",
		},
		"PD addresses are joined while the local PD is unreachable": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true, PDAddresses: []string{"http://ext-pd-0:2379"}},
			asker:   peer("basic-pd-1", "basic", "default"),
			want:    "--join=http://ext-pd-0:2379",
		},
		"the asker is left out of its own join list": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true},
			pds:     map[string][]string{basicPD: {"http://basic-pd-0.basic-pd-peer.default.svc:2380", "http://basic-pd-1.basic-pd-peer.default.svc:2380"}},
			asker:   peer("basic-pd-1", "basic", "default"),
			want:    "--join=http://basic-pd-0.basic-pd-peer.default.svc:2379",
		},
		"a live PD wins over a complete count": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			pds:     map[string][]string{basicPD: {"http://basic-pd-2.basic-pd-peer.default.svc:2380"}},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--join=http://basic-pd-2.basic-pd-peer.default.svc:2379",
		},
		"a heterogeneous cluster joins the referenced cluster's PD and never bootstraps": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true, Ref: &pdapi.ClusterRef{Namespace: "main", Name: "origin", ClusterDomain: "cluster.local"}},
			pds:     map[string][]string{"http://origin-pd.main.svc.cluster.local:2379": {"http://origin-pd-0.origin-pd-peer.main.svc.cluster.local:2380"}},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--join=http://origin-pd-0.origin-pd-peer.main.svc.cluster.local:2379",
		},
		"a heterogeneous cluster waits while the referenced PD is down": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true, Ref: &pdapi.ClusterRef{Name: "origin"}},
			asker:    peer("basic-pd-0", "basic", "default"),
			wantCode: 500,
		},
		"peer members are asked when the local PD is down": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true, PeerClientURLs: []string{"http://other-pd-0.other-pd-peer.default.svc:2379"}},
			pds:     map[string][]string{"http://other-pd-0.other-pd-peer.default.svc:2379": {"http://other-pd-0.other-pd-peer.default.svc:2380"}},
			asker:   peer("basic-pd-0", "basic", "default"),
			want:    "--join=http://other-pd-0.other-pd-peer.default.svc:2379",
		},
		"PD down means 500 so the script retries": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true},
			asker:    peer("basic-pd-0", "basic", "default"),
			wantCode: 500,
		},
		"a reachable PD with no other member cannot be joined yet": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true},
			pds:      map[string][]string{basicPD: nil},
			asker:    peer("basic-pd-0", "basic", "default"),
			wantCode: 500,
		},
		"a pod of another namespace is refused": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			asker:    peer("basic-pd-0", "basic", "kube-system"),
			wantCode: 400,
		},
		"an address that is not a PD peer address is refused": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			asker:    "basic-tikv-0.basic-tikv-peer.default.svc:20160",
			wantCode: 400,
		},
		"an address without namespace is refused": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			asker:    "basic-pd-0.basic-pd-peer:2380",
			wantCode: 400,
		},
		"an unknown cluster is a server error": {
			cluster:  Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			asker:    peer("nope-pd-0", "nope", "default"),
			wantCode: 500,
		},
		"the echo newline in the encoded address is ignored": {
			cluster: Cluster{ResourceVersion: "1", Replicas: 1, LocalPD: true},
			asker:   peer("basic-pd-0", "basic", "default") + "\n",
			want:    "--initial-cluster=basic-pd-0=http://basic-pd-0.basic-pd-peer.default.svc:2380",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := tc.cluster
			e := newEnv(t, map[string]*Cluster{"default/basic": &c})
			for base, members := range tc.pds {
				e.pds.set(base, true, members...)
			}
			for _, b := range tc.before {
				e.ask(b, ComponentPD)
			}
			got, code := e.ask(tc.asker, ComponentPD)
			wantCode := tc.wantCode
			if wantCode == 0 {
				wantCode = 200
			}
			if code != wantCode || got != tc.want {
				t.Errorf("got %d %q, want %d %q", code, got, wantCode, tc.want)
			}
		})
	}
}

func TestClusterNameScope(t *testing.T) {
	clusters := map[string]*Cluster{
		"default/basic": {ResourceVersion: "1", Replicas: 1, LocalPD: true},
		"default/other": {ResourceVersion: "1", Replicas: 1, LocalPD: true},
	}
	e := newEnv(t, clusters, func(c *Config) { c.ClusterName = "basic" })
	if _, code := e.ask(peer("other-pd-0", "other", "default"), ComponentPD); code != 400 {
		t.Errorf("a pod of another cluster: status %d, want 400", code)
	}
	if _, code := e.ask(peer("basic-pd-0", "basic", "default"), ComponentPD); code != 200 {
		t.Errorf("a pod of the served cluster: status %d, want 200", code)
	}
}

// fakeDM serves DM-master questions.
type fakeDM struct {
	cluster Cluster
	masters []string
	err     error
}

func (f *fakeDM) GetDMCluster(context.Context, string, string) (*Cluster, error) {
	c := f.cluster
	return &c, nil
}

func (f *fakeDM) MasterPeerURLs(context.Context, string, string, *Cluster) ([]string, error) {
	return f.masters, f.err
}

func TestDMMasters(t *testing.T) {
	dmPeer := func(i int) string { return fmt.Sprintf("dm-dm-master-%d.dm-dm-master-peer.default.svc:8291", i) }
	t.Run("without a DM source the dm component is not served", func(t *testing.T) {
		e := newEnv(t, map[string]*Cluster{})
		if _, code := e.ask(dmPeer(0), ComponentDM); code != 404 {
			t.Errorf("status %d, want 404", code)
		}
	})
	t.Run("dm-masters bootstrap once and then join on the client port", func(t *testing.T) {
		dm := &fakeDM{cluster: Cluster{ResourceVersion: "1", Replicas: 2}, err: errors.New("no masters")}
		e := newEnv(t, map[string]*Cluster{}, func(c *Config) { c.DM = dm })
		if _, code := e.ask(dmPeer(0), ComponentDM); code != 500 {
			t.Fatalf("first master: status %d, want 500", code)
		}
		got, code := e.ask(dmPeer(1), ComponentDM)
		if code != 200 || got != "--initial-cluster=dm-dm-master-1=http://"+dmPeer(1) {
			t.Fatalf("second master: %d %q", code, got)
		}
		dm.err, dm.masters = nil, []string{"http://" + dmPeer(1)}
		got, code = e.ask(dmPeer(0), ComponentDM)
		if code != 200 || got != "--join=http://dm-dm-master-1.dm-dm-master-peer.default.svc:8261" {
			t.Fatalf("retry: %d %q", code, got)
		}
	})
}

func TestVerify(t *testing.T) {
	cases := map[string]struct {
		// cluster is "basic" in "default".
		cluster Cluster
		// up are the healthy PD base URLs.
		up []string
		// pdURL is the question; want the answer, wantCode the status (200 when zero).
		pdURL    string
		want     string
		wantCode int
	}{
		"a healthy local PD is confirmed": {
			cluster: Cluster{LocalPD: true},
			up:      []string{basicPD},
			pdURL:   "http://basic-pd.default:2379",
			want:    "http://basic-pd.default:2379",
		},
		"a URL without scheme gets the cluster's scheme for the check": {
			cluster: Cluster{LocalPD: true, TLS: true},
			up:      []string{"https://basic-pd:2379"},
			pdURL:   "basic-pd:2379",
			want:    "basic-pd:2379",
		},
		"an unhealthy local PD is replaced by a healthy peer member": {
			cluster: Cluster{LocalPD: true, PeerClientURLs: []string{"http://a-pd-0.a-pd-peer.default.svc:2379", "http://b-pd-0.b-pd-peer.default.svc:2379"}},
			up:      []string{"http://b-pd-0.b-pd-peer.default.svc:2379"},
			pdURL:   "http://basic-pd.default:2379",
			want:    "http://b-pd-0.b-pd-peer.default.svc:2379",
		},
		"a cluster without PD goes straight to its peers": {
			cluster: Cluster{PeerClientURLs: []string{"http://a-pd-0.a-pd-peer.default.svc:2379"}},
			up:      []string{basicPD, "http://a-pd-0.a-pd-peer.default.svc:2379"},
			pdURL:   "http://basic-pd.default:2379",
			want:    "http://a-pd-0.a-pd-peer.default.svc:2379",
		},
		"with nothing healthy the URL comes back unchanged": {
			cluster: Cluster{LocalPD: true, PeerClientURLs: []string{"http://a-pd-0.a-pd-peer.default.svc:2379"}},
			pdURL:   "http://basic-pd.default:2379",
			want:    "http://basic-pd.default:2379",
		},
		"a PD of another namespace is refused": {
			cluster:  Cluster{LocalPD: true},
			pdURL:    "http://basic-pd.elsewhere:2379",
			wantCode: 400,
		},
		"a URL that names no PD service is refused": {
			cluster:  Cluster{LocalPD: true},
			pdURL:    "http://basic-tidb.default:4000",
			wantCode: 400,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := tc.cluster
			e := newEnv(t, map[string]*Cluster{"default/basic": &c})
			for _, u := range tc.up {
				e.pds.set(u, true)
			}
			got, err := Ask(context.Background(), http.DefaultClient, VerifyURL(e.url, tc.pdURL))
			code := 200
			if err != nil {
				code = pdapi.StatusCode(err)
			}
			wantCode := tc.wantCode
			if wantCode == 0 {
				wantCode = 200
			}
			if code != wantCode || got != tc.want {
				t.Errorf("got %d %q (%v), want %d %q", code, got, err, wantCode, tc.want)
			}
		})
	}
}

func TestHTTPRouting(t *testing.T) {
	e := newEnv(t, map[string]*Cluster{})
	cases := map[string]struct {
		// method and path of the request; want the status.
		method, path string
		want         int
	}{
		"an unknown path is 404":             {method: "GET", path: "/status", want: 404},
		"a POST is refused":                  {method: "POST", path: "/new/YQ==", want: 405},
		"a path that is not base64 is 400":   {method: "GET", path: "/new/***", want: 400},
		"verify with bad base64 is 400":      {method: "GET", path: "/verify/@@@", want: 400},
		"an unknown component suffix is 400": {method: "GET", path: "/new/" + encode(peer("basic-pd-0", "basic", "default")) + "/tikv", want: 400},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.url+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}
