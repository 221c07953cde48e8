package predicates

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestStable(t *testing.T) {
	members := map[string]v1alpha1.TiDBMember{
		"basic-tidb-0": {Name: "basic-tidb-0", NodeName: "b-1"},
		"basic-tidb-1": {Name: "basic-tidb-1", NodeName: "gone"},
		"basic-tidb-2": {Name: "basic-tidb-2"},
	}
	cases := map[string]struct {
		pod        string   // TiDB pod being placed
		wantNodes  []string // nodes kept
		wantPinned bool     // only the previous node is kept
		wantMsg    string   // substring of the explanation
	}{
		"a pod goes back to its recorded node": {"basic-tidb-0", []string{"b-1"}, true, "goes back to node b-1"},
		"a pod whose node is gone may go anywhere": {"basic-tidb-1", []string{"a-0", "a-1", "b-0", "b-1"}, false,
			"ran on node gone, which is not among the 4 candidate nodes"},
		"a member without a node may go anywhere": {"basic-tidb-2", []string{"a-0", "a-1", "b-0", "b-1"}, false, "no previous node is recorded"},
		"a new pod may go anywhere":               {"basic-tidb-3", []string{"a-0", "a-1", "b-0", "b-1"}, false, "no previous node is recorded"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := Stable(tc.pod, members, grid(2, 2))
			if !slices.Equal(d.Nodes, tc.wantNodes) || d.Pinned != tc.wantPinned || !strings.Contains(d.Message, tc.wantMsg) {
				t.Fatalf("decision = %+v", d)
			}
			if !strings.HasPrefix(d.Message, RuleStable+": ") {
				t.Fatalf("message %q does not name the rule", d.Message)
			}
		})
	}
}
