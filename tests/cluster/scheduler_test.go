package cluster

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestSchedulerConfigFor(t *testing.T) {
	const kubeconfig = "/work/kubeconfig"
	cases := map[string]struct {
		// in is the caller's configuration.
		in string
		// wantErr is a substring of the expected error; empty means success.
		wantErr string
		// check inspects the resulting document on success.
		check func(t *testing.T, doc map[string]any)
	}{
		"a document without clientConnection gets one pointing at the kubeconfig": {
			in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n",
			check: func(t *testing.T, doc map[string]any) {
				if got := doc["clientConnection"].(map[string]any)["kubeconfig"]; got != kubeconfig {
					t.Errorf("kubeconfig = %v, want %s", got, kubeconfig)
				}
			},
		},
		"a kubeconfig the caller wrote is replaced and other connection settings stay": {
			in: `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /elsewhere
  qps: 77
`,
			check: func(t *testing.T, doc map[string]any) {
				conn := doc["clientConnection"].(map[string]any)
				if conn["kubeconfig"] != kubeconfig {
					t.Errorf("kubeconfig = %v, want %s", conn["kubeconfig"], kubeconfig)
				}
				if conn["qps"] != float64(77) {
					t.Errorf("qps = %v, want 77", conn["qps"])
				}
			},
		},
		"profiles and extenders reach the scheduler as written": {
			in: `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: tidb-scheduler
extenders:
- urlPrefix: http://127.0.0.1:10262/scheduler
  filterVerb: filter
  ignorable: true
`,
			check: func(t *testing.T, doc map[string]any) {
				profiles := doc["profiles"].([]any)
				if len(profiles) != 2 || profiles[1].(map[string]any)["schedulerName"] != "tidb-scheduler" {
					t.Errorf("profiles = %v", profiles)
				}
				ext := doc["extenders"].([]any)[0].(map[string]any)
				if ext["urlPrefix"] != "http://127.0.0.1:10262/scheduler" || ext["filterVerb"] != "filter" || ext["ignorable"] != true {
					t.Errorf("extender = %v", ext)
				}
			},
		},
		"JSON is accepted too": {
			in: `{"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"KubeSchedulerConfiguration"}`,
			check: func(t *testing.T, doc map[string]any) {
				if doc["clientConnection"] == nil {
					t.Error("clientConnection missing")
				}
			},
		},
		"a document of another kind is refused": {
			in:      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeProxyConfiguration\n",
			wantErr: `kind "KubeProxyConfiguration"`,
		},
		"a document of another API group is refused": {
			in:      "apiVersion: example.com/v1\nkind: KubeSchedulerConfiguration\n",
			wantErr: `apiVersion "example.com/v1"`,
		},
		"text that is not YAML is refused": {
			in:      "kind: [unclosed",
			wantErr: "parse scheduler configuration",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := schedulerConfigFor([]byte(tc.in), kubeconfig)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(out, &doc); err != nil {
				t.Fatalf("output is not YAML: %v\n%s", err, out)
			}
			if doc["kind"] != schedulerConfigKind {
				t.Errorf("kind = %v", doc["kind"])
			}
			tc.check(t, doc)
		})
	}
}
