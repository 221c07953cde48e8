package builders

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
)

// SetLastAppliedConfiguration records the StatefulSet's spec as JSON in the annotation
// pingcap.com/last-applied-configuration, as v1.6 does on every create and update. v1.6 decides
// whether the pod template changed by comparing with this record rather than with the live
// object (which the API server has defaulted), and a taken-over v1.6 StatefulSet carries it. Call
// it again after changing the spec (for example the partition).
func SetLastAppliedConfiguration(sts *appsv1.StatefulSet) error {
	b, err := json.Marshal(sts.Spec)
	if err != nil {
		return fmt.Errorf("encode spec of StatefulSet %s: %w", sts.Name, err)
	}
	if sts.Annotations == nil {
		sts.Annotations = map[string]string{}
	}
	sts.Annotations[label.LastAppliedConfigAnnKey] = string(b)
	return nil
}

// LastAppliedSpec decodes the spec recorded by SetLastAppliedConfiguration; ok is false when the
// StatefulSet has no record.
func LastAppliedSpec(sts *appsv1.StatefulSet) (spec *appsv1.StatefulSetSpec, ok bool, err error) {
	raw, found := sts.Annotations[label.LastAppliedConfigAnnKey]
	if !found {
		return nil, false, nil
	}
	spec = &appsv1.StatefulSetSpec{}
	if err := json.Unmarshal([]byte(raw), spec); err != nil {
		return nil, true, fmt.Errorf("decode %s of StatefulSet %s: %w", label.LastAppliedConfigAnnKey, sts.Name, err)
	}
	return spec, true, nil
}

// TemplateEqual reports whether the desired StatefulSet's pod template equals the one last applied
// to the existing StatefulSet (v1.6's templateEqual). Without a record it reports false, so the
// caller updates and thereby writes one.
func TemplateEqual(desired, existing *appsv1.StatefulSet) (bool, error) {
	old, ok, err := LastAppliedSpec(existing)
	if err != nil || !ok {
		return false, err
	}
	return apiequality.Semantic.DeepEqual(old.Template, desired.Spec.Template), nil
}
