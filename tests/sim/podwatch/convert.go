package podwatch

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// Label keys the operator puts on its pods (§5.1 of the behaviour reference).
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	ManagedByValue = "tidb-operator"
)

// PodSelector selects the operator's pods.
const PodSelector = LabelManagedBy + "=" + ManagedByValue

// clusterInfo is what the TidbCluster object adds to its pods.
type clusterInfo struct {
	clusterDomain string
	pdCluster     *simapi.ClusterRef
}

var podOrdinal = regexp.MustCompile(`^(.+)-([a-z]+)-(\d+)$`)

// clusterOf returns the TidbCluster a pod belongs to. Pods are named <tc>-<component>-<ordinal>,
// which is what their host names use; the instance label is the fallback.
func clusterOf(pod *corev1.Pod, component string) string {
	if m := podOrdinal.FindStringSubmatch(pod.Name); m != nil && m[2] == component {
		return m[1]
	}
	if tc, ok := strings.CutSuffix(pod.Name, "-"+component); ok {
		return tc
	}
	return pod.Labels[LabelInstance]
}

// toSimPod converts a Pod; ok is false for pods the simulator does not simulate.
func toSimPod(pod *corev1.Pod, info func(namespace, name string) clusterInfo) (simapi.Pod, bool) {
	component := pod.Labels[LabelComponent]
	if !model.Simulated(component) {
		return simapi.Pod{}, false
	}
	tc := clusterOf(pod, component)
	if tc == "" {
		return simapi.Pod{}, false
	}
	p := simapi.Pod{
		Namespace: pod.Namespace,
		Name:      pod.Name,
		UID:       string(pod.UID),
		Cluster:   tc,
		Component: component,
		Instance:  pod.Labels[LabelInstance],
		Running:   pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil,
		Image:     mainImage(pod, component),
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			p.Ready = true
		}
	}
	if info != nil {
		ci := info(pod.Namespace, tc)
		p.ClusterDomain = ci.clusterDomain
		p.PDCluster = ci.pdCluster
	}
	return p, true
}

// mainImage is the image of the container named after the component, else of the first one.
func mainImage(pod *corev1.Pod, component string) string {
	for _, c := range pod.Spec.Containers {
		if c.Name == component {
			return c.Image
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Image
	}
	return ""
}

// clusterInfoFrom reads spec.clusterDomain and spec.cluster of a TidbCluster.
func clusterInfoFrom(tc *unstructured.Unstructured) clusterInfo {
	var ci clusterInfo
	ci.clusterDomain, _, _ = unstructured.NestedString(tc.Object, "spec", "clusterDomain")
	name, _, _ := unstructured.NestedString(tc.Object, "spec", "cluster", "name")
	if name != "" {
		ns, _, _ := unstructured.NestedString(tc.Object, "spec", "cluster", "namespace")
		if ns == "" {
			ns = tc.GetNamespace()
		}
		ci.pdCluster = &simapi.ClusterRef{Namespace: ns, Name: name}
	}
	return ci
}

// pdConfigSeed reads PD's replication and schedule settings from spec.pd.config, which holds
// either a TOML document (string) or the same structure as a map.
func pdConfigSeed(tc *unstructured.Unstructured) (simapi.ClusterPatch, error) {
	var patch simapi.ClusterPatch
	raw, found, err := unstructured.NestedFieldNoCopy(tc.Object, "spec", "pd", "config")
	if err != nil || !found || raw == nil {
		return patch, err
	}
	var cfg map[string]any
	switch v := raw.(type) {
	case string:
		if err := toml.Unmarshal([]byte(v), &cfg); err != nil {
			return patch, fmt.Errorf("parse spec.pd.config as TOML: %w", err)
		}
	case map[string]any:
		cfg = v
	default:
		return patch, fmt.Errorf("spec.pd.config has unexpected type %T", raw)
	}
	if repl, ok := cfg["replication"].(map[string]any); ok {
		if n, ok := toInt(repl["max-replicas"]); ok && n > 0 {
			patch.MaxReplicas = &n
		}
		switch l := repl["location-labels"].(type) {
		case []any:
			labels := []string{}
			for _, item := range l {
				if s, ok := item.(string); ok {
					labels = append(labels, s)
				}
			}
			patch.LocationLabels = &labels
		case string:
			labels := strings.Split(l, ",")
			patch.LocationLabels = &labels
		}
		if b, ok := toBool(repl["enable-placement-rules"]); ok {
			patch.EnablePlacementRules = &b
		}
		if b, ok := toBool(repl["strictly-match-label"]); ok {
			patch.StrictlyMatchLabel = &b
		}
	}
	if sched, ok := cfg["schedule"].(map[string]any); ok {
		if s, ok := sched["max-store-down-time"].(string); ok {
			d, err := time.ParseDuration(s)
			if err != nil {
				return patch, fmt.Errorf("schedule.max-store-down-time %q: %w", s, err)
			}
			patch.MaxStoreDownTime = &simapi.Duration{Duration: d}
		}
	}
	return patch, nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int:
		return n, true
	case float64:
		return int(n), true
	}
	return 0, false
}

func toBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch b {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
