package predicates

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
)

// ErrNoTopology is wrapped by HA decisions that leave no node: every topology already holds
// as many pods of the component as HA allows.
var ErrNoTopology = errors.New("no topology can take another pod")

// HAInput is what the HA rule looks at.
type HAInput struct {
	// Component is "pd" or "tikv".
	Component string
	// Pod is the name of the pod being placed; a peer with the same name (an old incarnation)
	// is not counted.
	Pod string
	// Replicas is the component's StatefulSet replica count (see Replicas).
	Replicas int32
	// TopologyKey is the node label to spread over.
	TopologyKey string
	// Candidates are the nodes kube-scheduler found feasible so far.
	Candidates []corev1.Node
	// Peers are the component's pods, placed or not.
	Peers []corev1.Pod
	// PeerNodeLabels holds the labels of nodes running peers that are not candidates; a peer on
	// a node found in neither place is not counted, since its topology is unknown.
	PeerNodeLabels map[string]map[string]string
	// Failed are pods auto-failover replaced (see FailurePods); they are not counted.
	Failed sets.Set[string]
	// Desired are the ordinals the StatefulSet keeps (see DesiredOrdinals); peers with other
	// ordinals are on their way out and are not counted. Nil counts every ordinal.
	Desired sets.Set[int32]
}

// Counts is how a component's pods sit over topologies and nodes.
type Counts struct {
	// PerTopology counts the counted peers of every known topology: those of the candidates
	// (zero when empty) and those holding a counted peer.
	PerTopology map[string]int
	// PerNode counts the counted peers of every node that runs one.
	PerNode map[string]int
	// Counted, NotPlaced, Failed, NotDesired and UnknownNode tally the peers by how they were
	// treated, for the explanation.
	Counted, NotPlaced, Failed, NotDesired, UnknownNode int
	// Unlabelled are the candidates without the topology label.
	Unlabelled []string
}

// Count sorts the peers into topologies, applying v1.6's exclusions.
func (in *HAInput) Count() Counts {
	c := Counts{PerTopology: map[string]int{}, PerNode: map[string]int{}}
	candidate := make(map[string]map[string]string, len(in.Candidates))
	for i := range in.Candidates {
		n := &in.Candidates[i]
		candidate[n.Name] = n.Labels
		if t := n.Labels[in.TopologyKey]; t != "" {
			c.PerTopology[t] += 0
		} else {
			c.Unlabelled = append(c.Unlabelled, n.Name)
		}
	}
	for i := range in.Peers {
		p := &in.Peers[i]
		if p.Name == in.Pod {
			continue
		}
		if in.Failed.Has(p.Name) {
			c.Failed++
			continue
		}
		if in.Desired != nil {
			if ord, ok := Ordinal(p.Name); ok && !in.Desired.Has(ord) {
				c.NotDesired++
				continue
			}
		}
		if p.Spec.NodeName == "" {
			c.NotPlaced++
			continue
		}
		labels, ok := candidate[p.Spec.NodeName]
		if !ok {
			labels, ok = in.PeerNodeLabels[p.Spec.NodeName]
		}
		t := labels[in.TopologyKey]
		if !ok || t == "" {
			c.UnknownNode++
			continue
		}
		c.Counted++
		c.PerTopology[t]++
		c.PerNode[p.Spec.NodeName]++
	}
	return c
}

// MaxPerTopology is v1.6's limit of pods per topology; zero means no limit.
//
//   - PD: (replicas+1)/2 - 1, at least 1, so no topology ever holds a quorum of members
//     (1-4 replicas: 1, 5-6: 2, 7-8: 3).
//   - TiKV: with fewer than 3 replicas HA is impossible anyway and any topology will do; with
//     fewer than 3 known topologies, 1 (so stores are never doubled up before the cluster can
//     tolerate losing a topology); otherwise ceil(replicas/3).
func MaxPerTopology(component string, replicas int32, topologies int) int {
	switch component {
	case label.PDComponent:
		m := int((replicas+1)/2) - 1
		return max(m, 1)
	case label.TiKVComponent:
		switch {
		case replicas < 3:
			return 0
		case topologies < 3:
			return 1
		default:
			return int((replicas + 2) / 3)
		}
	}
	return 0
}

// HADecision is the outcome of the HA rule.
type HADecision struct {
	Input  *HAInput
	Counts Counts
	// Max is the per-topology limit; zero means none.
	Max int
	// Topologies are the topologies the pod may go to.
	Topologies []string
	// Nodes are the candidates in those topologies, in input order.
	Nodes []string
	// Rejected maps every other candidate to the reason it was left out.
	Rejected map[string]string
	// Err is set, wrapping ErrNoTopology, when no candidate is left.
	Err error
}

// HA applies v1.6's HAScheduling rule: keep the topologies that are below the limit and hold
// the fewest counted pods, so pods fill topologies evenly and none ever goes past the limit.
func HA(in *HAInput) HADecision {
	d := HADecision{Input: in, Counts: in.Count(), Rejected: map[string]string{}}
	d.Max = MaxPerTopology(in.Component, in.Replicas, len(d.Counts.PerTopology))

	candidateTopologies := sets.New[string]()
	for i := range in.Candidates {
		if t := in.Candidates[i].Labels[in.TopologyKey]; t != "" {
			candidateTopologies.Insert(t)
		}
	}
	least := -1
	for _, t := range sets.List(candidateTopologies) {
		n := d.Counts.PerTopology[t]
		switch {
		case d.Max == 0:
			d.Topologies = append(d.Topologies, t)
		case n >= d.Max:
		case least < 0 || n < least:
			least, d.Topologies = n, []string{t}
		case n == least:
			d.Topologies = append(d.Topologies, t)
		}
	}
	chosen := sets.New(d.Topologies...)
	for i := range in.Candidates {
		n := &in.Candidates[i]
		t := n.Labels[in.TopologyKey]
		switch {
		case t == "":
			d.Rejected[n.Name] = fmt.Sprintf("%s: node has no %s label, so its topology is unknown", RuleHA, in.TopologyKey)
		case chosen.Has(t):
			d.Nodes = append(d.Nodes, n.Name)
		case d.Counts.PerTopology[t] >= d.Max:
			d.Rejected[n.Name] = fmt.Sprintf("%s: %s=%s already holds %d %s pods; %d replicas allow at most %d per topology",
				RuleHA, in.TopologyKey, t, d.Counts.PerTopology[t], in.Component, in.Replicas, d.Max)
		default:
			d.Rejected[n.Name] = fmt.Sprintf("%s: %s=%s holds %d %s pods while others hold %d; pods fill the emptiest topologies first",
				RuleHA, in.TopologyKey, t, d.Counts.PerTopology[t], in.Component, least)
		}
	}
	if len(d.Nodes) == 0 && len(in.Candidates) > 0 {
		parts := make([]string, 0, candidateTopologies.Len())
		for _, t := range sets.List(candidateTopologies) {
			parts = append(parts, fmt.Sprintf("%s (%d %s pods)", t, d.Counts.PerTopology[t], in.Component))
		}
		if len(parts) == 0 {
			d.Err = fmt.Errorf("%w: none of the %d candidate nodes has the %s label", ErrNoTopology, len(in.Candidates), in.TopologyKey)
		} else {
			// The first part keeps v1.6's wording, which users may grep for.
			d.Err = fmt.Errorf("%w: unable to schedule to topology: %s, max pods per topology: %d",
				ErrNoTopology, strings.Join(parts, ", "), d.Max)
		}
	}
	return d
}

// Message explains the decision: the rule, the counts per topology, the limit and the outcome.
func (d *HADecision) Message() string {
	in := d.Input
	var b strings.Builder
	fmt.Fprintf(&b, "%s pods per %s: %s", in.Component, in.TopologyKey, formatCounts(d.Counts.PerTopology))
	if d.Max > 0 {
		fmt.Fprintf(&b, "; %d replicas allow at most %d per topology", in.Replicas, d.Max)
	} else {
		fmt.Fprintf(&b, "; no per-topology limit for %d %s replicas", in.Replicas, in.Component)
	}
	var skipped []string
	for _, s := range []struct {
		n    int
		what string
	}{
		{d.Counts.Failed, "failure member"}, {d.Counts.NotDesired, "ordinal being removed"},
		{d.Counts.NotPlaced, "not yet placed"}, {d.Counts.UnknownNode, "on an unknown node"},
	} {
		if s.n > 0 {
			skipped = append(skipped, fmt.Sprintf("%d %s", s.n, s.what))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, " (not counted: %s)", strings.Join(skipped, ", "))
	}
	if len(d.Counts.Unlabelled) > 0 {
		fmt.Fprintf(&b, "; %d nodes lack the %s label", len(d.Counts.Unlabelled), in.TopologyKey)
	}
	if d.Err != nil {
		fmt.Fprintf(&b, "; %v", d.Err)
	} else {
		fmt.Fprintf(&b, "; kept %d of %d nodes, in %s", len(d.Nodes), len(in.Candidates), strings.Join(d.Topologies, ", "))
	}
	return b.String()
}

// formatCounts renders counts as "a=1, b=0" in name order.
func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none known"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
