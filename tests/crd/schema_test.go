package crd

import (
	"strings"
	"testing"
)

// knownDrift lists differences that come from the Kubernetes API types both CRDs embed, not
// from our types: PingCAP generated v1.6.3's CRDs from an older k8s.io/api than the v0.37 we
// build with. Each entry is a suffix of a reported line and why it is harmless.
var knownDrift = []struct {
	suffix string
	why    string
}{
	{
		suffix: ".volumeClaimTemplate.spec.resources.claims: missing",
		why: "k8s.io/api v0.29 gave PersistentVolumeClaimSpec its own VolumeResourceRequirements " +
			"without claims; dynamic resource claims never applied to volume claims",
	},
}

// driftReason says why a reported difference is expected, or "" when it is a real one.
func driftReason(problem string) string {
	for _, d := range knownDrift {
		if strings.HasSuffix(problem, d.suffix) {
			return d.why
		}
	}
	return ""
}

// TestSchemaCompatibleWithUpstream walks each v1.6.3 openAPIV3Schema next to ours (pure YAML, no
// API server) and lists every property path upstream has that ours lacks, whose type differs,
// whose unknown fields we would prune, that we newly require, or whose enum we narrowed.
func TestSchemaCompatibleWithUpstream(t *testing.T) {
	for _, p := range crdPairs(t) {
		t.Run(p.kind, func(t *testing.T) {
			up := RootSchema(Version(p.upstream, servedVersion))
			ours := RootSchema(Version(p.ours, servedVersion))
			if ours == nil {
				t.Fatalf("no %s schema", servedVersion)
			}
			var real []string
			drift := 0
			for _, problem := range SchemaIncompatibilities(up, ours) {
				if driftReason(problem) != "" {
					drift++
					continue
				}
				real = append(real, problem)
			}
			if drift > 0 {
				t.Logf("%d expected difference(s) from newer Kubernetes API types (see knownDrift)", drift)
			}
			if len(real) > 0 {
				t.Errorf("%d incompatibilities with v1.6.3:\n  %s", len(real), strings.Join(real, "\n  "))
			}
		})
	}
}

// TestKnownDriftOnlyExcusesWhatItNames keeps the allow-list narrow: a missing property next to
// an excused one must still count.
func TestKnownDriftOnlyExcusesWhatItNames(t *testing.T) {
	cases := map[string]struct {
		problem string // a reported line
		excused bool   // whether knownDrift covers it
	}{
		"claims of a PVC template in an ephemeral volume": {
			problem: ".spec.pd.additionalVolumes[*].ephemeral.volumeClaimTemplate.spec.resources.claims: missing",
			excused: true,
		},
		"claims of a component's own resources": {
			problem: ".spec.pd.claims: missing",
		},
		"another field of the PVC template": {
			problem: ".spec.pd.additionalVolumes[*].ephemeral.volumeClaimTemplate.spec.resources.requests: missing",
		},
		"a type change at the same path": {
			problem: ".spec.pd.additionalVolumes[*].ephemeral.volumeClaimTemplate.spec.resources.claims: type array upstream, object here",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := driftReason(tc.problem) != ""; got != tc.excused {
				t.Errorf("excused = %v, want %v", got, tc.excused)
			}
		})
	}
}

// TestListMapKeysAreRequiredOrDefaulted checks (pure YAML) a structural rule the API server
// enforces when a CRD is created, so that every offending list is named at once.
func TestListMapKeysAreRequiredOrDefaulted(t *testing.T) {
	for _, p := range crdPairs(t) {
		if problems := ListMapKeyProblems(RootSchema(Version(p.ours, servedVersion))); len(problems) > 0 {
			t.Errorf("%s: the API server will refuse this CRD:\n  %s", p.kind, strings.Join(problems, "\n  "))
		}
	}
}

func TestListMapKeyProblems(t *testing.T) {
	const schema = `
type: object
properties:
  good:
    type: array
    x-kubernetes-list-type: map
    x-kubernetes-list-map-keys: [name]
    items: {type: object, required: [name], properties: {name: {type: string}}}
  defaulted:
    type: array
    x-kubernetes-list-type: map
    x-kubernetes-list-map-keys: [key]
    items: {type: object, properties: {key: {type: string, default: a}}}
  bad:
    type: object
    properties:
      conditions:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [type]
        items: {type: object, properties: {type: {type: string}}}
  atomic:
    type: array
    x-kubernetes-list-type: atomic
    items: {type: object, properties: {type: {type: string}}}
`
	got := ListMapKeyProblems(schemaOf(t, schema))
	want := []string{`.bad.conditions: list key "type" is neither required nor defaulted`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}
