package tasks

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/rollout"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// v163Fixture is what TiDB Operator v1.6.3 left for examples/basic (see the file's header).
const v163Fixture = "../../../rollout/testdata/v1.6.3-basic.yaml"

// takeoverEnv is a fake API holding the v1.6.3 objects, owned by their TidbCluster.
type takeoverEnv struct {
	t      *testing.T
	c      client.Client
	scheme *runtime.Scheme
	rec    *events.FakeRecorder
	tc     *v1alpha1.TidbCluster
	probe  string
	writes []string
}

func loadV163(t *testing.T, scheme *runtime.Scheme) (*v1alpha1.TidbCluster, []client.Object) {
	t.Helper()
	raw, err := os.ReadFile(v163Fixture)
	if err != nil {
		t.Fatal(err)
	}
	decode := serializer.NewCodecFactory(scheme).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var tc *v1alpha1.TidbCluster
	var objs []client.Object
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := decode.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("decode fixture: %v", err)
		}
		if c, ok := obj.(*v1alpha1.TidbCluster); ok {
			tc = c
			continue
		}
		objs = append(objs, obj.(client.Object))
	}
	tc.UID = types.UID("tc-uid")
	for _, o := range objs {
		refs := o.GetOwnerReferences()
		for i := range refs {
			refs[i].UID = tc.UID
		}
		o.SetOwnerReferences(refs)
	}
	return tc, objs
}

func newTakeoverEnv(t *testing.T, edit func(*v1alpha1.TidbCluster)) *takeoverEnv {
	e := &takeoverEnv{t: t, rec: events.NewFakeRecorder(100)}
	e.scheme = runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(e.scheme)
	_ = v1alpha1.AddToScheme(e.scheme)
	tc, objs := loadV163(t, e.scheme)
	if edit != nil {
		edit(tc)
	}
	e.tc = tc
	record := func(verb string, obj client.Object) { e.writes = append(e.writes, verb+" "+obj.GetName()) }
	e.c = fake.NewClientBuilder().WithScheme(e.scheme).WithObjects(append(objs, tc)...).
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
		}).Build()
	return e
}

// reconcile runs the workload steps of every component once and returns the writes.
func (e *takeoverEnv) reconcile() []string {
	e.t.Helper()
	e.writes = nil
	tc := &v1alpha1.TidbCluster{}
	if err := e.c.Get(context.Background(), client.ObjectKeyFromObject(e.tc), tc); err != nil {
		e.t.Fatal(err)
	}
	s := NewState(Deps{Client: e.c, Scheme: e.scheme, Recorder: e.rec, DiscoveryImage: "tidbops/tidb-operator:test", RenderProbe: e.probe}, testLogger(), tc)
	steps := []task.Task{
		PlanRollout(s, label.DiscoveryComponent), Discovery(s), DiscoveryDeployment(s),
		PDServices(s), PlanRollout(s, label.PDComponent), PDConfigMap(s), PDStatefulSet(s),
		TiKVServices(s), ObservePiTRRestores(s), PlanRollout(s, label.TiKVComponent), TiKVConfigMap(s), TiKVStatefulSet(s),
		TiDBServices(s), PlanRollout(s, label.TiDBComponent), TiDBConfigMap(s), TiDBStatefulSet(s),
	}
	for _, step := range steps {
		if r := step.Run(context.Background()); r.Status() != task.StatusComplete {
			e.t.Fatalf("%s: %v %s %v", step.Name(), r.Status(), r.Message(), r.Err())
		}
	}
	s.reportPendingRollouts()
	e.tc.Status = *s.Status
	return e.writes
}

func (e *takeoverEnv) sts(name string) *appsv1.StatefulSet {
	e.t.Helper()
	sts := &appsv1.StatefulSet{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.tc.Namespace, Name: name}, sts); err != nil {
		e.t.Fatal(err)
	}
	return sts
}

func (e *takeoverEnv) deployment() *appsv1.Deployment {
	e.t.Helper()
	d := &appsv1.Deployment{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.tc.Namespace, Name: "basic-discovery"}, d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *takeoverEnv) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.rec.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

var workloadNames = []string{"basic-pd", "basic-tikv", "basic-tidb"}

func TestAClusterV163CreatedIsAdoptedWithoutChangingAnySpec(t *testing.T) {
	e := newTakeoverEnv(t, nil)
	before := map[string]*appsv1.StatefulSet{}
	for _, n := range workloadNames {
		before[n] = e.sts(n)
	}
	deployBefore := e.deployment()

	roleBefore := &rbacv1.Role{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.tc.Namespace, Name: "basic-discovery"}, roleBefore); err != nil {
		t.Fatal(err)
	}
	writes := e.reconcile()
	// Services, the ServiceAccount and the RoleBinding are as v1.6 wrote them; the workloads get
	// the adoption record (metadata only); the discovery Role keeps v1.6's Secrets rule while
	// v1.6's discovery pod runs.
	want := []string{"update basic-discovery", "update basic-pd", "update basic-tikv", "update basic-tidb"}
	if strings.Join(writes, ",") != strings.Join(want, ",") {
		t.Errorf("writes %v, want %v", writes, want)
	}
	roleAfter := &rbacv1.Role{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.tc.Namespace, Name: "basic-discovery"}, roleAfter); err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(roleBefore.Rules, roleAfter.Rules) {
		t.Errorf("the discovery Role changed under v1.6's discovery pod: %+v", roleAfter.Rules)
	}
	for _, n := range workloadNames {
		after := e.sts(n)
		if !apiequality.Semantic.DeepEqual(before[n].Spec, after.Spec) {
			t.Errorf("%s: spec changed by the adoption", n)
		}
		if after.Annotations[label.LastAppliedConfigAnnKey] != before[n].Annotations[label.LastAppliedConfigAnnKey] {
			t.Errorf("%s: v1.6's last-applied record changed; v1.6 would roll the pods when it takes the cluster back", n)
		}
		if after.Annotations[rollout.InputsAnnotation] == "" || after.Annotations[rollout.AdoptedAnnotation] == "" {
			t.Errorf("%s: adoption not recorded: %v", n, after.Annotations)
		}
	}
	deployAfter := e.deployment()
	if !apiequality.Semantic.DeepEqual(deployBefore.Spec, deployAfter.Spec) ||
		deployAfter.Annotations[label.LastAppliedConfigAnnKey] != deployBefore.Annotations[label.LastAppliedConfigAnnKey] {
		t.Errorf("the discovery Deployment's spec or v1.6's record of it changed")
	}
	evs := e.events()
	adopted := 0
	for _, ev := range evs {
		if strings.Contains(ev, rollout.ReasonAdopted) {
			adopted++
		}
	}
	if adopted != 4 {
		t.Errorf("%d Adopted events, want one per workload: %v", adopted, evs)
	}
	pending := map[string]v1alpha1.PendingRollout{}
	for _, p := range e.tc.Status.PendingRollouts {
		pending[p.Component] = p
	}
	// v1.6.3's start scripts differ from this operator's, and so does the discovery strategy.
	for _, comp := range []string{"discovery", "pd", "tikv", "tidb"} {
		if p, ok := pending[comp]; !ok || len(p.Differences) == 0 || p.Reason != rollout.ReasonAdopted {
			t.Errorf("pending rollout of %s: %+v (all: %+v)", comp, p, e.tc.Status.PendingRollouts)
		}
	}
	if !strings.Contains(strings.Join(pending["pd"].Differences, " "), "configmap startup-script") {
		t.Errorf("PD's differences do not name the start script: %v", pending["pd"].Differences)
	}

	// The next reconcile has nothing to write.
	if again := e.reconcile(); len(again) != 0 {
		t.Errorf("second reconcile wrote %v", again)
	}
}

func TestASpecEditedWhileNoOperatorRanRollsThatComponentOnly(t *testing.T) {
	e := newTakeoverEnv(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiDB.Config = v1alpha1.NewConfigTOML("[log]\n[log.file]\nmax-backups = 5\n")
	})
	before := map[string]*appsv1.StatefulSet{}
	for _, n := range workloadNames {
		before[n] = e.sts(n)
	}
	e.reconcile()
	for _, n := range []string{"basic-pd", "basic-tikv"} {
		if !apiequality.Semantic.DeepEqual(before[n].Spec.Template, e.sts(n).Spec.Template) {
			t.Errorf("%s: template changed, but its spec did not", n)
		}
	}
	tidb := e.sts("basic-tidb")
	if apiequality.Semantic.DeepEqual(before["basic-tidb"].Spec.Template, tidb.Spec.Template) {
		t.Fatal("TiDB's template was kept although its configuration differs from the spec")
	}
	if p := partitionOf(tidb); p == nil || *p != 2 {
		t.Errorf("TiDB's partition is %v: the new template must go in with no pod moving until the upgrade step", p)
	}
	found := false
	for _, ev := range e.events() {
		if strings.Contains(ev, rollout.ReasonSpecNotMet) && strings.Contains(ev, "configuration") {
			found = true
		}
	}
	if !found {
		t.Error("no SpecNotImplemented event naming the configuration")
	}
}

func TestARenderingChangeWaitsForTheRequestAnnotation(t *testing.T) {
	// A cluster rendered by this operator: created from scratch in the fake API.
	e := newTakeoverEnv(t, nil)
	for _, n := range append(workloadNames, "basic-discovery", "basic-pd-6130373", "basic-tikv-6365303", "basic-tidb-6462366") {
		var obj client.Object = &appsv1.StatefulSet{}
		switch {
		case n == "basic-discovery":
			obj = &appsv1.Deployment{}
		case strings.Count(n, "-") == 2:
			obj = &corev1.ConfigMap{}
		}
		obj.SetNamespace(e.tc.Namespace)
		obj.SetName(n)
		if err := e.c.Delete(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	e.reconcile()
	rendered := map[string]*appsv1.StatefulSet{}
	for _, n := range workloadNames {
		rendered[n] = e.sts(n)
	}
	e.events()

	// The operator now renders differently: nothing changes but status.
	e.probe = "rendered by a newer operator"
	writes := e.reconcile()
	for _, w := range writes {
		if strings.HasPrefix(w, "create") {
			t.Errorf("a rendering change created %s", w)
		}
	}
	for _, n := range workloadNames {
		if !apiequality.Semantic.DeepEqual(rendered[n].Spec, e.sts(n).Spec) {
			t.Errorf("%s changed by a rendering change alone", n)
		}
	}
	if len(e.tc.Status.PendingRollouts) != 4 {
		t.Fatalf("pending rollouts: %+v", e.tc.Status.PendingRollouts)
	}
	for _, p := range e.tc.Status.PendingRollouts {
		if p.Reason != rollout.ReasonRenderingChange {
			t.Errorf("%s: reason %s", p.Component, p.Reason)
		}
	}
	var cond *v1alpha1.TidbClusterCondition
	for i := range e.tc.Status.Conditions {
		if e.tc.Status.Conditions[i].Type == ReasonRolloutPending {
			cond = &e.tc.Status.Conditions[i]
		}
	}
	if cond == nil || cond.Status != corev1.ConditionTrue || !strings.Contains(cond.Message, rollout.RequestAnnotation) {
		t.Fatalf("RolloutPending condition: %+v", cond)
	}

	// The user asks: every pending template is written (the upgrade step rolls them in
	// order), and the request is remembered, so that it is not applied a second time.
	tc := &v1alpha1.TidbCluster{}
	if err := e.c.Get(context.Background(), client.ObjectKeyFromObject(e.tc), tc); err != nil {
		t.Fatal(err)
	}
	tc.Annotations = map[string]string{rollout.RequestAnnotation: "2026-12-04T10:00:00Z"}
	if err := e.c.Update(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	e.reconcile()
	for _, n := range workloadNames {
		sts := e.sts(n)
		if apiequality.Semantic.DeepEqual(rendered[n].Spec.Template, sts.Spec.Template) {
			t.Errorf("%s: the requested rollout was not applied", n)
		}
		if sts.Annotations[rollout.HonouredAnnotation] != "2026-12-04T10:00:00Z" {
			t.Errorf("%s: request not recorded", n)
		}
	}
	if len(e.tc.Status.PendingRollouts) != 0 {
		t.Errorf("still pending: %+v", e.tc.Status.PendingRollouts)
	}
	// Another rendering change with the same annotation in place waits again.
	e.probe = "rendered by a still newer operator"
	e.reconcile()
	if len(e.tc.Status.PendingRollouts) != 4 {
		t.Errorf("the old request applied a new rendering change: %+v", e.tc.Status.PendingRollouts)
	}
}
