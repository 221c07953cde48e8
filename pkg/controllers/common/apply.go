package common

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
)

// FieldManager is the field manager of every write the operator makes, so that
// `kubectl get -o yaml --show-managed-fields` attributes them to it.
const FieldManager = "tidb-operator"

// LastAppliedAnnotation holds the JSON of the spec the operator last wrote, for kinds whose spec
// the API server fills with defaults (StatefulSets, Services, Deployments): comparing the
// desired spec with this record, instead of with the defaulted live spec, tells whether an
// update is needed. It is v1.6's annotation, with the same content (the JSON of .spec), so
// objects created by v1.6 are recognised as up to date when nothing changed.
const LastAppliedAnnotation = label.LastAppliedConfigAnnKey

// Outcome says what Apply did.
type Outcome string

const (
	// Created: the object did not exist and was created.
	Created Outcome = "Created"
	// Updated: the object differed from the desired one in fields the operator owns.
	Updated Outcome = "Updated"
	// Unchanged: nothing was written.
	Unchanged Outcome = "Unchanged"
)

// Apply makes the object named by desired look like desired in the fields the operator owns,
// creating it if needed. It reads through c (in the operator, the informer cache) and writes
// only when something the operator owns differs:
//   - labels, annotations and owner references of desired must be present on the live object
//     (others, added by people or tools, are kept);
//   - ConfigMaps: data and binaryData;
//   - Services, StatefulSets, Deployments: the spec, compared through LastAppliedAnnotation;
//     fields the API server assigns (cluster IPs, node ports) and immutable ones (selectors,
//     volume claim templates) are kept from the live object;
//   - Roles: rules; RoleBindings: subjects; ServiceAccounts: metadata only.
//
// desired is not modified. The returned object is the live one after the call.
func Apply(ctx context.Context, c client.Client, desired client.Object) (client.Object, Outcome, error) {
	want, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return nil, Unchanged, fmt.Errorf("%T is not a client.Object", desired)
	}
	if err := recordLastApplied(want); err != nil {
		return nil, Unchanged, err
	}
	live, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return nil, Unchanged, fmt.Errorf("%T is not a client.Object", desired)
	}
	err := c.Get(ctx, client.ObjectKeyFromObject(desired), live)
	switch {
	case apierrors.IsNotFound(err):
		if err := c.Create(ctx, want, client.FieldOwner(FieldManager)); err != nil {
			return nil, Unchanged, fmt.Errorf("create %s %s: %w", kindOf(want), client.ObjectKeyFromObject(want), err)
		}
		return want, Created, nil
	case err != nil:
		return nil, Unchanged, fmt.Errorf("get %s %s: %w", kindOf(want), client.ObjectKeyFromObject(want), err)
	}
	specSame, err := keepLiveRecord(live, want)
	if err != nil {
		return nil, Unchanged, err
	}
	changed, err := merge(live, want, specSame)
	if err != nil {
		return nil, Unchanged, err
	}
	if !changed {
		return live, Unchanged, nil
	}
	if err := c.Update(ctx, live, client.FieldOwner(FieldManager)); err != nil {
		return nil, Unchanged, fmt.Errorf("update %s %s: %w", kindOf(live), client.ObjectKeyFromObject(live), err)
	}
	return live, Updated, nil
}

func kindOf(obj client.Object) string {
	return fmt.Sprintf("%T", obj)
}

// specOf returns the spec that LastAppliedAnnotation records, for the kinds that use it.
func specOf(obj client.Object) (any, bool) {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		return o.Spec, true
	case *corev1.Service:
		return o.Spec, true
	case *appsv1.Deployment:
		return o.Spec, true
	}
	return nil, false
}

func recordLastApplied(obj client.Object) error {
	spec, ok := specOf(obj)
	if !ok {
		return nil
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode the spec of %s %s: %w", kindOf(obj), client.ObjectKeyFromObject(obj), err)
	}
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[LastAppliedAnnotation] = string(raw)
	obj.SetAnnotations(ann)
	return nil
}

// keepLiveRecord reports whether want's spec is the one live already has, either as recorded in
// live's LastAppliedAnnotation (compared decoded, so that an encoding another writer produced
// for the same spec counts as the same) or as live's spec itself (a caller that keeps a live
// spec as it is). When it is, want takes live's record unchanged, so that nothing about the spec
// is written and a record another operator wrote (v1.6 compares with it) stays byte for byte.
func keepLiveRecord(live, want client.Object) (bool, error) {
	wantSpec, ok := specOf(want)
	if !ok {
		return false, nil
	}
	liveSpec, _ := specOf(live)
	same := equality.Semantic.DeepEqual(wantSpec, liveSpec)
	raw, recorded := live.GetAnnotations()[LastAppliedAnnotation]
	if !same && recorded {
		decoded := reflect.New(reflect.TypeOf(wantSpec))
		if err := json.Unmarshal([]byte(raw), decoded.Interface()); err == nil {
			same = equality.Semantic.DeepEqual(wantSpec, decoded.Elem().Interface())
		}
	}
	if !same {
		return false, nil
	}
	if recorded {
		ann := want.GetAnnotations()
		ann[LastAppliedAnnotation] = raw
		want.SetAnnotations(ann)
	}
	return true, nil
}

// merge copies what the operator owns from want into live and reports whether anything changed.
// specSame (keepLiveRecord) leaves the spec of live as it is, even when metadata changes.
func merge(live, want client.Object, specSame bool) (bool, error) {
	changed := mergeMeta(live, want)
	if specSame {
		if _, ok := specOf(want); ok {
			return changed, nil
		}
	}
	switch w := want.(type) {
	case *corev1.ConfigMap:
		l := live.(*corev1.ConfigMap)
		if !equality.Semantic.DeepEqual(l.Data, w.Data) || !equality.Semantic.DeepEqual(l.BinaryData, w.BinaryData) {
			l.Data, l.BinaryData = w.Data, w.BinaryData
			changed = true
		}
	case *corev1.Service:
		// Spec changes are detected by the last-applied annotation, which mergeMeta compared.
		if changed {
			l := live.(*corev1.Service)
			l.Spec = serviceSpec(l.Spec, w.Spec)
		}
	case *appsv1.StatefulSet:
		if changed {
			l := live.(*appsv1.StatefulSet)
			l.Spec = statefulSetSpec(l.Spec, w.Spec)
		}
	case *appsv1.Deployment:
		if changed {
			l := live.(*appsv1.Deployment)
			sel := l.Spec.Selector
			l.Spec = *w.Spec.DeepCopy()
			l.Spec.Selector = sel
		}
	case *rbacv1.Role:
		l := live.(*rbacv1.Role)
		if !equality.Semantic.DeepEqual(l.Rules, w.Rules) {
			l.Rules = w.Rules
			changed = true
		}
	case *rbacv1.RoleBinding:
		l := live.(*rbacv1.RoleBinding)
		if !equality.Semantic.DeepEqual(l.Subjects, w.Subjects) {
			l.Subjects = w.Subjects
			changed = true
		}
	case *corev1.ServiceAccount:
	default:
		return false, fmt.Errorf("apply does not know which fields of %s it owns", kindOf(want))
	}
	return changed, nil
}

// mergeMeta adds want's labels, annotations and owner references to live.
func mergeMeta(live, want client.Object) bool {
	changed := false
	if l, ok := mergeMap(live.GetLabels(), want.GetLabels()); ok {
		live.SetLabels(l)
		changed = true
	}
	if a, ok := mergeMap(live.GetAnnotations(), want.GetAnnotations()); ok {
		live.SetAnnotations(a)
		changed = true
	}
	refs := live.GetOwnerReferences()
	refsChanged := false
	for _, w := range want.GetOwnerReferences() {
		i := indexOwner(refs, w)
		switch {
		case i < 0:
			refs = append(refs, w)
			refsChanged = true
		case !equality.Semantic.DeepEqual(refs[i], w):
			refs[i] = w
			refsChanged = true
		}
	}
	if refsChanged {
		live.SetOwnerReferences(refs)
		changed = true
	}
	return changed
}

func indexOwner(refs []metav1.OwnerReference, w metav1.OwnerReference) int {
	for i, r := range refs {
		if r.UID == w.UID {
			return i
		}
	}
	return -1
}

// mergeMap returns live with every key of want set to want's value, and whether that changed
// live.
func mergeMap(live, want map[string]string) (map[string]string, bool) {
	changed := false
	for k, v := range want {
		if cur, ok := live[k]; ok && cur == v {
			continue
		}
		if !changed {
			cp := make(map[string]string, len(live)+len(want))
			for lk, lv := range live {
				cp[lk] = lv
			}
			live = cp
			changed = true
		}
		live[k] = v
	}
	return live, changed
}

// serviceSpec is want's spec with what the API server allocated kept from live: cluster IPs and
// their families, node ports the operator does not choose, and the health check node port.
func serviceSpec(live, want corev1.ServiceSpec) corev1.ServiceSpec {
	out := *want.DeepCopy()
	if out.ClusterIP == "" {
		out.ClusterIP = live.ClusterIP
		out.ClusterIPs = live.ClusterIPs
		if len(out.IPFamilies) == 0 {
			out.IPFamilies = live.IPFamilies
		}
		if out.IPFamilyPolicy == nil {
			out.IPFamilyPolicy = live.IPFamilyPolicy
		}
	}
	if out.HealthCheckNodePort == 0 {
		out.HealthCheckNodePort = live.HealthCheckNodePort
	}
	for i := range out.Ports {
		if out.Ports[i].NodePort != 0 {
			continue
		}
		for _, lp := range live.Ports {
			if lp.Name == out.Ports[i].Name && lp.Port == out.Ports[i].Port {
				out.Ports[i].NodePort = lp.NodePort
			}
		}
	}
	return out
}

// statefulSetSpec is want's spec with the fields the API server does not let change kept from
// live.
func statefulSetSpec(live, want appsv1.StatefulSetSpec) appsv1.StatefulSetSpec {
	out := *want.DeepCopy()
	out.Selector = live.Selector
	out.ServiceName = live.ServiceName
	out.PodManagementPolicy = live.PodManagementPolicy
	out.VolumeClaimTemplates = live.VolumeClaimTemplates
	return out
}
