package rollout

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Facets says how to compare a live workload with the spec.
type Facets struct {
	// Container is the main container (the component's server).
	Container string
	// Image: the main container's image comes from the spec (for discovery it comes from the
	// operator's flags, so a different image is the operator's rendering).
	Image bool
	// ConfigKey is the ConfigMap key of the configuration file ("config-file"); "" when the
	// workload has no configuration.
	ConfigKey string
	// Annotations and Labels are what the spec asks the pod template to carry.
	Annotations, Labels map[string]string
}

// Mismatches lists what of the spec the live workload does not implement, comparing it with the
// workload rendered from the spec (desired) in what the spec decides: the main container's image,
// resources, environment and mounts; the pod's containers, volumes, placement, annotations and
// labels; the claims' size and class; and the configuration file as parsed TOML. What the
// operator decides alone (start scripts, probes, the order of lists, API defaults) is not
// compared. Empty means the live workload implements the spec.
func Mismatches(f Facets, desired, live Workload) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	dc, lc := container(desired.Template.Spec.Containers, f.Container), container(live.Template.Spec.Containers, f.Container)
	if lc == nil || dc == nil {
		add("container %s is missing", f.Container)
		return out
	}
	if f.Image && dc.Image != lc.Image {
		add("image %s, spec asks for %s", lc.Image, dc.Image)
	}
	if !equality.Semantic.DeepEqual(normalResources(dc.Resources), normalResources(lc.Resources)) {
		add("resources of container %s", f.Container)
	}
	for _, n := range envDifferences(dc.Env, lc.Env) {
		add("env %s", n)
	}
	if !equality.Semantic.DeepEqual(emptyNil(dc.EnvFrom), emptyNil(lc.EnvFrom)) {
		add("envFrom of container %s", f.Container)
	}
	for _, n := range setDifferences(mountsOf(dc.VolumeMounts), mountsOf(lc.VolumeMounts)) {
		add("volumeMount %s", n)
	}
	for _, n := range setDifferences(namesOf(desired.Template.Spec.Containers), namesOf(live.Template.Spec.Containers)) {
		add("container %s", n)
	}
	for _, n := range setDifferences(namesOf(desired.Template.Spec.InitContainers), namesOf(live.Template.Spec.InitContainers)) {
		add("initContainer %s", n)
	}
	for _, n := range setDifferences(volumesOf(desired.Template.Spec.Volumes), volumesOf(live.Template.Spec.Volumes)) {
		add("volume %s", n)
	}
	ds, ls := desired.Template.Spec, live.Template.Spec
	placement := []struct {
		name string
		a, b any
	}{
		{"nodeSelector", emptyNil(ds.NodeSelector), emptyNil(ls.NodeSelector)},
		{"tolerations", emptyNil(ds.Tolerations), emptyNil(ls.Tolerations)},
		{"affinity", emptyAffinity(ds.Affinity), emptyAffinity(ls.Affinity)},
		{"topologySpreadConstraints", emptyNil(ds.TopologySpreadConstraints), emptyNil(ls.TopologySpreadConstraints)},
		{"priorityClassName", ds.PriorityClassName, ls.PriorityClassName},
		{"hostNetwork", ds.HostNetwork, ls.HostNetwork},
	}
	for _, p := range placement {
		if !equality.Semantic.DeepEqual(p.a, p.b) {
			add("%s", p.name)
		}
	}
	for _, k := range sortedKeys(f.Annotations) {
		if live.Template.Annotations[k] != f.Annotations[k] {
			add("pod annotation %s", k)
		}
	}
	for _, k := range sortedKeys(f.Labels) {
		if live.Template.Labels[k] != f.Labels[k] {
			add("pod label %s", k)
		}
	}
	for _, n := range setDifferences(claimsOf(desired.Claims), claimsOf(live.Claims)) {
		add("volumeClaimTemplate %s", n)
	}
	if f.ConfigKey != "" {
		switch {
		case live.Config == nil:
			add("ConfigMap %s is missing", ConfigMapName(&live.Template))
		case desired.Config == nil || !sameTOML(desired.Config.Data[f.ConfigKey], live.Config.Data[f.ConfigKey]):
			add("configuration (%s of ConfigMap %s)", f.ConfigKey, live.Config.Name)
		}
	}
	return out
}

// emptyAffinity is nil for an affinity that says nothing.
func emptyAffinity(a *corev1.Affinity) *corev1.Affinity {
	if a == nil || saysNothing(a) {
		return nil
	}
	return a
}

func saysNothing(a *corev1.Affinity) bool {
	return a.NodeAffinity == nil && a.PodAffinity == nil && a.PodAntiAffinity == nil
}

func container(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func normalResources(r corev1.ResourceRequirements) corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{}
	if len(r.Limits) > 0 {
		out.Limits = r.Limits
	}
	if len(r.Requests) > 0 {
		out.Requests = r.Requests
	}
	if len(r.Claims) > 0 {
		out.Claims = r.Claims
	}
	return out
}

// emptyNil is nil for an empty slice or map, so that an omitted list and an empty one compare
// equal.
func emptyNil(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		if rv.Len() == 0 {
			return nil
		}
	}
	return v
}

// envDifferences names the variables whose presence or value differs, order aside. A field
// reference without apiVersion is the API server's default, v1.
func envDifferences(a, b []corev1.EnvVar) []string {
	norm := func(in []corev1.EnvVar) map[string]string {
		out := map[string]string{}
		for _, e := range in {
			e := *e.DeepCopy()
			if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.APIVersion == "" {
				e.ValueFrom.FieldRef.APIVersion = "v1"
			}
			out[e.Name] = fmt.Sprintf("%q %v", e.Value, e.ValueFrom)
		}
		return out
	}
	return setDifferences(norm(a), norm(b))
}

// mountsOf describes each mounted volume by all the places it is mounted (a volume can be
// mounted more than once, at other paths or sub paths), in a fixed order.
func mountsOf(ms []corev1.VolumeMount) map[string]string {
	byName := map[string][]string{}
	for _, m := range ms {
		byName[m.Name] = append(byName[m.Name], fmt.Sprintf("%s:%s:%t", m.MountPath, m.SubPath, m.ReadOnly))
	}
	out := make(map[string]string, len(byName))
	for n, places := range byName {
		sort.Strings(places)
		out[n] = strings.Join(places, ",")
	}
	return out
}

func namesOf(cs []corev1.Container) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		out[c.Name] = ""
	}
	return out
}

// volumesOf describes each volume by its source. The ConfigMaps of a component's configuration
// and start script are the operator's rendering (their names carry a hash of the script), so
// only their kind counts; the configuration inside is compared as TOML.
func volumesOf(vs []corev1.Volume) map[string]string {
	out := map[string]string{}
	for _, v := range vs {
		src := v.VolumeSource
		switch {
		case src.ConfigMap != nil && (v.Name == ConfigVolume || v.Name == "startup-script"):
			out[v.Name] = "configMap"
		case src.ConfigMap != nil:
			out[v.Name] = "configMap " + src.ConfigMap.Name
		case src.Secret != nil:
			out[v.Name] = "secret " + src.Secret.SecretName
		case src.PersistentVolumeClaim != nil:
			out[v.Name] = "claim " + src.PersistentVolumeClaim.ClaimName
		case src.HostPath != nil:
			out[v.Name] = "hostPath " + src.HostPath.Path
		case src.EmptyDir != nil:
			out[v.Name] = "emptyDir"
		case src.DownwardAPI != nil:
			out[v.Name] = "downwardAPI"
		case src.Projected != nil:
			out[v.Name] = "projected"
		default:
			out[v.Name] = "other"
		}
	}
	return out
}

func claimsOf(cs []corev1.PersistentVolumeClaim) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		size := c.Spec.Resources.Requests[corev1.ResourceStorage]
		class := ""
		if c.Spec.StorageClassName != nil {
			class = *c.Spec.StorageClassName
		}
		out[c.Name] = size.String() + " " + class
	}
	return out
}

// setDifferences names the keys present in one map only or with different values, sorted.
func setDifferences(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
