package builders

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// MergePatchContainers applies spec.<component>.additionalContainers to the containers the
// operator built. A patch container named like a built one is merged into it with Kubernetes
// strategic-merge semantics (scalar fields replace, env/ports/volumeMounts merge by their keys),
// which is how users adjust the main container in v1.6; any other patch container is appended as
// a sidecar. The result keeps the built containers' order, followed by the new ones in the order
// given.
func MergePatchContainers(base, patches []corev1.Container) ([]corev1.Container, error) {
	out := make([]corev1.Container, 0, len(base)+len(patches))
	index := map[string]int{}
	for _, c := range base {
		index[c.Name] = len(out)
		out = append(out, *c.DeepCopy())
	}
	for _, p := range patches {
		i, ok := index[p.Name]
		if !ok {
			index[p.Name] = len(out)
			out = append(out, *p.DeepCopy())
			continue
		}
		orig, err := json.Marshal(out[i])
		if err != nil {
			return nil, fmt.Errorf("encode container %s: %w", p.Name, err)
		}
		patch, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode additional container %s: %w", p.Name, err)
		}
		merged, err := strategicpatch.StrategicMergePatch(orig, patch, corev1.Container{})
		if err != nil {
			return nil, fmt.Errorf("merge additional container %s: %w", p.Name, err)
		}
		var c corev1.Container
		if err := json.Unmarshal(merged, &c); err != nil {
			return nil, fmt.Errorf("decode merged container %s: %w", p.Name, err)
		}
		out[i] = c
	}
	return out, nil
}
