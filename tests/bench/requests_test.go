package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClassifyRequest(t *testing.T) {
	cases := map[string]struct {
		method, path, watch string
		want                RequestKey
	}{
		"a pod read by name is a get of pods": {
			method: "GET", path: "/api/v1/namespaces/db/pods/basic-pd-0",
			want: RequestKey{"get", "pods"},
		},
		"a cluster-wide pod list is a list": {
			method: "GET", path: "/api/v1/pods",
			want: RequestKey{"list", "pods"},
		},
		"a watch is told apart from a list by its query": {
			method: "GET", path: "/api/v1/namespaces/db/configmaps", watch: "true",
			want: RequestKey{"watch", "configmaps"},
		},
		"non-core groups qualify the resource": {
			method: "PATCH", path: "/apis/apps/v1/namespaces/db/statefulsets/basic-tikv",
			want: RequestKey{"patch", "statefulsets.apps"},
		},
		"a status write names the subresource": {
			method: "PUT", path: "/apis/pingcap.com/v1alpha1/namespaces/db/tidbclusters/basic/status",
			want: RequestKey{"update", "tidbclusters.pingcap.com/status"},
		},
		"a namespace read is a get of namespaces": {
			method: "GET", path: "/api/v1/namespaces/db",
			want: RequestKey{"get", "namespaces"},
		},
		"a namespace status write is not mistaken for a resource named status": {
			method: "PUT", path: "/api/v1/namespaces/db/status",
			want: RequestKey{"update", "namespaces/status"},
		},
		"a creation posts to the collection": {
			method: "POST", path: "/api/v1/namespaces/db/events",
			want: RequestKey{"create", "events"},
		},
		"a lease renewal is an update of leases": {
			method: "PUT", path: "/apis/coordination.k8s.io/v1/namespaces/tidb-admin/leases/tidb-controller-manager",
			want: RequestKey{"update", "leases.coordination.k8s.io"},
		},
		"a delete without a name deletes a collection": {
			method: "DELETE", path: "/api/v1/namespaces/db/pods",
			want: RequestKey{"deletecollection", "pods"},
		},
		"discovery requests are grouped": {
			method: "GET", path: "/apis/apps/v1",
			want: RequestKey{"get", "discovery"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ClassifyRequest(tc.method, tc.path, tc.watch); got != tc.want {
				t.Errorf("ClassifyRequest(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestTheCounterCountsWhatPassesThrough(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			w.WriteHeader(http.StatusConflict)
		}
	}))
	defer srv.Close()
	c := NewRequestCounter()
	hc := &http.Client{Transport: c.Wrap(http.DefaultTransport)}
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/namespaces/db/pods/p"},
		{"GET", "/api/v1/namespaces/db/pods/p"},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l"},
		{"PATCH", "/api/v1/namespaces/db/pods/p"},
	} {
		r, err := http.NewRequest(req.method, srv.URL+req.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	got := c.Reset()
	if got[RequestKey{"get", "pods"}] != 2 || got.Total(nil) != 4 {
		t.Errorf("counts:\n%s", got.Table())
	}
	if w := got.Total(Writes); w != 2 {
		t.Errorf("writes = %d, want 2", w)
	}
	if w := got.Total(func(k RequestKey) bool { return k.IsWrite() && NotLeaderElection(k) }); w != 1 {
		t.Errorf("writes without the lease = %d, want 1", w)
	}
	if conflicts := c.ResetConflicts(); conflicts.Total(nil) != 1 || conflicts[RequestKey{"patch", "pods"}] != 1 {
		t.Errorf("conflicts:\n%s", conflicts.Table())
	}
	if after := c.Snapshot(); after.Total(nil) != 0 {
		t.Errorf("Reset left %d requests", after.Total(nil))
	}
}
