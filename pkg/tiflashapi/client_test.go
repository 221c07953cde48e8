package tiflashapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

func TestStoreStatus(t *testing.T) {
	cases := map[string]struct {
		// code and body are TiFlash's answer.
		code int
		body string
		// want is the parsed status; wantStatus the status of an expected *HTTPError.
		want       StoreStatus
		wantStatus int
	}{
		"the raw body is the status":          {code: 200, body: "Running", want: StoreStatusRunning},
		"a trailing newline is ignored":       {code: 200, body: "Stopping\n", want: StoreStatusStopping},
		"an unknown status is passed through": {code: 200, body: "Warming", want: StoreStatus("Warming")},
		"an error status is an HTTP error":    {code: 404, body: "not found", wantStatus: 404},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Method + " " + r.URL.Path
				w.WriteHeader(tc.code)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := New(srv.URL, pdapi.NewHTTPClient(pdapi.HTTPOptions{}, nil))
			status, err := c.StoreStatus(context.Background())
			if got != "GET /tiflash/store-status" {
				t.Errorf("request %q", got)
			}
			if tc.wantStatus != 0 {
				if pdapi.StatusCode(err) != tc.wantStatus {
					t.Fatalf("error %v, want HTTP %d", err, tc.wantStatus)
				}
				return
			}
			if err != nil || status != tc.want {
				t.Fatalf("got %q, %v; want %q", status, err, tc.want)
			}
		})
	}
}

func TestProxyStatusURL(t *testing.T) {
	if got, want := ProxyStatusURL(Pod{Namespace: "db", Cluster: "basic", Name: "basic-tiflash-0"}), "http://basic-tiflash-0.basic-tiflash-peer.db:20292"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := ProxyStatusURL(Pod{Namespace: "db", Cluster: "basic", Name: "basic-tiflash-1", ClusterDomain: "cluster.local", TLS: true}), "https://basic-tiflash-1.basic-tiflash-peer.db.svc.cluster.local:20292"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
