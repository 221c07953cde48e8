package cluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestZoneName(t *testing.T) {
	cases := map[string]struct {
		index int
		want  string
	}{
		"the first zone is a":              {0, "zone-a"},
		"the third zone is c":              {2, "zone-c"},
		"the last single letter is z":      {25, "zone-z"},
		"past z names get a second letter": {26, "zone-aa"},
		"and keep counting like columns":   {27, "zone-ab"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := zoneName(tc.index); got != tc.want {
				t.Errorf("zoneName(%d) = %q, want %q", tc.index, got, tc.want)
			}
		})
	}
}

func TestFakeNodes(t *testing.T) {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8")}
	nodes := fakeNodes(3, 2, alloc)
	if len(nodes) != 6 {
		t.Fatalf("got %d nodes, want 6", len(nodes))
	}
	perZone := map[string]int{}
	names := map[string]bool{}
	cidrs := map[string]bool{}
	for _, n := range nodes {
		if names[n.Name] {
			t.Errorf("duplicate node name %s", n.Name)
		}
		names[n.Name] = true
		perZone[n.Labels[LabelZone]]++
		if n.Labels[LabelHostname] != n.Name {
			t.Errorf("%s: hostname label %q", n.Name, n.Labels[LabelHostname])
		}
		if n.Labels[LabelOS] != "linux" || n.Labels[LabelArch] != "amd64" {
			t.Errorf("%s: os/arch labels %v", n.Name, n.Labels)
		}
		if n.Annotations[FakeNodeAnnotation] != FakeNodeAnnotationValue {
			t.Errorf("%s: not marked for kwok: %v", n.Name, n.Annotations)
		}
		if n.Spec.PodCIDR == "" || cidrs[n.Spec.PodCIDR] || len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
			t.Errorf("%s: pod CIDR %q / %v missing, shared or inconsistent", n.Name, n.Spec.PodCIDR, n.Spec.PodCIDRs)
		}
		cidrs[n.Spec.PodCIDR] = true
		if got := n.Status.Allocatable[corev1.ResourceCPU]; got.Cmp(resource.MustParse("8")) != 0 {
			t.Errorf("%s: allocatable cpu %s", n.Name, got.String())
		}
	}
	for _, zone := range []string{"zone-a", "zone-b", "zone-c"} {
		if perZone[zone] != 2 {
			t.Errorf("zone %s has %d nodes, want 2 (all: %v)", zone, perZone[zone], perZone)
		}
	}
	// Nodes must not share resource lists: a test changing one node must not change others.
	nodes[0].Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("1")
	if got := nodes[1].Status.Allocatable[corev1.ResourceCPU]; got.Cmp(resource.MustParse("8")) != 0 {
		t.Error("nodes share their allocatable list")
	}
}

func TestNodePodCIDR(t *testing.T) {
	cases := map[string]struct {
		index int
		want  string
	}{
		"the first node starts the range":       {0, "10.244.0.0/24"},
		"later nodes take the next /24":         {7, "10.244.7.0/24"},
		"past 256 nodes the second octet moves": {256, "10.245.0.0/24"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := nodePodCIDR(tc.index); got != tc.want {
				t.Errorf("nodePodCIDR(%d) = %q, want %q", tc.index, got, tc.want)
			}
		})
	}
}

func TestNodeSchedulable(t *testing.T) {
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue}
	notReady := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse}
	cases := map[string]struct {
		node corev1.Node
		want bool
	}{
		"a ready node without taints takes pods": {
			node: corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}}},
			want: true,
		},
		"a node without a Ready condition does not": {
			node: corev1.Node{},
		},
		"a node reporting not ready does not": {
			node: corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{notReady}}},
		},
		"a ready node still carrying the not-ready taint does not": {
			node: corev1.Node{
				Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}},
			},
		},
		"a ready node marked unreachable does not": {
			node: corev1.Node{
				Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}},
			},
		},
		"a cordoned node does not": {
			node: corev1.Node{
				Spec:   corev1.NodeSpec{Unschedulable: true},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}},
			},
		},
		"an unrelated taint is the pods' business, not the harness's": {
			node: corev1.Node{
				Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Value: "tikv", Effect: corev1.TaintEffectNoSchedule}}},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{ready}},
			},
			want: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, why := nodeSchedulable(&tc.node)
			if got != tc.want {
				t.Errorf("schedulable = %v (%s), want %v", got, why, tc.want)
			}
			if !got && why == "" {
				t.Error("no reason given")
			}
		})
	}
}
