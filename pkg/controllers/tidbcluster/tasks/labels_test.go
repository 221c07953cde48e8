package tasks

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/task"
)

func podWithClaim(name, component, claim string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: label.New().Instance("basic").Component(component).Labels()},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}},
	}
}

func TestSyncMetaLabels(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	writes := 0
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(
		podWithClaim("basic-pd-0", "pd", "pd-basic-pd-0"),
		podWithClaim("basic-tikv-0", "tikv", "tikv-basic-tikv-0"),
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pd-basic-pd-0"}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tikv-basic-tikv-0"}},
	).WithInterceptorFuncs(interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		writes++
		return c.Patch(ctx, obj, p, opts...)
	}}).Build()

	tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"}}
	tc.Status.ClusterID = "7"
	tc.Status.PD.Members = map[string]v1alpha1.PDMember{"basic-pd-0": {Name: "basic-pd-0", ID: "101"}}
	tc.Status.TiKV.Stores = map[string]v1alpha1.TiKVStore{"4": {ID: "4", PodName: "basic-tikv-0"}}
	st := NewState(Deps{Client: c}, testLogger(), tc)

	if r := SyncMetaLabels(st).Run(context.Background()); r.Status() != task.StatusComplete {
		t.Fatalf("first sync: %v %s", r.Status(), r.Message())
	}
	if writes != 4 {
		t.Fatalf("%d patches, want 4 (two pods, two claims)", writes)
	}
	checks := map[string]map[string]string{
		"basic-pd-0":   {label.ClusterIDLabelKey: "7", label.MemberIDLabelKey: "101"},
		"basic-tikv-0": {label.ClusterIDLabelKey: "7", label.StoreIDLabelKey: "4"},
	}
	for name, want := range checks {
		pod := &corev1.Pod{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, pod); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if pod.Labels[k] != v {
				t.Errorf("pod %s label %s=%q, want %q", name, k, pod.Labels[k], v)
			}
		}
	}
	pvc := &corev1.PersistentVolumeClaim{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "tikv-basic-tikv-0"}, pvc); err != nil {
		t.Fatal(err)
	}
	if pvc.Labels[label.StoreIDLabelKey] != "4" || pvc.Labels[label.PodNameLabelKey] != "basic-tikv-0" || pvc.Annotations[label.PodNameLabelKey] != "basic-tikv-0" {
		t.Errorf("claim labels %v annotations %v", pvc.Labels, pvc.Annotations)
	}

	writes = 0
	if r := SyncMetaLabels(st).Run(context.Background()); r.Status() != task.StatusComplete || writes != 0 {
		t.Fatalf("second sync made %d writes (%s), want none", writes, r.Message())
	}
}

func TestSyncPVLabelsAndReclaimPolicy(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-1"},
		Spec: corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete}}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tikv-basic-tikv-0", Labels: label.New().Instance("basic").Component("tikv").Labels()},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1"},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound},
	}
	writes := 0
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(pv, pvc).WithInterceptorFuncs(interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			writes++
			return c.Patch(ctx, obj, p, opts...)
		}}).Build()
	tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"}}
	st := NewState(Deps{Client: c, ReadPVs: true}, testLogger(), tc)
	identity := map[string]string{label.ClusterIDLabelKey: "7", label.StoreIDLabelKey: "4", label.PodNameLabelKey: "basic-tikv-0"}

	if _, err := st.syncPV(context.Background(), pvc, identity); err != nil {
		t.Fatal(err)
	}
	got := &corev1.PersistentVolume{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "pv-1"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("reclaim policy %s, want Retain (the default of spec.pvReclaimPolicy)", got.Spec.PersistentVolumeReclaimPolicy)
	}
	for k, v := range map[string]string{label.ClusterIDLabelKey: "7", label.StoreIDLabelKey: "4", label.PodNameLabelKey: "basic-tikv-0",
		label.NamespaceLabelKey: "ns", label.ComponentLabelKey: "tikv", label.InstanceLabelKey: "basic"} {
		if got.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, got.Labels[k], v)
		}
	}
	if got.Annotations[label.PodNameLabelKey] != "basic-tikv-0" {
		t.Errorf("annotations %v", got.Annotations)
	}
	writes = 0
	if _, err := st.syncPV(context.Background(), pvc, identity); err != nil || writes != 0 {
		t.Fatalf("second sync: %d writes, %v; want none", writes, err)
	}
	del := v1alpha1.PVReclaimPolicy("Delete")
	tc.Spec.PVReclaimPolicy = &del
	if _, err := st.syncPV(context.Background(), pvc, identity); err != nil {
		t.Fatal(err)
	}
	_ = c.Get(context.Background(), client.ObjectKey{Name: "pv-1"}, got)
	if got.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("policy %s after asking for Delete", got.Spec.PersistentVolumeReclaimPolicy)
	}
}
