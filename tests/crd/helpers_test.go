package crd

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// decodeMap turns a YAML snippet into the map shape unstructured objects use. Keys avoid the
// YAML 1.1 booleans (y, n, on, off) that Kubernetes' YAML decoder turns into true/false.
func decodeMap(t *testing.T, doc string) map[string]any {
	t.Helper()
	jsonDoc, err := utilyaml.ToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	// apimachinery's json decodes whole numbers as int64, like unstructured objects.
	if err := utiljson.Unmarshal(jsonDoc, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMissingPaths(t *testing.T) {
	cases := map[string]struct {
		want, stored string   // YAML of the input and of the stored object
		missing      []string // expected report
	}{
		"an identical object has nothing missing": {
			want:   "a: 1\nb: {c: [x, z]}",
			stored: "a: 1\nb: {c: [x, z]}",
		},
		"fields the server added are allowed": {
			want:   "spec: {replicas: 3}",
			stored: "spec: {replicas: 3, baseImage: pingcap/pd}\nstatus: {}",
		},
		"a pruned nested field is named by its path": {
			want:    "spec: {pd: {replicas: 3, bogus: true}}",
			stored:  "spec: {pd: {replicas: 3}}",
			missing: []string{".spec.pd.bogus: missing (pruned or dropped)"},
		},
		"a changed value is reported with both values": {
			want:    "spec: {version: v8.5.0}",
			stored:  "spec: {version: v8.1.0}",
			missing: []string{`.spec.version: want "v8.5.0", stored "v8.1.0"`},
		},
		"list items are compared in order and a short list is reported": {
			want:   "l: [{k: a, v: 1}, {k: b}]",
			stored: "l: [{k: a}]",
			missing: []string{
				".l: want 2 items, stored 1",
				".l[0].v: missing (pruned or dropped)",
			},
		},
		"whole numbers compare equal to floats of the same value": {
			want:   "t: 1",
			stored: "t: 1.0",
		},
		"a string config that came back as an object is a difference": {
			want:    "config: 'a = 1'",
			stored:  "config: {a: 1}",
			missing: []string{`.config: want "a = 1", stored an object`},
		},
		"an object that came back as a string is a difference": {
			want:    "config: {a: 1}",
			stored:  "config: 'a = 1'",
			missing: []string{`.config: want an object, stored "a = 1"`},
		},
		"label keys with dots are bracketed": {
			want:    "labels: {app.kubernetes.io/name: x}",
			stored:  "labels: {}",
			missing: []string{`.labels["app.kubernetes.io/name"]: missing (pruned or dropped)`},
		},
		"a null in the input is not required to be stored": {
			want:   "spec: {pd: null}",
			stored: "spec: {}",
		},
		"an empty object must survive": {
			want:    "spec: {config: {}}",
			stored:  "spec: {}",
			missing: []string{".spec.config: missing (pruned or dropped)"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := MissingPaths(decodeMap(t, tc.want), decodeMap(t, tc.stored))
			if !slices.Equal(got, tc.missing) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.missing, "\n  "))
			}
		})
	}
}

// schemaOf parses a JSONSchemaProps from YAML.
func schemaOf(t *testing.T, doc string) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	s := &apiextensionsv1.JSONSchemaProps{}
	if err := yaml.Unmarshal([]byte(doc), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaIncompatibilities(t *testing.T) {
	const upstream = `
type: object
required: [name]
properties:
  name: {type: string}
  replicas: {type: integer, minimum: 0}
  policy: {type: string, enum: [Retain, Delete]}
  mode: {type: string}
  config: {x-kubernetes-preserve-unknown-fields: true}
  storage: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
  items: {type: array, items: {type: object, properties: {key: {type: string}}}}
  labels: {type: object, additionalProperties: {type: string}}
`
	cases := map[string]struct {
		ours     string   // our schema
		problems []string // expected report
	}{
		"the same schema is compatible": {ours: upstream},
		"extra properties, stricter enums and bounds are allowed": {ours: `
type: object
required: [name]
properties:
  name: {type: string, minLength: 1}
  replicas: {type: integer, minimum: 0, maximum: 100}
  policy: {type: string, enum: [Retain, Delete]}
  mode: {type: string, enum: [a, b]}
  config: {x-kubernetes-preserve-unknown-fields: true}
  storage: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
  items: {type: array, items: {type: object, properties: {key: {type: string}, extra: {type: boolean}}}}
  labels: {type: object, additionalProperties: {type: string}}
  newField: {type: string}
x-kubernetes-validations: [{rule: "true"}]
`},
		"every kind of incompatibility is reported by path": {ours: `
type: object
required: [name, replicas]
properties:
  name: {type: string}
  replicas: {type: string}
  policy: {type: string, enum: [Retain]}
  mode: {type: string}
  config: {type: object}
  storage: {type: string}
  items: {type: array, items: {type: object, properties: {}}}
  labels: {type: object}
`, problems: []string{
			`.: "replicas" is required here but optional upstream`,
			".config: type any upstream, object here",
			".items[*].key: missing",
			".labels: upstream is a map with described values, here it is not",
			`.policy: enum value "Delete" allowed upstream is rejected here`,
			".replicas: type integer upstream, string here",
			".storage: type int-or-string upstream, string here",
		}},
		"pruning what upstream preserves is reported": {ours: strings.Replace(upstream,
			"config: {x-kubernetes-preserve-unknown-fields: true}", "config: {}", 1),
			problems: []string{".config: upstream keeps unknown fields (x-kubernetes-preserve-unknown-fields), here they are pruned"}},
		"a preserved subtree of ours accepts whatever upstream described": {ours: `
type: object
required: [name]
x-kubernetes-preserve-unknown-fields: true
`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := SchemaIncompatibilities(schemaOf(t, upstream), schemaOf(t, tc.ours))
			slices.Sort(got)
			if !slices.Equal(got, tc.problems) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.problems, "\n  "))
			}
		})
	}
}

func TestViolations(t *testing.T) {
	const schema = `
type: object
properties:
  apiVersion: {type: string}
  kind: {type: string}
  metadata: {type: object}
  spec:
    type: object
    required: [replicas]
    properties:
      replicas: {type: integer, format: int32}
      policy: {type: string, enum: [Retain, Delete]}
      ratio: {type: number}
      enabled: {type: boolean}
      config: {x-kubernetes-preserve-unknown-fields: true}
      storage: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
      labels: {type: object, additionalProperties: {type: string}}
      list: {type: array, items: {type: object, properties: {k: {type: string}}}}
`
	cases := map[string]struct {
		obj        string   // the object as YAML
		violations []string // expected report, sorted
	}{
		"a valid object has no violations": {obj: `
apiVersion: v1
kind: X
metadata: {name: a, labels: {x: y}}
spec: {replicas: 1, policy: Delete, ratio: 0.5, enabled: true, config: {any: [thing]}, storage: 10Gi,
       labels: {a: b}, list: [{k: v}]}
`},
		"config may also be a string": {obj: "spec: {replicas: 1, config: 'a = 1'}"},
		"each problem is reported with its path": {obj: `
spec: {policy: Keep, ratio: fast, enabled: "yes", storage: [1], labels: {a: 1}, list: [{k: v, z: 1}], extra: 1}
`, violations: []string{
			`.spec.enabled: want a boolean, got "yes"`,
			`.spec.extra: unknown field (would be pruned)`,
			`.spec.labels.a: want a string, got 1 (int64)`,
			`.spec.list[0].z: unknown field (would be pruned)`,
			`.spec.policy: "Keep" is not one of the allowed values`,
			`.spec.ratio: want a number, got "fast"`,
			`.spec.replicas: required`,
			`.spec.storage: want an integer or a string, got a list`,
		}},
		"a fractional integer is reported": {obj: "spec: {replicas: 1.5}",
			violations: []string{".spec.replicas: want an integer, got 1.5 (float64)"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Violations(schemaOf(t, schema), decodeMap(t, tc.obj))
			if !slices.Equal(got, tc.violations) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.violations, "\n  "))
			}
		})
	}
}

func TestDecodeYAMLSkipsEmptyDocumentsAndKeepsOrder(t *testing.T) {
	objs, err := DecodeYAML(strings.NewReader(`# leading comment only
---
apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
# a document with only a comment
---
apiVersion: v1
kind: ConfigMap
metadata: {name: second}
data: {n: "1"}
`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	if fmt.Sprint(names) != "[first second]" {
		t.Errorf("decoded %v, want [first second]", names)
	}
}

func TestExpectations(t *testing.T) {
	got := Expectations([]byte("# expect: must be one of\n#expect: no space\n  # expect:  padded  \n# expect:\nkind: X\n"))
	want := []string{"must be one of", "padded"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
