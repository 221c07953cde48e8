package label

import "testing"

func TestLabelBuilders(t *testing.T) {
	cases := map[string]struct {
		got  Label
		want map[string]string
	}{
		"a PD pod of cluster basic carries name, managed-by, instance and component": {
			got:  New().Instance("basic").PD(),
			want: map[string]string{NameLabelKey: "tidb-cluster", ManagedByLabelKey: "tidb-operator", InstanceLabelKey: "basic", ComponentLabelKey: "pd"},
		},
		"a peer service is marked used-by peer": {
			got:  New().Instance("x").TiKV().UsedBy(UsedByPeer),
			want: map[string]string{NameLabelKey: "tidb-cluster", ManagedByLabelKey: "tidb-operator", InstanceLabelKey: "x", ComponentLabelKey: "tikv", UsedByLabelKey: "peer"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if len(c.got) != len(c.want) {
				t.Fatalf("got %v, want %v", c.got, c.want)
			}
			for k, v := range c.want {
				if c.got[k] != v {
					t.Fatalf("label %s = %q, want %q", k, c.got[k], v)
				}
			}
			if !c.got.Selector().Matches(labelsOf(c.want)) {
				t.Fatalf("selector %s does not match its own labels", c.got.Selector())
			}
		})
	}
}

func TestCopyIsIndependent(t *testing.T) {
	a := New().Instance("a")
	b := a.Copy().TiDB()
	if _, ok := a[ComponentLabelKey]; ok {
		t.Fatalf("mutating the copy changed the original: %v", a)
	}
	if b[ComponentLabelKey] != TiDBComponent {
		t.Fatalf("copy lost the component: %v", b)
	}
}

type labelsOf map[string]string

func (l labelsOf) Has(k string) bool              { _, ok := l[k]; return ok }
func (l labelsOf) Get(k string) string            { return l[k] }
func (l labelsOf) Lookup(k string) (string, bool) { v, ok := l[k]; return v, ok }
