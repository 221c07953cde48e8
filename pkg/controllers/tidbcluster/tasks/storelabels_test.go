package tasks

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

func TestStoreLabelsFromNode(t *testing.T) {
	node := map[string]string{
		"kubernetes.io/hostname":        "node-1",
		"topology.kubernetes.io/zone":   "zone-a",
		"topology.kubernetes.io/region": "r1",
		"rack":                          "rack-7",
	}
	cases := []struct {
		name string
		keys []string
		node map[string]string
		want map[string]string
	}{
		{"customary keys map to Kubernetes labels", []string{"region", "zone", "host"}, node,
			map[string]string{"region": "r1", "zone": "zone-a", "host": "node-1"}},
		{"exact names win", []string{"zone", "rack"}, map[string]string{"zone": "z", "topology.kubernetes.io/zone": "zone-a", "rack": "r"},
			map[string]string{"zone": "z", "rack": "r"}},
		{"beta zone label as a fallback", []string{"zone"}, map[string]string{"failure-domain.beta.kubernetes.io/zone": "old"},
			map[string]string{"zone": "old"}},
		{"missing keys are left out", []string{"zone", "dc"}, node, map[string]string{"zone": "zone-a"}},
		{"no keys", nil, node, map[string]string{}},
	}
	for _, c := range cases {
		if got := StoreLabelsFromNode(c.keys, c.node); !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestStoreLabelsMatch(t *testing.T) {
	have := []pdapi.StoreLabel{{Key: "zone", Value: "a"}, {Key: "host", Value: "n1"}, {Key: "engine", Value: "x"}}
	cases := []struct {
		want map[string]string
		ok   bool
	}{
		{map[string]string{"zone": "a", "host": "n1"}, true},
		{map[string]string{"zone": "a"}, true},
		{map[string]string{"zone": "b"}, false},
		{map[string]string{"rack": "r"}, false},
		{map[string]string{}, true},
	}
	for _, c := range cases {
		if got := StoreLabelsMatch(c.want, have); got != c.ok {
			t.Errorf("%v: got %v", c.want, got)
		}
	}
}

func TestServerLabelsKeyChangesWithWhatTiDBForgets(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "u1"}, Status: corev1.PodStatus{
		ContainerStatuses: []corev1.ContainerStatus{{Name: "tidb", RestartCount: 0}, {Name: "slowlog", RestartCount: 5}}}}
	labels := map[string]string{"zone": "a", "host": "n1"}
	base := serverLabelsKey(pod, labels)
	if again := serverLabelsKey(pod, map[string]string{"host": "n1", "zone": "a"}); again != base {
		t.Fatalf("same labels, different key: %q vs %q", again, base)
	}
	restarted := pod.DeepCopy()
	restarted.Status.ContainerStatuses[0].RestartCount = 1
	replaced := pod.DeepCopy()
	replaced.UID = "u2"
	for name, k := range map[string]string{
		"TiDB container restarted": serverLabelsKey(restarted, labels),
		"pod replaced":             serverLabelsKey(replaced, labels),
		"labels changed":           serverLabelsKey(pod, map[string]string{"zone": "b", "host": "n1"}),
	} {
		if k == base {
			t.Errorf("%s: key unchanged", name)
		}
	}
	sent := &SentLabels{}
	c1, c2 := types.NamespacedName{Namespace: "ns", Name: "c1"}, types.NamespacedName{Namespace: "ns", Name: "c2"}
	sent.put(c1, "basic-tidb-0", base)
	if !sent.has(c1, "basic-tidb-0", base) || sent.has(c2, "basic-tidb-0", base) {
		t.Fatal("SentLabels lookup")
	}
	(&Deps{SentLabels: sent}).Forget(c1)
	if sent.has(c1, "basic-tidb-0", base) {
		t.Fatal("forgotten cluster still remembered")
	}
}
