package predicates

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestClusterName(t *testing.T) {
	cases := map[string]struct {
		pod       corev1.Pod // the component pod
		component string     // its component
		want      string     // TidbCluster name
	}{
		"from a StatefulSet's GenerateName": {
			corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "my-db-pd-0", GenerateName: "my-db-pd-"}}, "pd", "my-db",
		},
		"from the pod name when GenerateName is empty": {
			corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "my-tikv-cluster-tikv-12"}}, "tikv", "my-tikv-cluster",
		},
		"from the instance label as a last resort": {
			corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "odd", Labels: map[string]string{label.InstanceLabelKey: "basic"}}}, "pd", "basic",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ClusterName(&tc.pod, tc.component); got != tc.want {
				t.Fatalf("ClusterName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOrdinalsAndDeleteSlots(t *testing.T) {
	if o, ok := Ordinal("basic-pd-12"); !ok || o != 12 {
		t.Fatalf("Ordinal(basic-pd-12) = %d, %v", o, ok)
	}
	if _, ok := Ordinal("basic-pd-x"); ok {
		t.Fatal("Ordinal(basic-pd-x) reported an ordinal")
	}
	if got := sets.List(DesiredOrdinals(3, sets.New[int32](1))); len(got) != 3 || got[0] != 0 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("DesiredOrdinals(3, {1}) = %v", got)
	}
	tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"pd.tidb.pingcap.com/delete-slots": "[1, 4]"}}}
	slots, err := DeleteSlots(tc, "pd")
	if err != nil || !slots.Equal(sets.New[int32](1, 4)) {
		t.Fatalf("DeleteSlots = %v, %v", slots, err)
	}
	if slots, err := DeleteSlots(tc, "tikv"); err != nil || slots.Len() != 0 {
		t.Fatalf("DeleteSlots(tikv) = %v, %v", slots, err)
	}
	tc.Annotations["pd.tidb.pingcap.com/delete-slots"] = "one"
	if _, err := DeleteSlots(tc, "pd"); err == nil || !strings.Contains(err.Error(), "not a JSON list of ordinals") {
		t.Fatalf("DeleteSlots of a bad value = %v", err)
	}
}

func TestClusterNumbers(t *testing.T) {
	tc := &v1alpha1.TidbCluster{
		Spec: v1alpha1.TidbClusterSpec{PD: &v1alpha1.PDSpec{Replicas: 3}, TiKV: &v1alpha1.TiKVSpec{Replicas: 3}},
		Status: v1alpha1.TidbClusterStatus{
			PD: v1alpha1.PDStatus{FailureMembers: map[string]v1alpha1.PDFailureMember{
				"basic-pd-1": {PodName: "basic-pd-1", MemberDeleted: true},
			}},
			TiKV: v1alpha1.TiKVStatus{FailureStores: map[string]v1alpha1.TiKVFailureStore{
				"4": {PodName: "basic-tikv-0"}, "5": {PodName: "basic-tikv-2"},
			}},
		},
	}
	if got := Replicas(tc, "pd"); got != 4 {
		t.Errorf("PD replicas = %d, want 3 plus one replacement", got)
	}
	if got := Replicas(tc, "tikv"); got != 5 {
		t.Errorf("TiKV replicas = %d, want 3 plus two replacements", got)
	}
	if got := FailurePods(tc, "tikv"); !got.Equal(sets.New("basic-tikv-0", "basic-tikv-2")) {
		t.Errorf("TiKV failure pods = %v", sets.List(got))
	}
	if got := FailurePods(tc, "pd"); !got.Equal(sets.New("basic-pd-1")) {
		t.Errorf("PD failure pods = %v", sets.List(got))
	}
	if got := TopologyKey(tc); got != corev1.LabelHostname {
		t.Errorf("default topology key = %q", got)
	}
	tc.Annotations = map[string]string{label.HATopologyKeyAnnKey: corev1.LabelTopologyZone}
	if got := TopologyKey(tc); got != corev1.LabelTopologyZone {
		t.Errorf("annotated topology key = %q", got)
	}
}
