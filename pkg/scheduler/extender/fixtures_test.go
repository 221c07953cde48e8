package extender

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

const ns = "tidb"

var testNow = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// tidbCluster builds a TidbCluster with the given replicas, spreading over zones.
func tidbCluster(name string, pd, tikv, tidb int32) *v1alpha1.TidbCluster {
	return &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
			label.HATopologyKeyAnnKey: corev1.LabelTopologyZone,
		}},
		Spec: v1alpha1.TidbClusterSpec{
			PD:   &v1alpha1.PDSpec{Replicas: pd},
			TiKV: &v1alpha1.TiKVSpec{Replicas: tikv},
			TiDB: &v1alpha1.TiDBSpec{Replicas: tidb},
		},
	}
}

// componentPod builds the ordinal-th pod of a component's StatefulSet, placed on nodeName.
func componentPod(tc, comp string, ordinal int, nodeName string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:    ns,
			Name:         fmt.Sprintf("%s-%s-%d", tc, comp, ordinal),
			GenerateName: tc + "-" + comp + "-",
			UID:          types.UID(fmt.Sprintf("uid-%s-%s-%d", tc, comp, ordinal)),
			Labels:       label.New().Instance(tc).Component(comp).Labels(),
		},
		Spec: corev1.PodSpec{NodeName: nodeName, SchedulerName: "tidb-scheduler"},
	}
}

// claimOf builds the data PVC of a pod.
func claimOf(p *corev1.Pod, bound bool) *corev1.PersistentVolumeClaim {
	comp := p.Labels[label.ComponentLabelKey]
	l := label.New().Instance(p.Labels[label.InstanceLabelKey]).Component(comp).Labels()
	l[label.PodNameLabelKey] = p.Name
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: comp + "-" + p.Name, Labels: l}}
	c.Status.Phase = corev1.ClaimPending
	if bound {
		c.Status.Phase = corev1.ClaimBound
	}
	return c
}

// zoneNodes builds zones × hosts nodes named <zone>-<i> with zone and hostname labels.
func zoneNodes(zones, hosts int) []corev1.Node {
	var out []corev1.Node
	for z := 0; z < zones; z++ {
		zone := "zone-" + string(rune('a'+z))
		for h := 0; h < hosts; h++ {
			name := fmt.Sprintf("%s-%d", zone, h)
			out = append(out, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				corev1.LabelHostname: name, corev1.LabelTopologyZone: zone,
			}}})
		}
	}
	return out
}

// newTestExtender returns an extender over a fake API holding objs, and its event recorder.
func newTestExtender(t testing.TB, objs ...client.Object) (*Extender, client.Client, *record.FakeRecorder) {
	t.Helper()
	scheme, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithStatusSubresource(&v1alpha1.TidbCluster{}).Build()
	rec := record.NewFakeRecorder(1000)
	ext := New(Config{Client: c, Recorder: rec, StableScheduling: true, Now: func() time.Time { return testNow }, Logger: logr.Discard()})
	return ext, c, rec
}

// drain returns the events recorded so far.
func drain(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
