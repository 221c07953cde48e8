package sim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is a started simulator with a fake clock, an admin client and an HTTP client that
// goes through the simulator as its proxy, like the operator does.
type fixture struct {
	t     *testing.T
	clock *model.FakeClock
	model *model.Model
	srv   *sim.Server
	url   string
	admin *simapi.Client
	proxy *http.Client
	uids  map[string]int
}

func newFixture(t *testing.T, opts model.Options) *fixture {
	t.Helper()
	clock := model.NewFakeClock(t0)
	opts.Clock = clock
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	m := model.New(opts)
	srv := sim.New(sim.Options{Model: m, Seed: 1})
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	proxyURL, _ := url.Parse(base)
	return &fixture{
		t: t, clock: clock, model: m, srv: srv, url: base,
		admin: simapi.NewClient(base),
		proxy: &http.Client{
			Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), DisableKeepAlives: true},
			Timeout:   5 * time.Second,
		},
		uids: map[string]int{},
	}
}

func (f *fixture) ctx() context.Context { return context.Background() }

// pod feeds a pod through the admin API.
func (f *fixture) pod(comp string, ord int, running bool) {
	f.t.Helper()
	name := fmt.Sprintf("basic-%s-%d", comp, ord)
	if f.uids[name] == 0 {
		f.uids[name] = 1
	}
	err := f.admin.PutPod(f.ctx(), simapi.Pod{
		Namespace: "ns", Name: name, UID: fmt.Sprintf("%s-%d", name, f.uids[name]), Cluster: "basic",
		Component: comp, Running: running, Image: "pingcap/" + comp + ":v8.5.0",
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// recreate replaces a pod with a new running instance (new UID).
func (f *fixture) recreate(comp string, ord int) {
	f.t.Helper()
	name := fmt.Sprintf("basic-%s-%d", comp, ord)
	if err := f.admin.DeletePod(f.ctx(), "ns", name); err != nil {
		f.t.Fatal(err)
	}
	f.uids[name]++
	f.pod(comp, ord, true)
}

func (f *fixture) start(pds, tikvs int) {
	f.t.Helper()
	for i := range pds {
		f.pod(simapi.ComponentPD, i, true)
	}
	for i := range tikvs {
		f.pod(simapi.ComponentTiKV, i, true)
	}
	f.step(time.Minute)
}

func (f *fixture) step(d time.Duration) { f.clock.Step(d); f.model.Advance() }

func (f *fixture) state() simapi.ClusterState {
	f.t.Helper()
	st, err := f.admin.Cluster(f.ctx(), "ns", "basic")
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// call sends a request through the proxy and returns status and body; a transport error fails
// the test.
func (f *fixture) call(method, u, body string) (int, string) {
	f.t.Helper()
	status, out, err := f.try(method, u, body)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, u, err)
	}
	return status, out
}

func (f *fixture) try(method, u, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, "", err
	}
	resp, err := f.proxy.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// expect sends a request and compares status and body literally.
func (f *fixture) expect(method, u, body string, wantStatus int, wantBody string) {
	f.t.Helper()
	status, got := f.call(method, u, body)
	if status != wantStatus || got != wantBody {
		f.t.Fatalf("%s %s\n got %d:\n%s\nwant %d:\n%s", method, u, status, got, wantStatus, wantBody)
	}
}

const pdURL = "http://basic-pd.ns:2379"

// dedent strips the common leading tabs of a raw-string literal and its first newline, so
// expected JSON can be written indented in the test source.
func dedent(s string) string {
	s = strings.TrimPrefix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}
