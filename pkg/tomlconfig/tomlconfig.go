package tomlconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// ErrNotATable is returned when a dotted key runs through a value that is not a table, for example
// setting "security.cert-path" when the user wrote `security = "x"`.
var ErrNotATable = errors.New("not a table")

// Parse reads a TOML document into nested maps. Integers come back as int64, floats as float64.
func Parse(doc string) (map[string]any, error) {
	out := map[string]any{}
	if strings.TrimSpace(doc) == "" {
		return out, nil
	}
	if err := toml.Unmarshal([]byte(doc), &out); err != nil {
		return nil, fmt.Errorf("parse TOML: %w", err)
	}
	return out, nil
}

// FromConfig returns the configuration as nested maps, whichever form it was written in. A nil or
// empty configuration gives an empty map. Numbers of the map form keep their kind: a JSON integer
// becomes an int64, so `max-replicas: 3` renders as `max-replicas = 3`, not `3.0`.
func FromConfig(c *v1alpha1.Config) (map[string]any, error) {
	if c.IsEmpty() {
		return map[string]any{}, nil
	}
	if doc, ok := c.TOML(); ok {
		return Parse(doc)
	}
	m, ok, err := c.Map()
	if err != nil {
		return nil, err
	}
	if !ok {
		return map[string]any{}, nil
	}
	v, err := normalize(m)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// normalize converts values decoded from JSON into the types the TOML parser would have produced.
func normalize(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if e == nil {
				// TOML has no null; a null in the map form means "leave unset".
				continue
			}
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(t))
		for i, e := range t {
			if e == nil {
				return nil, fmt.Errorf("item %d: TOML arrays cannot hold null", i)
			}
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, n)
		}
		return out, nil
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", t, err)
		}
		return f, nil
	case int:
		return int64(t), nil
	case int32:
		return int64(t), nil
	default:
		return v, nil
	}
}

// Set puts value at a dotted key ("security.cert-path"), creating the tables on the way. Keys are
// split on every dot; none of the keys the operator sets contains a literal dot.
func Set(doc map[string]any, dottedKey string, value any) error {
	parts := strings.Split(dottedKey, ".")
	cur := doc
	for i, p := range parts[:len(parts)-1] {
		next, ok := cur[p]
		if !ok {
			m := map[string]any{}
			cur[p] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("set %s: %s is a %T: %w", dottedKey, strings.Join(parts[:i+1], "."), next, ErrNotATable)
		}
		cur = m
	}
	n, err := normalize(value)
	if err != nil {
		return fmt.Errorf("set %s: %w", dottedKey, err)
	}
	cur[parts[len(parts)-1]] = n
	return nil
}

// Merge copies src into dst recursively: tables present in both are merged, any other value in src
// replaces the one in dst.
func Merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				Merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// Marshal writes nested maps as TOML with keys sorted at every level. An empty map gives "".
func Marshal(doc map[string]any) (string, error) {
	if len(doc) == 0 {
		return "", nil
	}
	b, err := toml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("marshal TOML: %w", err)
	}
	return string(b), nil
}

// Override is one setting the operator imposes on a component's configuration.
type Override struct {
	// Key is dotted, for example "security.cacert-path".
	Key string
	// Value is a string, bool, integer, float, or a slice or map of those.
	Value any
}

// Render parses the user's configuration, applies the operator's overrides in order and returns
// the TOML text.
func Render(c *v1alpha1.Config, overrides ...Override) (string, error) {
	doc, err := FromConfig(c)
	if err != nil {
		return "", err
	}
	for _, o := range overrides {
		if err := Set(doc, o.Key, o.Value); err != nil {
			return "", err
		}
	}
	return Marshal(doc)
}
