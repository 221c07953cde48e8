package tidbcluster

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
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

func pitrRestore(ns, cluster, clusterNS string, conds ...v1alpha1.RestoreConditionType) *v1alpha1.Restore {
	rs := &v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"},
		Spec:       v1alpha1.RestoreSpec{Mode: v1alpha1.RestoreModePiTR, BR: &v1alpha1.BRConfig{Cluster: cluster, ClusterNamespace: clusterNS}},
	}
	for _, c := range conds {
		rs.Status.Conditions = append(rs.Status.Conditions, v1alpha1.RestoreCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return rs
}

func TestRestoreToCluster(t *testing.T) {
	cases := map[string]struct {
		rs   *v1alpha1.Restore
		want []reconcile.Request
	}{
		"clusterNamespace given": {
			rs:   pitrRestore("backup", "basic", "ns"),
			want: []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "basic"}}},
		},
		"clusterNamespace empty: the Restore's namespace": {
			rs:   pitrRestore("ns", "basic", ""),
			want: []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "basic"}}},
		},
		"a Lightning import has no cluster": {
			rs: &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r"}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := restoreToCluster(context.Background(), c.rs); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPiTROverlayPredicate(t *testing.T) {
	p := pitrOverlayPredicate()
	running := pitrRestore("ns", "basic", "", v1alpha1.RestoreRunning)
	progressed := running.DeepCopy()
	progressed.Status.Progresses = []v1alpha1.Progress{{Step: "Full Restore", Progress: 42}}
	complete := pitrRestore("ns", "basic", "", v1alpha1.RestoreRunning, v1alpha1.RestoreComplete)
	moved := pitrRestore("ns", "other", "", v1alpha1.RestoreRunning)
	snapshot := pitrRestore("ns", "basic", "")
	snapshot.Spec.Mode = v1alpha1.RestoreModeSnapshot
	snapshotDone := snapshot.DeepCopy()
	snapshotDone.Status.Conditions = []v1alpha1.RestoreCondition{{Type: v1alpha1.RestoreComplete, Status: corev1.ConditionTrue}}
	deleting := running.DeepCopy()
	now := metav1.Now()
	deleting.DeletionTimestamp = &now

	checks := map[string]struct {
		got, want bool
	}{
		"an unfinished PiTR Restore is created":         {p.Create(event.CreateEvent{Object: running}), true},
		"a snapshot Restore is created":                 {p.Create(event.CreateEvent{Object: snapshot}), false},
		"an unfinished PiTR Restore is deleted":         {p.Delete(event.DeleteEvent{Object: running}), true},
		"a finished PiTR Restore is deleted":            {p.Delete(event.DeleteEvent{Object: complete}), false},
		"a PiTR Restore completes":                      {p.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: complete}), true},
		"a PiTR Restore starts being deleted":           {p.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: deleting}), true},
		"a running PiTR Restore reports progress":       {p.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: progressed}), false},
		"an unfinished PiTR Restore moves to a cluster": {p.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: moved}), true},
		"a snapshot Restore completes":                  {p.Update(event.UpdateEvent{ObjectOld: snapshot, ObjectNew: snapshotDone}), false},
		"a snapshot Restore becomes a PiTR Restore":     {p.Update(event.UpdateEvent{ObjectOld: snapshot, ObjectNew: running}), true},
		"generic events are left to the resync":         {p.Generic(event.GenericEvent{Object: running}), false},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: passes=%v, want %v", name, c.got, c.want)
		}
	}
}
