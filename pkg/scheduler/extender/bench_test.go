package extender

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
)

// benchNodes builds n nodes over 10 zones, each as a kubelet reports it (labels, capacity,
// conditions, addresses, node info), since kube-scheduler sends full objects.
func benchNodes(n int) []corev1.Node {
	out := make([]corev1.Node, n)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("128Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("500Gi"),
	}
	for i := range out {
		name := fmt.Sprintf("node-%05d", i)
		zone := fmt.Sprintf("zone-%d", i%10)
		out[i] = corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), ResourceVersion: "12345", Labels: map[string]string{
				corev1.LabelHostname: name, corev1.LabelTopologyZone: zone, corev1.LabelTopologyRegion: "region-1",
				corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", corev1.LabelInstanceTypeStable: "m6i.8xlarge",
				"node.kubernetes.io/pool": "tidb",
			}},
			Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24", ProviderID: "aws:///" + zone + "/i-0123456789"},
			Status: corev1.NodeStatus{
				Capacity: capacity, Allocatable: capacity,
				Conditions: []corev1.NodeCondition{
					{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
					{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory"},
					{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure"},
					{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID"},
				},
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.1.2.3"}, {Type: corev1.NodeHostName, Address: name}},
				NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Ubuntu 24.04", ContainerRuntimeVersion: "containerd://2.1.0", Architecture: "amd64", OperatingSystem: "linux"},
			},
		}
	}
	return out
}

// benchCluster is a 100-pod cluster on nodes: 5 PD, 80 TiKV and 15 TiDB pods, all placed but
// the last TiKV, which is the one being scheduled.
func benchCluster(nodes []corev1.Node) []client.Object {
	tc := tidbCluster("big", 5, 80, 15)
	objs := []client.Object{tc}
	i := 0
	next := func() string { i += 37; return nodes[i%len(nodes)].Name }
	for comp, n := range map[string]int{"pd": 5, "tikv": 80, "tidb": 15} {
		for o := 0; o < n; o++ {
			node := next()
			if comp == "tikv" && o == n-1 {
				node = ""
			}
			p := componentPod("big", comp, o, node)
			objs = append(objs, p)
			if comp != "tidb" {
				objs = append(objs, claimOf(p, true))
			}
			if comp == "tidb" {
				if tc.Status.TiDB.Members == nil {
					tc.Status.TiDB.Members = map[string]v1alpha1.TiDBMember{}
				}
				tc.Status.TiDB.Members[p.Name] = v1alpha1.TiDBMember{Name: p.Name, NodeName: node}
			}
		}
	}
	return objs
}

// benchVerb posts the same request b.N times and reports the latency percentiles and the rate.
// With direct, it calls the extender with the decoded request instead, which measures the
// decision alone (API reads from an in-memory client, the rules, the event message).
func benchVerb(b *testing.B, path string, pod *corev1.Pod, direct bool) {
	nodes := benchNodes(5000)
	_, c, _ := newTestExtender(b, benchCluster(nodes)...)
	// A recorder that drops events: the test recorder's buffer would fill up and block.
	ext := New(Config{Client: c, StableScheduling: true, Now: func() time.Time { return testNow }, Logger: logr.Discard()})
	h := server.New(server.Config{Extender: ext, Logger: logr.Discard()}).Handler()
	body, err := json.Marshal(extenderv1.ExtenderArgs{Pod: pod, Nodes: &corev1.NodeList{Items: nodes}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	args := &extenderv1.ExtenderArgs{Pod: pod, Nodes: &corev1.NodeList{Items: nodes}}
	for range b.N {
		t0 := time.Now()
		if direct {
			var err error
			if path == server.PathFilter {
				_, err = ext.Filter(context.Background(), args)
			} else {
				_, err = ext.Prioritize(context.Background(), args)
			}
			took = append(took, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			continue
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		took = append(took, time.Since(t0))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(took)
	pct := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// BenchmarkFilter measures filter over 5,000 nodes for a pod of a 100-pod cluster, HTTP and
// JSON included (the request body is about 10 MB of Node objects).
func BenchmarkFilter(b *testing.B) {
	for _, direct := range []bool{false, true} {
		mode := "http"
		if direct {
			mode = "decision"
		}
		b.Run("tikv/"+mode, func(b *testing.B) { benchVerb(b, server.PathFilter, componentPod("big", "tikv", 79, ""), direct) })
		b.Run("tidb/"+mode, func(b *testing.B) { benchVerb(b, server.PathFilter, componentPod("big", "tidb", 3, ""), direct) })
	}
}

// BenchmarkPrioritize measures prioritize over 5,000 nodes for the same pod.
func BenchmarkPrioritize(b *testing.B) {
	b.Run("tikv/http", func(b *testing.B) { benchVerb(b, server.PathPrioritize, componentPod("big", "tikv", 79, ""), false) })
	b.Run("tikv/decision", func(b *testing.B) { benchVerb(b, server.PathPrioritize, componentPod("big", "tikv", 79, ""), true) })
}
