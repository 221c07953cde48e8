package common

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// writeCounter counts create/update/patch calls that reach the fake API.
func writeCounter(n *int) interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			*n++
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			*n++
			return c.Update(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			*n++
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	}
}

func owner() metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "pingcap.com/v1alpha1", Kind: "TidbCluster", Name: "basic", UID: types.UID("u1"), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
}

func configMap(data string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic-pd", Labels: map[string]string{"app.kubernetes.io/component": "pd"}, OwnerReferences: []metav1.OwnerReference{owner()}},
		Data:       map[string]string{"config-file": data},
	}
}

func service(port int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic-pd", Labels: map[string]string{"app.kubernetes.io/component": "pd"}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{"app.kubernetes.io/component": "pd"},
			Ports:    []corev1.ServicePort{{Name: "client", Port: port}},
		},
	}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		// existing is in the API before Apply; nil means nothing.
		existing client.Object
		// desired is handed to Apply.
		desired client.Object
		// wantOutcome is what Apply reports.
		wantOutcome Outcome
		// wantWrites is the number of API writes.
		wantWrites int
		// check looks at the live object afterwards.
		check func(t *testing.T, live client.Object)
	}{
		"a missing object is created": {
			desired:     configMap("a"),
			wantOutcome: Created,
			wantWrites:  1,
		},
		"an object equal to the desired one is not written": {
			existing:    configMap("a"),
			desired:     configMap("a"),
			wantOutcome: Unchanged,
		},
		"changed data is written": {
			existing:    configMap("a"),
			desired:     configMap("b"),
			wantOutcome: Updated,
			wantWrites:  1,
			check: func(t *testing.T, live client.Object) {
				if got := live.(*corev1.ConfigMap).Data["config-file"]; got != "b" {
					t.Errorf("data %q, want b", got)
				}
			},
		},
		"labels added by someone else are kept and do not cause a write": {
			existing: func() client.Object {
				cm := configMap("a")
				cm.Labels["team"] = "db"
				return cm
			}(),
			desired:     configMap("a"),
			wantOutcome: Unchanged,
		},
		"a changed owned label is written back and foreign labels stay": {
			existing: func() client.Object {
				cm := configMap("a")
				cm.Labels["app.kubernetes.io/component"] = "x"
				cm.Labels["team"] = "db"
				return cm
			}(),
			desired:     configMap("a"),
			wantOutcome: Updated,
			wantWrites:  1,
			check: func(t *testing.T, live client.Object) {
				l := live.GetLabels()
				if l["app.kubernetes.io/component"] != "pd" || l["team"] != "db" {
					t.Errorf("labels %v", l)
				}
			},
		},
		"a service whose spec is recorded as applied is not written although the server filled in fields": {
			existing: func() client.Object {
				svc := service(2379)
				_ = recordLastApplied(svc)
				svc.Spec.ClusterIP = "10.0.0.1"
				svc.Spec.Ports[0].NodePort = 30001
				svc.Spec.Ports[0].Protocol = corev1.ProtocolTCP
				return svc
			}(),
			desired:     service(2379),
			wantOutcome: Unchanged,
		},
		"a changed service keeps its cluster IP and allocated node port": {
			existing: func() client.Object {
				svc := service(2379)
				_ = recordLastApplied(svc)
				svc.Spec.ClusterIP = "10.0.0.1"
				svc.Spec.Ports[0].NodePort = 30001
				return svc
			}(),
			desired: func() client.Object {
				svc := service(2379)
				svc.Spec.Selector["extra"] = "x"
				return svc
			}(),
			wantOutcome: Updated,
			wantWrites:  1,
			check: func(t *testing.T, live client.Object) {
				svc := live.(*corev1.Service)
				if svc.Spec.ClusterIP != "10.0.0.1" || svc.Spec.Ports[0].NodePort != 30001 || svc.Spec.Selector["extra"] != "x" {
					t.Errorf("spec %+v", svc.Spec)
				}
			},
		},
		"a changed statefulset keeps its immutable fields": {
			existing: func() client.Object {
				sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic-pd"}, Spec: appsv1.StatefulSetSpec{
					Replicas: ptr.To[int32](3), ServiceName: "basic-pd-peer",
					VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "pd"}}},
				}}
				_ = recordLastApplied(sts)
				return sts
			}(),
			desired: &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic-pd"}, Spec: appsv1.StatefulSetSpec{
				Replicas: ptr.To[int32](4), ServiceName: "other",
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "changed"}}},
			}},
			wantOutcome: Updated,
			wantWrites:  1,
			check: func(t *testing.T, live client.Object) {
				sts := live.(*appsv1.StatefulSet)
				if *sts.Spec.Replicas != 4 || sts.Spec.ServiceName != "basic-pd-peer" || sts.Spec.VolumeClaimTemplates[0].Name != "pd" {
					t.Errorf("spec %+v", sts.Spec)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			writes := 0
			b := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(writeCounter(&writes))
			if tc.existing != nil {
				b = b.WithObjects(tc.existing)
			}
			c := b.Build()
			desired := tc.desired.DeepCopyObject().(client.Object)
			_, outcome, err := Apply(ctx, c, tc.desired)
			if err != nil {
				t.Fatal(err)
			}
			if outcome != tc.wantOutcome {
				t.Errorf("outcome %s, want %s", outcome, tc.wantOutcome)
			}
			if writes != tc.wantWrites {
				t.Errorf("%d writes, want %d", writes, tc.wantWrites)
			}
			if !equalObjects(desired, tc.desired) {
				t.Error("Apply modified its argument")
			}
			live := tc.desired.DeepCopyObject().(client.Object)
			if err := c.Get(ctx, client.ObjectKeyFromObject(tc.desired), live); err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, live)
			}
			// A second Apply of the same object never writes.
			writes = 0
			if _, outcome, err := Apply(ctx, c, tc.desired); err != nil || outcome != Unchanged || writes != 0 {
				t.Errorf("second apply: outcome %s, %d writes, err %v; want Unchanged without writes", outcome, writes, err)
			}
		})
	}
}

func equalObjects(a, b client.Object) bool {
	return a.GetResourceVersion() == b.GetResourceVersion() && len(a.GetAnnotations()) == len(b.GetAnnotations())
}

func TestWriteTidbClusterStatus(t *testing.T) {
	ctx := context.Background()
	tc := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic"}}
	writes := 0
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(tc).WithStatusSubresource(tc).WithInterceptorFuncs(writeCounter(&writes)).Build()
	live := &v1alpha1.TidbCluster{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tc), live); err != nil {
		t.Fatal(err)
	}

	status := live.Status.DeepCopy()
	status.ClusterID = "42"
	wrote, err := WriteTidbClusterStatus(ctx, c, live, status)
	if err != nil || !wrote || writes != 1 {
		t.Fatalf("first write: wrote=%v writes=%d err=%v", wrote, writes, err)
	}

	// Same status again (empty and nil maps are the same thing): no write.
	status = live.Status.DeepCopy()
	status.PD.Members = map[string]v1alpha1.PDMember{}
	wrote, err = WriteTidbClusterStatus(ctx, c, live, status)
	if err != nil || wrote || writes != 1 {
		t.Fatalf("unchanged status: wrote=%v writes=%d err=%v", wrote, writes, err)
	}

	// A stale copy (old resourceVersion) conflicts: nothing is written, so a status derived from
	// old data never overwrites newer data, and the error asks for a recompute.
	stale := live.DeepCopy()
	other := live.DeepCopy()
	other.Status.ClusterID = "43"
	if err := c.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	status = stale.Status.DeepCopy()
	status.ClusterID = "44"
	before := writes
	wrote, err = WriteTidbClusterStatus(ctx, c, stale, status)
	if wrote || !errors.Is(err, ErrStatusConflict) {
		t.Fatalf("conflicting write: wrote=%v err=%v, want ErrStatusConflict", wrote, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tc), live); err != nil {
		t.Fatal(err)
	}
	if live.Status.ClusterID != "43" || writes != before+1 {
		t.Fatalf("clusterID %q after a conflict (writes %d -> %d), want the newer 43 kept", live.Status.ClusterID, before, writes)
	}
}

func TestSetTidbClusterCondition(t *testing.T) {
	t0 := metav1.Unix(1000, 0)
	t1 := metav1.Unix(2000, 0)
	conds := SetTidbClusterCondition(nil, ReadyCondition(false, "PDUnhealthy", "pd"), t0)
	if len(conds) != 1 || !conds[0].LastTransitionTime.Equal(&t0) {
		t.Fatalf("new condition %+v", conds)
	}
	same := SetTidbClusterCondition(conds, ReadyCondition(false, "PDUnhealthy", "pd"), t1)
	if !same[0].LastUpdateTime.Equal(&t0) {
		t.Fatalf("an unchanged condition moved its update time: %+v", same[0])
	}
	msg := SetTidbClusterCondition(same, ReadyCondition(false, "TiKVStoreNotUp", "tikv"), t1)
	if !msg[0].LastTransitionTime.Equal(&t0) || !msg[0].LastUpdateTime.Equal(&t1) {
		t.Fatalf("a new reason must update lastUpdateTime only: %+v", msg[0])
	}
	flip := SetTidbClusterCondition(msg, ReadyCondition(true, "Ready", ReadyMessage), t1)
	if !flip[0].LastTransitionTime.Equal(&t1) {
		t.Fatalf("a status flip must move lastTransitionTime: %+v", flip[0])
	}
}

// A record another writer made for the same spec (v1.6 encodes it with other spacing, here
// with keys in another order) means the spec is up to date: a metadata change is written
// without the spec, and the record stays byte for byte, so that v1.6 still recognises it.
func TestApplyKeepsARecordOfTheSameSpecAsItIs(t *testing.T) {
	ctx := context.Background()
	live := service(4000)
	live.Spec.ClusterIP = "10.0.0.7"
	record := `{"selector":{"app.kubernetes.io/component":"pd"},"type":"NodePort","ports":[{"name":"client","port":4000}]}`
	live.Annotations = map[string]string{LastAppliedAnnotation: record}
	writes := 0
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(live).WithInterceptorFuncs(writeCounter(&writes)).Build()

	want := service(4000)
	want.Annotations = map[string]string{"tidb.pingcap.com/rendered-from": "{}"}
	_, outcome, err := Apply(ctx, c, want)
	if err != nil || outcome != Updated || writes != 1 {
		t.Fatalf("outcome %s, %d writes, err %v; want one metadata update", outcome, writes, err)
	}
	got := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(live), got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations[LastAppliedAnnotation] != record {
		t.Errorf("record rewritten: %s", got.Annotations[LastAppliedAnnotation])
	}
	if got.Spec.ClusterIP != "10.0.0.7" {
		t.Errorf("spec written: cluster IP %q", got.Spec.ClusterIP)
	}

	// The same again writes nothing; a real change of the spec is written with a new record.
	writes = 0
	if _, outcome, err := Apply(ctx, c, want); err != nil || outcome != Unchanged || writes != 0 {
		t.Fatalf("second apply: %s, %d writes, %v", outcome, writes, err)
	}
	changed := service(4001)
	if _, outcome, err := Apply(ctx, c, changed); err != nil || outcome != Updated {
		t.Fatalf("changed spec: %s, %v", outcome, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(live), got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations[LastAppliedAnnotation] == record || got.Spec.Ports[0].Port != 4001 {
		t.Errorf("a changed spec was not written: %+v", got.Spec.Ports)
	}
}
