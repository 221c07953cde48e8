package v1alpha1

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func TestConfigKeepsTheFormItWasWrittenIn(t *testing.T) {
	cases := map[string]struct {
		in       string // JSON as the API server stores it
		wantTOML bool
		wantErr  bool
	}{
		"a TOML document in a string stays a string": {in: `"[log]\nlevel = \"info\"\n"`, wantTOML: true},
		"a nested map stays a map":                   {in: `{"log":{"level":"info"},"raft-store":{"capacity":"10GB"}}`},
		"null is no config":                          {in: `null`},
		"a number is rejected with a clear error":    {in: `42`, wantErr: true},
		"a list is rejected":                         {in: `[1,2]`, wantErr: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var cfg Config
			err := json.Unmarshal([]byte(c.in), &cfg)
			if c.wantErr {
				if err == nil {
					t.Fatalf("want an error for %s", c.in)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.IsTOML() != c.wantTOML {
				t.Fatalf("IsTOML() = %v, want %v", cfg.IsTOML(), c.wantTOML)
			}
			out, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.in {
				t.Fatalf("round trip changed the value: %s -> %s", c.in, out)
			}
		})
	}
}

func TestConfigAccessors(t *testing.T) {
	toml := NewConfigTOML("[log]\nlevel = \"warn\"\n")
	if s, ok := toml.TOML(); !ok || s != "[log]\nlevel = \"warn\"\n" {
		t.Fatalf("TOML() = %q, %v", s, ok)
	}
	if _, ok, _ := toml.Map(); ok {
		t.Fatal("a TOML config must not report a map")
	}
	m, err := NewConfigMap(map[string]any{"log": map[string]any{"level": "info"}, "lease": 3})
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := m.Map()
	if err != nil || !ok {
		t.Fatalf("Map() = %v, %v", ok, err)
	}
	if got["lease"] != json.Number("3") {
		t.Fatalf("numbers must keep their written form, got %#v", got["lease"])
	}
	if !(*Config)(nil).IsEmpty() || !NewConfigTOML("").IsEmpty() || m.IsEmpty() {
		t.Fatal("IsEmpty is wrong")
	}
	cp := m.DeepCopy()
	cp.raw[2] = 'X'
	if string(m.Raw()) == string(cp.Raw()) {
		t.Fatal("DeepCopy aliases the original")
	}
}

func TestStatefulSetStatusConvertsFromAppsV1(t *testing.T) {
	in := appsv1.StatefulSetStatus{ObservedGeneration: 3, Replicas: 3, ReadyReplicas: 2, UpdateRevision: "r2",
		Conditions: []appsv1.StatefulSetCondition{{Type: "x", Status: "True"}}, AvailableReplicas: 2}
	out := StatefulSetStatus(in)
	a, _ := json.Marshal(in)
	b, _ := json.Marshal(out)
	if string(a) != string(b) {
		t.Fatalf("the mirror type must serialise like apps/v1:\n%s\n%s", a, b)
	}
}
