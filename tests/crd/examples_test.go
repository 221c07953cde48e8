package crd

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const pingcapGroup = "pingcap.com"

// examples decodes the whole examples/ tree and fails if it is empty, so that a wrong path can
// never make the example tests pass vacuously.
func examples(t *testing.T) []Document {
	t.Helper()
	docs, err := WalkManifests(filepath.Join(repoRoot(t), "examples"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no manifests under examples/")
	}
	return docs
}

// exampleName is the example folder a document belongs to.
func exampleName(d Document) string {
	name, _, _ := strings.Cut(d.File, "/")
	return name
}

// comparable strips what the API server is designed not to echo back, so that the subset check
// only catches real pruning: Secrets' stringData is write-only (merged into data).
func comparable(obj *unstructured.Unstructured) map[string]any {
	out := obj.DeepCopy().Object
	if obj.GetAPIVersion() == "v1" && obj.GetKind() == "Secret" {
		delete(out, "stringData")
	}
	return out
}

// TestExamplesAreAcceptedAndStoredUnchanged creates every manifest under examples/ (each
// example folder in its own namespace), reads it back and fails listing the fields that the API
// server rejected, pruned or changed.
func TestExamplesAreAcceptedAndStoredUnchanged(t *testing.T) {
	c := newClient(t, apiServer(t))
	byExample := map[string][]Document{}
	for _, d := range examples(t) {
		byExample[exampleName(d)] = append(byExample[exampleName(d)], d)
	}
	for _, name := range sortedKeys(byExample) {
		t.Run(name, func(t *testing.T) {
			ns := createNamespace(t, c, "example-"+name)
			for _, d := range byExample[name] {
				applyAndCompare(t, c, ns, d)
			}
		})
	}
}

func applyAndCompare(t *testing.T, c client.Client, ns string, d Document) {
	t.Helper()
	ctx := testContext(t)
	input := d.Object.DeepCopy()
	if input.GetNamespace() == "" {
		input.SetNamespace(ns)
	}
	obj := input.DeepCopy()
	// Warn (the server default, made explicit) drops unknown fields instead of failing, so that
	// they show up below as missing paths with their full names.
	if err := c.Create(ctx, obj, client.FieldValidation("Warn")); err != nil {
		t.Errorf("%s: rejected by the API server: %v", d.Describe(), err)
		return
	}
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(input.GroupVersionKind())
	if err := c.Get(ctx, types.NamespacedName{Namespace: input.GetNamespace(), Name: input.GetName()}, stored); err != nil {
		t.Errorf("%s: reading it back: %v", d.Describe(), err)
		return
	}
	if missing := MissingPaths(comparable(input), stored.Object); len(missing) > 0 {
		t.Errorf("%s: the stored object differs from the manifest in %d place(s):\n  %s",
			d.Describe(), len(missing), strings.Join(missing, "\n  "))
	}
}

// TestComparatorReportsPrunedFields proves the subset check above can fail: unknown fields
// added to a copy of the basic example are pruned by the API server, and the comparator must
// name exactly those fields.
func TestComparatorReportsPrunedFields(t *testing.T) {
	c := newClient(t, apiServer(t))
	ns := createNamespace(t, c, "comparator-check")
	var basic *unstructured.Unstructured
	for _, d := range examples(t) {
		if d.File == "basic/tidb-cluster.yaml" {
			basic = d.Object
		}
	}
	if basic == nil {
		t.Fatal("examples/basic/tidb-cluster.yaml has no object")
	}
	input := basic.DeepCopy()
	input.SetNamespace(ns)
	input.SetName("pruned")
	must(t, unstructured.SetNestedField(input.Object, "surely-not-a-field", "spec", "notAField"))
	must(t, unstructured.SetNestedField(input.Object, int64(7), "spec", "pd", "alsoNotAField"))

	obj := input.DeepCopy()
	if err := c.Create(testContext(t), obj, client.FieldValidation("Ignore")); err != nil {
		t.Fatalf("creating the mutated copy: %v", err)
	}
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(input.GroupVersionKind())
	if err := c.Get(testContext(t), client.ObjectKeyFromObject(input), stored); err != nil {
		t.Fatal(err)
	}
	got := MissingPaths(input.Object, stored.Object)
	want := []string{
		".spec.notAField: missing (pruned or dropped)",
		".spec.pd.alsoNotAField: missing (pruned or dropped)",
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("comparator reported\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestExamplesAreValidForUpstreamV16 checks every pingcap.com example against PingCAP's v1.6.3
// schema (pure YAML, no API server), so the catalogue stays usable with either operator.
func TestExamplesAreValidForUpstreamV16(t *testing.T) {
	upstream := upstreamCRDs(t)
	for _, d := range examples(t) {
		if d.Object.GroupVersionKind().Group != pingcapGroup {
			continue
		}
		crd, ok := upstream[d.Object.GetKind()]
		if !ok {
			t.Errorf("%s: v1.6 has no CRD for kind %s", d.Describe(), d.Object.GetKind())
			continue
		}
		schema := RootSchema(Version(crd, d.Object.GroupVersionKind().Version))
		if schema == nil {
			t.Errorf("%s: v1.6 does not serve %s", d.Describe(), d.Object.GetAPIVersion())
			continue
		}
		if v := Violations(schema, d.Object.Object); len(v) > 0 {
			t.Errorf("%s: not valid for v1.6.3:\n  %s", d.Describe(), strings.Join(v, "\n  "))
		}
	}
}

// TestExamplesCoverEveryKind makes sure the catalogue shows every kind v1.6 defines.
func TestExamplesCoverEveryKind(t *testing.T) {
	upstream := upstreamCRDs(t)
	seen := map[string]bool{}
	for _, d := range examples(t) {
		seen[d.Object.GetKind()] = true
	}
	for _, kind := range sortedKeys(upstream) {
		if !seen[kind] {
			t.Errorf("no example shows a %s", kind)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
