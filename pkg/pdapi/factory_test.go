package pdapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestPrimaryURL(t *testing.T) {
	cases := map[string]struct {
		// target describes the TidbCluster.
		target ClusterTarget
		// want is the base URL.
		want string
		// wantFallbacks are tried after a failed health check.
		wantFallbacks []string
	}{
		"a plain cluster uses its PD service in its namespace": {
			target: ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true},
			want:   "http://basic-pd.db:2379",
		},
		"TLS switches to https": {
			target: ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true, TLS: true},
			want:   "https://basic-pd.db:2379",
		},
		"a cluster domain makes the name fully qualified": {
			target: ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true, ClusterDomain: "cluster.local"},
			want:   "http://basic-pd.db.svc.cluster.local:2379",
		},
		"across Kubernetes clusters the headless peer service is used": {
			target: ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true, ClusterDomain: "c1.com", AcrossK8s: true},
			want:   "http://basic-pd-peer.db.svc.c1.com:2379",
		},
		"a heterogeneous cluster without PD uses the referenced cluster's PD": {
			target: ClusterTarget{Namespace: "db", Name: "extra", Ref: &ClusterRef{Namespace: "main", Name: "basic", ClusterDomain: "cluster.local"}, TLS: true},
			want:   "https://basic-pd.main.svc.cluster.local:2379",
		},
		"a reference without namespace stays in the cluster's namespace": {
			target: ClusterTarget{Namespace: "db", Name: "extra", Ref: &ClusterRef{Name: "basic"}},
			want:   "http://basic-pd.db:2379",
		},
		"a local PD wins over a reference": {
			target: ClusterTarget{Namespace: "db", Name: "extra", LocalPD: true, Ref: &ClusterRef{Name: "basic"}},
			want:   "http://extra-pd.db:2379",
		},
		"peer members and PD addresses are fallbacks, deduplicated, in order": {
			target: ClusterTarget{
				Namespace: "db", Name: "basic", LocalPD: true,
				PeerClientURLs: []string{"http://a-pd-0.a-pd-peer.db.svc:2379", "http://b-pd-0.b-pd-peer.db.svc:2379/", "http://a-pd-0.a-pd-peer.db.svc:2379"},
				PDAddresses:    []string{"http://ext:2379"},
			},
			want:          "http://basic-pd.db:2379",
			wantFallbacks: []string{"http://a-pd-0.a-pd-peer.db.svc:2379", "http://b-pd-0.b-pd-peer.db.svc:2379", "http://ext:2379"},
		},
		"without PD or reference the first PD address is primary": {
			target:        ClusterTarget{Namespace: "db", Name: "join", PDAddresses: []string{"http://ext-0:2379/", "http://ext-1:2379"}},
			want:          "http://ext-0:2379",
			wantFallbacks: []string{"http://ext-1:2379"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.target.PrimaryURL(); got != tc.want {
				t.Errorf("primary %q, want %q", got, tc.want)
			}
			if got := tc.target.FallbackURLs(); !reflect.DeepEqual(got, tc.wantFallbacks) {
				t.Errorf("fallbacks %q, want %q", got, tc.wantFallbacks)
			}
		})
	}
}

// hostRouter is an HTTP proxy for tests: it receives absolute-URI requests and answers each with
// the fake PD registered for the request's host.
type hostRouter struct {
	mu    sync.Mutex
	hosts map[string]http.Handler
	seen  []string // "host path" of every proxied request
}

func (h *hostRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r.URL.Host+" "+r.URL.Path)
	pd := h.hosts[r.URL.Host]
	h.mu.Unlock()
	if !r.URL.IsAbs() {
		http.Error(w, "not a proxy request: "+r.RequestURI, http.StatusBadRequest)
		return
	}
	if pd == nil {
		http.Error(w, "unknown host "+r.URL.Host, http.StatusBadGateway)
		return
	}
	pd.ServeHTTP(w, r)
}

func (h *hostRouter) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

func startProxy(t *testing.T, hosts map[string]http.Handler) (*hostRouter, func(*http.Request) (*url.URL, error)) {
	t.Helper()
	r := &hostRouter{hosts: hosts}
	u, err := url.Parse(httptestServer(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return r, http.ProxyURL(u)
}

func TestRequestsGoThroughTheProxy(t *testing.T) {
	pd := newFakePD(map[string]reply{"GET /pd/api/v1/health": {200, healthJSON}})
	router, proxy := startProxy(t, map[string]http.Handler{"basic-pd.db:2379": pd})
	f := NewFactory(WithProxy(proxy))
	c, err := f.ForCluster(context.Background(), ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := router.requests(), []string{"basic-pd.db:2379 /pd/api/v1/health"}; !reflect.DeepEqual(got, want) {
		t.Errorf("proxy saw %q, want %q", got, want)
	}
	if pd.requests[0].host != "basic-pd.db:2379" {
		t.Errorf("Host header %q", pd.requests[0].host)
	}
}

func TestDefaultProxyComesFromTheEnvironment(t *testing.T) {
	tr := NewHTTPClient(HTTPOptions{}, nil).Transport.(*http.Transport)
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Error("the default transport must use http.ProxyFromEnvironment")
	}
	if tr.DisableKeepAlives {
		t.Error("plain clients keep connections alive")
	}
	tlsTr := NewHTTPClient(HTTPOptions{}, &tls.Config{MinVersion: tls.VersionTLS12}).Transport.(*http.Transport)
	if !tlsTr.DisableKeepAlives || tlsTr.TLSClientConfig == nil {
		t.Error("TLS clients carry the TLS config and disable keep-alives")
	}
}

func TestForClusterFallsBackToHealthyPeers(t *testing.T) {
	down := newFakePD(map[string]reply{"GET /pd/api/v1/health": {503, "no leader"}})
	peerDown := newFakePD(map[string]reply{"GET /pd/api/v1/health": {500, "boom"}})
	peerUp := newFakePD(map[string]reply{"GET /pd/api/v1/health": {200, healthJSON}})
	_, proxy := startProxy(t, map[string]http.Handler{
		"basic-pd.db:2379":             down,
		"a-pd-0.a-pd-peer.db.svc:2379": peerDown,
		"b-pd-0.b-pd-peer.db.svc:2379": peerUp,
		"lonely-pd.db:2379":            down,
		"healthy-pd.db:2379":           peerUp,
	})
	f := NewFactory(WithProxy(proxy))
	peers := []string{"http://a-pd-0.a-pd-peer.db.svc:2379", "http://b-pd-0.b-pd-peer.db.svc:2379"}
	cases := map[string]struct {
		// target describes the TidbCluster.
		target ClusterTarget
		// want is the base URL of the chosen client.
		want string
	}{
		"an unhealthy service with a healthy peer yields the peer": {
			target: ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true, PeerClientURLs: peers},
			want:   "http://b-pd-0.b-pd-peer.db.svc:2379",
		},
		"without peers the service is used without a health check": {
			target: ClusterTarget{Namespace: "db", Name: "lonely", LocalPD: true},
			want:   "http://lonely-pd.db:2379",
		},
		"a healthy service is kept": {
			target: ClusterTarget{Namespace: "db", Name: "healthy", LocalPD: true, PeerClientURLs: peers},
			want:   "http://healthy-pd.db:2379",
		},
		"when nothing is healthy the service client is returned": {
			target: ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true, PeerClientURLs: peers[:1]},
			want:   "http://basic-pd.db:2379",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := f.ForCluster(context.Background(), tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if c.URL() != tc.want {
				t.Errorf("chose %s, want %s", c.URL(), tc.want)
			}
		})
	}
}

func TestPlainClientsAreCachedPerURL(t *testing.T) {
	f := NewFactory()
	target := ClusterTarget{Namespace: "db", Name: "basic", LocalPD: true}
	a, _ := f.ForURL(context.Background(), target, "http://basic-pd.db:2379")
	b, _ := f.ForURL(context.Background(), target, "http://basic-pd.db:2379")
	c, _ := f.ForURL(context.Background(), target, "http://other-pd.db:2379")
	if a != b {
		t.Error("the same URL must give the cached client")
	}
	if a == c {
		t.Error("different URLs must give different clients")
	}
	hc1, _ := f.HTTPClient(context.Background(), "db", "basic", false)
	hc2, _ := f.HTTPClient(context.Background(), "db", "other", false)
	if hc1 != hc2 {
		t.Error("plain HTTP clients share one transport")
	}
}

func TestTLSClusters(t *testing.T) {
	pd := newFakePD(map[string]reply{"GET /pd/api/v1/cluster": {200, clusterJSON}})
	srv := httptest.NewTLSServer(pd)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	var asked []string
	provider := func(_ context.Context, ns, name string) (*tls.Config, error) {
		asked = append(asked, ns+"/"+name)
		return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
	}
	target := ClusterTarget{Namespace: "db", Name: "secure", LocalPD: true, TLS: true}

	t.Run("a TLS cluster without a provider is an error", func(t *testing.T) {
		_, err := NewFactory().ForURL(context.Background(), target, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "db/secure") {
			t.Fatalf("error %v should name the cluster", err)
		}
	})
	t.Run("the provider's config is used and asked for on every client", func(t *testing.T) {
		f := NewFactory(WithTLSConfig(provider))
		for range 2 {
			c, err := f.ForURL(context.Background(), target, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := c.Cluster(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if cl.ID != 7268436329376245765 {
				t.Errorf("cluster ID %d", cl.ID)
			}
		}
		if !reflect.DeepEqual(asked, []string{"db/secure", "db/secure"}) {
			t.Errorf("provider asked for %q", asked)
		}
	})
	t.Run("provider failures are reported", func(t *testing.T) {
		f := NewFactory(WithTLSConfig(func(context.Context, string, string) (*tls.Config, error) {
			return nil, errors.New("secret not found")
		}))
		_, err := f.ForURL(context.Background(), target, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "secret not found") {
			t.Fatalf("error %v", err)
		}
	})
}
