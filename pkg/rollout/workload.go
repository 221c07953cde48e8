package rollout

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/tomlconfig"
)

// Workload is one side of a comparison: a pod template, the ConfigMap it mounts as its "config"
// volume (nil when it mounts none, or when that ConfigMap does not exist), and the volume claim
// templates of a StatefulSet.
type Workload struct {
	Template corev1.PodTemplateSpec
	Config   *corev1.ConfigMap
	Claims   []corev1.PersistentVolumeClaim
}

// ConfigVolume is the volume of a component's pod template that mounts its ConfigMap.
const ConfigVolume = "config"

// ConfigMapName is the ConfigMap a template mounts as ConfigVolume, "" when none.
func ConfigMapName(t *corev1.PodTemplateSpec) string {
	for _, v := range t.Spec.Volumes {
		if v.Name == ConfigVolume && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}

// Differences names what would change if the desired workload replaced the live one: field
// paths of the pod template ("spec.volumes[config].configMap.name") and keys of the ConfigMap
// ("configmap startup-script"), sorted, at most maxListed with a count of the rest. A
// configuration file that differs in text only (the same settings as parsed TOML) is named as
// such.
func Differences(desired, live Workload) []string {
	var out []string
	a, errA := generic(desired.Template)
	b, errB := generic(live.Template)
	if errA != nil || errB != nil {
		out = append(out, "pod template")
	} else {
		walk("", a, b, &out)
	}
	out = append(out, configDifferences(desired.Config, live.Config)...)
	sort.Strings(out)
	if len(out) > maxListed {
		rest := len(out) - maxListed
		out = append(out[:maxListed:maxListed], fmt.Sprintf("%d more", rest))
	}
	return out
}

func configDifferences(desired, live *corev1.ConfigMap) []string {
	if desired == nil && live == nil {
		return nil
	}
	if desired == nil || live == nil {
		return []string{"configmap"}
	}
	var out []string
	keys := map[string]bool{}
	for k := range desired.Data {
		keys[k] = true
	}
	for k := range live.Data {
		keys[k] = true
	}
	for k := range keys {
		dv, dok := desired.Data[k]
		lv, lok := live.Data[k]
		if dok == lok && dv == lv {
			continue
		}
		if dok && lok && sameTOML(dv, lv) {
			out = append(out, "configmap "+k+" (text only, same settings)")
			continue
		}
		out = append(out, "configmap "+k)
	}
	return out
}

func sameTOML(a, b string) bool {
	x, err := tomlconfig.Parse(a)
	if err != nil {
		return false
	}
	y, err := tomlconfig.Parse(b)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// generic is v as JSON values (maps, slices, strings, numbers), so that templates compare
// field by field with the names the API uses.
func generic(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// walk appends the paths where a and b differ. Lists of objects with a "name" are matched by
// name, so an inserted container or volume is one difference, not a shift of all that follow.
func walk(path string, a, b any, out *[]string) {
	if reflect.DeepEqual(a, b) {
		return
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			walk(join(path, k), x[k], y[k], out)
		}
		return
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		xs, xok := byName(x)
		ys, yok := byName(y)
		if !xok || !yok {
			break
		}
		names := map[string]bool{}
		for k := range xs {
			names[k] = true
		}
		for k := range ys {
			names[k] = true
		}
		before := len(*out)
		for n := range names {
			walk(path+"["+n+"]", xs[n], ys[n], out)
		}
		// The same entries in another order still make another template (and restart pods).
		if len(*out) == before {
			*out = append(*out, path+" (order)")
		}
		return
	}
	if path == "" {
		path = "pod template"
	}
	*out = append(*out, path)
}

func byName(items []any) (map[string]any, bool) {
	out := make(map[string]any, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := m["name"].(string)
		if !ok {
			return nil, false
		}
		out[n] = m
	}
	return out, true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	if strings.ContainsAny(key, "./") {
		return path + "[" + key + "]"
	}
	return path + "." + key
}
