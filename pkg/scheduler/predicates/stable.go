package predicates

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// StableDecision is the outcome of the StableScheduling rule.
type StableDecision struct {
	// Previous is the node the TidbCluster status recorded for the pod; "" when none.
	Previous string
	// Nodes are the nodes the pod may go to: only Previous when it is a candidate, else all.
	Nodes []string
	// Pinned is true when Nodes is just Previous.
	Pinned bool
	// Message explains the decision.
	Message string
}

// Stable applies v1.6's StableScheduling rule to a TiDB pod: a pod that ran before goes back to
// the node recorded in status.tidb.members, so clients and load balancers that know the node's
// address keep working. When that node is no longer a candidate (gone, full, cordoned) or none
// was recorded, every candidate stays and the message says so; the extender records it as a
// warning, as v1.6 does.
func Stable(podName string, members map[string]v1alpha1.TiDBMember, candidates []corev1.Node) StableDecision {
	d := StableDecision{Previous: members[podName].NodeName}
	if d.Previous != "" {
		for i := range candidates {
			if candidates[i].Name == d.Previous {
				d.Nodes, d.Pinned = []string{d.Previous}, true
				d.Message = fmt.Sprintf("%s: %s goes back to node %s, where it ran before", RuleStable, podName, d.Previous)
				return d
			}
		}
	}
	d.Nodes = make([]string, len(candidates))
	for i := range candidates {
		d.Nodes[i] = candidates[i].Name
	}
	if d.Previous == "" {
		d.Message = fmt.Sprintf("%s: no previous node is recorded for %s in status.tidb.members; any of the %d candidate nodes will do",
			RuleStable, podName, len(candidates))
	} else {
		d.Message = fmt.Sprintf("%s: %s ran on node %s, which is not among the %d candidate nodes; falling back to all of them",
			RuleStable, podName, d.Previous, len(candidates))
	}
	return d
}
