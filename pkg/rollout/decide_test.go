package rollout

import (
	"fmt"
	"strings"
	"testing"
)

func TestDecideFollowsTheRuleRowByRow(t *testing.T) {
	mismatch := []string{"image pingcap/pd:v8.1.0, spec asks for pingcap/pd:v8.5.1"}
	cases := []struct {
		name  string
		facts Facts
		want  Decision
	}{
		{
			name:  "a missing workload is created",
			facts: Facts{},
			want:  Decision{Action: Apply, Reason: ReasonCreate},
		},
		{
			name:  "a missing workload is created whatever else the facts say",
			facts: Facts{InSync: true, Recorded: true, SpecChanged: true, Requested: true, ConfigMissing: true, Mismatches: mismatch},
			want:  Decision{Action: Apply, Reason: ReasonCreate},
		},
		{
			name:  "a template equal to the rendering is written as in sync",
			facts: Facts{Exists: true, InSync: true},
			want:  Decision{Action: Apply, Reason: ReasonInSync},
		},
		{
			name:  "being in sync takes precedence over a changed spec",
			facts: Facts{Exists: true, InSync: true, Recorded: true, SpecChanged: true},
			want:  Decision{Action: Apply, Reason: ReasonInSync},
		},
		{
			name:  "being in sync takes precedence over a request and a missing ConfigMap",
			facts: Facts{Exists: true, InSync: true, Requested: true, ConfigMissing: true, Mismatches: mismatch},
			want:  Decision{Action: Apply, Reason: ReasonInSync},
		},
		{
			name:  "a recorded template whose spec changed is replaced",
			facts: Facts{Exists: true, Recorded: true, SpecChanged: true},
			want:  Decision{Action: Apply, Reason: ReasonSpecChanged},
		},
		{
			name:  "a changed spec takes precedence over a request and a missing ConfigMap",
			facts: Facts{Exists: true, Recorded: true, SpecChanged: true, Requested: true, ConfigMissing: true},
			want:  Decision{Action: Apply, Reason: ReasonSpecChanged},
		},
		{
			name:  "a changed spec without a record is not a reason, the mismatches decide",
			facts: Facts{Exists: true, SpecChanged: true},
			want:  Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true},
		},
		{
			name:  "a request applies a recorded rendering change that would be kept",
			facts: Facts{Exists: true, Recorded: true, Requested: true},
			want:  Decision{Action: Apply, Reason: ReasonRequested},
		},
		{
			name:  "a request applies to a template without a record that would be adopted",
			facts: Facts{Exists: true, Requested: true},
			want:  Decision{Action: Apply, Reason: ReasonRequested},
		},
		{
			name:  "a request takes precedence over a missing ConfigMap and mismatches",
			facts: Facts{Exists: true, Requested: true, ConfigMissing: true, Mismatches: mismatch},
			want:  Decision{Action: Apply, Reason: ReasonRequested},
		},
		{
			name:  "a missing ConfigMap applies a recorded rendering change that would be kept",
			facts: Facts{Exists: true, Recorded: true, ConfigMissing: true},
			want:  Decision{Action: Apply, Reason: ReasonConfigMissing},
		},
		{
			name:  "a missing ConfigMap applies to a template without a record that would be adopted",
			facts: Facts{Exists: true, ConfigMissing: true},
			want:  Decision{Action: Apply, Reason: ReasonConfigMissing},
		},
		{
			name:  "a missing ConfigMap takes precedence over mismatches",
			facts: Facts{Exists: true, ConfigMissing: true, Mismatches: mismatch},
			want:  Decision{Action: Apply, Reason: ReasonConfigMissing},
		},
		{
			name:  "a recorded template whose spec did not change is kept with the rendering change pending",
			facts: Facts{Exists: true, Recorded: true},
			want:  Decision{Action: Keep, Reason: ReasonRenderingChange, Pending: true},
		},
		{
			name:  "a recorded template ignores mismatches, which are only looked at without a record",
			facts: Facts{Exists: true, Recorded: true, Mismatches: mismatch},
			want:  Decision{Action: Keep, Reason: ReasonRenderingChange, Pending: true},
		},
		{
			name:  "a template without a record that implements the spec is adopted and kept",
			facts: Facts{Exists: true},
			want:  Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true},
		},
		{
			name:  "an empty but non-nil list of mismatches means the spec is implemented",
			facts: Facts{Exists: true, Mismatches: []string{}},
			want:  Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true},
		},
		{
			name:  "a template without a record that does not implement the spec is replaced",
			facts: Facts{Exists: true, Mismatches: mismatch},
			want:  Decision{Action: Apply, Reason: ReasonSpecNotMet},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(c.facts); got != c.want {
				t.Errorf("Decide(%+v) = %+v, want %+v", c.facts, got, c.want)
			}
		})
	}
}

// Over every combination of facts, a decision is consistent: only a kept template is pending,
// only an adopted one is adopted, and a missing workload is always created.
func TestEveryCombinationOfFactsGivesAConsistentDecision(t *testing.T) {
	for bits := 0; bits < 1<<7; bits++ {
		f := Facts{
			Exists:        bits&1 != 0,
			InSync:        bits&2 != 0,
			Recorded:      bits&4 != 0,
			SpecChanged:   bits&8 != 0,
			Requested:     bits&16 != 0,
			ConfigMissing: bits&32 != 0,
		}
		if bits&64 != 0 {
			f.Mismatches = []string{"affinity"}
		}
		d := Decide(f)
		if d.Action != Apply && d.Action != Keep {
			t.Errorf("Decide(%+v): unknown action %q", f, d.Action)
		}
		if d.Pending != (d.Action == Keep) {
			t.Errorf("Decide(%+v) = %+v: Pending must be exactly the Keep decisions", f, d)
		}
		if d.Adopt != (d.Reason == ReasonAdopted) {
			t.Errorf("Decide(%+v) = %+v: Adopt must be exactly the Adopted decisions", f, d)
		}
		if !f.Exists && d.Reason != ReasonCreate {
			t.Errorf("Decide(%+v) = %+v: a missing workload must be created", f, d)
		}
		if d.Action == Keep && (f.InSync || f.Requested || f.ConfigMissing || (f.Recorded && f.SpecChanged)) {
			t.Errorf("Decide(%+v) = %+v: a workload in sync, requested, without ConfigMap or with a changed spec must not be kept", f, d)
		}
	}
}

func TestARequestIsHonouredOncePerToken(t *testing.T) {
	cases := []struct {
		name            string
		token, honoured string
		want            bool
	}{
		{name: "no token on the cluster never requests", token: "", honoured: "", want: false},
		{name: "no token on the cluster never requests even after an earlier one was honoured", token: "", honoured: "2026-12-04T10:00:00Z", want: false},
		{name: "a token already honoured does not request again", token: "2026-12-04T10:00:00Z", honoured: "2026-12-04T10:00:00Z", want: false},
		{name: "a token on a workload that honoured none requests", token: "2026-12-04T10:00:00Z", honoured: "", want: true},
		{name: "a new token requests although an older one was honoured", token: "2026-12-05T08:30:00Z", honoured: "2026-12-04T10:00:00Z", want: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Requested(c.token, c.honoured); got != c.want {
				t.Errorf("Requested(%q, %q) = %v, want %v", c.token, c.honoured, got, c.want)
			}
		})
	}
}

func TestOnlyDecisionsThatChangeOrAdoptATemplateAreExplained(t *testing.T) {
	const object = "StatefulSet default/basic-pd"
	mismatches := []string{"image pingcap/pd:v8.1.0, spec asks for pingcap/pd:v8.5.1", "affinity"}
	differences := []string{"configmap startup-script", "spec.volumes[config].configMap.name"}
	cases := []struct {
		name        string
		decision    Decision
		differences []string
		want        string
	}{
		{
			name:     "a template that does not implement the spec names the mismatches",
			decision: Decision{Action: Apply, Reason: ReasonSpecNotMet},
			want:     "StatefulSet default/basic-pd was not rendered by this operator and does not implement the spec (image pingcap/pd:v8.1.0, spec asks for pingcap/pd:v8.5.1, affinity): rolling it as an upgrade",
		},
		{
			name:        "an adopted template names the rendering differences and the annotation that applies them",
			decision:    Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true},
			differences: differences,
			want:        "adopted StatefulSet default/basic-pd as it is: its pods already implement the spec; this operator's rendering differs (configmap startup-script, spec.volumes[config].configMap.name) and waits for the next spec change or the annotation tidb.pingcap.com/apply-pending-rollout",
		},
		{
			name:     "an adopted template without rendering differences says only that it was adopted",
			decision: Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true},
			want:     "adopted StatefulSet default/basic-pd as it is: its pods already implement the spec",
		},
		{
			name:     "a missing ConfigMap is explained",
			decision: Decision{Action: Apply, Reason: ReasonConfigMissing},
			want:     "StatefulSet default/basic-pd mounts a ConfigMap that does not exist: writing this operator's rendering",
		},
		{
			name:     "a request is explained with the annotation",
			decision: Decision{Action: Apply, Reason: ReasonRequested},
			want:     "applying the pending rollout of StatefulSet default/basic-pd, as tidb.pingcap.com/apply-pending-rollout asks",
		},
		{name: "a creation is not explained", decision: Decision{Action: Apply, Reason: ReasonCreate}, differences: differences},
		{name: "a template in sync is not explained", decision: Decision{Action: Apply, Reason: ReasonInSync}, differences: differences},
		{name: "a changed spec is not explained", decision: Decision{Action: Apply, Reason: ReasonSpecChanged}, differences: differences},
		{name: "a kept rendering change is not explained", decision: Decision{Action: Keep, Reason: ReasonRenderingChange, Pending: true}, differences: differences},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Explain(c.decision, object, mismatches, c.differences); got != c.want {
				t.Errorf("Explain(%+v) =\n  %q\nwant\n  %q", c.decision, got, c.want)
			}
		})
	}
}

func TestExplainedListsAreCutToEightEntries(t *testing.T) {
	items := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("m%d", i)
		}
		return out
	}
	cases := []struct {
		name     string
		decision Decision
		n        int
		want     string
	}{
		{
			name:     "one mismatch is listed alone",
			decision: Decision{Action: Apply, Reason: ReasonSpecNotMet},
			n:        1,
			want:     "(m0)",
		},
		{
			name:     "eight mismatches are all listed",
			decision: Decision{Action: Apply, Reason: ReasonSpecNotMet},
			n:        8,
			want:     "(m0, m1, m2, m3, m4, m5, m6, m7)",
		},
		{
			name:     "nine mismatches list eight and one more",
			decision: Decision{Action: Apply, Reason: ReasonSpecNotMet},
			n:        9,
			want:     "(m0, m1, m2, m3, m4, m5, m6, m7 and 1 more)",
		},
		{
			name:     "twelve mismatches list eight and four more",
			decision: Decision{Action: Apply, Reason: ReasonSpecNotMet},
			n:        12,
			want:     "(m0, m1, m2, m3, m4, m5, m6, m7 and 4 more)",
		},
		{
			name:     "the differences of an adopted template are cut the same way",
			decision: Decision{Action: Keep, Reason: ReasonAdopted, Adopt: true, Pending: true},
			n:        10,
			want:     "(m0, m1, m2, m3, m4, m5, m6, m7 and 2 more)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Explain(c.decision, "StatefulSet default/basic-pd", items(c.n), items(c.n))
			if !strings.Contains(got, c.want) {
				t.Errorf("Explain with %d entries = %q, want it to contain %q", c.n, got, c.want)
			}
			if c.n > 8 && strings.Contains(got, fmt.Sprintf("m%d", 8)) {
				t.Errorf("Explain with %d entries = %q lists more than eight", c.n, got)
			}
		})
	}
}
