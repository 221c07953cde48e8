package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/rollout"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// renderInputs are everything a workload's template is rendered from that the user controls:
// the cluster's spec, annotations and labels, and for TiKV whether a PiTR Restore holds its
// configuration. Their JSON is recorded on the workload (rollout.InputsAnnotation) so that a
// later reconcile can render them again and tell a change of the spec from a change of the
// operator's rendering.
type renderInputs struct {
	Spec        v1alpha1.TidbClusterSpec `json:"spec"`
	Annotations map[string]string        `json:"annotations,omitempty"`
	Labels      map[string]string        `json:"labels,omitempty"`
	PiTRRestore bool                     `json:"pitrRestore,omitempty"`
}

// inputsOf are tc's inputs. The annotations leave out kubectl's copy of the manifest and the
// rollout request, which render nothing.
func inputsOf(tc *v1alpha1.TidbCluster, pitr bool) renderInputs {
	in := renderInputs{Spec: *tc.Spec.DeepCopy(), Labels: copyMap(tc.Labels), PiTRRestore: pitr}
	for k, v := range tc.Annotations {
		if k == corev1.LastAppliedConfigAnnotation || k == rollout.RequestAnnotation {
			continue
		}
		if in.Annotations == nil {
			in.Annotations = map[string]string{}
		}
		in.Annotations[k] = v
	}
	return in
}

// cluster is tc with its inputs replaced by in (status and identity stay tc's).
func (in renderInputs) cluster(tc *v1alpha1.TidbCluster) *v1alpha1.TidbCluster {
	out := tc.DeepCopy()
	out.Spec = *in.Spec.DeepCopy()
	out.Annotations = copyMap(in.Annotations)
	out.Labels = copyMap(in.Labels)
	return out
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// rendering is one rendering of a workload: its ConfigMap (nil for discovery) and its
// StatefulSet or Deployment.
type rendering struct {
	cm     *corev1.ConfigMap
	sts    *appsv1.StatefulSet
	deploy *appsv1.Deployment
}

func (r rendering) workload() rollout.Workload {
	w := rollout.Workload{Config: r.cm}
	switch {
	case r.sts != nil:
		w.Template, w.Claims = r.sts.Spec.Template, r.sts.Spec.VolumeClaimTemplates
	case r.deploy != nil:
		w.Template = r.deploy.Spec.Template
	}
	return w
}

// same reports whether two renderings would write the same objects (the replica count and the
// partition aside, which the controller decides).
func (r rendering) same(o rendering) bool {
	if (r.cm == nil) != (o.cm == nil) || (r.cm != nil && (r.cm.Name != o.cm.Name || !apiequality.Semantic.DeepEqual(r.cm.Data, o.cm.Data))) {
		return false
	}
	switch {
	case r.sts != nil && o.sts != nil:
		return apiequality.Semantic.DeepEqual(r.sts.Spec.Template, o.sts.Spec.Template) &&
			apiequality.Semantic.DeepEqual(r.sts.Spec.VolumeClaimTemplates, o.sts.Spec.VolumeClaimTemplates)
	case r.deploy != nil && o.deploy != nil:
		return apiequality.Semantic.DeepEqual(r.deploy.Spec, o.deploy.Spec)
	}
	return false
}

// workloadSpec is how one component's workload is rendered for the rollout decision.
type workloadSpec struct {
	component string
	kind      string // "StatefulSet" or "Deployment"
	name      string
	facets    rollout.Facets
	// render renders the workload from a cluster whose inputs are in.
	render func(tc *v1alpha1.TidbCluster, in renderInputs) (rendering, error)
	// pitr: the current inputs carry the PiTR overlay (TiKV).
	pitr bool
}

// rolloutPlan is the decision about one workload in this reconcile, made before its ConfigMap
// and its StatefulSet (or Deployment) are written.
type rolloutPlan struct {
	decision rollout.Decision
	// desired is the current rendering.
	desired rendering
	// inputs is the JSON of the current inputs, recorded on the workload.
	inputs string
	// token is the cluster's rollout request, recorded when the rendering is applied.
	token string
	// liveSTS, liveDeploy: the live workload; liveConfig: the ConfigMap its template mounts.
	liveSTS    *appsv1.StatefulSet
	liveDeploy *appsv1.Deployment
	liveConfig *corev1.ConfigMap
	// pending is the status entry while the live template is kept with differences.
	pending *v1alpha1.PendingRollout
}

// keep reports whether the live template stays.
func (p *rolloutPlan) keep() bool { return p != nil && p.decision.Action == rollout.Keep }

// PlanRollout decides whether the component's rendering replaces its live workload
// (rollout.Decide) and keeps the decision for the ConfigMap and workload steps that follow. It
// emits the event of a decision the user should know about (a template adopted, a rollout
// because the spec is not implemented or because the user asked).
func PlanRollout(s *State, component string) task.Task {
	return task.NameTaskFunc(componentTitle(component)+"Rollout", func(ctx context.Context) task.Result {
		// Built now, not with the runner: TiKV's inputs depend on an earlier step.
		spec, ok := s.workload(component)
		if !ok {
			return task.Fail(fmt.Errorf("no workload for component %q", component))
		}
		plan, err := s.planRollout(ctx, spec)
		if err != nil {
			return task.Fail(err)
		}
		s.setPlan(spec.component, plan)
		return task.Complete("")
	})
}

func (s *State) planRollout(ctx context.Context, spec workloadSpec) (*rolloutPlan, error) {
	tc := s.Cluster
	cur := inputsOf(tc, spec.pitr)
	raw, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("encode the inputs of %s %s: %w", spec.kind, spec.name, err)
	}
	desired, err := spec.render(tc, cur)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", spec.kind, spec.name, err)
	}
	plan := &rolloutPlan{desired: desired, inputs: string(raw), token: tc.Annotations[rollout.RequestAnnotation]}

	var obj client.Object
	if spec.kind == "Deployment" {
		plan.liveDeploy = &appsv1.Deployment{}
		obj = plan.liveDeploy
	} else {
		plan.liveSTS = &appsv1.StatefulSet{}
		obj = plan.liveSTS
	}
	err = s.Client.Get(ctx, client.ObjectKey{Namespace: tc.Namespace, Name: spec.name}, obj)
	if apierrors.IsNotFound(err) {
		plan.liveSTS, plan.liveDeploy = nil, nil
		plan.decision = rollout.Decide(rollout.Facts{})
		return plan, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", spec.kind, spec.name, err)
	}

	live := rollout.Workload{}
	facts := rollout.Facts{Exists: true}
	if plan.liveSTS != nil {
		live.Template, live.Claims = liveStatefulSetTemplate(plan.liveSTS), plan.liveSTS.Spec.VolumeClaimTemplates
		facts.InSync = apiequality.Semantic.DeepEqual(desired.sts.Spec.Template, live.Template)
	} else {
		live.Template = liveDeploymentTemplate(plan.liveDeploy)
		facts.InSync = deploymentInSync(desired.deploy, plan.liveDeploy)
	}
	if name := rollout.ConfigMapName(&live.Template); name != "" {
		cm := &corev1.ConfigMap{}
		err := s.Client.Get(ctx, client.ObjectKey{Namespace: tc.Namespace, Name: name}, cm)
		switch {
		case err == nil:
			plan.liveConfig, live.Config = cm, cm
		case apierrors.IsNotFound(err):
			facts.ConfigMissing = true
		default:
			return nil, fmt.Errorf("get ConfigMap %s: %w", name, err)
		}
		// With InPlace the ConfigMap keeps its name: its contents are part of being in sync.
		if facts.InSync && desired.cm != nil && live.Config != nil && !apiequality.Semantic.DeepEqual(desired.cm.Data, live.Config.Data) {
			facts.InSync = false
		}
	}
	facts.Requested = rollout.Requested(plan.token, obj.GetAnnotations()[rollout.HonouredAnnotation])

	if rec, ok := obj.GetAnnotations()[rollout.InputsAnnotation]; ok {
		var recorded renderInputs
		if err := json.Unmarshal([]byte(rec), &recorded); err == nil {
			facts.Recorded = true
			again, err := spec.render(recorded.cluster(tc), recorded)
			// What the current renderer cannot render from the record is a change.
			facts.SpecChanged = err != nil || !again.same(desired)
		} else {
			s.Log.Info("ignoring an unreadable record of rendering inputs", "object", spec.kind+" "+spec.name, "error", err.Error())
		}
	}
	var mismatches []string
	if !facts.Recorded && !facts.InSync {
		mismatches = rollout.Mismatches(spec.facets, desired.workload(), live)
		facts.Mismatches = mismatches
	}
	plan.decision = rollout.Decide(facts)

	object := spec.kind + " " + spec.name
	var differences []string
	if plan.decision.Pending {
		differences = rollout.Differences(desired.workload(), live)
		if desired.deploy != nil && desired.deploy.Spec.Strategy.Type != plan.liveDeploy.Spec.Strategy.Type {
			differences = append(differences, "strategy.type")
		}
		if len(differences) > 0 {
			plan.pending = &v1alpha1.PendingRollout{Component: spec.component, Object: object, Reason: plan.decision.Reason, Differences: differences}
		}
	}
	if msg := rollout.Explain(plan.decision, object, mismatches, differences); msg != "" {
		s.Log.Info(msg, "component", spec.component)
		s.eventAbout(obj, corev1.EventTypeNormal, plan.decision.Reason, "Rollout", msg)
	}
	return plan, nil
}

// liveStatefulSetTemplate is the template as its writer sent it (the last-applied record,
// without the API server's defaults), or the live one when there is no readable record.
func liveStatefulSetTemplate(sts *appsv1.StatefulSet) corev1.PodTemplateSpec {
	if spec, ok, err := builders.LastAppliedSpec(sts); ok && err == nil {
		return spec.Template
	}
	return sts.Spec.Template
}

// liveDeploymentTemplate is the discovery template as its writer sent it. This operator records
// the Deployment's spec; v1.6 records the pod spec alone under the same annotation.
func liveDeploymentTemplate(d *appsv1.Deployment) corev1.PodTemplateSpec {
	raw, ok := d.Annotations[common.LastAppliedAnnotation]
	if !ok {
		return d.Spec.Template
	}
	var spec appsv1.DeploymentSpec
	if err := json.Unmarshal([]byte(raw), &spec); err == nil && len(spec.Template.Spec.Containers) > 0 {
		return spec.Template
	}
	var pod corev1.PodSpec
	if err := json.Unmarshal([]byte(raw), &pod); err == nil && len(pod.Containers) > 0 {
		return corev1.PodTemplateSpec{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: pod}
	}
	return d.Spec.Template
}

func deploymentInSync(desired, live *appsv1.Deployment) bool {
	raw, ok := live.Annotations[common.LastAppliedAnnotation]
	if !ok {
		return false
	}
	var spec appsv1.DeploymentSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return false
	}
	return apiequality.Semantic.DeepEqual(desired.Spec, spec)
}

func (s *State) setPlan(component string, p *rolloutPlan) {
	if s.plans == nil {
		s.plans = map[string]*rolloutPlan{}
	}
	s.plans[component] = p
}

// plan is the component's decision in this reconcile, nil when its planning step did not run.
func (s *State) plan(component string) *rolloutPlan { return s.plans[component] }

// finishStatefulSet turns the rendered StatefulSet into the one to write: with the inputs
// recorded, and, when the live template stays, with the live spec in place of the rendered one
// except for the replica count and the partition the controller decides.
func (s *State) finishStatefulSet(component string, desired *appsv1.StatefulSet) *appsv1.StatefulSet {
	p := s.plan(component)
	if p == nil {
		return desired
	}
	out := desired
	if p.keep() && p.liveSTS != nil {
		out = desired.DeepCopy()
		base, ok, err := builders.LastAppliedSpec(p.liveSTS)
		if !ok || err != nil {
			base = p.liveSTS.Spec.DeepCopy()
		}
		out.Spec = *base
		out.Spec.Replicas = desired.Spec.Replicas
		if out.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType || out.Spec.UpdateStrategy.Type == "" {
			if pt := partitionOf(desired); pt != nil {
				setPartition(out, *pt)
			}
		}
	}
	s.recordPlan(out, p)
	return out
}

// finishDeployment is finishStatefulSet for the discovery Deployment: a kept Deployment keeps
// its whole live spec (discovery always runs one replica).
func (s *State) finishDeployment(desired *appsv1.Deployment) *appsv1.Deployment {
	p := s.plan(label.DiscoveryComponent)
	if p == nil {
		return desired
	}
	out := desired
	if p.keep() && p.liveDeploy != nil {
		out = desired.DeepCopy()
		out.Spec = *p.liveDeploy.Spec.DeepCopy()
	}
	s.recordPlan(out, p)
	return out
}

// recordPlan puts the plan's record on the object to write: the inputs always (a kept template
// implements them too, or the plan would have applied the rendering), the honoured request when
// the rendering is applied, and the adoption time once.
func (s *State) recordPlan(obj client.Object, p *rolloutPlan) {
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[rollout.InputsAnnotation] = p.inputs
	if !p.keep() && p.token != "" {
		ann[rollout.HonouredAnnotation] = p.token
	}
	if p.decision.Adopt {
		ann[rollout.AdoptedAnnotation] = time.Now().UTC().Format(time.RFC3339)
	}
	obj.SetAnnotations(ann)
}

// ReasonRolloutPending is the TidbCluster condition (and event reason) saying that live
// templates are kept although the operator renders them differently.
const ReasonRolloutPending = "RolloutPending"

// reportPendingRollouts puts the pending rollouts of this reconcile into status, with the
// RolloutPending condition, and emits an event when the set of pending components changes.
// Components whose planning did not run keep their last entry.
func (s *State) reportPendingRollouts() {
	st := s.Status
	byComp := map[string]v1alpha1.PendingRollout{}
	for _, p := range st.PendingRollouts {
		if _, planned := s.plans[p.Component]; !planned && s.hasWorkload(p.Component) {
			byComp[p.Component] = p
		}
	}
	for comp, p := range s.plans {
		if p.pending != nil {
			byComp[comp] = *p.pending
		}
	}
	var out []v1alpha1.PendingRollout
	for _, p := range byComp {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return componentOrder(out[i].Component) < componentOrder(out[j].Component) })
	before := pendingComponents(st.PendingRollouts)
	st.PendingRollouts = out
	after := pendingComponents(out)
	if len(out) == 0 {
		st.Conditions = removeTidbClusterCondition(st.Conditions, ReasonRolloutPending)
		return
	}
	msg := fmt.Sprintf("the live pod templates of %s are kept although this operator renders them differently; they change with the next change of their spec, or set the annotation %s to a new value to apply them now", after, rollout.RequestAnnotation)
	st.Conditions = common.SetTidbClusterCondition(st.Conditions, v1alpha1.TidbClusterCondition{
		Type: ReasonRolloutPending, Status: corev1.ConditionTrue, Reason: out[0].Reason, Message: msg,
	}, common.Now())
	if after != before {
		s.event(corev1.EventTypeNormal, ReasonRolloutPending, "Rollout", msg)
	}
}

func (s *State) hasWorkload(component string) bool {
	if component == label.DiscoveryComponent {
		return s.Cluster.NeedsDiscovery()
	}
	return hasComponent(s.Cluster, component)
}

func pendingComponents(ps []v1alpha1.PendingRollout) string {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Component)
	}
	return strings.Join(names, ", ")
}

func componentOrder(c string) int {
	for i, n := range []string{label.DiscoveryComponent, label.PDComponent, label.TiKVComponent, label.TiDBComponent} {
		if n == c {
			return i
		}
	}
	return 99
}

func removeTidbClusterCondition(conds []v1alpha1.TidbClusterCondition, typ v1alpha1.TidbClusterConditionType) []v1alpha1.TidbClusterCondition {
	var out []v1alpha1.TidbClusterCondition
	for _, c := range conds {
		if c.Type != typ {
			out = append(out, c)
		}
	}
	return out
}

func componentTitle(c string) string {
	switch c {
	case label.PDComponent:
		return "PD"
	case label.TiKVComponent:
		return "TiKV"
	case label.TiDBComponent:
		return "TiDB"
	case label.DiscoveryComponent:
		return "Discovery"
	}
	return c
}

// probeScript appends the render probe (Deps.RenderProbe) to a start script and renames a
// hashed ConfigMap after its new contents.
func (s *State) probeScript(tc *v1alpha1.TidbCluster, component string, cm *corev1.ConfigMap) error {
	if s.RenderProbe == "" || cm == nil {
		return nil
	}
	cm.Data[builders.StartupScriptKey] += "# " + s.RenderProbe + "\n"
	name, err := builders.ConfigMapName(tc, component, cm)
	if err != nil {
		return err
	}
	cm.Name = name
	return nil
}

// workload is how the component's workload is rendered, for PlanRollout.
func (s *State) workload(component string) (workloadSpec, bool) {
	switch component {
	case label.PDComponent:
		return s.pdWorkload(), true
	case label.TiKVComponent:
		return s.tikvWorkload(), true
	case label.TiDBComponent:
		return s.tidbWorkload(), true
	case label.DiscoveryComponent:
		return s.discoveryWorkload(), true
	}
	return workloadSpec{}, false
}

func (s *State) pdWorkload() workloadSpec {
	return s.statefulSetWorkload(label.PDComponent, false,
		func(tc *v1alpha1.TidbCluster, _ renderInputs) (*corev1.ConfigMap, error) {
			return builders.PDConfigMap(tc)
		},
		builders.PDStatefulSet)
}

func (s *State) tikvWorkload() workloadSpec {
	return s.statefulSetWorkload(label.TiKVComponent, len(s.pitrRestores) > 0,
		func(tc *v1alpha1.TidbCluster, in renderInputs) (*corev1.ConfigMap, error) {
			return builders.TiKVConfigMapWith(tc, builders.TiKVConfigOptions{PiTRRestore: in.PiTRRestore})
		},
		builders.TiKVStatefulSet)
}

func (s *State) tidbWorkload() workloadSpec {
	return s.statefulSetWorkload(label.TiDBComponent, false,
		func(tc *v1alpha1.TidbCluster, _ renderInputs) (*corev1.ConfigMap, error) {
			return builders.TiDBConfigMap(tc)
		},
		builders.TiDBStatefulSet)
}

// statefulSetWorkload is a component rendered as a ConfigMap and a StatefulSet mounting it.
func (s *State) statefulSetWorkload(component string, pitr bool,
	configMap func(*v1alpha1.TidbCluster, renderInputs) (*corev1.ConfigMap, error),
	statefulSet func(*v1alpha1.TidbCluster, *corev1.ConfigMap, builders.StatefulSetOptions) (*appsv1.StatefulSet, error),
) workloadSpec {
	return workloadSpec{
		component: component, kind: "StatefulSet", name: builders.MemberName(s.Cluster.Name, component),
		facets: s.facets(component),
		pitr:   pitr,
		render: func(tc *v1alpha1.TidbCluster, in renderInputs) (rendering, error) {
			cm, err := configMap(tc, in)
			if err != nil {
				return rendering{}, err
			}
			if err := s.probeScript(tc, component, cm); err != nil {
				return rendering{}, err
			}
			sts, err := statefulSet(tc, cm, builders.StatefulSetOptions{})
			return rendering{cm: cm, sts: sts}, err
		},
	}
}

func (s *State) discoveryWorkload() workloadSpec {
	tc := s.Cluster
	f := s.facets(label.DiscoveryComponent)
	// The discovery image is the operator's (-tidb-discovery-image), not the spec's.
	f.Image, f.ConfigKey = false, ""
	return workloadSpec{
		component: label.DiscoveryComponent, kind: "Deployment", name: builders.DiscoveryName(tc.Name),
		facets: f,
		render: func(tc *v1alpha1.TidbCluster, _ renderInputs) (rendering, error) {
			d := builders.DiscoveryDeployment(tc, s.DiscoveryImage)
			if s.RenderProbe != "" {
				if d.Spec.Template.Annotations == nil {
					d.Spec.Template.Annotations = map[string]string{}
				}
				d.Spec.Template.Annotations[renderProbeAnnotation] = s.RenderProbe
			}
			return rendering{deploy: d}, nil
		},
	}
}

// renderProbeAnnotation is the discovery pod annotation of Deps.RenderProbe.
const renderProbeAnnotation = "tidb.pingcap.com/render-probe"

func (s *State) facets(component string) rollout.Facets {
	ann, labels := builders.SpecPodMetadata(s.Cluster, component)
	return rollout.Facets{Container: component, Image: true, ConfigKey: builders.ConfigFileKey, Annotations: ann, Labels: labels}
}
