package predicates

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

func TestMaxPerTopology(t *testing.T) {
	cases := map[string]struct {
		component  string // pd or tikv
		replicas   int32  // StatefulSet replicas
		topologies int    // known topologies
		want       int    // limit, 0 for none
	}{
		"one PD may sit anywhere but alone":          {"pd", 1, 3, 1},
		"two PDs need two topologies":                {"pd", 2, 3, 1},
		"three PDs need three topologies":            {"pd", 3, 3, 1},
		"four PDs still allow one per topology":      {"pd", 4, 3, 1},
		"five PDs allow two per topology":            {"pd", 5, 3, 2},
		"six PDs allow two per topology":             {"pd", 6, 3, 2},
		"seven PDs allow three per topology":         {"pd", 7, 3, 3},
		"zero PD replicas still allow one":           {"pd", 0, 3, 1},
		"TiKV below three replicas has no limit":     {"tikv", 2, 1, 0},
		"TiKV over two topologies allows one each":   {"tikv", 3, 2, 1},
		"TiKV over one topology allows one":          {"tikv", 9, 1, 1},
		"three TiKVs over three topologies":          {"tikv", 3, 3, 1},
		"four TiKVs over three topologies":           {"tikv", 4, 3, 2},
		"six TiKVs over four topologies":             {"tikv", 6, 4, 2},
		"seven TiKVs allow ceil(7/3)=3 per topology": {"tikv", 7, 5, 3},
		"other components have no limit":             {"tidb", 3, 3, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := MaxPerTopology(tc.component, tc.replicas, tc.topologies); got != tc.want {
				t.Fatalf("MaxPerTopology(%s, %d, %d) = %d, want %d", tc.component, tc.replicas, tc.topologies, got, tc.want)
			}
		})
	}
}

func TestHA(t *testing.T) {
	cases := map[string]struct {
		component  string                       // pd or tikv
		replicas   int32                        // StatefulSet replicas
		key        string                       // topology key; "" means the zone
		candidates []corev1.Node                // feasible nodes
		peers      []corev1.Pod                 // the component's pods
		peerNodes  map[string]map[string]string // labels of non-candidate nodes
		failed     []string                     // failure-member pods
		desired    []int32                      // desired ordinals; nil counts all
		wantNodes  []string                     // nodes kept
		wantMax    int                          // the limit applied
		wantErr    string                       // substring of the error, "" for none
		self       string                       // the pod being placed; "" means basic-<component>-new
	}{
		"the first of three PDs may go to any zone": {
			component: "pd", replicas: 3, candidates: grid(3, 2),
			wantNodes: []string{"a-0", "a-1", "b-0", "b-1", "c-0", "c-1"}, wantMax: 1,
		},
		"the second of three PDs avoids the first one's zone": {
			component: "pd", replicas: 3, candidates: grid(3, 2), peers: []corev1.Pod{pod("basic-pd-0", "a-1")},
			wantNodes: []string{"b-0", "b-1", "c-0", "c-1"}, wantMax: 1,
		},
		"three PDs in three zones leave no room for a fourth pod": {
			component: "pd", replicas: 3, candidates: grid(3, 2),
			peers:   []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0"), pod("basic-pd-2", "c-0")},
			wantMax: 1, wantErr: "unable to schedule to topology: a (1 pd pods), b (1 pd pods), c (1 pd pods), max pods per topology: 1",
		},
		"the fifth of five PDs goes to the zone with one": {
			component: "pd", replicas: 5, candidates: grid(3, 2),
			peers: []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0"), pod("basic-pd-2", "c-0"),
				pod("basic-pd-3", "a-1"), pod("basic-pd-4", "b-1")},
			wantNodes: []string{"c-0", "c-1"}, wantMax: 2,
		},
		"the fourth of five PDs fills an emptiest zone, never a third": {
			component: "pd", replicas: 5, candidates: grid(3, 2),
			peers:     []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0"), pod("basic-pd-2", "c-0"), pod("basic-pd-4", "")},
			wantNodes: []string{"a-0", "a-1", "b-0", "b-1", "c-0", "c-1"}, wantMax: 2,
		},
		"seven PDs over three zones allow three in one": {
			component: "pd", replicas: 7, candidates: grid(3, 3),
			peers: []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0"), pod("basic-pd-2", "c-0"),
				pod("basic-pd-3", "a-1"), pod("basic-pd-4", "b-1"), pod("basic-pd-5", "c-1")},
			wantNodes: []string{"a-0", "a-1", "a-2", "b-0", "b-1", "b-2", "c-0", "c-1", "c-2"}, wantMax: 3,
		},
		"one PD with the hostname key avoids nothing": {
			component: "pd", replicas: 1, key: corev1.LabelHostname, candidates: grid(1, 2),
			wantNodes: []string{"a-0", "a-1"}, wantMax: 1,
		},
		"two PDs with the hostname key need two hosts": {
			component: "pd", replicas: 2, key: corev1.LabelHostname, candidates: grid(1, 2), peers: []corev1.Pod{pod("basic-pd-0", "a-0")},
			wantNodes: []string{"a-1"}, wantMax: 1,
		},
		"four PDs over three zones cannot place the fourth": {
			component: "pd", replicas: 4, candidates: grid(3, 2),
			peers:   []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0"), pod("basic-pd-2", "c-0")},
			wantMax: 1, wantErr: "max pods per topology: 1",
		},
		"six PDs place the sixth in the zone with one": {
			component: "pd", replicas: 6, candidates: grid(3, 2),
			peers: []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0"), pod("basic-pd-2", "c-0"),
				pod("basic-pd-3", "a-1"), pod("basic-pd-4", "b-1")},
			wantNodes: []string{"c-0", "c-1"}, wantMax: 2,
		},
		"a failure member does not hold its zone": {
			component: "pd", replicas: 3, candidates: grid(3, 1), failed: []string{"basic-pd-0"},
			peers:     []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "b-0")},
			wantNodes: []string{"a-0", "c-0"}, wantMax: 1,
		},
		"a pod whose ordinal is being removed does not hold its zone": {
			component: "pd", replicas: 3, candidates: grid(3, 1), desired: []int32{0, 1, 2},
			peers:     []corev1.Pod{pod("basic-pd-3", "a-0"), pod("basic-pd-1", "b-0")},
			wantNodes: []string{"a-0", "c-0"}, wantMax: 1,
		},
		"an old incarnation of the pod itself is not counted": {
			component: "pd", replicas: 3, candidates: grid(3, 1),
			peers:     []corev1.Pod{pod("basic-pd-2", "a-0"), pod("basic-pd-1", "b-0")},
			wantNodes: []string{"a-0", "c-0"}, wantMax: 1, self: "basic-pd-2",
		},
		"a peer on a node that is no longer a candidate still holds its zone": {
			component: "pd", replicas: 3, candidates: []corev1.Node{node("a-0", "a"), node("b-0", "b")},
			peers:     []corev1.Pod{pod("basic-pd-0", "a-9")},
			peerNodes: map[string]map[string]string{"a-9": {zoneKey: "a"}},
			wantNodes: []string{"b-0"}, wantMax: 1,
		},
		"a peer on an unknown node is not counted": {
			component: "pd", replicas: 3, candidates: []corev1.Node{node("a-0", "a"), node("b-0", "b")},
			peers:     []corev1.Pod{pod("basic-pd-0", "gone")},
			wantNodes: []string{"a-0", "b-0"}, wantMax: 1,
		},
		"nodes without the topology label are left out": {
			component: "pd", replicas: 3, candidates: []corev1.Node{node("a-0", "a"), node("bare", "")},
			wantNodes: []string{"a-0"}, wantMax: 1,
		},
		"no node with the topology label is an error": {
			component: "pd", replicas: 3, candidates: []corev1.Node{node("bare-0", ""), node("bare-1", "")},
			wantMax: 1, wantErr: "none of the 2 candidate nodes has the topology.kubernetes.io/zone label",
		},
		"TiKV over two zones puts one store in each": {
			component: "tikv", replicas: 3, candidates: grid(2, 2), peers: []corev1.Pod{pod("basic-tikv-0", "a-0")},
			wantNodes: []string{"b-0", "b-1"}, wantMax: 1,
		},
		"a third TiKV over two zones waits for a third zone": {
			component: "tikv", replicas: 3, candidates: grid(2, 2),
			peers:   []corev1.Pod{pod("basic-tikv-0", "a-0"), pod("basic-tikv-1", "b-0")},
			wantMax: 1, wantErr: "unable to schedule to topology: a (1 tikv pods), b (1 tikv pods), max pods per topology: 1",
		},
		"TiKV over three zones fills the emptiest": {
			component: "tikv", replicas: 6, candidates: grid(3, 2),
			peers:     []corev1.Pod{pod("basic-tikv-0", "a-0"), pod("basic-tikv-1", "b-0"), pod("basic-tikv-2", "c-0"), pod("basic-tikv-3", "a-1")},
			wantNodes: []string{"b-0", "b-1", "c-0", "c-1"}, wantMax: 2,
		},
		"TiKV never exceeds ceil(N/3) in a zone": {
			component: "tikv", replicas: 5, candidates: []corev1.Node{node("a-0", "a"), node("a-1", "a")},
			peers: []corev1.Pod{pod("basic-tikv-0", "a-0"), pod("basic-tikv-1", "b-0"), pod("basic-tikv-2", "c-0"),
				pod("basic-tikv-3", "a-1"), pod("basic-tikv-4", "b-1")},
			peerNodes: map[string]map[string]string{"b-0": {zoneKey: "b"}, "b-1": {zoneKey: "b"}, "c-0": {zoneKey: "c"}},
			wantMax:   2, wantErr: "a (2 tikv pods), max pods per topology: 2",
		},
		"zones known only from placed stores count towards three": {
			component: "tikv", replicas: 4, candidates: []corev1.Node{node("a-0", "a"), node("a-1", "a"), node("b-0", "b")},
			peers:     []corev1.Pod{pod("basic-tikv-0", "a-0"), pod("basic-tikv-1", "b-0"), pod("basic-tikv-2", "c-0")},
			peerNodes: map[string]map[string]string{"c-0": {zoneKey: "c"}},
			wantNodes: []string{"a-0", "a-1", "b-0"}, wantMax: 2,
		},
		"TiKV below three replicas may go anywhere": {
			component: "tikv", replicas: 2, candidates: grid(2, 1), peers: []corev1.Pod{pod("basic-tikv-0", "a-0")},
			wantNodes: []string{"a-0", "b-0"}, wantMax: 0,
		},
		"a failure store does not hold its zone": {
			component: "tikv", replicas: 4, candidates: grid(3, 1), failed: []string{"basic-tikv-0"},
			peers:     []corev1.Pod{pod("basic-tikv-0", "a-0"), pod("basic-tikv-1", "b-0"), pod("basic-tikv-2", "c-0")},
			wantNodes: []string{"a-0"}, wantMax: 2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			key := tc.key
			if key == "" {
				key = zoneKey
			}
			in := &HAInput{
				Component: tc.component, Pod: tc.self, Replicas: tc.replicas, TopologyKey: key,
				Candidates: tc.candidates, Peers: tc.peers, PeerNodeLabels: tc.peerNodes, Failed: sets.New(tc.failed...),
			}
			if in.Pod == "" {
				in.Pod = "basic-" + tc.component + "-new"
			}
			if tc.desired != nil {
				in.Desired = sets.New(tc.desired...)
			}
			d := HA(in)
			if d.Max != tc.wantMax {
				t.Errorf("max = %d, want %d", d.Max, tc.wantMax)
			}
			if tc.wantErr != "" {
				if d.Err == nil || !errors.Is(d.Err, ErrNoTopology) || !strings.Contains(d.Err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want ErrNoTopology containing %q", d.Err, tc.wantErr)
				}
				if len(d.Nodes) != 0 {
					t.Fatalf("kept %v despite the error", d.Nodes)
				}
			} else if d.Err != nil {
				t.Fatalf("unexpected error %v", d.Err)
			}
			if tc.wantErr == "" && !slices.Equal(d.Nodes, tc.wantNodes) {
				t.Fatalf("kept %v, want %v\n%s", d.Nodes, tc.wantNodes, d.Message())
			}
			if len(d.Nodes)+len(d.Rejected) != len(tc.candidates) {
				t.Fatalf("%d kept + %d rejected != %d candidates", len(d.Nodes), len(d.Rejected), len(tc.candidates))
			}
			for n, why := range d.Rejected {
				if !strings.HasPrefix(why, RuleHA+": ") || slices.Contains(d.Nodes, n) {
					t.Fatalf("rejection of %s = %q", n, why)
				}
			}
		})
	}
}

func TestHAMessageNamesTheRuleAndTheCounts(t *testing.T) {
	in := &HAInput{
		Component: "pd", Pod: "basic-pd-4", Replicas: 5, TopologyKey: zoneKey,
		Candidates: append(grid(3, 1), node("bare", "")),
		Peers: []corev1.Pod{pod("basic-pd-0", "a-0"), pod("basic-pd-1", "a-0"), pod("basic-pd-2", "b-0"),
			pod("basic-pd-3", ""), pod("basic-pd-9", "c-0"), pod("basic-pd-7", "c-0")},
		Failed:  sets.New("basic-pd-7"),
		Desired: DesiredOrdinals(5, nil),
	}
	d := HA(in)
	msg := d.Message()
	for _, want := range []string{
		"pd pods per topology.kubernetes.io/zone: a=2, b=1, c=0",
		"5 replicas allow at most 2 per topology",
		"not counted: 1 failure member, 1 ordinal being removed, 1 not yet placed",
		"1 nodes lack the topology.kubernetes.io/zone label",
		"kept 1 of 4 nodes, in c",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if why := d.Rejected["a-0"]; !strings.Contains(why, "a already holds 2 pd pods; 5 replicas allow at most 2") {
		t.Errorf("a-0 rejected with %q", why)
	}
	if why := d.Rejected["b-0"]; !strings.Contains(why, "b holds 1 pd pods while others hold 0") {
		t.Errorf("b-0 rejected with %q", why)
	}
}
