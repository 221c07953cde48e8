package crd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// catalogueCase is one file of testdata/invalid or testdata/valid.
type catalogueCase struct {
	name   string                     // file name without .yaml
	expect []string                   // substrings from "# expect:" lines
	obj    *unstructured.Unstructured // the single object in the file
}

func loadCatalogue(t *testing.T, dir string) []catalogueCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases in testdata/%s", dir)
	}
	var cases []catalogueCase
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := DecodeYAML(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 {
			t.Fatalf("%s: want exactly one object, found %d", file, len(objs))
		}
		cases = append(cases, catalogueCase{
			name:   strings.TrimSuffix(filepath.Base(file), ".yaml"),
			expect: Expectations(data),
			obj:    objs[0],
		})
	}
	return cases
}

// TestInvalidManifestsAreRejected sends every testdata/invalid manifest to the API server (as a
// dry run) and requires a rejection whose message contains each "# expect:" substring, so both
// the rule and the advice it gives are pinned.
func TestInvalidManifestsAreRejected(t *testing.T) {
	c := newClient(t, apiServer(t))
	ns := createNamespace(t, c, "invalid-catalogue")
	for _, tc := range loadCatalogue(t, "invalid") {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.expect) == 0 {
				t.Fatal("the file has no '# expect: <substring of the error>' line")
			}
			obj := tc.obj.DeepCopy()
			obj.SetNamespace(ns)
			err := c.Create(testContext(t), obj, client.DryRunAll)
			if err == nil {
				t.Fatalf("accepted; want a rejection mentioning %q", tc.expect)
			}
			t.Logf("rejected as expected: %v", err)
			for _, want := range tc.expect {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("rejected with\n  %v\nwhich does not mention %q", err, want)
				}
			}
		})
	}
}

// TestEdgeManifestsAreAccepted sends every testdata/valid manifest to the API server (as a dry
// run) and requires it to be accepted with every field kept: these are the unusual but legal
// shapes a stricter schema could wrongly reject.
func TestEdgeManifestsAreAccepted(t *testing.T) {
	c := newClient(t, apiServer(t))
	ns := createNamespace(t, c, "valid-catalogue")
	for _, tc := range loadCatalogue(t, "valid") {
		t.Run(tc.name, func(t *testing.T) {
			input := tc.obj.DeepCopy()
			input.SetNamespace(ns)
			obj := input.DeepCopy()
			if err := c.Create(testContext(t), obj, client.DryRunAll, client.FieldValidation("Warn")); err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if missing := MissingPaths(input.Object, obj.Object); len(missing) > 0 {
				t.Errorf("accepted but changed in %d place(s):\n  %s", len(missing), strings.Join(missing, "\n  "))
			}
		})
	}
}

// TestEveryValidationRuleHasAnInvalidCase reads the x-kubernetes-validations of our CRDs (pure
// YAML) and requires, for each rule message of each kind, an invalid case of that kind whose
// "# expect:" text is part of the message, so a new rule cannot go untested.
func TestEveryValidationRuleHasAnInvalidCase(t *testing.T) {
	ours, err := LoadCRDs(ourCRDDir(t))
	if err != nil {
		t.Fatal(err)
	}
	expectsByKind := map[string][]string{}
	for _, tc := range loadCatalogue(t, "invalid") {
		expectsByKind[tc.obj.GetKind()] = append(expectsByKind[tc.obj.GetKind()], tc.expect...)
	}
	rules := 0
	for _, kind := range sortedKeys(ours) {
		for _, rule := range ValidationRules(RootSchema(Version(ours[kind], servedVersion))) {
			rules++
			covered := slices.ContainsFunc(expectsByKind[kind], func(e string) bool {
				return strings.Contains(rule.Message, e)
			})
			if !covered {
				t.Errorf("%s %s: no testdata/invalid case expects %q", kind, rule.Path, rule.Message)
			}
		}
	}
	if rules == 0 {
		t.Error("our CRDs declare no x-kubernetes-validations at all")
	}
}
