package cluster

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Well-known node labels the fake nodes carry, so that topology spread, anti-affinity and node
// selectors behave as on a real multi-zone cluster.
const (
	LabelHostname = corev1.LabelHostname
	LabelZone     = corev1.LabelTopologyZone
	LabelOS       = corev1.LabelOSStable
	LabelArch     = corev1.LabelArchStable
)

// zoneName names the i-th zone: zone-a, zone-b, ..., then zone-aa, zone-ab, ... past 26.
func zoneName(i int) string {
	s := ""
	for i >= 0 {
		s = string(rune('a'+i%26)) + s
		i = i/26 - 1
	}
	return "zone-" + s
}

// fakeNodes builds the Node objects of a full cluster: nodesPerZone nodes in each of zones
// zones, named kwok-<zone>-<n>, each with its own pod CIDR. They carry the kwok annotation so that kwok reports them Ready
// and runs their pods, and their status already holds the resources the scheduler fits pods
// against (kwok keeps a node's own capacity and allocatable when it initialises the node).
func fakeNodes(zones, nodesPerZone int, allocatable corev1.ResourceList) []*corev1.Node {
	nodes := make([]*corev1.Node, 0, zones*nodesPerZone)
	for z := 0; z < zones; z++ {
		zone := zoneName(z)
		for n := 0; n < nodesPerZone; n++ {
			name := fmt.Sprintf("kwok-%s-%d", zone, n)
			podCIDR := nodePodCIDR(len(nodes))
			nodes = append(nodes, &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{
					Name: name,
					Labels: map[string]string{
						LabelHostname: name,
						LabelZone:     zone,
						LabelOS:       "linux",
						LabelArch:     "amd64",
					},
					Annotations: map[string]string{FakeNodeAnnotation: FakeNodeAnnotationValue},
				},
				Spec: corev1.NodeSpec{PodCIDR: podCIDR, PodCIDRs: []string{podCIDR}},
				Status: corev1.NodeStatus{
					Capacity:    allocatable.DeepCopy(),
					Allocatable: allocatable.DeepCopy(),
				},
			})
		}
	}
	return nodes
}

// nodePodCIDR gives the i-th node its own /24 of pod addresses of 10.244.0.0/16 (then 10.245.0.0/16 and on). kwok
// hands out pod IPs from a node's pod CIDR when it has one; otherwise from a single cluster-wide
// /24 that also overlaps the API server's service range, which would cap the cluster at 254
// pods and make pod and service addresses collide.
func nodePodCIDR(i int) string {
	return fmt.Sprintf("10.%d.%d.0/24", 244+i/256, i%256)
}

// nodeSchedulable reports whether a node is Ready and free of the taints the node life-cycle
// controller puts on nodes that are not (yet) ready, that is, whether pods can land on it now.
// It returns a reason when not.
func nodeSchedulable(node *corev1.Node) (bool, string) {
	ready := false
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	if !ready {
		return false, "not Ready"
	}
	for _, t := range node.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false, "tainted " + t.Key
		}
	}
	if node.Spec.Unschedulable {
		return false, "cordoned"
	}
	return true, ""
}
