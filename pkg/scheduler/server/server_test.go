package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
)

// fakeExtender answers from fixed values and records what it saw.
type fakeExtender struct {
	filterErr   error
	mu          sync.Mutex
	sawPod      string
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
	hold        time.Duration
}

func (f *fakeExtender) enter() func() {
	n := f.inFlight.Add(1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(f.hold)
	return func() { f.inFlight.Add(-1) }
}

func (f *fakeExtender) Filter(_ context.Context, args *extenderv1.ExtenderArgs) (*extenderv1.ExtenderFilterResult, error) {
	defer f.enter()()
	if f.filterErr != nil {
		return nil, f.filterErr
	}
	f.mu.Lock()
	f.sawPod = args.Pod.Name
	f.mu.Unlock()
	// Keep only the first node, as an HA predicate might.
	return &extenderv1.ExtenderFilterResult{Nodes: &corev1.NodeList{Items: args.Nodes.Items[:1]}}, nil
}

func (f *fakeExtender) Prioritize(_ context.Context, args *extenderv1.ExtenderArgs) (extenderv1.HostPriorityList, error) {
	out := extenderv1.HostPriorityList{}
	for _, n := range args.Nodes.Items {
		out = append(out, extenderv1.HostPriority{Host: n.Name, Score: 0})
	}
	return out, nil
}

func (f *fakeExtender) Preempt(_ context.Context, args *extenderv1.ExtenderPreemptionArgs) (*extenderv1.ExtenderPreemptionResult, error) {
	defer f.enter()()
	out := &extenderv1.ExtenderPreemptionResult{NodeNameToMetaVictims: map[string]*extenderv1.MetaVictims{}}
	for node, v := range args.NodeNameToVictims {
		mv := &extenderv1.MetaVictims{NumPDBViolations: v.NumPDBViolations}
		for _, p := range v.Pods {
			mv.Pods = append(mv.Pods, &extenderv1.MetaPod{UID: string(p.UID)})
		}
		out.NodeNameToMetaVictims[node] = mv
	}
	return out, nil
}

func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec
}

// A filter request as kube-scheduler sends it: Go field names as keys, no JSON tags.
const filterBody = `{"Pod":{"metadata":{"name":"basic-pd-0","namespace":"tidb"}},
 "Nodes":{"items":[{"metadata":{"name":"node-a"}},{"metadata":{"name":"node-b"}}]},
 "NodeNames":null}`

func TestWithoutAnExtenderOnlyHealthzIsServed(t *testing.T) {
	h := New(Config{Addr: ":0", Logger: logr.Discard()}).Handler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Fatalf("/healthz = %d %q", rec.Code, rec.Body.String())
	}
	for _, path := range []string{PathFilter, PathPrioritize, PathPreempt} {
		if rec := post(t, h, path, filterBody); rec.Code != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404 when no extender is linked in", path, rec.Code)
		}
	}
}

func TestFilterSpeaksTheExtenderWireFormat(t *testing.T) {
	ext := &fakeExtender{}
	h := New(Config{Extender: ext, Logger: logr.Discard()}).Handler()

	rec := post(t, h, PathFilter, filterBody)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ext.sawPod != "basic-pd-0" {
		t.Fatalf("extender saw pod %q", ext.sawPod)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"Nodes", "NodeNames", "FailedNodes", "FailedAndUnresolvableNodes", "Error"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("response lacks key %q: %s", key, rec.Body)
		}
	}
	var res extenderv1.ExtenderFilterResult
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Nodes.Items) != 1 || res.Nodes.Items[0].Name != "node-a" {
		t.Fatalf("nodes = %+v", res.Nodes)
	}
}

func TestPrioritizeAndPreemptRoundTrip(t *testing.T) {
	h := New(Config{Extender: &fakeExtender{}, Logger: logr.Discard()}).Handler()

	rec := post(t, h, PathPrioritize, filterBody)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"Host":"node-a"`) || !strings.Contains(rec.Body.String(), `"Score":0`) {
		t.Fatalf("prioritize = %d %s", rec.Code, rec.Body)
	}

	args := extenderv1.ExtenderPreemptionArgs{
		Pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "basic-tikv-3"}},
		NodeNameToVictims: map[string]*extenderv1.Victims{
			"node-a": {Pods: []*corev1.Pod{{ObjectMeta: metav1.ObjectMeta{UID: "uid-1"}}}, NumPDBViolations: 1},
		},
	}
	body, _ := json.Marshal(args)
	rec = post(t, h, PathPreempt, string(body))
	if rec.Code != http.StatusOK {
		t.Fatalf("preempt = %d %s", rec.Code, rec.Body)
	}
	want := `{"NodeNameToMetaVictims":{"node-a":{"Pods":[{"UID":"uid-1"}],"NumPDBViolations":1}}}`
	if got := rec.Body.String(); got != want {
		t.Fatalf("preempt body = %s\nwant %s", got, want)
	}
}

func TestErrorsMapToStatusCodes(t *testing.T) {
	cases := map[string]struct {
		ext      *fakeExtender // the extender behind the server
		method   string        // HTTP method
		path     string        // request path
		body     string        // request body
		wantCode int           // expected status
		wantBody string        // substring of the response body
	}{
		"a body that is not JSON is a client error": {
			&fakeExtender{}, http.MethodPost, PathFilter, `{"Pod":`, http.StatusBadRequest, "decoding the request body",
		},
		"an extender error is a server error carrying its message": {
			&fakeExtender{filterErr: errors.New("fail-scheduler annotation present")}, http.MethodPost, PathFilter, filterBody,
			http.StatusInternalServerError, "fail-scheduler annotation present",
		},
		"only POST is accepted": {
			&fakeExtender{}, http.MethodGet, PathFilter, "", http.StatusMethodNotAllowed, "takes POST",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := New(Config{Extender: tc.ext, Logger: logr.Discard()}).Handler()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			if rec.Code != tc.wantCode || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body.String(), tc.wantCode, tc.wantBody)
			}
		})
	}
}

func TestRequestsAreNotSerialised(t *testing.T) {
	ext := &fakeExtender{hold: 50 * time.Millisecond}
	h := New(Config{Extender: ext, Logger: logr.Discard()}).Handler()
	preempt, _ := json.Marshal(extenderv1.ExtenderPreemptionArgs{Pod: &corev1.Pod{}})

	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); post(t, h, PathFilter, filterBody) }()
		go func() { defer wg.Done(); post(t, h, PathPreempt, string(preempt)) }()
	}
	wg.Wait()
	if m := ext.maxInFlight.Load(); m < 2 {
		t.Fatalf("at most %d filter/preempt calls ran at once; the frame must not serialise them", m)
	}
}

func TestMetricsCountRequestsAndServePprof(t *testing.T) {
	s := New(Config{Extender: &fakeExtender{}, Logger: logr.Discard()})
	post(t, s.Handler(), PathFilter, filterBody)
	post(t, s.Handler(), PathFilter, `not json`)

	srv := httptest.NewServer(s.MetricsHandler())
	defer srv.Close()
	body := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`tidb_scheduler_extender_requests_total{code="200",verb="filter"} 1`,
		`tidb_scheduler_extender_requests_total{code="400",verb="filter"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(get(t, srv.URL+"/debug/pprof/"), "goroutine") {
		t.Error("/debug/pprof/ is not served")
	}
}

func TestRunServesUntilCancelledThenShutsDown(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	s := New(Config{Addr: addr, MetricsAddr: metricsAddr, Logger: logr.Discard(), ShutdownTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, "http://"+addr+"/healthz")
	if body := get(t, "http://"+addr+"/healthz"); body != "ok" {
		t.Fatalf("/healthz = %q", body)
	}
	if body := get(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(body, "process_") {
		t.Fatalf("/metrics lacks the process collector")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run() = %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("the extender port still answers after shutdown")
	}
}

func TestRunReportsAPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	s := New(Config{Addr: l.Addr().String(), MetricsAddr: "0", Logger: logr.Discard()})
	err = s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listening for the extender server on "+l.Addr().String()) {
		t.Fatalf("Run() = %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitFor(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}
