package scheduler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// placeTimeout bounds the placement of one component: pods go one at a time (the scheduling
// lock), each after kube-scheduler retries it.
const placeTimeout = 3 * time.Minute

func TestTheShippedComponentCarriesTheTestedConfiguration(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(componentDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Kind               string
		ConfigMapGenerator []struct {
			Name  string
			Files []string
		} `json:"configMapGenerator"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	if k.Kind != "Component" || len(k.ConfigMapGenerator) != 1 || len(k.ConfigMapGenerator[0].Files) != 1 ||
		k.ConfigMapGenerator[0].Files[0] != "scheduler-config.yaml" {
		t.Fatalf("the component does not ship scheduler-config.yaml as its ConfigMap: %+v", k)
	}
	doc, err := shippedConfig()
	if err != nil {
		t.Fatal(err)
	}
	ext := doc["extenders"].([]any)[0].(map[string]any)
	want := map[string]any{
		"filterVerb": "filter", "prioritizeVerb": "prioritize", "preemptVerb": "preempt",
		"nodeCacheCapable": false, "ignorable": false, "httpTimeout": "30s",
	}
	for k, v := range want {
		if ext[k] != v {
			t.Errorf("extender %s = %v, want %v", k, ext[k], v)
		}
	}
	if doc["apiVersion"] != "kubescheduler.config.k8s.io/v1" || doc["profiles"].([]any)[0].(map[string]any)["schedulerName"] != "tidb-scheduler" {
		t.Errorf("unexpected configuration: %v", doc)
	}
	dep, err := os.ReadFile(filepath.Join(componentDir, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"registry.k8s.io/kube-scheduler:v1.37.2", "--config=/etc/kubernetes/scheduler-config.yaml", "-port=10262", "name: tidb-scheduler-config"} {
		if !strings.Contains(string(dep), want) {
			t.Errorf("deployment.yaml lacks %q", want)
		}
	}
}

func TestPDNeverPutsAQuorumInOneTopology(t *testing.T) {
	startExtender(t)
	cases := map[string]struct {
		replicas int32 // PD replicas
		zoneKey  bool  // spread over zones rather than hosts
	}{
		"three PDs over zones": {3, true},
		"five PDs over zones":  {5, true},
		"three PDs over hosts": {3, false},
		"five PDs over hosts":  {5, false},
	}
	zones := zoneOf(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := cluster.Namespace(t)
			createTidbCluster(t, ns, "basic", tc.replicas, 3, 1, tc.zoneKey)
			var pods []string
			// All at once, as a StatefulSet with the Parallel policy creates them.
			for i := 0; i < int(tc.replicas); i++ {
				pods = append(pods, createMember(t, ns, "basic", "pd", i).Name)
			}
			placed := waitPlaced(t, ns, pods, placeTimeout)
			quorum := int(tc.replicas)/2 + 1
			perZone := count(placed, func(n string) string { return zones[n] })
			perHost := count(placed, func(n string) string { return n })
			limit := perHost
			if tc.zoneKey {
				limit = perZone
			}
			maxPer := int((tc.replicas+1)/2) - 1
			maxPer = max(maxPer, 1)
			for topo, n := range limit {
				if n >= quorum || n > maxPer {
					t.Fatalf("%s holds %d of %d PDs (quorum %d, limit %d): %v", topo, n, tc.replicas, quorum, maxPer, placed)
				}
			}
			for host, n := range perHost {
				if n >= quorum {
					t.Fatalf("host %s holds a PD quorum: %v", host, placed)
				}
			}
			if tc.zoneKey && len(perZone) != 3 {
				t.Fatalf("PDs use %d zones, want all 3: %v", len(perZone), perZone)
			}
			// The decision is explained on the pod.
			found := false
			for _, e := range events(t, ns, pods[len(pods)-1]) {
				if e.Reason == "HAScheduling" && e.Source.Component == "tidb-scheduler" && strings.Contains(e.Message, "pd pods per ") {
					found = true
				}
			}
			if !found {
				t.Fatalf("no HAScheduling event on %s:\n%s", pods[len(pods)-1], eventDump(t, ns))
			}
			t.Logf("placed %v (per zone %v)", placed, perZone)
		})
	}
}

func TestTiKVSpreadsOverZones(t *testing.T) {
	startExtender(t)
	ns := cluster.Namespace(t)
	createTidbCluster(t, ns, "kv", 3, 6, 1, true)
	var pods []string
	for i := 0; i < 6; i++ {
		pods = append(pods, createMember(t, ns, "kv", "tikv", i).Name)
	}
	placed := waitPlaced(t, ns, pods, placeTimeout)
	zones := zoneOf(t)
	perZone := count(placed, func(n string) string { return zones[n] })
	if len(perZone) != 3 {
		t.Fatalf("TiKV uses %d zones: %v", len(perZone), perZone)
	}
	for z, n := range perZone {
		if n != 2 {
			t.Fatalf("zone %s holds %d of 6 TiKVs, want ceil(6/3)=2 each: %v", z, n, placed)
		}
	}
	// Beyond v1.6, prioritize also spreads within a zone: the two stores of a zone land on
	// different hosts when both have room.
	if hosts := count(placed, func(n string) string { return n }); len(hosts) != 6 {
		t.Errorf("6 TiKVs share hosts: %v", placed)
	}
}

func TestADeletedTiDBPodReturnsToItsNode(t *testing.T) {
	startExtender(t)
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx := context.Background()
	tc := createTidbCluster(t, ns, "db", 3, 3, 3, false)
	var pods []string
	for i := 0; i < 3; i++ {
		pods = append(pods, createMember(t, ns, "db", "tidb", i).Name)
	}
	before := waitPlaced(t, ns, pods, placeTimeout)

	// What the TidbCluster controller would record.
	tc.Status.TiDB.Members = map[string]v1alpha1.TiDBMember{}
	for pod, node := range before {
		tc.Status.TiDB.Members[pod] = v1alpha1.TiDBMember{Name: pod, Health: true, NodeName: node}
	}
	if err := c.Status().Update(ctx, tc); err != nil {
		t.Fatalf("record the members: %v", err)
	}

	for _, name := range pods {
		p := &corev1.Pod{}
		p.Namespace, p.Name = ns, name
		if err := c.Delete(ctx, p, client.GracePeriodSeconds(0)); err != nil {
			t.Fatal(err)
		}
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var list corev1.PodList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		return len(list.Items) == 0, nil
	})
	if err != nil {
		t.Fatalf("the TiDB pods were not deleted: %v", err)
	}
	for i := 0; i < 3; i++ {
		createMember(t, ns, "db", "tidb", i)
	}
	after := waitPlaced(t, ns, pods, placeTimeout)
	for pod, node := range before {
		if after[pod] != node {
			t.Fatalf("%s ran on %s and came back on %s", pod, node, after[pod])
		}
		found := false
		for _, e := range events(t, ns, pod) {
			if e.Reason == "StableScheduling" && e.Type == corev1.EventTypeNormal && strings.Contains(e.Message, "goes back to node "+node) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no StableScheduling event for %s:\n%s", pod, eventDump(t, ns))
		}
	}
}

func TestPodsStayPendingWhileTheExtenderIsDown(t *testing.T) {
	startExtender(t)
	ns := cluster.Namespace(t)
	createTidbCluster(t, ns, "down", 3, 3, 1, true)
	stopExtender(t)
	t.Cleanup(func() { startExtender(t) })

	pod := createMember(t, ns, "down", "pd", 0)
	c := cluster.Shared(t).Client()
	// The first attempts may fail on the PVC not being bound yet; wait for the one that
	// blames the extender.
	url := "127.0.0.1:" + fmt.Sprint(extenderPort)
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, e := range events(t, ns, pod.Name) {
			if e.Reason == "FailedScheduling" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, url) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no FailedScheduling event naming the extender at %s while it is down:\n%s", url, eventDump(t, ns))
	}
	// Still pending a while later: the scheduler never placed it without the extender.
	time.Sleep(3 * time.Second)
	var p corev1.Pod
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(pod), &p); err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" {
		t.Fatalf("the pod was placed on %s without the extender", p.Spec.NodeName)
	}

	// Once the extender is back, the pod is placed.
	startExtender(t)
	waitPlaced(t, ns, []string{pod.Name}, placeTimeout)
}
