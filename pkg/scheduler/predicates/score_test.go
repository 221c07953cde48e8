package predicates

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSpreadScores(t *testing.T) {
	cases := map[string]struct {
		candidates []corev1.Node    // nodes to score
		peers      []corev1.Pod     // placed pods of the component
		key        string           // topology key; "" means the zone
		want       map[string]int64 // scores
	}{
		"an empty cluster scores every node the same": {
			candidates: grid(2, 1),
			want:       map[string]int64{"a-0": 10, "b-0": 10},
		},
		"nodes of emptier zones score higher": {
			candidates: grid(3, 1),
			peers:      []corev1.Pod{pod("p-0", "a-0"), pod("p-1", "a-0"), pod("p-2", "b-0")},
			want:       map[string]int64{"a-0": 0, "b-0": 3 + 1, "c-0": 10},
		},
		"within a zone the emptier host wins": {
			candidates: grid(2, 2),
			peers:      []corev1.Pod{pod("p-0", "a-0"), pod("p-1", "b-0")},
			want:       map[string]int64{"a-0": 7, "a-1": 10, "b-0": 7, "b-1": 10},
		},
		"with the hostname key hosts are the topologies": {
			candidates: grid(1, 3), key: corev1.LabelHostname,
			peers: []corev1.Pod{pod("p-0", "a-0")},
			want:  map[string]int64{"a-0": 0, "a-1": 10, "a-2": 10},
		},
		"a node without the topology label scores zero": {
			candidates: []corev1.Node{node("a-0", "a"), node("bare", "")},
			want:       map[string]int64{"a-0": 10, "bare": 0},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			key := tc.key
			if key == "" {
				key = zoneKey
			}
			got := SpreadScores(&HAInput{Component: "tikv", Pod: "new", Replicas: 6, TopologyKey: key, Candidates: tc.candidates, Peers: tc.peers})
			if !maps.Equal(got, tc.want) {
				t.Fatalf("scores = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStableScores(t *testing.T) {
	got := StableScores("a-1", grid(1, 3))
	if want := map[string]int64{"a-0": 0, "a-1": 10, "a-2": 0}; !maps.Equal(got, want) {
		t.Fatalf("scores = %v, want %v", got, want)
	}
	if got := StableScores("", grid(1, 2)); !maps.Equal(got, map[string]int64{"a-0": 0, "a-1": 0}) {
		t.Fatalf("scores without a previous node = %v", got)
	}
}
