package crd

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// MissingPaths compares a decoded input object with the object the API server stored and returns
// one line per field of want that is absent from got or holds a different value. Fields only
// in got (server-side defaults, metadata, status) are allowed. An empty result means want is a
// subset of got, i.e. nothing was pruned or rewritten.
//
// Lists are compared element by element: the API server never reorders or drops list items it
// keeps, so an element count that differs is itself reported. A null in want is skipped because
// the API server drops nulls from objects it stores.
func MissingPaths(want, got any) []string {
	var out []string
	collectMissing("", want, got, &out)
	return out
}

func collectMissing(path string, want, got any, out *[]string) {
	switch w := want.(type) {
	case nil:
		return
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want an object, stored %s", rooted(path), describeValue(got)))
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := joinPath(path, k)
			gv, present := g[k]
			if !present {
				if w[k] != nil {
					*out = append(*out, fmt.Sprintf("%s: missing (pruned or dropped)", child))
				}
				continue
			}
			collectMissing(child, w[k], gv, out)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want a list, stored %s", rooted(path), describeValue(got)))
			return
		}
		if len(g) != len(w) {
			*out = append(*out, fmt.Sprintf("%s: want %d items, stored %d", rooted(path), len(w), len(g)))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			collectMissing(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], out)
		}
	default:
		if !scalarEqual(want, got) {
			*out = append(*out, fmt.Sprintf("%s: want %s, stored %s", rooted(path), describeValue(want), describeValue(got)))
		}
	}
}

// scalarEqual compares leaf values, treating numbers by value because JSON decoding yields int64
// for whole numbers and float64 otherwise, and a stored 1.0 may come back as 1.
func scalarEqual(a, b any) bool {
	if fa, ok := asFloat(a); ok {
		fb, ok := asFloat(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// joinPath appends a map key to a path, bracketing keys that would be ambiguous after a dot
// (label keys such as app.kubernetes.io/name).
func joinPath(path, key string) string {
	if strings.ContainsAny(key, ".[]\" ") || key == "" {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	return path + "." + key
}

func rooted(path string) string {
	if path == "" {
		return "."
	}
	return path
}

func describeValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "nothing"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("%q", t)
	default:
		return fmt.Sprintf("%v (%T)", t, t)
	}
}
