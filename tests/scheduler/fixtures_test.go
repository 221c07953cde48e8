package scheduler

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

const schedulerName = "tidb-scheduler"

// createTidbCluster creates a TidbCluster; zoneKey spreads over zones instead of hosts.
func createTidbCluster(t *testing.T, ns, name string, pd, tikv, tidb int32, zoneKey bool) *v1alpha1.TidbCluster {
	t.Helper()
	storage := corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	tc := &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.TidbClusterSpec{
			Version:       "v8.5.0",
			SchedulerName: schedulerName,
			PD:            &v1alpha1.PDSpec{Replicas: pd},
			TiKV:          &v1alpha1.TiKVSpec{Replicas: tikv},
			TiDB:          &v1alpha1.TiDBSpec{Replicas: tidb},
		},
	}
	tc.Spec.PD.Requests = storage
	tc.Spec.TiKV.Requests = storage
	if zoneKey {
		tc.Annotations = map[string]string{label.HATopologyKeyAnnKey: corev1.LabelTopologyZone}
	}
	if err := cluster.Shared(t).Client().Create(context.Background(), tc); err != nil {
		t.Fatalf("create TidbCluster: %v", err)
	}
	return tc
}

// createMember creates the ordinal-th pod of a component the way its StatefulSet would, with
// the data PVC for PD and TiKV.
func createMember(t *testing.T, ns, tc, comp string, ordinal int) *corev1.Pod {
	t.Helper()
	c := cluster.Shared(t).Client()
	name := fmt.Sprintf("%s-%s-%d", tc, comp, ordinal)
	labels := label.New().Instance(tc).Component(comp)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, GenerateName: tc + "-" + comp + "-", Labels: labels.Copy()},
		Spec: corev1.PodSpec{
			SchedulerName: schedulerName,
			Containers:    []corev1.Container{{Name: comp, Image: "pingcap/" + comp + ":v8.5.0"}},
		},
	}
	if comp == label.PDComponent || comp == label.TiKVComponent {
		claimLabels := labels.Copy()
		claimLabels[label.PodNameLabelKey] = name
		pvc := &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: comp + "-" + name, Labels: claimLabels},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}
		if err := c.Create(context.Background(), pvc); err != nil {
			t.Fatalf("create PVC %s: %v", pvc.Name, err)
		}
		pod.Spec.Volumes = []corev1.Volume{{Name: comp, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name},
		}}}
	}
	if err := c.Create(context.Background(), pod); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	return pod
}

// waitPlaced waits until every named pod is bound to a node and returns pod -> node.
func waitPlaced(t *testing.T, ns string, pods []string, timeout time.Duration) map[string]string {
	t.Helper()
	c := cluster.Shared(t).Client()
	placed := map[string]string{}
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, name := range pods {
			var p corev1.Pod
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
				// A pod recreated a moment ago may not be visible yet; keep polling.
				return false, client.IgnoreNotFound(err)
			}
			if p.Spec.NodeName == "" {
				return false, nil
			}
			placed[name] = p.Spec.NodeName
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("pods not all placed after %s (placed: %v); events:\n%s", timeout, placed, eventDump(t, ns))
	}
	return placed
}

// zoneOf maps the shared cluster's nodes to their zones.
func zoneOf(t *testing.T) map[string]string {
	t.Helper()
	var nodes corev1.NodeList
	if err := cluster.Shared(t).Client().List(context.Background(), &nodes); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range nodes.Items {
		out[n.Name] = n.Labels[corev1.LabelTopologyZone]
	}
	return out
}

// events lists the events about a pod.
func events(t *testing.T, ns, pod string) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	if err := cluster.Shared(t).Client().List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Name == pod {
			out = append(out, e)
		}
	}
	return out
}

// eventDump renders a namespace's events for failure messages.
func eventDump(t *testing.T, ns string) string {
	var list corev1.EventList
	if err := cluster.Shared(t).Client().List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range list.Items {
		fmt.Fprintf(&b, "  %s %s %s/%s: %s\n", e.Type, e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
	}
	return b.String()
}

// count tallies pods per value of key(node).
func count(placed map[string]string, key func(node string) string) map[string]int {
	out := map[string]int{}
	for _, n := range placed {
		out[key(n)]++
	}
	return out
}
