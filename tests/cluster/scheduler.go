package cluster

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// schedulerConfigKind is the kind of document kube-scheduler's --config accepts.
const schedulerConfigKind = "KubeSchedulerConfiguration"

// schedulerConfigFor returns the caller's KubeSchedulerConfiguration with
// clientConnection.kubeconfig set to kubeconfig. When --config is given, kube-scheduler ignores
// its --kubeconfig flag, so the connection must be in the file. The document is handled as
// plain data rather than through the scheduler's Go types, so every field the caller wrote
// (profiles, plugin arguments, extenders) reaches the scheduler untouched and validation stays
// the scheduler's job.
func schedulerConfigFor(raw []byte, kubeconfig string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse scheduler configuration: %w", err)
	}
	if kind, _ := doc["kind"].(string); kind != schedulerConfigKind {
		return nil, fmt.Errorf("scheduler configuration has kind %q, want %s", kind, schedulerConfigKind)
	}
	if apiVersion, _ := doc["apiVersion"].(string); !strings.HasPrefix(apiVersion, "kubescheduler.config.k8s.io/") {
		return nil, fmt.Errorf("scheduler configuration has apiVersion %q, want kubescheduler.config.k8s.io/<version>", apiVersion)
	}
	conn, _ := doc["clientConnection"].(map[string]any)
	if conn == nil {
		conn = map[string]any{}
	}
	conn["kubeconfig"] = kubeconfig
	doc["clientConnection"] = conn
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("write scheduler configuration: %w", err)
	}
	return out, nil
}
