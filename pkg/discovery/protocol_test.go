package discovery

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

func TestClientURLs(t *testing.T) {
	ep := Endpoint("db", ServiceName("basic"))
	if ep != "http://basic-discovery.db.svc:10261" {
		t.Errorf("endpoint %s", ep)
	}
	adv := "basic-pd-0.basic-pd-peer.db.svc:2380"
	b64 := base64.StdEncoding.EncodeToString([]byte(adv))
	cases := map[string]struct {
		// got is the URL built; want the expected one.
		got, want string
	}{
		"PD asks without a component suffix, as the v1 start script does": {
			got: NewURL(ep, adv, ComponentPD), want: ep + "/new/" + b64,
		},
		"DM-master adds /dm": {
			got:  NewURL(Endpoint("db", DMServiceName("dm")), "dm-dm-master-0.dm-dm-master-peer.db.svc:8291", ComponentDM),
			want: "http://dm-dm-discovery.db.svc:10261/new/" + base64.StdEncoding.EncodeToString([]byte("dm-dm-master-0.dm-dm-master-peer.db.svc:8291")) + "/dm",
		},
		"verify encodes the PD URL": {
			got: VerifyURL(ep+"/", "http://basic-pd:2379"), want: ep + "/verify/" + base64.StdEncoding.EncodeToString([]byte("http://basic-pd:2379")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s\nwant %s", tc.got, tc.want)
			}
		})
	}
}

// slashy finds a string whose standard base64 contains mustContain. Host names never encode
// to '/' (it needs a byte like '?'), but the routing must not depend on that.
func slashy(t *testing.T, mustContain string) string {
	t.Helper()
	for i := range 100000 {
		s := fmt.Sprintf("p%d.q-pd-peer.default.svc:2380\xff\xff\xff?", i)
		if strings.Contains(encode(s), mustContain) {
			return s
		}
	}
	t.Fatalf("nothing encodes with %q", mustContain)
	return ""
}

func TestSplitNewPath(t *testing.T) {
	withSlash := slashy(t, "/")
	withDouble := slashy(t, "//")
	cases := map[string]struct {
		// rest is the path after /new/.
		rest string
		// want and wantComp are the decoded URL and component; ok whether it decodes.
		want     string
		wantComp Component
		ok       bool
	}{
		"plain":                      {rest: encode("a.b-pd-peer.c:2380"), want: "a.b-pd-peer.c:2380", wantComp: ComponentPD, ok: true},
		"explicit pd":                {rest: encode("a.b-pd-peer.c:2380") + "/pd", want: "a.b-pd-peer.c:2380", wantComp: ComponentPD, ok: true},
		"dm":                         {rest: encode("a.b-dm-master-peer.c:8291") + "/dm", want: "a.b-dm-master-peer.c:8291", wantComp: ComponentDM, ok: true},
		"a slash inside the base64":  {rest: encode(withSlash), want: withSlash, wantComp: ComponentPD, ok: true},
		"a double slash and dm":      {rest: encode(withDouble) + "/dm", want: withDouble, wantComp: ComponentDM, ok: true},
		"URL-safe alphabet accepted": {rest: base64.URLEncoding.EncodeToString([]byte(withSlash)), want: withSlash, wantComp: ComponentPD, ok: true},
		"not base64":                 {rest: "!!", ok: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, comp, ok := splitNewPath(tc.rest)
			if ok != tc.ok || (ok && (got != tc.want || comp != tc.wantComp)) {
				t.Errorf("got %q %q %v, want %q %q %v", got, comp, ok, tc.want, tc.wantComp, tc.ok)
			}
		})
	}
}

// pdRouter plays every PD behind an HTTP proxy: requests arrive in absolute form and are
// answered by host, the way tests reach the simulator through HTTP_PROXY.
type pdRouter struct {
	mu      sync.Mutex
	members map[string][]string // host -> peer URLs; absent host is down
	hosts   []string
}

func (p *pdRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hosts = append(p.hosts, r.URL.Host+r.URL.Path)
	members, ok := p.members[r.URL.Host]
	if !ok || !r.URL.IsAbs() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	switch r.URL.Path {
	case "/pd/api/v1/members":
		var parts []string
		for i, m := range members {
			parts = append(parts, fmt.Sprintf(`{"name":"m%d","member_id":%d,"peer_urls":[%q],"client_urls":[]}`, i, i+1, m))
		}
		_, _ = io.WriteString(w, `{"header":{"cluster_id":1},"members":[`+strings.Join(parts, ",")+`]}`)
	case "/dashboard/api/info":
		_, _ = io.WriteString(w, "dashboard via "+r.Host)
	default:
		http.NotFound(w, r)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestRunServesTheProtocolAndTheDashboardProxy(t *testing.T) {
	router := &pdRouter{members: map[string][]string{
		"basic-pd.default:2379": {"http://basic-pd-1.basic-pd-peer.default.svc:2380"},
	}}
	proxySrv := httptest.NewServer(router)
	defer proxySrv.Close()
	proxyURL, _ := url.Parse(proxySrv.URL)

	addr, proxyAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Config: Config{
				Namespace:   "default",
				ClusterName: "basic",
				Clusters: ClusterGetterFunc(func(context.Context, string, string) (*Cluster, error) {
					return &Cluster{ResourceVersion: "1", Replicas: 3, LocalPD: true}, nil
				}),
				Logger: testr.New(t),
			},
			Addr:      addr,
			ProxyAddr: proxyAddr,
			HTTP:      pdapi.HTTPOptions{Proxy: http.ProxyURL(proxyURL)},
		})
	}()

	ask := func(u string) (string, error) {
		var (
			got string
			err error
		)
		for range 50 { // the server may still be starting
			got, err = Ask(context.Background(), http.DefaultClient, u)
			if err == nil || pdapi.StatusCode(err) != 0 {
				return got, err
			}
			time.Sleep(20 * time.Millisecond)
		}
		return got, err
	}
	got, err := ask(NewURL("http://"+addr, "basic-pd-0.basic-pd-peer.default.svc:2380", ComponentPD))
	if err != nil {
		t.Fatal(err)
	}
	if got != "--join=http://basic-pd-1.basic-pd-peer.default.svc:2379" {
		t.Errorf("answer %q", got)
	}
	got, err = ask("http://" + proxyAddr + "/dashboard/api/info")
	if err != nil {
		t.Fatal(err)
	}
	if got != "dashboard via basic-pd.default:2379" {
		t.Errorf("dashboard proxy answered %q", got)
	}
	if _, err := ask("http://" + proxyAddr + "/pd/api/v1/members"); pdapi.StatusCode(err) != 404 {
		t.Errorf("only /dashboard is proxied, got %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestRunRejectsIncompleteOptions(t *testing.T) {
	cases := map[string]Options{
		"TLS without a certificate directory": {TLS: true, Config: Config{Namespace: "default", Clusters: ClusterGetterFunc(nil)}},
		"no namespace":                        {Addr: "127.0.0.1:0", Config: Config{Clusters: ClusterGetterFunc(nil)}},
		"no cluster getter":                   {Addr: "127.0.0.1:0", Config: Config{Namespace: "default"}},
		"dashboard proxy without cluster":     {Addr: "127.0.0.1:0", ProxyAddr: "127.0.0.1:0", Config: Config{Namespace: "default", Clusters: ClusterGetterFunc(nil)}},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := Run(ctx, opts); err == nil {
				t.Error("expected an error")
			}
		})
	}
}
