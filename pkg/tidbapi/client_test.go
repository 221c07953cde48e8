package tidbapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// recorder answers every request with code and remembers the last one.
type recorder struct {
	code        int
	method      string
	path        string
	body        string
	contentType string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.method, r.path, r.body, r.contentType = req.Method, req.URL.Path, string(b), req.Header.Get("Content-Type")
	w.WriteHeader(r.code)
	_, _ = io.WriteString(w, `{"connections":0,"version":"8.0.11-TiDB-v8.5.0","git_hash":"x"}`)
}

func start(t *testing.T, code int) (*recorder, Client) {
	t.Helper()
	rec := &recorder{code: code}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, New(srv.URL, pdapi.NewHTTPClient(pdapi.HTTPOptions{}, nil))
}

func TestHealth(t *testing.T) {
	cases := map[string]struct {
		// code is TiDB's answer to GET /status.
		code int
		// healthy is the expected verdict.
		healthy bool
	}{
		"200 is healthy":                  {code: 200, healthy: true},
		"any status below 400 is healthy": {code: 204, healthy: true},
		"400 and above are unhealthy":     {code: 400, healthy: false},
		"a server error is unhealthy":     {code: 503, healthy: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec, c := start(t, tc.code)
			err := c.Health(context.Background())
			if (err == nil) != tc.healthy {
				t.Fatalf("err %v, healthy %v", err, tc.healthy)
			}
			if !tc.healthy && pdapi.StatusCode(err) != tc.code {
				t.Errorf("error %v should carry status %d", err, tc.code)
			}
			if rec.method+" "+rec.path != "GET /status" {
				t.Errorf("request %s %s", rec.method, rec.path)
			}
		})
	}
}

func TestHealthOfAnUnreachablePodIsAnError(t *testing.T) {
	c := New("http://127.0.0.1:1", pdapi.NewHTTPClient(pdapi.HTTPOptions{}, nil))
	if err := c.Health(context.Background()); err == nil {
		t.Fatal("expected an error")
	}
}

func TestSetServerLabels(t *testing.T) {
	cases := map[string]struct {
		// code is TiDB's answer.
		code int
		// wantErr says whether the call must fail.
		wantErr bool
	}{
		"labels are posted as a JSON object": {code: 200},
		"an error status is reported":        {code: 500, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec, c := start(t, tc.code)
			err := c.SetServerLabels(context.Background(), map[string]string{"zone": "z1", "host": "node-1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if rec.method != "POST" || rec.path != "/labels" || rec.body != `{"host":"node-1","zone":"z1"}` || rec.contentType != "application/json" {
				t.Errorf("request %s %s %s (%s)", rec.method, rec.path, rec.body, rec.contentType)
			}
		})
	}
}

func TestStatusURL(t *testing.T) {
	if got, want := StatusURL(Pod{Namespace: "db", Cluster: "basic", Name: "basic-tidb-1"}), "http://basic-tidb-1.basic-tidb-peer.db:10080"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := StatusURL(Pod{Namespace: "db", Cluster: "basic", Name: "basic-tidb-0", ClusterDomain: "c1.com", TLS: true}), "https://basic-tidb-0.basic-tidb-peer.db.svc.c1.com:10080"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
