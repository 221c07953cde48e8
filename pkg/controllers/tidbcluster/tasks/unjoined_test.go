package tasks

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestRefreshUnjoinedPD(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	claim := func(name string, uid types.UID) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: uid}}
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(
		podWithClaim("basic-pd-0", "pd", "pd-basic-pd-0"),
		podWithClaim("basic-pd-1", "pd", "pd-basic-pd-1"),
		podWithClaim("basic-pd-2", "pd", "pd-basic-pd-2"),
		claim("pd-basic-pd-1", "uid-1"), claim("pd-basic-pd-2", "uid-2"),
	).Build()
	three := int32(3)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic-pd"}, Spec: appsv1.StatefulSetSpec{
		Replicas:             &three,
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "pd"}}},
	}}
	earlier := metav1.NewTime(metav1.Now().Add(-3600e9).Truncate(1e9))
	tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"}}
	tc.Status.PD.UnjoinedMembers = map[string]v1alpha1.UnjoinedMember{"basic-pd-2": {PodName: "basic-pd-2", CreatedAt: earlier}}
	st := NewState(Deps{Client: c}, testLogger(), tc)
	st.Status.PD.Synced = true
	// basic-pd-0 is a member by its FQDN; 1 and 2 are not.
	st.Status.PD.Members = map[string]v1alpha1.PDMember{"basic-pd-0.basic-pd-peer.ns.svc": {Name: "basic-pd-0.basic-pd-peer.ns.svc"}}

	// Without a fresh member list nothing changes.
	if err := st.refreshUnjoinedPD(context.Background(), sts); err != nil {
		t.Fatal(err)
	}
	if len(st.Status.PD.UnjoinedMembers) != 1 {
		t.Fatalf("changed without a fresh member list: %v", st.Status.PD.UnjoinedMembers)
	}

	st.PDView = &PDView{}
	if err := st.refreshUnjoinedPD(context.Background(), sts); err != nil {
		t.Fatal(err)
	}
	got := st.Status.PD.UnjoinedMembers
	if len(got) != 2 {
		t.Fatalf("unjoined %v, want basic-pd-1 and basic-pd-2", got)
	}
	if _, ok := got["basic-pd-1"].PVCUIDSet["uid-1"]; !ok {
		t.Errorf("basic-pd-1 claims %v", got["basic-pd-1"].PVCUIDSet)
	}
	if c := got["basic-pd-2"].CreatedAt; !c.Equal(&earlier) {
		t.Errorf("basic-pd-2 first seen %v, want the earlier %v", got["basic-pd-2"].CreatedAt, earlier)
	}

	st.Status.PD.Members["basic-pd-1"] = v1alpha1.PDMember{Name: "basic-pd-1"}
	st.Status.PD.Members["basic-pd-2"] = v1alpha1.PDMember{Name: "basic-pd-2"}
	if err := st.refreshUnjoinedPD(context.Background(), sts); err != nil {
		t.Fatal(err)
	}
	if st.Status.PD.UnjoinedMembers != nil {
		t.Errorf("all joined, still %v", st.Status.PD.UnjoinedMembers)
	}
}
