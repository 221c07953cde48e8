package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

const tcName = "basic"

func basicCluster(ns string, pd, tikv, tidb int32) *v1alpha1.TidbCluster {
	storage := corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	return &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tcName},
		Spec: v1alpha1.TidbClusterSpec{
			Version: "v8.5.0",
			PD: &v1alpha1.PDSpec{ComponentSpec: v1alpha1.ComponentSpec{}, Replicas: pd, BaseImage: "pingcap/pd",
				ResourceRequirements: corev1.ResourceRequirements{Requests: storage}},
			TiKV: &v1alpha1.TiKVSpec{Replicas: tikv, BaseImage: "pingcap/tikv",
				ResourceRequirements: corev1.ResourceRequirements{Requests: storage}},
			TiDB: &v1alpha1.TiDBSpec{Replicas: tidb, BaseImage: "pingcap/tidb",
				Service: &v1alpha1.TiDBServiceSpec{ServiceSpec: v1alpha1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}},
		},
	}
}

func (e *env) get(name string, obj client.Object) error {
	return e.c.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: name}, obj)
}

// updateTC changes the cluster's spec, retrying on conflicts with the operator's status writes.
func (e *env) updateTC(mutate func(tc *v1alpha1.TidbCluster)) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		tc := e.tc()
		mutate(tc)
		return e.c.Update(context.Background(), tc)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) tc() *v1alpha1.TidbCluster {
	e.t.Helper()
	tc := &v1alpha1.TidbCluster{}
	if err := e.get(tcName, tc); err != nil {
		e.t.Fatal(err)
	}
	return tc
}

// bringUp creates the cluster and plays kubelet and StatefulSet controller until it is Ready.
func (e *env) bringUp(pd, tikv, tidb int32) {
	e.t.Helper()
	if err := e.c.Create(context.Background(), basicCluster(e.ns, pd, tikv, tidb)); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("the PD StatefulSet exists", func() error { return e.get(tcName+"-pd", &appsv1.StatefulSet{}) })
	if err := e.get(tcName+"-tikv", &appsv1.StatefulSet{}); err == nil {
		e.t.Fatal("TiKV was created before PD was available")
	}
	e.runPods(tcName, "pd", int(pd))
	e.settleStatefulSet(tcName + "-pd")
	e.eventually("the TiKV StatefulSet exists", func() error { return e.get(tcName+"-tikv", &appsv1.StatefulSet{}) })
	if err := e.get(tcName+"-tidb", &appsv1.StatefulSet{}); err == nil {
		e.t.Fatal("TiDB was created before TiKV was available")
	}
	e.runPods(tcName, "tikv", int(tikv))
	e.settleStatefulSet(tcName + "-tikv")
	e.eventually("the TiDB StatefulSet exists", func() error { return e.get(tcName+"-tidb", &appsv1.StatefulSet{}) })
	e.runPods(tcName, "tidb", int(tidb))
	e.settleStatefulSet(tcName + "-tidb")
	e.waitReady()
}

func (e *env) waitReady() {
	e.t.Helper()
	e.eventually("the cluster is Ready", func() error {
		tc := e.tc()
		c := tc.Status.Condition(v1alpha1.TidbClusterReady)
		if c == nil || c.Status != corev1.ConditionTrue {
			return fmt.Errorf("Ready condition %+v", c)
		}
		return nil
	})
}

func TestClusterComesUpWithObjectsAndStatusFromPD(t *testing.T) {
	e := newEnv(t)
	e.bringUp(3, 3, 2)
	tc := e.tc()

	// Children: names, labels, controller owner reference.
	children := []struct {
		name string
		obj  client.Object
	}{
		{"basic-pd", &appsv1.StatefulSet{}},
		{"basic-tikv", &appsv1.StatefulSet{}},
		{"basic-tidb", &appsv1.StatefulSet{}},
		{"basic-pd", &corev1.Service{}},
		{"basic-pd-peer", &corev1.Service{}},
		{"basic-tikv-peer", &corev1.Service{}},
		{"basic-tidb-peer", &corev1.Service{}},
		{"basic-tidb", &corev1.Service{}},
		{"basic-discovery", &appsv1.Deployment{}},
	}
	for _, child := range children {
		name, obj := child.name, child.obj
		if err := e.get(name, obj); err != nil {
			t.Fatalf("%T %s: %v", obj, name, err)
		}
		checkOwned(t, tc, obj)
		if obj.GetLabels()[label.ManagedByLabelKey] != label.TiDBOperator || obj.GetLabels()[label.InstanceLabelKey] != tcName {
			t.Errorf("%T %s labels %v", obj, name, obj.GetLabels())
		}
	}
	for _, obj := range []client.Object{&corev1.Service{}, &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}} {
		if err := e.get("basic-discovery", obj); err != nil {
			t.Fatalf("%T basic-discovery: %v", obj, err)
		}
		checkOwned(t, tc, obj)
	}
	for _, comp := range []string{"pd", "tikv", "tidb"} {
		cms := &corev1.ConfigMapList{}
		if err := e.c.List(context.Background(), cms, client.InNamespace(e.ns), client.MatchingLabels{label.ComponentLabelKey: comp}); err != nil || len(cms.Items) != 1 {
			t.Fatalf("%s ConfigMaps: %d, %v", comp, len(cms.Items), err)
		}
		checkOwned(t, tc, &cms.Items[0])
	}

	// Status matches the simulator.
	state, err := e.admin.Cluster(context.Background(), e.ns, tcName)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Status.ClusterID != fmt.Sprint(state.ClusterID) {
		t.Errorf("clusterID %q, simulator %d", tc.Status.ClusterID, state.ClusterID)
	}
	if len(tc.Status.PD.Members) != 3 || tc.Status.PD.Leader == nil || tc.Status.PD.Leader.Name != state.Leader || !tc.Status.PD.Synced {
		t.Errorf("PD status %+v, simulator leader %s", tc.Status.PD, state.Leader)
	}
	if len(tc.Status.TiKV.Stores) != 3 || !tc.Status.TiKV.BootStrapped {
		t.Errorf("TiKV stores %+v", tc.Status.TiKV.Stores)
	}
	for _, s := range tc.Status.TiKV.Stores {
		if s.State != v1alpha1.TiKVStateUp {
			t.Errorf("store %+v is not Up", s)
		}
	}
	if len(tc.Status.TiDB.Members) != 2 {
		t.Errorf("TiDB members %+v", tc.Status.TiDB.Members)
	}
	for _, comp := range []v1alpha1.MemberPhase{tc.Status.PD.Phase, tc.Status.TiKV.Phase, tc.Status.TiDB.Phase} {
		if comp != v1alpha1.NormalPhase {
			t.Errorf("phase %s, want Normal", comp)
		}
	}
	if tc.Status.PD.StatefulSet == nil || tc.Status.PD.StatefulSet.ReadyReplicas != 3 || tc.Status.PD.Image == "" {
		t.Errorf("PD StatefulSet status %+v image %q", tc.Status.PD.StatefulSet, tc.Status.PD.Image)
	}
	c := meta.FindStatusCondition(tc.Status.PD.Conditions, "PDReachable")
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != tc.Generation {
		t.Errorf("PDReachable %+v, want True at generation %d", c, tc.Generation)
	}
	if tc.Status.ObservedGeneration != tc.Generation {
		t.Errorf("status.observedGeneration %d, want %d", tc.Status.ObservedGeneration, tc.Generation)
	}
}

func checkOwned(t *testing.T, tc *v1alpha1.TidbCluster, obj client.Object) {
	t.Helper()
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.UID != tc.UID || ref.Kind != "TidbCluster" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("%T %s controller reference %+v", obj, obj.GetName(), ref)
	}
}

func TestDeletedChildrenAreRecreated(t *testing.T) {
	e := newEnv(t)
	e.bringUp(1, 1, 1)
	for _, obj := range []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "basic-pd"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "basic-tidb"}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "basic-tikv"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "basic-discovery"}},
	} {
		obj.SetNamespace(e.ns)
		if err := e.get(obj.GetName(), obj); err != nil {
			t.Fatal(err)
		}
		old := obj.GetUID()
		if err := e.c.Delete(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
		e.eventually(fmt.Sprintf("%T %s is recreated", obj, obj.GetName()), func() error {
			fresh := obj.DeepCopyObject().(client.Object)
			if err := e.get(obj.GetName(), fresh); err != nil {
				return err
			}
			if fresh.GetUID() == old {
				return fmt.Errorf("still the old object")
			}
			return nil
		})
	}
}

func TestSteadyStateMakesNoWrites(t *testing.T) {
	e := newEnv(t)
	e.bringUp(3, 3, 2)
	// Let the last status write and any watch echo settle.
	time.Sleep(2 * resync)
	calls, err := e.admin.Calls(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var since uint64
	if len(calls) > 0 {
		since = calls[len(calls)-1].Seq
	}
	e.writes.reset()
	time.Sleep(3 * resync)
	if w := e.writes.list(); len(w) != 0 {
		t.Fatalf("steady state made %d API writes: %v", len(w), w)
	}
	// The reconciles did run: PD was asked again.
	calls, err = e.admin.Calls(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	pdCalls := 0
	for _, c := range calls {
		if c.Component == "pd" {
			pdCalls++
			if c.Method != "GET" {
				t.Errorf("steady state wrote to PD: %s %s", c.Method, c.Path)
			}
		}
	}
	if pdCalls == 0 {
		t.Fatal("no PD calls during the steady state: the resync did not run")
	}
}

func TestPausedClusterOnlySyncsStatus(t *testing.T) {
	e := newEnv(t)
	e.bringUp(1, 1, 2)
	ctx := context.Background()
	e.updateTC(func(tc *v1alpha1.TidbCluster) { tc.Spec.Paused = true })
	time.Sleep(resync)
	e.updateTC(func(tc *v1alpha1.TidbCluster) { tc.Spec.TiDB.Replicas = 3 })
	// A TiDB server stops answering: status must still follow.
	e.runPods(tcName, "tidb", 1)
	e.eventually("status shows the unhealthy TiDB while paused", func() error {
		m, ok := e.tc().Status.TiDB.Members["basic-tidb-1"]
		if !ok || m.Health {
			return fmt.Errorf("member %+v", m)
		}
		return nil
	})
	sts := &appsv1.StatefulSet{}
	if err := e.get("basic-tidb", sts); err != nil {
		t.Fatal(err)
	}
	if *sts.Spec.Replicas != 2 {
		t.Fatalf("paused cluster's TiDB StatefulSet changed to %d replicas", *sts.Spec.Replicas)
	}
	// Deleting a child while paused does not bring it back either.
	if err := e.c.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "basic-tidb-peer"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(resync)
	if err := e.get("basic-tidb-peer", &corev1.Service{}); err == nil {
		t.Fatal("a child was recreated while paused")
	}

	e.updateTC(func(tc *v1alpha1.TidbCluster) { tc.Spec.Paused = false })
	e.eventually("TiDB scales out after resume", func() error {
		if err := e.get("basic-tidb", sts); err != nil {
			return err
		}
		if *sts.Spec.Replicas != 3 {
			return fmt.Errorf("replicas %d", *sts.Spec.Replicas)
		}
		return e.get("basic-tidb-peer", &corev1.Service{})
	})
}

func TestPDUnreachableBlocksScaleInUntilPDReturns(t *testing.T) {
	e := newEnv(t)
	e.bringUp(3, 1, 1)
	ctx := context.Background()

	// The claim of the leaving pod, as the StatefulSet controller would have made it.
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "pd-basic-pd-2", Labels: map[string]string{
			label.ManagedByLabelKey: label.TiDBOperator, label.InstanceLabelKey: tcName, label.ComponentLabelKey: "pd", label.NameLabelKey: label.TiDBClusterName}},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}
	if err := e.c.Create(ctx, pvc); err != nil {
		t.Fatal(err)
	}

	fault, err := e.admin.AddFault(ctx, simapi.Fault{Kind: simapi.FaultUnreachable, Namespace: e.ns, Cluster: tcName, Component: "pd"})
	if err != nil {
		t.Fatal(err)
	}
	e.eventually("PDReachable turns False", func() error {
		c := meta.FindStatusCondition(e.tc().Status.PD.Conditions, "PDReachable")
		if c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	tc := e.tc()
	if !strings.Contains(tc.Status.Condition(v1alpha1.TidbClusterReady).Message, "stale") {
		t.Errorf("Ready message %q does not say status is stale", tc.Status.Condition(v1alpha1.TidbClusterReady).Message)
	}
	if len(tc.Status.PD.Members) != 3 {
		t.Errorf("last known PD members were dropped: %+v", tc.Status.PD.Members)
	}
	e.updateTC(func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Replicas = 2 })
	time.Sleep(2 * resync)
	sts := &appsv1.StatefulSet{}
	if err := e.get("basic-pd", sts); err != nil {
		t.Fatal(err)
	}
	if *sts.Spec.Replicas != 3 {
		t.Fatalf("PD scaled in to %d while PD was unreachable", *sts.Spec.Replicas)
	}
	c := meta.FindStatusCondition(e.tc().Status.PD.Conditions, "ScaleInBlocked")
	if c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("ScaleInBlocked %+v", c)
	}
	calls, err := e.admin.Calls(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range calls {
		if call.Method == "DELETE" || strings.Contains(call.Path, "transfer") {
			t.Fatalf("destructive PD call while PD was unreachable: %s %s", call.Method, call.Path)
		}
	}

	if err := e.admin.RemoveFault(ctx, fault.ID); err != nil {
		t.Fatal(err)
	}
	e.eventually("PD scales in once PD is back", func() error {
		if err := e.get("basic-pd", sts); err != nil {
			return err
		}
		if *sts.Spec.Replicas != 2 {
			return fmt.Errorf("replicas %d", *sts.Spec.Replicas)
		}
		return nil
	})
	state, err := e.admin.Cluster(ctx, e.ns, tcName)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := state.MemberByName("basic-pd-2"); ok {
		t.Error("basic-pd-2 is still a PD member")
	}
	if err := e.get("pd-basic-pd-2", pvc); err != nil {
		t.Fatal(err)
	}
	if _, ok := pvc.Annotations[label.PVCDeferDeletingAnnKey]; !ok {
		t.Errorf("claim of the removed pod not marked: %v", pvc.Annotations)
	}
	// The scale-in was seen as soon as the StatefulSet changed; the status write of that
	// reconcile comes after it.
	e.eventually("PDReachable=True after PD returned", func() error {
		if c := meta.FindStatusCondition(e.tc().Status.PD.Conditions, "PDReachable"); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("PDReachable %+v", c)
		}
		return nil
	})
}
