package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func (e *env) tikvClaim(ordinal int) *corev1.PersistentVolumeClaim {
	e.t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: fmt.Sprintf("tikv-basic-tikv-%d", ordinal), Labels: map[string]string{
			label.ManagedByLabelKey: label.TiDBOperator, label.InstanceLabelKey: tcName, label.ComponentLabelKey: "tikv", label.NameLabelKey: label.TiDBClusterName}},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}
	if err := e.c.Create(context.Background(), pvc); err != nil {
		e.t.Fatal(err)
	}
	return pvc
}

func (e *env) setTiKVReplicas(n int32) {
	e.t.Helper()
	e.updateTC(func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = n })
}

func (e *env) stsReplicas(name string) int32 {
	e.t.Helper()
	sts := &appsv1.StatefulSet{}
	if err := e.get(name, sts); err != nil {
		e.t.Fatal(err)
	}
	return *sts.Spec.Replicas
}

func TestTiKVScaleInThroughTombstoneAndScaleOutCleansClaims(t *testing.T) {
	e := newEnv(t)
	e.bringUp(1, 4, 1)
	ctx := context.Background()
	pvc := e.tikvClaim(3)
	// The leaving pod exists (Pending, as nothing schedules it here), so the scale-in records
	// its start on it and evicts the store's leaders before deleting the store.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "basic-tikv-3", Labels: map[string]string{
			label.ManagedByLabelKey: label.TiDBOperator, label.InstanceLabelKey: tcName, label.ComponentLabelKey: "tikv", label.NameLabelKey: label.TiDBClusterName}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "tikv", Image: "pingcap/tikv:v8.5.0"}}},
	}
	if err := e.c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}

	// 4 -> 3: the store of basic-tikv-3 is deleted, drained to a tombstone, then the pod goes.
	e.setTiKVReplicas(3)
	e.eventually("TiKV scales in to 3", func() error {
		if n := e.stsReplicas("basic-tikv"); n != 3 {
			return fmt.Errorf("replicas %d", n)
		}
		return nil
	})
	state, err := e.admin.Cluster(ctx, e.ns, tcName)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := state.StoreByPod("basic-tikv-3"); !ok || st.StateName != "Tombstone" {
		t.Fatalf("store of basic-tikv-3 is %+v, want Tombstone", st)
	}
	if err := e.get(pod.Name, pod); err != nil {
		t.Fatal(err)
	}
	if _, ok := pod.Annotations[label.ScaleInTimeAnnKey]; !ok {
		t.Errorf("scale-in start not recorded on the pod: %v", pod.Annotations)
	}
	calls, err := e.admin.Calls(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var evicted, deleted bool
	for _, c := range calls {
		if c.Method == "POST" && c.Path == "/pd/api/v1/schedulers" && strings.Contains(c.Body, "evict-leader-scheduler") {
			evicted = true
		}
		if c.Method == "DELETE" && strings.HasPrefix(c.Path, "/pd/api/v1/store/") {
			deleted = true
			if !evicted {
				t.Error("the store was deleted before its leaders were evicted")
			}
		}
	}
	if !evicted || !deleted {
		t.Errorf("evict-leader requested %v, store deleted %v", evicted, deleted)
	}
	if err := e.get(pvc.Name, pvc); err != nil {
		t.Fatal(err)
	}
	if _, ok := pvc.Annotations[label.PVCDeferDeletingAnnKey]; !ok {
		t.Fatalf("claim of the removed pod not marked: %v", pvc.Annotations)
	}
	e.runPods(tcName, "tikv", 3)
	e.settleStatefulSet("basic-tikv")
	e.eventually("the tombstone shows in status", func() error {
		if len(e.tc().Status.TiKV.TombstoneStores) != 1 {
			return fmt.Errorf("tombstones %+v", e.tc().Status.TiKV.TombstoneStores)
		}
		return nil
	})

	// 3 -> 2 would leave fewer Up stores than max-replicas (3): refused, nothing deleted.
	e.setTiKVReplicas(2)
	e.eventually("the refusal is reported", func() error {
		c := meta.FindStatusCondition(e.tc().Status.TiKV.Conditions, "ScaleInBlocked")
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != "TooFewUpStores" {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	time.Sleep(resync)
	if n := e.stsReplicas("basic-tikv"); n != 3 {
		t.Fatalf("TiKV scaled in to %d below max-replicas", n)
	}
	state, err = e.admin.Cluster(ctx, e.ns, tcName)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := state.StoreByPod("basic-tikv-2"); st.StateName != "Up" {
		t.Fatalf("store of basic-tikv-2 is %s after a refused scale-in", st.StateName)
	}

	// Back to 4: the claim left by the scale-in is deleted before the pod comes back.
	e.setTiKVReplicas(4)
	e.eventually("TiKV scales out to 4", func() error {
		if n := e.stsReplicas("basic-tikv"); n != 4 {
			return fmt.Errorf("replicas %d", n)
		}
		return nil
	})
	err = e.get(pvc.Name, pvc)
	if err == nil && pvc.DeletionTimestamp.IsZero() {
		t.Fatal("the deferred claim of basic-tikv-3 was not deleted before the scale-out")
	}
	if c := meta.FindStatusCondition(e.tc().Status.TiKV.Conditions, "ScaleInBlocked"); c != nil {
		t.Errorf("ScaleInBlocked still set after the scale-in was withdrawn: %+v", c)
	}
}

func TestPDToZeroIsRefusedWhileOtherComponentsExist(t *testing.T) {
	e := newEnv(t)
	e.bringUp(1, 1, 1)
	e.updateTC(func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Replicas = 0 })
	e.eventually("the refusal is reported", func() error {
		c := meta.FindStatusCondition(e.tc().Status.PD.Conditions, "ScaleInBlocked")
		if c == nil || c.Reason != "OtherComponentsNeedPD" {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	if n := e.stsReplicas("basic-pd"); n != 1 {
		t.Fatalf("PD scaled to %d", n)
	}
	e.eventually("a FailedScaleIn event is recorded", func() error {
		evs := &corev1.EventList{}
		if err := e.c.List(context.Background(), evs, client.InNamespace(e.ns)); err != nil {
			return err
		}
		for _, ev := range evs.Items {
			if ev.Reason == "FailedScaleIn" && ev.InvolvedObject.Name == tcName {
				return nil
			}
		}
		return fmt.Errorf("no FailedScaleIn event among %d", len(evs.Items))
	})
}
