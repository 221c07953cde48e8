package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/features"
	"github.com/tidbops/tidb-operator/pkg/operator"
)

// env returns a getenv backed by a map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// recordingDiscovery stands in for the discovery package and remembers how it was started.
type recordingDiscovery struct {
	got   *DiscoveryConfig
	calls int
}

func (r *recordingDiscovery) Run(_ context.Context, cfg DiscoveryConfig) error {
	r.calls++
	r.got = &cfg
	return nil
}

func withDiscovery(t *testing.T, d DiscoveryServer) {
	t.Helper()
	old := discoveryServer
	discoveryServer = d
	t.Cleanup(func() { discoveryServer = old })
}

var discoveryEnv = map[string]string{"TC_NAME": "basic", "MY_POD_NAMESPACE": "tidb-cluster"}

func TestTheModeFollowsTheProgramNameAndSubcommand(t *testing.T) {
	cases := map[string]struct {
		args          []string // os.Args
		wantDiscovery bool     // the discovery service is started
	}{
		"invoked as tidb-discovery":                   {[]string{"/usr/local/bin/tidb-discovery"}, true},
		"invoked as tidb-discovery with flags":        {[]string{"/usr/local/bin/tidb-discovery", "-port=10261"}, true},
		"the discovery subcommand":                    {[]string{"/usr/local/bin/tidb-operator", "discovery"}, true},
		"the discovery subcommand with double dashes": {[]string{"tidb-operator", "discovery", "--proxy-port", "10300"}, true},
		"the controller manager by default":           {[]string{"/usr/local/bin/tidb-controller-manager", "-V"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := &recordingDiscovery{}
			withDiscovery(t, d)
			var out bytes.Buffer
			if err := run(context.Background(), tc.args, env(discoveryEnv), &out, &bytes.Buffer{}); err != nil {
				t.Fatalf("run: %v", err)
			}
			if got := d.calls == 1; got != tc.wantDiscovery {
				t.Fatalf("discovery started = %t, want %t", got, tc.wantDiscovery)
			}
		})
	}
}

func TestDiscoveryFlagsAndEnvironment(t *testing.T) {
	cases := map[string]struct {
		args    []string          // arguments after the program name
		env     map[string]string // process environment
		want    DiscoveryConfig   // expected configuration (Logger and Features not compared)
		gates   string            // expected feature gates
		wantErr []string          // substrings of the error; empty for success
	}{
		"v1.6 defaults from the Deployment the operator creates": {
			env:   discoveryEnv,
			want:  DiscoveryConfig{Port: 10261, ProxyPort: 10262, Namespace: "tidb-cluster", ClusterName: "basic"},
			gates: "StableScheduling=true,AdvancedStatefulSet=false,VolumeModifying=false,VolumeReplacing=false",
		},
		"ports, TLS and gates": {
			args:  []string{"-port=20261", "--proxy-port=20262", "-features=AdvancedStatefulSet=true", "-v=2"},
			env:   map[string]string{"TC_NAME": "basic", "MY_POD_NAMESPACE": "ns", "TC_TLS_ENABLED": "true"},
			want:  DiscoveryConfig{Port: 20261, ProxyPort: 20262, Namespace: "ns", ClusterName: "basic", TLSEnabled: true},
			gates: "StableScheduling=true,AdvancedStatefulSet=true,VolumeModifying=false,VolumeReplacing=false",
		},
		"the cluster name is required": {
			env:     map[string]string{"MY_POD_NAMESPACE": "ns"},
			wantErr: []string{"environment variable TC_NAME is not set"},
		},
		"the namespace is required": {
			env:     map[string]string{"TC_NAME": "basic"},
			wantErr: []string{"environment variable MY_POD_NAMESPACE is not set"},
		},
		"a TLS switch that is not a boolean": {
			env:     map[string]string{"TC_NAME": "basic", "MY_POD_NAMESPACE": "ns", "TC_TLS_ENABLED": "sure"},
			wantErr: []string{`TC_TLS_ENABLED="sure" is not a boolean`},
		},
		"ports out of range and equal ports are all reported": {
			args:    []string{"-port=0", "-proxy-port=0"},
			env:     discoveryEnv,
			wantErr: []string{"-port must be a TCP port (1-65535), got 0", "-proxy-port must be a TCP port", "-port and -proxy-port must differ"},
		},
		"positional arguments are refused": {
			args:    []string{"serve"},
			env:     discoveryEnv,
			wantErr: []string{`unexpected argument "serve"`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, _, err := parseDiscovery("tidb-discovery", tc.args, env(tc.env), &bytes.Buffer{})
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("want an error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := cfg.Features.String(); g != tc.gates {
				t.Errorf("features = %s, want %s", g, tc.gates)
			}
			cfg.Features, cfg.Logger = nil, tc.want.Logger
			if cfg != tc.want {
				t.Errorf("config = %+v, want %+v", cfg, tc.want)
			}
		})
	}
}

func TestDiscoveryWithoutAServerSaysWhatIsMissing(t *testing.T) {
	withDiscovery(t, nil)
	err := run(context.Background(), []string{"tidb-discovery"}, env(discoveryEnv), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, ErrDiscoveryUnavailable) {
		t.Fatalf("error = %v, want %v", err, ErrDiscoveryUnavailable)
	}
	if !strings.Contains(err.Error(), "tidb-cluster/basic") || !strings.Contains(err.Error(), "pkg/discovery") {
		t.Fatalf("error %q should name the cluster and the missing package", err)
	}
}

func TestDiscoveryPassesTheGatesToTheServer(t *testing.T) {
	d := &recordingDiscovery{}
	withDiscovery(t, d)
	args := []string{"tidb-discovery", "-features=StableScheduling=false"}
	if err := run(context.Background(), args, env(discoveryEnv), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if d.got.Features.Enabled(features.StableScheduling) {
		t.Fatal("the server got StableScheduling on")
	}
}

func TestVersionFlagsPrintAndExit(t *testing.T) {
	for _, args := range [][]string{
		{"tidb-operator", "-V"},
		{"tidb-operator", "--version"},
		{"tidb-discovery", "-V"},
		{"tidb-operator", "discovery", "-version"},
	} {
		d := &recordingDiscovery{}
		withDiscovery(t, d)
		var out bytes.Buffer
		// No environment at all: printing the version must not need NAMESPACE or TC_NAME.
		if err := run(context.Background(), args, env(nil), &out, &bytes.Buffer{}); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.HasPrefix(out.String(), "TiDB Operator Version: ") {
			t.Errorf("%v printed %q", args, out.String())
		}
		if d.calls != 0 {
			t.Errorf("%v started the discovery service", args)
		}
	}
}

func TestOperatorStartUpErrors(t *testing.T) {
	cases := map[string]struct {
		args     []string          // arguments after the program name
		env      map[string]string // process environment
		wantCode int               // exit code for flag errors, -1 when a message is expected
		wantErr  error             // a wrapped error to look for
		wantMsg  string            // substring of the message
	}{
		"-h prints usage and succeeds": {args: []string{"-h"}, wantCode: 0},
		"an unknown flag exits 2":      {args: []string{"-bogus"}, wantCode: 2},
		"a malformed duration exits 2": {args: []string{"-leader-lease-duration=soon"}, wantCode: 2},
		"invalid values are explained": {
			args:     []string{"-workers=0"},
			wantCode: -1,
			wantMsg:  "invalid flags:\n-workers must be at least 1, got 0",
		},
		"a stray argument is refused": {
			args:     []string{"-workers=3", "discover"},
			wantCode: -1,
			wantMsg:  `unexpected argument "discover"`,
		},
		"NAMESPACE is required as in v1.6": {
			args:     []string{"-v=0"},
			wantCode: -1,
			wantErr:  operator.ErrNamespaceUnset,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), append([]string{"tidb-operator"}, tc.args...), env(tc.env), &bytes.Buffer{}, &stderr)
			if err == nil {
				t.Fatal("want an error")
			}
			var code exitCodeError
			if tc.wantCode >= 0 {
				if !errors.As(err, &code) || int(code) != tc.wantCode {
					t.Fatalf("error = %v, want exit code %d", err, tc.wantCode)
				}
				if !strings.Contains(stderr.String(), "Usage of tidb-operator") {
					t.Errorf("usage not printed: %q", stderr.String())
				}
				return
			}
			if errors.As(err, &code) {
				t.Fatalf("error = %v, want a message", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}
