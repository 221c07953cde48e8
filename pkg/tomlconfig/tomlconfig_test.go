package tomlconfig

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func mapConfig(t *testing.T, js string) *v1alpha1.Config {
	t.Helper()
	c := &v1alpha1.Config{}
	if err := json.Unmarshal([]byte(js), c); err != nil {
		t.Fatalf("decode config %s: %v", js, err)
	}
	return c
}

func TestRender(t *testing.T) {
	cases := map[string]struct {
		config    *v1alpha1.Config // user's configuration
		overrides []Override       // what the operator sets
		want      string           // exact TOML
		wantErr   error            // expected error (errors.Is), nil for success
	}{
		"no configuration renders an empty file": {
			config: nil,
			want:   "",
		},
		"an empty map renders an empty file": {
			config: mapConfig(t, `{}`),
			want:   "",
		},
		"integers in the map form stay integers": {
			config: mapConfig(t, `{"replication":{"max-replicas":3},"schedule":{"leader-schedule-limit":4}}`),
			want:   "[replication]\nmax-replicas = 3\n\n[schedule]\nleader-schedule-limit = 4\n",
		},
		"integers in the TOML form stay integers": {
			config: v1alpha1.NewConfigTOML("[replication]\nmax-replicas = 3\n"),
			want:   "[replication]\nmax-replicas = 3\n",
		},
		"floats stay floats": {
			config: mapConfig(t, `{"gc":{"ratio-threshold":1.1}}`),
			want:   "[gc]\nratio-threshold = 1.1\n",
		},
		"keys are sorted at every level": {
			config: mapConfig(t, `{"z":1,"a":{"y":true,"b":"x"},"log":{"level":"info"}}`),
			want:   "z = 1\n\n[a]\nb = 'x'\ny = true\n\n[log]\nlevel = 'info'\n",
		},
		"overrides create missing tables": {
			config:    mapConfig(t, `{"log":{"level":"info"}}`),
			overrides: []Override{{Key: "security.cacert-path", Value: "/var/lib/pd-tls/ca.crt"}},
			want:      "[log]\nlevel = 'info'\n\n[security]\ncacert-path = '/var/lib/pd-tls/ca.crt'\n",
		},
		"overrides replace what the user wrote": {
			config:    v1alpha1.NewConfigTOML("[security]\ncert-path = \"/mine\"\nredact-info-log = true\n"),
			overrides: []Override{{Key: "security.cert-path", Value: "/var/lib/tikv-tls/tls.crt"}},
			want:      "[security]\ncert-path = '/var/lib/tikv-tls/tls.crt'\nredact-info-log = true\n",
		},
		"an override through a non-table value fails": {
			config:    v1alpha1.NewConfigTOML("security = \"off\"\n"),
			overrides: []Override{{Key: "security.cert-path", Value: "/x"}},
			wantErr:   ErrNotATable,
		},
		"invalid TOML fails": {
			config:  v1alpha1.NewConfigTOML("[log\nlevel="),
			wantErr: errAny,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Render(tc.config, tc.overrides...)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("want error, got TOML %q", got)
				}
				if !errors.Is(tc.wantErr, errAny) && !errors.Is(err, tc.wantErr) {
					t.Fatalf("want %v, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestStringAndMapFormsRenderIdentically(t *testing.T) {
	toml := `
[log]
level = "warn"
[log.file]
max-days = 7
[raftstore]
sync-log = false
capacity = "10GB"
[storage.block-cache]
capacity = "1GB"
[[security.encryption.master-keys]]
type = "plaintext"
`
	asMap := mapConfig(t, `{
	  "log": {"level": "warn", "file": {"max-days": 7}},
	  "raftstore": {"sync-log": false, "capacity": "10GB"},
	  "storage": {"block-cache": {"capacity": "1GB"}},
	  "security": {"encryption": {"master-keys": [{"type": "plaintext"}]}}
	}`)
	a, err := Render(v1alpha1.NewConfigTOML(toml))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(asMap)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("TOML form rendered\n%s\nmap form rendered\n%s", a, b)
	}
	if !strings.Contains(a, "max-days = 7\n") {
		t.Errorf("integer lost its kind:\n%s", a)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	c := mapConfig(t, `{"a":{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5},"b":{"x":"y"},"c":[1,2,3],"d":{"e":{"f":{"g":1}}}}`)
	first, err := Render(c, Override{Key: "security.a", Value: "1"}, Override{Key: "security.b", Value: "2"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		again, err := Render(c, Override{Key: "security.a", Value: "1"}, Override{Key: "security.b", Value: "2"})
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("render %d differs:\n%s\nvs\n%s", i, again, first)
		}
	}
}

func TestMerge(t *testing.T) {
	dst := map[string]any{"log": map[string]any{"level": "info", "format": "text"}, "keep": int64(1)}
	src := map[string]any{"log": map[string]any{"level": "warn"}, "new": "x"}
	Merge(dst, src)
	got, err := Marshal(dst)
	if err != nil {
		t.Fatal(err)
	}
	want := "keep = 1\nnew = 'x'\n\n[log]\nformat = 'text'\nlevel = 'warn'\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
