package v1alpha1

import "testing"

func TestSuspendStatefulSet(t *testing.T) {
	on, off := &SuspendAction{SuspendStatefulSet: true}, &SuspendAction{}
	cases := []struct {
		name          string
		cluster, tikv *SuspendAction
		comp          string
		want          bool
	}{
		{"nothing asked", nil, nil, "tikv", false},
		{"cluster-wide", on, nil, "tikv", true},
		{"cluster-wide reaches PD too", on, nil, "pd", true},
		{"component overrides the cluster", on, off, "tikv", false},
		{"component alone", nil, on, "tikv", true},
		{"component alone leaves the others", nil, on, "tidb", false},
		{"absent component", on, nil, "tiflash", false},
	}
	for _, c := range cases {
		tc := &TidbCluster{Spec: TidbClusterSpec{SuspendAction: c.cluster, PD: &PDSpec{}, TiKV: &TiKVSpec{}, TiDB: &TiDBSpec{}}}
		tc.Spec.TiKV.SuspendAction = c.tikv
		if got := tc.SuspendStatefulSet(c.comp); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}
