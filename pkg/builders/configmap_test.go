package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func setConfig(tc *v1alpha1.TidbCluster, comp string, c *v1alpha1.Config) {
	switch comp {
	case "pd":
		tc.Spec.PD.Config = c
	case "tikv":
		tc.Spec.TiKV.Config = c
	default:
		tc.Spec.TiDB.Config = c
	}
}

func TestConfigMapTOMLStringAndMapRenderIdentically(t *testing.T) {
	cases := map[string]struct {
		comp  string // component
		toml  string // config written as TOML
		asMap string // the same config written as a map (JSON)
	}{
		"PD": {
			comp:  "pd",
			toml:  "[replication]\nmax-replicas = 3\nlocation-labels = [\"zone\", \"host\"]\n[log]\nlevel = \"info\"\n",
			asMap: `{"replication":{"max-replicas":3,"location-labels":["zone","host"]},"log":{"level":"info"}}`,
		},
		"TiKV": {
			comp:  "tikv",
			toml:  "[storage]\nreserve-space = \"0MB\"\n[raftstore]\napply-pool-size = 2\n",
			asMap: `{"storage":{"reserve-space":"0MB"},"raftstore":{"apply-pool-size":2}}`,
		},
		"TiDB": {
			comp:  "tidb",
			toml:  "token-limit = 1000\n[performance]\ntcp-keep-alive = true\n",
			asMap: `{"token-limit":1000,"performance":{"tcp-keep-alive":true}}`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
				setConfig(tc, c.comp, v1alpha1.NewConfigTOML(c.toml))
				tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
			})
			b := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
				setConfig(tc, c.comp, mustConfig(t, c.asMap))
				tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
			})
			cmA, cmB := mustCM(t, a, c.comp), mustCM(t, b, c.comp)
			if cmA.Data["config-file"] != cmB.Data["config-file"] || cmA.Name != cmB.Name {
				t.Errorf("TOML form (%s):\n%s\nmap form (%s):\n%s", cmA.Name, cmA.Data["config-file"], cmB.Name, cmB.Data["config-file"])
			}
			if regexp.MustCompile(`= \d+\.0\n`).MatchString(cmB.Data["config-file"]) {
				t.Errorf("an integer became a float:\n%s", cmB.Data["config-file"])
			}
		})
	}
	t.Run("invalid TOML is an error naming the field", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Config = v1alpha1.NewConfigTOML("[log") })
		_, err := PDConfigMap(tc)
		if err == nil || !strings.Contains(err.Error(), "spec.pd.config") {
			t.Errorf("error %v", err)
		}
	})
}

func TestConfigMapNames(t *testing.T) {
	hashOf := func(data map[string]string) string {
		b, _ := json.Marshal(data)
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])[:7]
	}
	cases := map[string]struct {
		mutate func(*v1alpha1.TidbCluster) // change to the basic cluster (RollingUpdate)
		comp   string                      // component
		hashed bool                        // whether the name carries the digest
	}{
		"RollingUpdate appends the first 7 hex digits of the data's digest": {
			comp: "pd", hashed: true,
		},
		"InPlace uses the plain member name": {
			mutate: func(tc *v1alpha1.TidbCluster) { tc.Spec.ConfigUpdateStrategy = v1alpha1.ConfigUpdateStrategyInPlace },
			comp:   "tikv", hashed: false,
		},
		"an empty strategy means InPlace, as in v1.6": {
			mutate: func(tc *v1alpha1.TidbCluster) { tc.Spec.ConfigUpdateStrategy = "" },
			comp:   "tidb", hashed: false,
		},
		"a component's strategy overrides the cluster's": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.ConfigUpdateStrategy = v1alpha1.ConfigUpdateStrategyInPlace
				tc.Spec.TiDB.ConfigUpdateStrategy = new(v1alpha1.ConfigUpdateStrategyRollingUpdate)
			},
			comp: "tidb", hashed: true,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t)
			if c.mutate != nil {
				c.mutate(tc)
			}
			cm := mustCM(t, tc, c.comp)
			want := "basic-" + c.comp
			if c.hashed {
				want += "-" + hashOf(cm.Data)
			}
			if cm.Name != want {
				t.Errorf("name %q, want %q", cm.Name, want)
			}
			sts := buildSTS(t, tc, c.comp, StatefulSetOptions{})
			if v := volumeByName(sts, "config"); v.ConfigMap.Name != want {
				t.Errorf("the StatefulSet mounts %q, want %q", v.ConfigMap.Name, want)
			}
		})
	}
}

func TestHashedConfigMapNameChangesOnlyWithTheData(t *testing.T) {
	base := basicCluster(t)
	name := func(tc *v1alpha1.TidbCluster) string { return mustCM(t, tc, "tikv").Name }
	orig := name(base)
	cases := map[string]struct {
		mutate  func(*v1alpha1.TidbCluster) // change to the basic cluster
		changes bool                        // whether the ConfigMap name must change
	}{
		"a config change gives a new name": {
			mutate:  func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Config = mustConfig(t, `{"log":{"level":"warn"}}`) },
			changes: true,
		},
		"a start-script change gives a new name": {
			mutate:  func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.DataSubDir = "data" },
			changes: true,
		},
		"enabling TLS changes the rendered config and so the name": {
			mutate:  func(tc *v1alpha1.TidbCluster) { tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true} },
			changes: true,
		},
		"replicas do not touch the ConfigMap": {
			mutate: func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = 9 },
		},
		"pod annotations and the image do not touch the ConfigMap": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiKV.Annotations = map[string]string{"x": "y"}
				tc.Spec.Version = "v8.5.1"
			},
		},
		"the same config written as TOML keeps the name": {
			mutate: func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Config = v1alpha1.NewConfigTOML("") },
		},
	}
	for n, c := range cases {
		t.Run(n, func(t *testing.T) {
			tc := basicCluster(t, c.mutate)
			if got := name(tc); (got != orig) != c.changes {
				t.Errorf("name %q vs original %q, want changed=%v", got, orig, c.changes)
			}
		})
	}
}

func TestConfigMapNameWithoutConfigMap(t *testing.T) {
	tc := basicCluster(t)
	sts, err := PDStatefulSet(tc, nil, StatefulSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := volumeByName(sts, "config"); v.ConfigMap.Name != "basic-pd" {
		t.Errorf("without a ConfigMap the StatefulSet mounts %q, want basic-pd", v.ConfigMap.Name)
	}
	n, err := ConfigMapName(tc, "pd", &corev1.ConfigMap{Data: map[string]string{"config-file": "", "startup-script": "x"}})
	if err != nil || !regexp.MustCompile(`^basic-pd-[0-9a-f]{7}$`).MatchString(n) {
		t.Errorf("ConfigMapName %q %v", n, err)
	}
}

func TestPDConfigOperatorSettings(t *testing.T) {
	cases := map[string]struct {
		mutate func(*v1alpha1.TidbCluster) // change to the basic cluster
		has    []string                    // lines the config must contain
		hasNot []string                    // text it must not contain
	}{
		"dashboard internal proxy is passed through as a boolean": {
			mutate: func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.EnableDashboardInternalProxy = new(true) },
			has:    []string{"[dashboard]\ninternal-proxy = true\n"},
		},
		"TiDB client TLS points the dashboard at the client certificate": {
			mutate: func(tc *v1alpha1.TidbCluster) { tc.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true} },
			has:    []string{"tidb-cacert-path = '/var/lib/tidb-client-tls/ca.crt'", "tidb-cert-path = '/var/lib/tidb-client-tls/tls.crt'", "tidb-key-path = '/var/lib/tidb-client-tls/tls.key'"},
		},
		"the skip-TLS annotation keeps the dashboard on plain MySQL": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true}
				tc.Annotations = map[string]string{"tidb.tidb.pingcap.com/skip-tls-when-connect-tidb": "true"}
			},
			hasNot: []string{"tidb-cacert-path"},
		},
		"PD before 4.0 has no dashboard to configure": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true}
				tc.Spec.Version = "v3.0.13"
			},
			hasNot: []string{"tidb-cacert-path"},
		},
		"user settings survive next to the operator's": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.PD.Config = v1alpha1.NewConfigTOML("[security]\nredact-info-log = true\n")
				tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
			},
			has: []string{"redact-info-log = true", "cacert-path = '/var/lib/pd-tls/ca.crt'"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t, c.mutate)
			cfg := mustCM(t, tc, "pd").Data["config-file"]
			for _, s := range c.has {
				if !strings.Contains(cfg, s) {
					t.Errorf("config lacks %q:\n%s", s, cfg)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(cfg, s) {
					t.Errorf("config has %q:\n%s", s, cfg)
				}
			}
		})
	}
}

func TestConfigMapLabels(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Labels = map[string]string{"app.kubernetes.io/instance": "shared"}
	})
	cm := mustCM(t, tc, "tikv")
	if cm.Labels["app.kubernetes.io/instance"] != "shared" || cm.Labels["app.kubernetes.io/component"] != "tikv" {
		t.Errorf("labels %v: the cluster's instance label wins over its name", cm.Labels)
	}
}

func TestTiKVPessimisticTxnNumbersAreWrittenUnquoted(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiKV.Config = mustConfig(t, `{"pessimistic-txn":{"wait-for-lock-timeout":"1000","wake-up-delay-duration":"20ms"}}`)
	})
	cfg := mustCM(t, tc, "tikv").Data["config-file"]
	if !strings.Contains(cfg, "wait-for-lock-timeout = 1000\n") || !strings.Contains(cfg, "wake-up-delay-duration = '20ms'\n") {
		t.Errorf("a numeric string becomes a number, a duration stays a string:\n%s", cfg)
	}
}
