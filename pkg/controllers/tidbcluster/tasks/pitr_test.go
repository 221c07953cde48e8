package tasks

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// restore is a BR Restore in namespace ns into cluster (spec.br.clusterNamespace clusterNS),
// with the given mode and True conditions.
func restore(ns, name, cluster, clusterNS string, mode v1alpha1.RestoreMode, conds ...v1alpha1.RestoreConditionType) v1alpha1.Restore {
	rs := v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RestoreSpec{
			Mode: mode,
			BR:   &v1alpha1.BRConfig{Cluster: cluster, ClusterNamespace: clusterNS},
		},
	}
	for _, c := range conds {
		rs.Status.Conditions = append(rs.Status.Conditions, v1alpha1.RestoreCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return rs
}

func TestDecidePiTROverlay(t *testing.T) {
	basic := types.NamespacedName{Namespace: "ns", Name: "basic"}
	now := metav1.Now()
	cases := map[string]struct {
		restores []v1alpha1.Restore // Restores in the cache
		want     []string           // the Restores holding the overlay
	}{
		"no Restore": {},
		"an unfinished PiTR Restore in the cluster's namespace": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR)},
			want:     []string{"ns/r"},
		},
		"a running PiTR Restore": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreScheduled, v1alpha1.RestoreRunning)},
			want:     []string{"ns/r"},
		},
		"a PiTR Restore whose attempt failed and is retried (RetryFailed is not Failed)": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreRetryFailed)},
			want:     []string{"ns/r"},
		},
		"a snapshot Restore": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModeSnapshot)},
		},
		"an empty mode means snapshot": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", "")},
		},
		"a volume-snapshot Restore": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModeVolumeSnapshot)},
		},
		"a complete PiTR Restore": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreRunning, v1alpha1.RestoreComplete)},
		},
		"a failed PiTR Restore": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreFailed)},
		},
		"an invalid PiTR Restore never runs": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreInvalid)},
		},
		"a Complete condition that is not True does not finish it": {
			restores: func() []v1alpha1.Restore {
				rs := restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR)
				rs.Status.Conditions = []v1alpha1.RestoreCondition{{Type: v1alpha1.RestoreComplete, Status: corev1.ConditionFalse}}
				return []v1alpha1.Restore{rs}
			}(),
			want: []string{"ns/r"},
		},
		"a PiTR Restore being deleted": {
			restores: func() []v1alpha1.Restore {
				rs := restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreRunning)
				rs.DeletionTimestamp = &now
				rs.Finalizers = []string{"x"}
				return []v1alpha1.Restore{rs}
			}(),
		},
		"a PiTR Restore into another cluster": {
			restores: []v1alpha1.Restore{restore("ns", "r", "other", "", v1alpha1.RestoreModePiTR)},
		},
		"a PiTR Restore into a cluster of the same name in another namespace": {
			restores: []v1alpha1.Restore{restore("ns", "r", "basic", "elsewhere", v1alpha1.RestoreModePiTR)},
		},
		"an empty clusterNamespace is the Restore's namespace, which is not the cluster's": {
			restores: []v1alpha1.Restore{restore("backup", "r", "basic", "", v1alpha1.RestoreModePiTR)},
		},
		"a Restore in another namespace naming the cluster's namespace": {
			restores: []v1alpha1.Restore{restore("backup", "r", "basic", "ns", v1alpha1.RestoreModePiTR)},
			want:     []string{"backup/r"},
		},
		"a Lightning import (no spec.br)": {
			restores: func() []v1alpha1.Restore {
				rs := restore("ns", "r", "basic", "", v1alpha1.RestoreModePiTR)
				rs.Spec.BR = nil
				return []v1alpha1.Restore{rs}
			}(),
		},
		"several: the holders, sorted": {
			restores: []v1alpha1.Restore{
				restore("ns", "z", "basic", "", v1alpha1.RestoreModePiTR),
				restore("ns", "done", "basic", "", v1alpha1.RestoreModePiTR, v1alpha1.RestoreComplete),
				restore("backup", "a", "basic", "ns", v1alpha1.RestoreModePiTR),
				restore("ns", "snap", "basic", "", v1alpha1.RestoreModeSnapshot),
			},
			want: []string{"backup/a", "ns/z"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := DecidePiTROverlay(basic, c.restores); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestRestoreTargetIndexValue(t *testing.T) {
	cases := map[string]struct {
		rs   v1alpha1.Restore
		want []string
	}{
		"clusterNamespace given": {rs: restore("backup", "r", "basic", "ns", v1alpha1.RestoreModePiTR), want: []string{"ns/basic"}},
		"clusterNamespace empty": {rs: restore("backup", "r", "basic", "", v1alpha1.RestoreModeSnapshot), want: []string{"backup/basic"}},
		"no cluster name":        {rs: restore("backup", "r", "", "", v1alpha1.RestoreModePiTR)},
		"no spec.br":             {rs: v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r"}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := RestoreTargetIndexValue(&c.rs); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	if got := RestoreTargetIndexValue(&corev1.Pod{}); got != nil {
		t.Errorf("a Pod indexes as %v", got)
	}
}

func TestDecidePiTROverlayChange(t *testing.T) {
	cases := map[string]struct {
		in   PiTROverlayChangeInput
		want PiTROverlayChange
	}{
		"a Restore starts: GC goes off":                     {in: PiTROverlayChangeInput{On: true, DesiredDisablesGC: true}, want: PiTROverlayAdded},
		"a Restore into a new cluster (nothing in use yet)": {in: PiTROverlayChangeInput{On: true, DesiredDisablesGC: true}, want: PiTROverlayAdded},
		"the overlay already in use":                        {in: PiTROverlayChangeInput{On: true, InUseDisablesGC: true, DesiredDisablesGC: true}},
		"the Restore finished: GC back on":                  {in: PiTROverlayChangeInput{InUseDisablesGC: true}, want: PiTROverlayRemoved},
		"the Restore finished but the user disables GC too": {in: PiTROverlayChangeInput{InUseDisablesGC: true, DesiredDisablesGC: true}},
		"no Restore, nothing in use":                        {in: PiTROverlayChangeInput{}},
		"the user turns GC off without a Restore":           {in: PiTROverlayChangeInput{DesiredDisablesGC: true}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := DecidePiTROverlayChange(c.in); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// overlayCluster is a 3-store cluster with the given config update strategy.
func overlayCluster(strategy v1alpha1.ConfigUpdateStrategy) *v1alpha1.TidbCluster {
	return &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "basic", UID: "uid-basic"},
		Spec: v1alpha1.TidbClusterSpec{
			Version:              "v8.5.0",
			ConfigUpdateStrategy: strategy,
			TiKV: &v1alpha1.TiKVSpec{
				Config:    v1alpha1.NewConfigTOML("[gc]\nratio-threshold = 1.1\n"),
				Replicas:  3,
				BaseImage: "pingcap/tikv",
				ResourceRequirements: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceStorage: resource.MustParse("1Gi"),
				}},
			},
		},
	}
}

// overlayEnv is a fake API behind the TiKV ConfigMap and StatefulSet steps that counts writes
// and collects events.
type overlayEnv struct {
	t      *testing.T
	c      client.Client
	scheme *runtime.Scheme
	rec    *events.FakeRecorder
	writes []string
	tc     *v1alpha1.TidbCluster
}

func newOverlayEnv(t *testing.T, tc *v1alpha1.TidbCluster) *overlayEnv {
	e := &overlayEnv{t: t, rec: events.NewFakeRecorder(100), tc: tc}
	e.scheme = runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(e.scheme)
	_ = v1alpha1.AddToScheme(e.scheme)
	record := func(verb string, obj client.Object) {
		e.writes = append(e.writes, verb+" "+obj.GetName())
	}
	e.c = fake.NewClientBuilder().WithScheme(e.scheme).
		WithObjects(tc).
		WithIndex(&v1alpha1.Restore{}, RestoreTargetIndex, RestoreTargetIndexValue).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				record("create", obj)
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				record("update", obj)
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				record("patch", obj)
				return c.Patch(ctx, obj, p, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				record("delete", obj)
				return c.Delete(ctx, obj, opts...)
			},
		}).Build()
	return e
}

// reconcile runs the TiKV steps of one reconcile and returns the writes and the
// PiTRRestoreOverlay events it made.
func (e *overlayEnv) reconcile() (writes, overlayEvents []string) {
	e.t.Helper()
	e.writes = nil
	s := NewState(Deps{Client: e.c, Scheme: e.scheme, Recorder: e.rec}, testLogger(), e.tc)
	for _, step := range []task.Task{ObservePiTRRestores(s), PlanRollout(s, label.TiKVComponent), TiKVConfigMap(s), TiKVStatefulSet(s)} {
		if r := step.Run(context.Background()); r.Status() != task.StatusComplete {
			e.t.Fatalf("%s: %v %s %v", step.Name(), r.Status(), r.Message(), r.Err())
		}
	}
	for {
		select {
		case ev := <-e.rec.Events:
			if strings.Contains(ev, ReasonPiTRRestoreOverlay) {
				overlayEvents = append(overlayEvents, ev)
			}
		default:
			return e.writes, overlayEvents
		}
	}
}

// tikv returns the live TiKV StatefulSet and the ConfigMap it mounts.
func (e *overlayEnv) tikv() (*appsv1.StatefulSet, *corev1.ConfigMap) {
	e.t.Helper()
	sts := &appsv1.StatefulSet{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "basic-tikv"}, sts); err != nil {
		e.t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: builders.ConfigMapInUse(sts)}, cm); err != nil {
		e.t.Fatal(err)
	}
	return sts, cm
}

func TestTiKVConfigFollowsPiTRRestores(t *testing.T) {
	cases := map[string]struct {
		strategy v1alpha1.ConfigUpdateStrategy
		// renamed: the overlay comes with a new ConfigMap that the StatefulSet mounts; else the
		// one ConfigMap is updated in place.
		renamed bool
	}{
		"RollingUpdate": {strategy: v1alpha1.ConfigUpdateStrategyRollingUpdate, renamed: true},
		"InPlace":       {strategy: v1alpha1.ConfigUpdateStrategyInPlace},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := newOverlayEnv(t, overlayCluster(c.strategy))
			ctx := context.Background()

			// The cluster comes up without a Restore: the user's config, no overlay event.
			if _, evs := e.reconcile(); len(evs) != 0 {
				t.Fatalf("events without a Restore: %v", evs)
			}
			sts, cm := e.tikv()
			userCM := cm.Name
			if builders.HasPiTRRestoreOverlay(cm) || !strings.Contains(cm.Data[builders.ConfigFileKey], "ratio-threshold = 1.1") {
				t.Fatalf("config without a Restore:\n%s", cm.Data[builders.ConfigFileKey])
			}
			userTemplate := sts.Spec.Template.DeepCopy()

			// A PiTR Restore from another namespace targets the cluster.
			rs := restore("backup", "pitr", "basic", "ns", v1alpha1.RestoreModePiTR, v1alpha1.RestoreScheduled)
			if err := e.c.Create(ctx, &rs); err != nil {
				t.Fatal(err)
			}
			writes, evs := e.reconcile()
			sts, cm = e.tikv()
			if !builders.HasPiTRRestoreOverlay(cm) || !strings.Contains(cm.Data[builders.ConfigFileKey], "ratio-threshold = -1.0") {
				t.Fatalf("config with the Restore:\n%s", cm.Data[builders.ConfigFileKey])
			}
			if (cm.Name != userCM) != c.renamed {
				t.Errorf("ConfigMap %s, before %s; want renamed=%v", cm.Name, userCM, c.renamed)
			}
			if c.renamed {
				// The new template is applied with the partition at the replica count: the
				// operator's upgrade step, not the StatefulSet controller, restarts the pods.
				if p := sts.Spec.UpdateStrategy.RollingUpdate; p == nil || p.Partition == nil || *p.Partition != 3 {
					t.Errorf("update strategy %+v, want the partition at 3", sts.Spec.UpdateStrategy)
				}
			} else if !reflect.DeepEqual(sts.Spec.Template, *userTemplate) {
				t.Errorf("InPlace changed the pod template: %v", writes)
			}
			how := "TiKV reads it when it restarts"
			if c.renamed {
				how = "the TiKV pods restart one at a time"
			}
			if len(evs) != 1 || !strings.Contains(evs[0], "gc.ratio-threshold = -1") || !strings.Contains(evs[0], "backup/pitr") || !strings.Contains(evs[0], how) {
				t.Errorf("events %v, want one naming the Restore and saying %q", evs, how)
			}

			// Steady state while the Restore runs: no write, no event.
			if writes, evs := e.reconcile(); len(writes) != 0 || len(evs) != 0 {
				t.Errorf("steady state with the Restore: writes %v, events %v", writes, evs)
			}

			// The Restore completes: the user's config again, one event.
			rs.Status.Conditions = append(rs.Status.Conditions, v1alpha1.RestoreCondition{Type: v1alpha1.RestoreComplete, Status: corev1.ConditionTrue})
			if err := e.c.Update(ctx, &rs); err != nil {
				t.Fatal(err)
			}
			_, evs = e.reconcile()
			sts, cm = e.tikv()
			if cm.Name != userCM || builders.HasPiTRRestoreOverlay(cm) || !strings.Contains(cm.Data[builders.ConfigFileKey], "ratio-threshold = 1.1") {
				t.Errorf("config after the Restore (%s):\n%s", cm.Name, cm.Data[builders.ConfigFileKey])
			}
			if !reflect.DeepEqual(sts.Spec.Template, *userTemplate) {
				t.Error("the pod template did not go back to the user's configuration")
			}
			if len(evs) != 1 || !strings.Contains(evs[0], "no unfinished PiTR Restore") {
				t.Errorf("events %v, want one saying the overlay went", evs)
			}

			// And steady again.
			if writes, evs := e.reconcile(); len(writes) != 0 || len(evs) != 0 {
				t.Errorf("steady state after the Restore: writes %v, events %v", writes, evs)
			}
		})
	}
}

func TestRollingUpdateOverlayEventWaitsForTheStatefulSet(t *testing.T) {
	e := newOverlayEnv(t, overlayCluster(v1alpha1.ConfigUpdateStrategyRollingUpdate))
	e.reconcile()
	rs := restore("ns", "pitr", "basic", "", v1alpha1.RestoreModePiTR)
	if err := e.c.Create(context.Background(), &rs); err != nil {
		t.Fatal(err)
	}
	// The new ConfigMap is written but the StatefulSet step does not run (it failed, or the
	// reconcile stopped): no event yet, TiKV still runs with the old configuration.
	s := NewState(Deps{Client: e.c, Scheme: e.scheme, Recorder: e.rec}, testLogger(), e.tc)
	for _, step := range []task.Task{ObservePiTRRestores(s), PlanRollout(s, label.TiKVComponent), TiKVConfigMap(s)} {
		if r := step.Run(context.Background()); r.Status() != task.StatusComplete {
			t.Fatalf("%s: %v", step.Name(), r.Err())
		}
	}
	for len(e.rec.Events) > 0 {
		if ev := <-e.rec.Events; strings.Contains(ev, ReasonPiTRRestoreOverlay) {
			t.Fatalf("event before the StatefulSet mounts the new ConfigMap: %s", ev)
		}
	}
	// The next reconcile (the ConfigMap is there already) moves the StatefulSet: one event.
	if _, evs := e.reconcile(); len(evs) != 1 {
		t.Errorf("events %v, want one", evs)
	}
	if _, evs := e.reconcile(); len(evs) != 0 {
		t.Errorf("events %v on the steady reconcile", evs)
	}
}

func TestNewClusterStartsWithTheOverlay(t *testing.T) {
	e := newOverlayEnv(t, overlayCluster(v1alpha1.ConfigUpdateStrategyRollingUpdate))
	rs := restore("ns", "pitr", "basic", "", v1alpha1.RestoreModePiTR)
	if err := e.c.Create(context.Background(), &rs); err != nil {
		t.Fatal(err)
	}
	_, evs := e.reconcile()
	if _, cm := e.tikv(); !builders.HasPiTRRestoreOverlay(cm) {
		t.Errorf("the first TiKV ConfigMap lacks the overlay:\n%s", cm.Data[builders.ConfigFileKey])
	}
	if len(evs) != 1 || !strings.Contains(evs[0], "TiKV starts with it") {
		t.Errorf("events %v, want one saying TiKV starts with the overlay", evs)
	}
}

func TestObservePiTRRestoresFailsWhenTheCacheCannotBeRead(t *testing.T) {
	sch := runtime.NewScheme()
	_ = v1alpha1.AddToScheme(sch)
	boom := errors.New("cache not synced")
	c := fake.NewClientBuilder().WithScheme(sch).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error { return boom },
	}).Build()
	s := NewState(Deps{Client: c}, testLogger(), overlayCluster(v1alpha1.ConfigUpdateStrategyRollingUpdate))
	s.pitrRestores = []string{"ns/earlier"}
	r := ObservePiTRRestores(s).Run(context.Background())
	if r.Status() != task.StatusFail || !errors.Is(r.Err(), boom) {
		t.Fatalf("got %v %v, want a failure wrapping the read error (TiKV's config must not lose the overlay on a guess)", r.Status(), r.Err())
	}
}
