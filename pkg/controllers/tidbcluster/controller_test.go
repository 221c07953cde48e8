package tidbcluster

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
)

func TestPodToCluster(t *testing.T) {
	cases := map[string]struct {
		// labels of the pod.
		labels map[string]string
		// want is the cluster name to reconcile, "" for none.
		want string
	}{
		"a TiKV pod maps to its cluster": {
			labels: label.New().Instance("basic").TiKV().Labels(), want: "basic",
		},
		"a pod another operator manages is ignored": {
			labels: map[string]string{label.ManagedByLabelKey: "someone", label.NameLabelKey: label.TiDBClusterName, label.InstanceLabelKey: "basic"},
		},
		"a backup pod (not a tidb-cluster pod) is ignored": {
			labels: map[string]string{label.ManagedByLabelKey: label.TiDBOperator, label.NameLabelKey: label.BackupName, label.InstanceLabelKey: "basic"},
		},
		"a pod without an instance label is ignored": {
			labels: label.New().PD().Labels(),
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", Labels: c.labels}}
			got := podToCluster(context.Background(), pod)
			switch {
			case c.want == "" && len(got) != 0:
				t.Fatalf("got %v, want nothing", got)
			case c.want != "" && (len(got) != 1 || got[0].Name != c.want || got[0].Namespace != "ns"):
				t.Fatalf("got %v, want ns/%s", got, c.want)
			}
		})
	}
}
