package crd

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// LoadCRDs decodes every CustomResourceDefinition in the *.yaml files of dir (not recursive) and
// indexes them by kind.
func LoadCRDs(dir string) (map[string]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRD files in %s", dir)
	}
	crds := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, file := range files {
		objs, err := DecodeFile(file)
		if err != nil {
			return nil, err
		}
		for _, obj := range objs {
			if obj.GetKind() != "CustomResourceDefinition" {
				continue
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, crd); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			kind := crd.Spec.Names.Kind
			if _, dup := crds[kind]; dup {
				return nil, fmt.Errorf("%s: a second CRD for kind %s", file, kind)
			}
			crds[kind] = crd
		}
	}
	return crds, nil
}

// Version returns the named version of a CRD, or nil.
func Version(crd *apiextensionsv1.CustomResourceDefinition, name string) *apiextensionsv1.CustomResourceDefinitionVersion {
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == name {
			return &crd.Spec.Versions[i]
		}
	}
	return nil
}

// RootSchema returns the openAPIV3Schema of a CRD version, or nil.
func RootSchema(v *apiextensionsv1.CustomResourceDefinitionVersion) *apiextensionsv1.JSONSchemaProps {
	if v == nil || v.Schema == nil {
		return nil
	}
	return v.Schema.OpenAPIV3Schema
}

// SchemaIncompatibilities walks the upstream schema next to ours and lists every way in which a
// value valid upstream would be rejected or pruned by ours:
//
//   - a property upstream has that ours lacks (it would be pruned);
//   - a different type (int-or-string and "any type" count as types of their own);
//   - upstream keeps unknown fields (x-kubernetes-preserve-unknown-fields) where ours prunes them;
//   - a property ours requires that upstream does not;
//   - an enum value upstream allows that our enum leaves out.
//
// Ours may add properties, enums where upstream had none, bounds, patterns and CEL rules: those
// only reject what v1.6 already treated as wrong or never looked at.
func SchemaIncompatibilities(upstream, ours *apiextensionsv1.JSONSchemaProps) []string {
	var out []string
	compareSchema("", upstream, ours, &out)
	return out
}

func compareSchema(path string, up, our *apiextensionsv1.JSONSchemaProps, out *[]string) {
	report := func(format string, args ...any) {
		*out = append(*out, rooted(path)+": "+fmt.Sprintf(format, args...))
	}
	if up == nil {
		return
	}
	if our == nil {
		report("missing")
		return
	}
	if upType, ourType := schemaType(up), schemaType(our); upType != ourType {
		report("type %s upstream, %s here", upType, ourType)
		return
	}
	if preservesUnknown(up) && !preservesUnknown(our) {
		report("upstream keeps unknown fields (x-kubernetes-preserve-unknown-fields), here they are pruned")
	}
	if preservesUnknown(our) && len(our.Properties) == 0 && our.AdditionalProperties == nil {
		// Ours keeps anything below this point; nothing can be pruned or mistyped by the schema.
		return
	}
	for _, r := range our.Required {
		if !slices.Contains(up.Required, r) {
			report("%q is required here but optional upstream", r)
		}
	}
	if len(up.Enum) > 0 && len(our.Enum) > 0 {
		ours := map[string]bool{}
		for _, e := range our.Enum {
			ours[string(e.Raw)] = true
		}
		for _, e := range up.Enum {
			if !ours[string(e.Raw)] {
				report("enum value %s allowed upstream is rejected here", e.Raw)
			}
		}
	}
	for _, name := range sortedKeys(up.Properties) {
		upProp := up.Properties[name]
		child := joinPath(path, name)
		ourProp, ok := our.Properties[name]
		if !ok {
			*out = append(*out, child+": missing")
			continue
		}
		compareSchema(child, &upProp, &ourProp, out)
	}
	if up.Items != nil && up.Items.Schema != nil {
		if our.Items == nil || our.Items.Schema == nil {
			report("upstream describes the list items, here they are not")
		} else {
			compareSchema(path+"[*]", up.Items.Schema, our.Items.Schema, out)
		}
	}
	if up.AdditionalProperties != nil && up.AdditionalProperties.Schema != nil {
		if our.AdditionalProperties == nil || our.AdditionalProperties.Schema == nil {
			report("upstream is a map with described values, here it is not")
		} else {
			compareSchema(path+"{*}", up.AdditionalProperties.Schema, our.AdditionalProperties.Schema, out)
		}
	}
}

// schemaType names what a schema node accepts, distinguishing int-or-string and untyped nodes
// (which accept any JSON value).
func schemaType(s *apiextensionsv1.JSONSchemaProps) string {
	switch {
	case s.XIntOrString:
		return "int-or-string"
	case s.Type == "":
		return "any"
	default:
		return s.Type
	}
}

func preservesUnknown(s *apiextensionsv1.JSONSchemaProps) bool {
	return s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Violations checks a decoded object against a structural schema the way the API server's
// schema validation and pruning would, without CEL and formats: fields the schema does not know
// (and would prune), wrong types, enum values not listed, and required fields left out. It is
// used to prove the examples are valid for PingCAP's v1.6 CRDs, which cannot be installed next
// to ours under the same names.
func Violations(schema *apiextensionsv1.JSONSchemaProps, obj map[string]any) []string {
	// The API server validates metadata itself; the CRD schema only says "object", so present
	// it as an empty one.
	top := make(map[string]any, len(obj))
	for k, v := range obj {
		top[k] = v
	}
	if _, ok := top["metadata"]; ok {
		top["metadata"] = map[string]any{}
	}
	var out []string
	checkValue("", schema, top, &out)
	sort.Strings(out)
	return out
}

func checkValue(path string, s *apiextensionsv1.JSONSchemaProps, v any, out *[]string) {
	report := func(format string, args ...any) {
		*out = append(*out, rooted(path)+": "+fmt.Sprintf(format, args...))
	}
	if v == nil {
		if !s.Nullable && s.Type != "" {
			report("null is not allowed")
		}
		return
	}
	switch schemaType(s) {
	case "any":
		if len(s.Properties) == 0 {
			return
		}
	case "int-or-string":
		switch v.(type) {
		case string, int64, int:
		default:
			report("want an integer or a string, got %s", describeValue(v))
		}
		return
	case "string":
		str, ok := v.(string)
		if !ok {
			report("want a string, got %s", describeValue(v))
			return
		}
		if len(s.Enum) > 0 && !enumContains(s.Enum, str) {
			report("%q is not one of the allowed values", str)
		}
		return
	case "integer":
		if f, ok := asFloat(v); !ok || f != float64(int64(f)) {
			report("want an integer, got %s", describeValue(v))
		}
		return
	case "number":
		if _, ok := asFloat(v); !ok {
			report("want a number, got %s", describeValue(v))
		}
		return
	case "boolean":
		if _, ok := v.(bool); !ok {
			report("want a boolean, got %s", describeValue(v))
		}
		return
	case "array":
		list, ok := v.([]any)
		if !ok {
			report("want a list, got %s", describeValue(v))
			return
		}
		if s.Items != nil && s.Items.Schema != nil {
			for i, item := range list {
				checkValue(fmt.Sprintf("%s[%d]", path, i), s.Items.Schema, item, out)
			}
		}
		return
	}
	// An object (or an untyped node that still describes properties).
	m, ok := v.(map[string]any)
	if !ok {
		if s.Type == "object" {
			report("want an object, got %s", describeValue(v))
		}
		return
	}
	for _, r := range s.Required {
		if _, ok := m[r]; !ok {
			*out = append(*out, joinPath(path, r)+": required")
		}
	}
	for _, k := range sortedKeys(m) {
		child := joinPath(path, k)
		if prop, ok := s.Properties[k]; ok {
			checkValue(child, &prop, m[k], out)
			continue
		}
		switch {
		case s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
			checkValue(child, s.AdditionalProperties.Schema, m[k], out)
		case s.AdditionalProperties != nil && s.AdditionalProperties.Allows:
		case preservesUnknown(s):
		default:
			*out = append(*out, child+": unknown field (would be pruned)")
		}
	}
}

func enumContains(enum []apiextensionsv1.JSON, value string) bool {
	for _, e := range enum {
		var allowed string
		if json.Unmarshal(e.Raw, &allowed) == nil && allowed == value {
			return true
		}
	}
	return false
}

// Rule is one x-kubernetes-validations entry and where it sits in the schema.
type Rule struct {
	Path    string
	Rule    string
	Message string
}

// ValidationRules lists every CEL rule in a schema, depth first in property order.
func ValidationRules(s *apiextensionsv1.JSONSchemaProps) []Rule {
	var out []Rule
	collectRules("", s, &out)
	return out
}

func collectRules(path string, s *apiextensionsv1.JSONSchemaProps, out *[]Rule) {
	if s == nil {
		return
	}
	for _, r := range s.XValidations {
		*out = append(*out, Rule{Path: rooted(path), Rule: r.Rule, Message: r.Message})
	}
	for _, name := range sortedKeys(s.Properties) {
		prop := s.Properties[name]
		collectRules(joinPath(path, name), &prop, out)
	}
	if s.Items != nil {
		collectRules(path+"[*]", s.Items.Schema, out)
	}
	if s.AdditionalProperties != nil {
		collectRules(path+"{*}", s.AdditionalProperties.Schema, out)
	}
}

// ListMapKeyProblems lists every x-kubernetes-list-type=map list whose key properties are
// neither required nor defaulted. The API server refuses such a CRD outright, but reports only
// the first offender of the first CRD; this names them all.
func ListMapKeyProblems(s *apiextensionsv1.JSONSchemaProps) []string {
	var out []string
	collectListMapKeyProblems("", s, &out)
	return out
}

func collectListMapKeyProblems(path string, s *apiextensionsv1.JSONSchemaProps, out *[]string) {
	if s == nil {
		return
	}
	if s.XListType != nil && *s.XListType == "map" && s.Items != nil && s.Items.Schema != nil {
		item := s.Items.Schema
		for _, key := range s.XListMapKeys {
			prop, ok := item.Properties[key]
			if !slices.Contains(item.Required, key) && (!ok || prop.Default == nil) {
				*out = append(*out, fmt.Sprintf("%s: list key %q is neither required nor defaulted", rooted(path), key))
			}
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		prop := s.Properties[name]
		collectListMapKeyProblems(joinPath(path, name), &prop, out)
	}
	if s.Items != nil {
		collectListMapKeyProblems(path+"[*]", s.Items.Schema, out)
	}
	if s.AdditionalProperties != nil {
		collectListMapKeyProblems(path+"{*}", s.AdditionalProperties.Schema, out)
	}
}
