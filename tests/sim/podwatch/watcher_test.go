package podwatch_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/podwatch"
)

func pod(ns, name, component string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID(name + "-1"),
			Labels: map[string]string{
				podwatch.LabelManagedBy: podwatch.ManagedByValue, podwatch.LabelComponent: component,
			},
		},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: component, Image: "pingcap/" + component + ":v8.5.0"}}},
		Status: corev1.PodStatus{Phase: phase},
	}
}

func tc(ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster",
		"metadata": map[string]any{"namespace": ns, "name": name},
		"spec":     spec,
	}}
}

// eventually polls cond until it holds or a few seconds have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func start(t *testing.T, kube *fake.Clientset, dyn *dynamicfake.FakeDynamicClient) *model.Model {
	t.Helper()
	m := model.New(model.Options{Seed: 1})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var w *podwatch.Watcher
	if dyn == nil {
		w = podwatch.New(kube, nil, m, podwatch.Options{})
	} else {
		w = podwatch.New(kube, dyn, m, podwatch.Options{})
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

func running(m *model.Model, ns, name string) (bool, bool) {
	p, ok := m.LookupPod(ns, name)
	return p.Spec.Running, ok
}

func TestWatcherFeedsPodLifecycleIntoTheModel(t *testing.T) {
	ctx := context.Background()
	kube := fake.NewClientset(pod("ns", "basic-pd-0", "pd", corev1.PodRunning))
	m := start(t, kube, nil)

	if r, ok := running(m, "ns", "basic-pd-0"); !ok || !r {
		t.Fatalf("existing pod not fed at start: running=%v known=%v", r, ok)
	}
	st, err := m.Snapshot(model.ClusterKey{Namespace: "ns", Name: "basic"})
	if err != nil || st.Leader != "basic-pd-0" {
		t.Fatalf("PD did not start from the pod: %+v %v", st, err)
	}

	kv := pod("ns", "basic-tikv-0", "tikv", corev1.PodPending)
	if _, err := kube.CoreV1().Pods("ns").Create(ctx, kv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pending TiKV pod is known", func() bool { _, ok := running(m, "ns", "basic-tikv-0"); return ok })
	if r, _ := running(m, "ns", "basic-tikv-0"); r {
		t.Fatal("a pending pod was fed as running")
	}
	kv.Status.Phase = corev1.PodRunning
	if _, err := kube.CoreV1().Pods("ns").UpdateStatus(ctx, kv, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the TiKV store registers", func() bool {
		st, _ := m.Snapshot(model.ClusterKey{Namespace: "ns", Name: "basic"})
		return len(st.Stores) == 1 && st.Stores[0].StateName == "Up"
	})

	if err := kube.CoreV1().Pods("ns").Delete(ctx, "basic-tikv-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted pod is forgotten", func() bool { _, ok := running(m, "ns", "basic-tikv-0"); return !ok })

	other := pod("ns", "basic-discovery-abc", "discovery", corev1.PodRunning)
	if _, err := kube.CoreV1().Pods("ns").Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, ok := running(m, "ns", "basic-discovery-abc"); ok {
		t.Fatal("a discovery pod was fed to the simulator")
	}
}

func TestWatcherAppliesTidbClusterSettings(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
		map[schema.GroupVersionResource]string{podwatch.TidbClusterResource: "TidbClusterList"},
		tc("ns", "basic", map[string]any{"pd": map[string]any{"config": "[replication]\nmax-replicas = 1\nlocation-labels = [\"zone\"]\n"}}),
		tc("ns", "hetero", map[string]any{"cluster": map[string]any{"name": "basic"}}),
	)
	kube := fake.NewClientset(
		pod("ns", "basic-pd-0", "pd", corev1.PodRunning),
		pod("ns", "hetero-tikv-0", "tikv", corev1.PodRunning),
	)
	m := start(t, kube, dyn)
	basic := model.ClusterKey{Namespace: "ns", Name: "basic"}
	eventually(t, "the heterogeneous TiKV joins basic's PD", func() bool {
		st, _ := m.Snapshot(basic)
		_, ok := st.StoreByPod("hetero-tikv-0")
		return ok
	})
	st, _ := m.Snapshot(basic)
	if st.Config.MaxReplicas != 1 || len(st.Config.LocationLabels) != 1 {
		t.Fatalf("PD config from the TidbCluster not applied: %+v", st.Config)
	}
	if s, _ := st.StoreByPod("hetero-tikv-0"); s.Address != "hetero-tikv-0.hetero-tikv-peer.ns.svc:20160" {
		t.Fatalf("store %+v", s)
	}

	if err := dyn.Resource(podwatch.TidbClusterResource).Namespace("ns").Delete(ctx, "basic", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted TidbCluster is forgotten", func() bool {
		_, err := m.Snapshot(basic)
		return err != nil
	})
}
