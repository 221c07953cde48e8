package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Config is a component's free-form configuration. As in TiDB Operator v1.6 it may be written
// either as a TOML document in a string or as a nested map:
//
//	config: |
//	  [log]
//	  level = "info"
//
//	config:
//	  log:
//	    level: info
//
// The value is kept exactly as written (string or object) so that reading and writing a
// TidbCluster never rewrites the user's spec. Parsing the TOML form needs a TOML library, which
// this module does not import; the operator interprets the value (see the config rendering in the
// root module) and reports a string that is not valid TOML in a condition.
//
// +kubebuilder:object:generate=false
// +kubebuilder:validation:Schemaless
// +kubebuilder:pruning:PreserveUnknownFields
// +kubebuilder:validation:Type=""
type Config struct {
	raw json.RawMessage `json:"-"`
}

// NewConfigTOML returns a Config holding a TOML document.
func NewConfigTOML(doc string) *Config {
	b, _ := json.Marshal(doc) // a string always marshals
	return &Config{raw: b}
}

// NewConfigMap returns a Config holding a nested map. Values must be JSON-compatible.
func NewConfigMap(m map[string]any) (*Config, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("config is not JSON-compatible: %w", err)
	}
	return &Config{raw: b}, nil
}

// IsTOML reports whether the value was written as a TOML string.
func (c *Config) IsTOML() bool {
	return c != nil && len(c.raw) > 0 && c.raw[0] == '"'
}

// IsEmpty reports whether no configuration was given.
func (c *Config) IsEmpty() bool {
	if c == nil {
		return true
	}
	t := bytes.TrimSpace(c.raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte(`""`)) || bytes.Equal(t, []byte("{}"))
}

// TOML returns the TOML document when the value was written as a string.
func (c *Config) TOML() (string, bool) {
	if !c.IsTOML() {
		return "", false
	}
	var s string
	if err := json.Unmarshal(c.raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// Map returns the nested map when the value was written as an object. Numbers are json.Number,
// so integers and floats keep their written form when rendered to TOML.
func (c *Config) Map() (map[string]any, bool, error) {
	if c == nil || c.IsTOML() || c.IsEmpty() {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, false, fmt.Errorf("config must be a TOML string or a map: %w", err)
	}
	return m, true, nil
}

// Raw returns the JSON as written.
func (c *Config) Raw() json.RawMessage {
	if c == nil {
		return nil
	}
	return c.raw
}

// MarshalJSON writes the value back in the form it was read.
func (c Config) MarshalJSON() ([]byte, error) {
	if len(c.raw) == 0 {
		return []byte("null"), nil
	}
	return c.raw, nil
}

// UnmarshalJSON accepts a string (TOML), an object (map) or null.
func (c *Config) UnmarshalJSON(data []byte) error {
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] != '"' && t[0] != '{' && !bytes.Equal(t, []byte("null")) {
		return fmt.Errorf("config must be a TOML string or a map, got %.20s", t)
	}
	if bytes.Equal(t, []byte("null")) {
		c.raw = nil
		return nil
	}
	c.raw = append(c.raw[:0], t...)
	return nil
}

// DeepCopyInto copies the value; the raw JSON is immutable once read, but copying keeps callers
// that mutate the result from aliasing the original.
func (c *Config) DeepCopyInto(out *Config) {
	if c.raw != nil {
		out.raw = append(json.RawMessage(nil), c.raw...)
	} else {
		out.raw = nil
	}
}

// DeepCopy returns a copy of the value.
func (c *Config) DeepCopy() *Config {
	if c == nil {
		return nil
	}
	out := new(Config)
	c.DeepCopyInto(out)
	return out
}
