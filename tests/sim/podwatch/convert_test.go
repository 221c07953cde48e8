package podwatch

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

func testPod(name, component string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: name, UID: "uid-" + "x",
			Labels: map[string]string{LabelManagedBy: ManagedByValue, LabelComponent: component, LabelInstance: "inst"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "slowlog", Image: "busybox:1.26.2"},
			{Name: component, Image: "pingcap/" + component + ":v8.1.0"},
		}},
		Status: corev1.PodStatus{Phase: phase},
	}
}

func TestToSimPod(t *testing.T) {
	deleting := testPod("basic-tikv-1", "tikv", corev1.PodRunning)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	ready := testPod("basic-tidb-0", "tidb", corev1.PodRunning)
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	dashed := testPod("my-tidb-cluster-pd-12", "pd", corev1.PodRunning)
	oneContainer := testPod("basic-ticdc-0", "ticdc", corev1.PodRunning)
	oneContainer.Spec.Containers = []corev1.Container{{Name: "main", Image: "pingcap/ticdc:v7.5.0"}}

	cases := map[string]struct {
		pod  *corev1.Pod
		want simapi.Pod
		ok   bool
	}{
		"a running PD pod runs": {pod: testPod("basic-pd-0", "pd", corev1.PodRunning), ok: true,
			want: simapi.Pod{Namespace: "ns", Name: "basic-pd-0", UID: "uid-x", Cluster: "basic", Component: "pd", Instance: "inst", Running: true, Image: "pingcap/pd:v8.1.0"}},
		"a pending pod does not run": {pod: testPod("basic-pd-1", "pd", corev1.PodPending), ok: true,
			want: simapi.Pod{Namespace: "ns", Name: "basic-pd-1", UID: "uid-x", Cluster: "basic", Component: "pd", Instance: "inst", Image: "pingcap/pd:v8.1.0"}},
		"a pod being deleted does not run": {pod: deleting, ok: true,
			want: simapi.Pod{Namespace: "ns", Name: "basic-tikv-1", UID: "uid-x", Cluster: "basic", Component: "tikv", Instance: "inst", Image: "pingcap/tikv:v8.1.0"}},
		"readiness is carried over": {pod: ready, ok: true,
			want: simapi.Pod{Namespace: "ns", Name: "basic-tidb-0", UID: "uid-x", Cluster: "basic", Component: "tidb", Instance: "inst", Running: true, Ready: true, Image: "pingcap/tidb:v8.1.0"}},
		"a cluster name with dashes is kept whole": {pod: dashed, ok: true,
			want: simapi.Pod{Namespace: "ns", Name: "my-tidb-cluster-pd-12", UID: "uid-x", Cluster: "my-tidb-cluster", Component: "pd", Instance: "inst", Running: true, Image: "pingcap/pd:v8.1.0"}},
		"the first container's image is used without a component container": {pod: oneContainer, ok: true,
			want: simapi.Pod{Namespace: "ns", Name: "basic-ticdc-0", UID: "uid-x", Cluster: "basic", Component: "ticdc", Instance: "inst", Running: true, Image: "pingcap/ticdc:v7.5.0"}},
		"a discovery pod is not simulated": {pod: testPod("basic-discovery-5d8f7", "discovery", corev1.PodRunning)},
		"a pump pod is not simulated":      {pod: testPod("basic-pump-0", "pump", corev1.PodRunning)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := toSimPod(tc.pod, nil)
			if ok != tc.ok || (ok && !samePod(got, tc.want)) {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func samePod(a, b simapi.Pod) bool {
	if (a.PDCluster == nil) != (b.PDCluster == nil) || (a.PDCluster != nil && *a.PDCluster != *b.PDCluster) {
		return false
	}
	a.PDCluster, b.PDCluster = nil, nil
	return a == b
}

func tidbCluster(name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster",
		"metadata": map[string]any{"namespace": "ns", "name": name},
		"spec":     spec,
	}}
}

func TestClusterInfoFromTidbCluster(t *testing.T) {
	ci := clusterInfoFrom(tidbCluster("hetero", map[string]any{
		"clusterDomain": "cluster.local",
		"cluster":       map[string]any{"name": "basic"},
	}))
	if ci.clusterDomain != "cluster.local" || ci.pdCluster == nil || *ci.pdCluster != (simapi.ClusterRef{Namespace: "ns", Name: "basic"}) {
		t.Fatalf("%+v", ci)
	}
	if ci := clusterInfoFrom(tidbCluster("plain", map[string]any{})); ci.pdCluster != nil || ci.clusterDomain != "" {
		t.Fatalf("%+v", ci)
	}
}

func TestPDConfigSeed(t *testing.T) {
	cases := map[string]struct {
		config  any
		want    string // compact description of the seed
		wantErr bool
	}{
		"a TOML string": {config: "[replication]\nmax-replicas = 5\nlocation-labels = [\"zone\", \"host\"]\nenable-placement-rules = false\n[schedule]\nmax-store-down-time = \"5m\"\n",
			want: "replicas=5 labels=[zone host] placement=false down=5m0s"},
		"a structured map": {config: map[string]any{"replication": map[string]any{"max-replicas": int64(1), "strictly-match-label": "true"}},
			want: "replicas=1 strict=true"},
		"no PD config":        {config: nil, want: ""},
		"broken TOML":         {config: "[replication", wantErr: true},
		"a bad down duration": {config: "[schedule]\nmax-store-down-time = \"soon\"\n", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := map[string]any{"pd": map[string]any{}}
			if tc.config != nil {
				spec["pd"].(map[string]any)["config"] = tc.config
			}
			seed, err := pdConfigSeed(tidbCluster("basic", spec))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if tc.wantErr {
				return
			}
			if got := describe(seed); got != tc.want {
				t.Fatalf("seed %q, want %q", got, tc.want)
			}
		})
	}
}

func describe(p simapi.ClusterPatch) string {
	var parts []string
	if p.MaxReplicas != nil {
		parts = append(parts, "replicas="+itoa(*p.MaxReplicas))
	}
	if p.LocationLabels != nil {
		s := "labels=["
		for i, l := range *p.LocationLabels {
			if i > 0 {
				s += " "
			}
			s += l
		}
		parts = append(parts, s+"]")
	}
	if p.EnablePlacementRules != nil {
		parts = append(parts, "placement="+btoa(*p.EnablePlacementRules))
	}
	if p.StrictlyMatchLabel != nil {
		parts = append(parts, "strict="+btoa(*p.StrictlyMatchLabel))
	}
	if p.MaxStoreDownTime != nil {
		parts = append(parts, "down="+p.MaxStoreDownTime.String())
	}
	out := ""
	for i, s := range parts {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func btoa(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
