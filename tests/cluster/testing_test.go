package cluster

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestNamespacePrefix(t *testing.T) {
	cases := map[string]struct {
		testName string
		want     string
	}{
		"a plain test name is lower-cased": {"TestStatefulSet", "teststatefulset-"},
		"subtest separators and spaces become single dashes": {
			"TestScale/scale_in_by one", "testscale-scale-in-by-one-",
		},
		"a long name is cut to leave room for the random suffix": {
			strings.Repeat("x", 100), strings.Repeat("x", 40) + "-",
		},
		"a name starting with a digit gets a letter in front":      {"1st", "t-1st-"},
		"a name without any usable character still gives a prefix": {"///", "t-"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := namespacePrefix(tc.testName)
			if got != tc.want {
				t.Errorf("namespacePrefix(%q) = %q, want %q", tc.testName, got, tc.want)
			}
			// The API server appends five random characters to a GenerateName.
			if errs := validation.IsDNS1123Label(got + "abcde"); len(errs) > 0 {
				t.Errorf("%q does not make a valid namespace name: %v", got+"abcde", errs)
			}
		})
	}
}

func TestLabelValue(t *testing.T) {
	cases := map[string]struct {
		testName string
		want     string
	}{
		"slashes and spaces become underscores": {"TestA/b c", "TestA_b_c"},
		"a long name is cut to 63 characters":   {strings.Repeat("a", 70), strings.Repeat("a", 63)},
		"punctuation at the ends is trimmed":    {"/TestA/", "TestA"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := labelValue(tc.testName)
			if got != tc.want {
				t.Errorf("labelValue(%q) = %q, want %q", tc.testName, got, tc.want)
			}
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Errorf("%q is not a valid label value: %v", got, errs)
			}
		})
	}
}
