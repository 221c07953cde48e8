package ticdcapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

const capturesJSON = `[
  {"id":"6f1f0a7e-1","is_owner":true,"address":"basic-ticdc-0.basic-ticdc-peer.db.svc:8301"},
  {"id":"6f1f0a7e-2","is_owner":false,"address":"basic-ticdc-1.basic-ticdc-peer.db.svc:8301"}
]`

// fakeCDC answers one status and body, and records the request.
type fakeCDC struct {
	code int
	body string
	seen string
	sent string
}

func (f *fakeCDC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.seen, f.sent = r.Method+" "+r.URL.Path, string(b)
	w.WriteHeader(f.code)
	_, _ = io.WriteString(w, f.body)
}

func start(t *testing.T, code int, body string) (*fakeCDC, Client) {
	t.Helper()
	f := &fakeCDC{code: code, body: body}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, New(srv.URL, pdapi.NewHTTPClient(pdapi.HTTPOptions{}, nil))
}

func TestCalls(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		// code and body are TiCDC's answer.
		code int
		body string
		// call performs the request and returns its result.
		call func(Client) (any, error)
		// wantRequest is "METHOD /path"; wantSent the request body.
		wantRequest string
		wantSent    string
		// want is the result; wantErr an error matched with errors.Is.
		want    any
		wantErr error
	}{
		"status reports id, version and ownership": {
			code: 200, body: `{"version":"v8.5.0","git_hash":"x","id":"6f1f0a7e-1","pid":1,"is_owner":true}`,
			call:        func(c Client) (any, error) { return c.Status(ctx) },
			wantRequest: "GET /status",
			want:        &Status{ID: "6f1f0a7e-1", Version: "v8.5.0", IsOwner: true},
		},
		"captures are listed": {
			code: 200, body: capturesJSON,
			call:        func(c Client) (any, error) { return c.Captures(ctx) },
			wantRequest: "GET /api/v1/captures",
			want: []Capture{
				{ID: "6f1f0a7e-1", IsOwner: true, Address: "basic-ticdc-0.basic-ticdc-peer.db.svc:8301"},
				{ID: "6f1f0a7e-2", Address: "basic-ticdc-1.basic-ticdc-peer.db.svc:8301"},
			},
		},
		"captures on an old version are unsupported": {
			code: 404, body: "404 page not found",
			call:        func(c Client) (any, error) { return c.Captures(ctx) },
			wantRequest: "GET /api/v1/captures",
			wantErr:     ErrUnsupported,
		},
		"captures while TiCDC is busy ask for a retry": {
			code: 503, body: "owner not found",
			call:        func(c Client) (any, error) { return c.Captures(ctx) },
			wantRequest: "GET /api/v1/captures",
			wantErr:     ErrUnavailable,
		},
		"owner resign is a POST and accepts 202": {
			code: 202, body: "",
			call:        func(c Client) (any, error) { return nil, c.ResignOwner(ctx) },
			wantRequest: "POST /api/v1/owner/resign",
		},
		"owner resign during an election asks for a retry": {
			code:        503,
			call:        func(c Client) (any, error) { return nil, c.ResignOwner(ctx) },
			wantRequest: "POST /api/v1/owner/resign",
			wantErr:     ErrUnavailable,
		},
		"drain sends the capture ID and returns the remaining table count": {
			code: 202, body: `{"current_table_count":12}`,
			call:        func(c Client) (any, error) { return c.DrainCapture(ctx, "6f1f0a7e-2") },
			wantRequest: "PUT /api/v1/captures/drain",
			wantSent:    `{"capture_id":"6f1f0a7e-2"}`,
			want:        12,
		},
		"drain on an old version is unsupported": {
			code:        404,
			call:        func(c Client) (any, error) { return c.DrainCapture(ctx, "x") },
			wantRequest: "PUT /api/v1/captures/drain",
			wantSent:    `{"capture_id":"x"}`,
			wantErr:     ErrUnsupported,
		},
		"health is fine on 200": {
			code: 200, body: "{}",
			call:        func(c Client) (any, error) { return nil, c.Health(ctx) },
			wantRequest: "GET /api/v1/health",
		},
		"health of a version without the endpoint is fine": {
			code:        404,
			call:        func(c Client) (any, error) { return nil, c.Health(ctx) },
			wantRequest: "GET /api/v1/health",
		},
		"health on 500 is unhealthy": {
			code: 500, body: "changefeed stuck",
			call:        func(c Client) (any, error) { return nil, c.Health(ctx) },
			wantRequest: "GET /api/v1/health",
			wantErr:     &pdapi.HTTPError{Code: 500},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, c := start(t, tc.code, tc.body)
			got, err := tc.call(c)
			if f.seen != tc.wantRequest || f.sent != tc.wantSent {
				t.Errorf("request %q %q, want %q %q", f.seen, f.sent, tc.wantRequest, tc.wantSent)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				if pdapi.StatusCode(err) != tc.code {
					t.Errorf("error %v should carry status %d", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestFindCapture(t *testing.T) {
	captures := []Capture{
		{ID: "a", Address: "basic-ticdc-1.basic-ticdc-peer.db.svc:8301"},
		{ID: "b", Address: "basic-ticdc-10.basic-ticdc-peer.db.svc:8301"},
		{ID: "c", Address: "http://basic-ticdc-2.basic-ticdc-peer.db2:8301"},
	}
	cases := map[string]struct {
		// pod is the TiCDC pod to look up.
		pod Pod
		// want is the matching capture ID, empty for none.
		want string
	}{
		"the pod's capture is found by address":            {pod: Pod{Namespace: "db", Cluster: "basic", Name: "basic-ticdc-1"}, want: "a"},
		"ordinal 1 does not match ordinal 10":              {pod: Pod{Namespace: "db", Cluster: "basic", Name: "basic-ticdc-10"}, want: "b"},
		"a pod of another namespace has no capture here":   {pod: Pod{Namespace: "other", Cluster: "basic", Name: "basic-ticdc-1"}},
		"a namespace that prefixes another does not match": {pod: Pod{Namespace: "db", Cluster: "basic", Name: "basic-ticdc-2"}},
		"an address with a scheme still matches":           {pod: Pod{Namespace: "db2", Cluster: "basic", Name: "basic-ticdc-2"}, want: "c"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := FindCapture(captures, tc.pod)
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("found %v", got)
			case tc.want != "" && (got == nil || got.ID != tc.want):
				t.Errorf("found %v, want %s", got, tc.want)
			}
		})
	}
}

func TestURLs(t *testing.T) {
	if got, want := URL(Pod{Namespace: "db", Cluster: "basic", Name: "basic-ticdc-0"}), "http://basic-ticdc-0.basic-ticdc-peer.db:8301"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := URL(Pod{Namespace: "db", Cluster: "basic", Name: "basic-ticdc-0", ClusterDomain: "cluster.local", TLS: true}), "https://basic-ticdc-0.basic-ticdc-peer.db.svc.cluster.local:8301"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := AddressURL("basic-ticdc-0.basic-ticdc-peer.db.svc:8301", true), "https://basic-ticdc-0.basic-ticdc-peer.db.svc:8301"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
