package extender

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
)

// serve posts body to path on an HTTP frame around ext and returns the status and body.
func serve(t *testing.T, ext server.Extender, path, body string) (int, string) {
	t.Helper()
	h := server.New(server.Config{Extender: ext, Logger: logr.Discard()}).Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

// A filter request as kube-scheduler v1.37 sends it for the second PD pod of "basic": the Go
// field names are the keys, and the nodes are full objects (nodeCacheCapable: false).
const pdFilterJSON = `{
  "Pod": {"metadata": {"name": "basic-pd-1", "generateName": "basic-pd-", "namespace": "tidb", "uid": "uid-basic-pd-1",
          "labels": {"app.kubernetes.io/name": "tidb-cluster", "app.kubernetes.io/managed-by": "tidb-operator",
                     "app.kubernetes.io/instance": "basic", "app.kubernetes.io/component": "pd"}},
          "spec": {"schedulerName": "tidb-scheduler", "containers": [{"name": "pd", "image": "pingcap/pd:v8.5.0"}]}},
  "Nodes": {"metadata": {}, "items": [
    {"metadata": {"name": "zone-a-0", "labels": {"kubernetes.io/hostname": "zone-a-0", "topology.kubernetes.io/zone": "zone-a"}}},
    {"metadata": {"name": "zone-a-1", "labels": {"kubernetes.io/hostname": "zone-a-1", "topology.kubernetes.io/zone": "zone-a"}}},
    {"metadata": {"name": "zone-b-0", "labels": {"kubernetes.io/hostname": "zone-b-0", "topology.kubernetes.io/zone": "zone-b"}}},
    {"metadata": {"name": "zone-c-0", "labels": {"kubernetes.io/hostname": "zone-c-0", "topology.kubernetes.io/zone": "zone-c"}}},
    {"metadata": {"name": "no-zone", "labels": {"kubernetes.io/hostname": "no-zone"}}}
  ]},
  "NodeNames": null
}`

func TestFilterOverHTTPKeepsPDOutOfTheFirstPodsZone(t *testing.T) {
	pd0, pd1 := componentPod("basic", "pd", 0, "zone-a-1"), componentPod("basic", "pd", 1, "")
	ext, c, rec := newTestExtender(t, tidbCluster("basic", 3, 3, 2), pd0, pd1, claimOf(pd0, true), claimOf(pd1, true))

	code, body := serve(t, ext, server.PathFilter, pdFilterJSON)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"Nodes", "NodeNames", "FailedNodes", "FailedAndUnresolvableNodes", "Error"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("response lacks %q: %s", key, body)
		}
	}
	var res extenderv1.ExtenderFilterResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, n := range res.Nodes.Items {
		kept = append(kept, n.Name)
	}
	if !slices.Equal(kept, []string{"zone-b-0", "zone-c-0"}) {
		t.Fatalf("kept %v", kept)
	}
	if res.Error != "" || len(res.FailedNodes) != 3 ||
		!strings.Contains(res.FailedNodes["zone-a-0"], "zone-a already holds 1 pd pods; 3 replicas allow at most 1") ||
		!strings.Contains(res.FailedNodes["no-zone"], "has no topology.kubernetes.io/zone label") {
		t.Fatalf("failed nodes = %v", res.FailedNodes)
	}
	events := drain(rec)
	if len(events) != 1 || !strings.HasPrefix(events[0], "Normal HAScheduling HAScheduling: pd pods per topology.kubernetes.io/zone: zone-a=1, zone-b=0, zone-c=0") {
		t.Fatalf("events = %q", events)
	}
	var pvc corev1.PersistentVolumeClaim
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pd-basic-pd-1"}, &pvc); err != nil {
		t.Fatal(err)
	}
	if pvc.Annotations[label.PodSchedulingAnnKey] != "2026-11-26T01:00:00Z" {
		t.Fatalf("the pod's claim did not take the scheduling lock: %v", pvc.Annotations)
	}
}

func TestFilterAnswers(t *testing.T) {
	pd0, pd1 := componentPod("basic", "pd", 0, ""), componentPod("basic", "pd", 1, "")
	lockedPD0 := claimOf(pd0, true)
	lockedPD0.Annotations = map[string]string{label.PodSchedulingAnnKey: "2026-11-26T00:59:00Z"}
	tidb0 := componentPod("basic", "tidb", 0, "")
	withMembers := tidbCluster("basic", 3, 3, 2)
	withMembers.Status.TiDB.Members = map[string]v1alpha1.TiDBMember{"basic-tidb-0": {Name: "basic-tidb-0", NodeName: "zone-b-1"}}
	other := &corev1.Pod{}
	other.Name, other.Namespace = "web-0", ns

	cases := map[string]struct {
		objs       []client.Object // API contents
		pod        *corev1.Pod     // pod being placed
		nodeNames  bool            // send names only (nodeCacheCapable)
		wantNodes  []string        // nodes kept
		wantEvent  string          // prefix of the one event, "" for none
		wantFailed string          // substring of every FailedNodes reason
	}{
		"a sibling holding the lock makes the pod wait": {
			objs: []client.Object{tidbCluster("basic", 3, 3, 2), pd0, pd1, lockedPD0, claimOf(pd1, true)}, pod: pd1,
			wantEvent:  "Warning SchedulingLock SchedulingLock: waiting for Pod basic-pd-0 scheduling",
			wantFailed: "waiting for Pod basic-pd-0 scheduling",
		},
		"a pod whose TidbCluster is gone is not placed": {
			objs: []client.Object{pd1}, pod: pd1,
			wantEvent: "Warning HAScheduling HAScheduling: TidbCluster tidb/basic of this pd pod does not exist", wantFailed: "does not exist",
		},
		"a TiDB pod goes back to its node": {
			objs: []client.Object{withMembers, tidb0}, pod: tidb0,
			wantNodes: []string{"zone-b-1"}, wantEvent: "Normal StableScheduling StableScheduling: basic-tidb-0 goes back to node zone-b-1",
			wantFailed: "goes back to node zone-b-1",
		},
		"a TiDB pod without a record may go anywhere, with a warning": {
			objs: []client.Object{tidbCluster("basic", 3, 3, 2), tidb0}, pod: tidb0,
			wantNodes: names(zoneNodes(3, 2)), wantEvent: "Warning StableScheduling StableScheduling: no previous node is recorded",
		},
		"a pod of no TiDB cluster passes untouched": {
			pod: other, wantNodes: names(zoneNodes(3, 2)),
		},
		"names-only requests get names back": {
			objs: []client.Object{withMembers, tidb0}, pod: tidb0, nodeNames: true,
			wantNodes: []string{"zone-b-1"}, wantEvent: "Normal StableScheduling",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			nodes := zoneNodes(3, 2)
			objs := tc.objs
			for i := range nodes {
				objs = append(objs, &nodes[i])
			}
			ext, _, rec := newTestExtender(t, objs...)
			args := extenderv1.ExtenderArgs{Pod: tc.pod}
			if tc.nodeNames {
				ns := names(nodes)
				args.NodeNames = &ns
			} else {
				args.Nodes = &corev1.NodeList{Items: nodes}
			}
			body, _ := json.Marshal(args)
			code, out := serve(t, ext, server.PathFilter, string(body))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, out)
			}
			var res extenderv1.ExtenderFilterResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			var kept []string
			if tc.nodeNames {
				if res.NodeNames == nil || res.Nodes != nil {
					t.Fatalf("names-only request answered with %s", out)
				}
				kept = *res.NodeNames
			} else {
				for _, n := range res.Nodes.Items {
					kept = append(kept, n.Name)
				}
			}
			if !slices.Equal(kept, tc.wantNodes) {
				t.Fatalf("kept %v, want %v", kept, tc.wantNodes)
			}
			if len(kept)+len(res.FailedNodes) != len(nodes) {
				t.Fatalf("%d kept + %d failed != %d nodes", len(kept), len(res.FailedNodes), len(nodes))
			}
			for n, why := range res.FailedNodes {
				if !strings.Contains(why, tc.wantFailed) {
					t.Fatalf("FailedNodes[%s] = %q, want %q", n, why, tc.wantFailed)
				}
			}
			events := drain(rec)
			if tc.wantEvent == "" && len(events) != 0 || tc.wantEvent != "" && (len(events) != 1 || !strings.HasPrefix(events[0], tc.wantEvent)) {
				t.Fatalf("events = %q, want one starting %q", events, tc.wantEvent)
			}
		})
	}
}

func TestFilterFailsOnTheTestHookAndOnEmptyRequests(t *testing.T) {
	ext, _, _ := newTestExtender(t)
	p := componentPod("basic", "pd", 0, "")
	p.Annotations = map[string]string{FailSchedulerAnnKey: ""}
	body, _ := json.Marshal(extenderv1.ExtenderArgs{Pod: p, Nodes: &corev1.NodeList{Items: zoneNodes(1, 1)}})
	if code, out := serve(t, ext, server.PathFilter, string(body)); code != http.StatusInternalServerError || !strings.Contains(out, FailSchedulerAnnKey) {
		t.Fatalf("fail-scheduler: %d %s", code, out)
	}
	for _, path := range []string{server.PathFilter, server.PathPrioritize, server.PathPreempt} {
		if code, out := serve(t, ext, path, `{}`); code != http.StatusInternalServerError || !strings.Contains(out, "carries no Pod") {
			t.Fatalf("%s without a pod: %d %s", path, code, out)
		}
	}
}

func TestPrioritizeOverHTTP(t *testing.T) {
	tikv := []*corev1.Pod{
		componentPod("basic", "tikv", 0, "zone-a-0"), componentPod("basic", "tikv", 1, "zone-a-1"),
		componentPod("basic", "tikv", 2, "zone-b-0"), componentPod("basic", "tikv", 3, ""),
	}
	tc := tidbCluster("basic", 3, 6, 2)
	tc.Status.TiDB.Members = map[string]v1alpha1.TiDBMember{"basic-tidb-0": {NodeName: "zone-c-1"}}
	objs := []client.Object{tc}
	for _, p := range tikv {
		objs = append(objs, p)
	}
	ext, _, rec := newTestExtender(t, objs...)
	nodes := zoneNodes(3, 2)

	cases := map[string]struct {
		pod  *corev1.Pod      // pod being scored
		want map[string]int64 // scores
	}{
		"TiKV prefers the empty zone, then the emptier host": {
			tikv[3], map[string]int64{"zone-a-0": 0, "zone-a-1": 0, "zone-b-0": 3, "zone-b-1": 6, "zone-c-0": 10, "zone-c-1": 10},
		},
		"TiDB prefers its previous node": {
			componentPod("basic", "tidb", 0, ""), map[string]int64{"zone-a-0": 0, "zone-a-1": 0, "zone-b-0": 0, "zone-b-1": 0, "zone-c-0": 0, "zone-c-1": 10},
		},
		"other pods score zero everywhere": {
			&corev1.Pod{}, map[string]int64{"zone-a-0": 0, "zone-a-1": 0, "zone-b-0": 0, "zone-b-1": 0, "zone-c-0": 0, "zone-c-1": 0},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			body, _ := json.Marshal(extenderv1.ExtenderArgs{Pod: c.pod, Nodes: &corev1.NodeList{Items: nodes}})
			code, out := serve(t, ext, server.PathPrioritize, string(body))
			if code != http.StatusOK || !strings.Contains(out, `"Host":"zone-a-0"`) || !strings.Contains(out, `"Score":`) {
				t.Fatalf("%d %s", code, out)
			}
			var list extenderv1.HostPriorityList
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for i, hp := range list {
				if hp.Host != nodes[i].Name {
					t.Fatalf("host %d is %s, want input order", i, hp.Host)
				}
				got[hp.Host] = hp.Score
			}
			for n, s := range c.want {
				if got[n] != s {
					t.Fatalf("scores = %v, want %v", got, c.want)
				}
			}
		})
	}
	if events := drain(rec); len(events) != 0 {
		t.Fatalf("prioritize recorded events: %q", events)
	}
}

func TestPreemptOverHTTPKeepsVictimsOnlyWhereThePodMayGo(t *testing.T) {
	pd := []*corev1.Pod{componentPod("basic", "pd", 0, "zone-a-0"), componentPod("basic", "pd", 1, "zone-b-0"), componentPod("basic", "pd", 2, "")}
	nodes := zoneNodes(3, 1)
	objs := []client.Object{tidbCluster("basic", 3, 3, 2), pd[0], pd[1], pd[2]}
	for i := range nodes {
		objs = append(objs, &nodes[i])
	}
	ext, _, _ := newTestExtender(t, objs...)

	body := `{"Pod": ` + mustJSON(t, pd[2]) + `,
	  "NodeNameToVictims": {
	    "zone-a-0": {"Pods": [{"metadata": {"name": "low-a", "uid": "victim-a"}}], "NumPDBViolations": 0},
	    "zone-c-0": {"Pods": [{"metadata": {"name": "low-c", "uid": "victim-c"}}], "NumPDBViolations": 1}
	  },
	  "NodeNameToMetaVictims": null}`
	code, out := serve(t, ext, server.PathPreempt, body)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, out)
	}
	if want := `{"NodeNameToMetaVictims":{"zone-c-0":{"Pods":[{"UID":"victim-c"}],"NumPDBViolations":1}}}`; out != want {
		t.Fatalf("preempt = %s\nwant %s", out, want)
	}

	// A pod outside any TiDB cluster keeps every victim, in the meta form.
	body = `{"Pod": {"metadata": {"name": "web-0", "namespace": "tidb"}},
	  "NodeNameToMetaVictims": {"zone-a-0": {"Pods": [{"UID": "victim-a"}], "NumPDBViolations": 0}}}`
	if code, out := serve(t, ext, server.PathPreempt, body); code != http.StatusOK ||
		out != `{"NodeNameToMetaVictims":{"zone-a-0":{"Pods":[{"UID":"victim-a"}],"NumPDBViolations":0}}}` {
		t.Fatalf("preempt of another pod = %d %s", code, out)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func names(nodes []corev1.Node) []string {
	out := make([]string, len(nodes))
	for i := range nodes {
		out[i] = nodes[i].Name
	}
	return out
}

func TestTheLockMovesOnAndStaleLocksAreReleased(t *testing.T) {
	pd0, pd1, pd2 := componentPod("basic", "pd", 0, "zone-a-0"), componentPod("basic", "pd", 1, ""), componentPod("basic", "pd", 2, "")
	done, gone := claimOf(pd0, true), claimOf(pd2, false)
	done.Annotations = map[string]string{label.PodSchedulingAnnKey: "2026-11-26T00:58:00Z"}
	// pd-9's pod no longer exists, so its lock is stale.
	gone.Name, gone.Labels[label.PodNameLabelKey] = "pd-basic-pd-9", "basic-pd-9"
	gone.Annotations = map[string]string{label.PodSchedulingAnnKey: "2026-11-26T00:59:00Z"}
	nodes := zoneNodes(3, 1)
	ext, c, _ := newTestExtender(t, tidbCluster("basic", 3, 3, 2), pd0, pd1, pd2, done, gone, claimOf(pd1, true))

	body, _ := json.Marshal(extenderv1.ExtenderArgs{Pod: pd1, Nodes: &corev1.NodeList{Items: nodes}})
	if code, out := serve(t, ext, server.PathFilter, string(body)); code != http.StatusOK || strings.Contains(out, `"items":[]`) {
		t.Fatalf("%d %s", code, out)
	}
	want := map[string]bool{"pd-basic-pd-0": false, "pd-basic-pd-9": false, "pd-basic-pd-1": true}
	for name, locked := range want {
		var pvc corev1.PersistentVolumeClaim
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &pvc); err != nil {
			t.Fatal(err)
		}
		if _, ok := pvc.Annotations[label.PodSchedulingAnnKey]; ok != locked {
			t.Errorf("%s locked = %v, want %v", name, ok, locked)
		}
	}

	// Now pd-2 must wait for pd-1, which holds the lock and is not placed yet.
	body, _ = json.Marshal(extenderv1.ExtenderArgs{Pod: pd2, Nodes: &corev1.NodeList{Items: nodes}})
	code, out := serve(t, ext, server.PathFilter, string(body))
	if code != http.StatusOK || !strings.Contains(out, `"items":[]`) || !strings.Contains(out, "waiting for Pod basic-pd-1 scheduling") {
		t.Fatalf("pd-2 was not told to wait: %d %s", code, out)
	}
}

func TestFilterWithoutCandidatesTakesNoLock(t *testing.T) {
	pd0 := componentPod("basic", "pd", 0, "")
	ext, c, _ := newTestExtender(t, tidbCluster("basic", 3, 3, 2), pd0, claimOf(pd0, true))
	body, _ := json.Marshal(extenderv1.ExtenderArgs{Pod: pd0, Nodes: &corev1.NodeList{}})
	if code, out := serve(t, ext, server.PathFilter, string(body)); code != http.StatusOK || !strings.Contains(out, `"items":[]`) {
		t.Fatalf("%d %s", code, out)
	}
	var pvc corev1.PersistentVolumeClaim
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pd-basic-pd-0"}, &pvc); err != nil {
		t.Fatal(err)
	}
	if _, ok := pvc.Annotations[label.PodSchedulingAnnKey]; ok {
		t.Fatal("a pod with no node to go to took the scheduling lock")
	}
}
