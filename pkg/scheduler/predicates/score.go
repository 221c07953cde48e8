package predicates

import (
	corev1 "k8s.io/api/core/v1"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
)

// Weights of the two parts of a spread score; they add up to extenderv1.MaxExtenderPriority.
const (
	topologyWeight = 7
	nodeWeight     = extenderv1.MaxExtenderPriority - topologyWeight
)

// SpreadScores ranks candidates for a PD or TiKV pod (v1.6 scored every node 0). A node scores
// higher the fewer counted pods of the component its topology holds, relative to the fullest
// and emptiest candidate topologies, and, with a smaller weight, the fewer such pods the node
// itself runs; so when HA allows several topologies, or a zone key leaves several hosts in one,
// the pod still goes where it adds the least risk. Candidates without the topology label score
// 0. Scores run from 0 to extenderv1.MaxExtenderPriority.
func SpreadScores(in *HAInput) map[string]int64 {
	c := in.Count()
	minT, maxT := -1, -1
	minN, maxN := -1, -1
	for i := range in.Candidates {
		n := &in.Candidates[i]
		t := n.Labels[in.TopologyKey]
		if t == "" {
			continue
		}
		tc, nc := c.PerTopology[t], c.PerNode[n.Name]
		minT, maxT = lower(minT, tc), higher(maxT, tc)
		minN, maxN = lower(minN, nc), higher(maxN, nc)
	}
	out := make(map[string]int64, len(in.Candidates))
	for i := range in.Candidates {
		n := &in.Candidates[i]
		t := n.Labels[in.TopologyKey]
		if t == "" {
			out[n.Name] = 0
			continue
		}
		out[n.Name] = topologyWeight*emptiness(c.PerTopology[t], minT, maxT)/100 +
			nodeWeight*emptiness(c.PerNode[n.Name], minN, maxN)/100
	}
	return out
}

// emptiness maps a count to 0..100: 100 for the emptiest, 0 for the fullest, 100 when all
// are equal.
func emptiness(n, least, most int) int64 {
	if most <= least {
		return 100
	}
	return int64(100 * (most - n) / (most - least))
}

func lower(cur, n int) int {
	if cur < 0 || n < cur {
		return n
	}
	return cur
}

func higher(cur, n int) int {
	if n > cur {
		return n
	}
	return cur
}

// StableScores gives a TiDB pod's previous node the top score and every other candidate 0, so
// the pod prefers its node even when StableScheduling could not pin it (the gate is off).
func StableScores(previous string, candidates []corev1.Node) map[string]int64 {
	out := make(map[string]int64, len(candidates))
	for i := range candidates {
		out[candidates[i].Name] = 0
		if candidates[i].Name == previous {
			out[previous] = extenderv1.MaxExtenderPriority
		}
	}
	return out
}
