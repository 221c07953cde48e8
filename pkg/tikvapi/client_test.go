package tikvapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// metricsWithLeaders is a trimmed /metrics page of a TiKV store.
const metricsWithLeaders = `# HELP tikv_raftstore_region_count Number of regions collected in region_collection_interval
# TYPE tikv_raftstore_region_count gauge
tikv_raftstore_region_count{type="region"} 61
tikv_raftstore_region_count{type="leader"} 23
# HELP tikv_engine_size_bytes Sizes of each column families
# TYPE tikv_engine_size_bytes gauge
tikv_engine_size_bytes{db="kv",type="default"} 1.2e+06
`

func TestParseLeaderCount(t *testing.T) {
	cases := map[string]struct {
		// metrics is the exposition text.
		metrics string
		// want is the leader count.
		want int
		// wantErr is the expected error, matched with errors.Is; nil means success.
		wantErr error
		// wantAnyErr asks for some error other than ErrNoLeaderMetric.
		wantAnyErr bool
	}{
		"the leader series is picked among the region counts": {metrics: metricsWithLeaders, want: 23},
		"zero leaders is a valid answer": {
			metrics: "tikv_raftstore_region_count{type=\"leader\"} 0\ntikv_raftstore_region_count{type=\"region\"} 5\n",
			want:    0,
		},
		"a series with extra labels and a timestamp still counts": {
			metrics: "tikv_raftstore_region_count{instance=\"x\",type=\"leader\"} 7 1700000000000\n",
			want:    7,
		},
		"a page without the metric is an error, not zero": {
			metrics: "# TYPE tikv_engine_size_bytes gauge\ntikv_engine_size_bytes{db=\"kv\"} 1\n",
			wantErr: ErrNoLeaderMetric,
		},
		"only the region series is not enough": {
			metrics: "tikv_raftstore_region_count{type=\"region\"} 5\n",
			wantErr: ErrNoLeaderMetric,
		},
		"garbage is a parse error": {
			metrics:    "tikv_raftstore_region_count{type=\"leader\" 5\n",
			wantAnyErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseLeaderCount([]byte(tc.metrics))
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
			case tc.wantAnyErr:
				if err == nil || errors.Is(err, ErrNoLeaderMetric) {
					t.Fatalf("error %v, want a parse error", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("got %d, want %d", got, tc.want)
				}
			}
		})
	}
}

func TestLeaderCountOverHTTP(t *testing.T) {
	cases := map[string]struct {
		// code and body are the pod's answer to GET /metrics.
		code int
		body string
		// want is the leader count; wantStatus the status of an expected *HTTPError.
		want       int
		wantStatus int
	}{
		"metrics are fetched from /metrics": {code: 200, body: metricsWithLeaders, want: 23},
		"an error status is an HTTP error":  {code: 500, body: "overloaded", wantStatus: 500},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var path string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.Method + " " + r.URL.Path
				w.WriteHeader(tc.code)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := New(srv.URL, pdapi.NewHTTPClient(pdapi.HTTPOptions{}, nil))
			got, err := c.LeaderCount(context.Background())
			if path != "GET /metrics" {
				t.Errorf("request %q", path)
			}
			if tc.wantStatus != 0 {
				if pdapi.StatusCode(err) != tc.wantStatus {
					t.Fatalf("error %v, want HTTP %d", err, tc.wantStatus)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestStatusURL(t *testing.T) {
	cases := map[string]struct {
		pod  Pod
		want string
	}{
		"plain":                  {Pod{Namespace: "db", Cluster: "basic", Name: "basic-tikv-2"}, "http://basic-tikv-2.basic-tikv-peer.db:20180"},
		"TLS and cluster domain": {Pod{Namespace: "db", Cluster: "basic", Name: "basic-tikv-0", ClusterDomain: "cluster.local", TLS: true}, "https://basic-tikv-0.basic-tikv-peer.db.svc.cluster.local:20180"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := StatusURL(tc.pod); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
