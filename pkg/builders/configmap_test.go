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

func TestTiKVPiTRRestoreOverlay(t *testing.T) {
	cases := map[string]struct {
		config  string // spec.tikv.config as JSON: a string for the TOML form, an object for the map form
		overlay bool   // TiKVConfigOptions.PiTRRestore
		want    string // the exact tikv.toml
	}{
		"no config, no overlay renders an empty file": {
			config: `{}`,
			want:   "",
		},
		"no config, with the overlay: the [gc] table is created (v1.6 got stuck on an empty config)": {
			config: `{}`, overlay: true,
			want: "[gc]\nratio-threshold = -1.0\n",
		},
		"empty TOML string with the overlay": {
			config: `""`, overlay: true,
			want: "[gc]\nratio-threshold = -1.0\n",
		},
		"TOML without [gc]: the user's settings stay and [gc] is added": {
			config: `"[log]\nlevel = \"warn\"\n"`, overlay: true,
			want: "[gc]\nratio-threshold = -1.0\n\n[log]\nlevel = 'warn'\n",
		},
		"TOML with the user's ratio-threshold: the overlay overrides it and keeps the other gc keys": {
			config: `"[gc]\nratio-threshold = 1.1\nbatch-keys = 256\n"`, overlay: true,
			want: "[gc]\nbatch-keys = 256\nratio-threshold = -1.0\n",
		},
		"TOML with the user's ratio-threshold and no overlay: rendered as the user wrote it": {
			config: `"[gc]\nratio-threshold = 1.1\nbatch-keys = 256\n"`,
			want:   "[gc]\nbatch-keys = 256\nratio-threshold = 1.1\n",
		},
		"map without gc: the [gc] table is added": {
			config: `{"log":{"level":"warn"}}`, overlay: true,
			want: "[gc]\nratio-threshold = -1.0\n\n[log]\nlevel = 'warn'\n",
		},
		"map with the user's ratio-threshold: the overlay overrides it": {
			config: `{"gc":{"ratio-threshold":1.1,"batch-keys":256}}`, overlay: true,
			want: "[gc]\nbatch-keys = 256\nratio-threshold = -1.0\n",
		},
		"map with the user's ratio-threshold and no overlay: rendered as the user wrote it": {
			config: `{"gc":{"ratio-threshold":1.1,"batch-keys":256}}`,
			want:   "[gc]\nbatch-keys = 256\nratio-threshold = 1.1\n",
		},
		"map with an integer ratio-threshold: the overlay still writes a float": {
			config: `{"gc":{"ratio-threshold":2}}`, overlay: true,
			want: "[gc]\nratio-threshold = -1.0\n",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Config = mustConfig(t, c.config) })
			cm, err := TiKVConfigMapWith(tc, TiKVConfigOptions{PiTRRestore: c.overlay})
			if err != nil {
				t.Fatal(err)
			}
			if got := cm.Data[ConfigFileKey]; got != c.want {
				t.Errorf("tikv.toml:\n%s\nwant:\n%s", got, c.want)
			}
			if got := HasPiTRRestoreOverlay(cm); got != c.overlay {
				t.Errorf("HasPiTRRestoreOverlay = %v, want %v", got, c.overlay)
			}
		})
	}
}

func TestTiKVPiTRRestoreOverlayKeepsOperatorSettingsAndForms(t *testing.T) {
	asTOML := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiKV.Config = v1alpha1.NewConfigTOML("[gc]\nratio-threshold = 1.1\n[pessimistic-txn]\nwait-for-lock-timeout = \"1000\"\n")
		tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
	})
	asMap := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiKV.Config = mustConfig(t, `{"gc":{"ratio-threshold":1.1},"pessimistic-txn":{"wait-for-lock-timeout":"1000"}}`)
		tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
	})
	a, err := TiKVConfigMapWith(asTOML, TiKVConfigOptions{PiTRRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := TiKVConfigMapWith(asMap, TiKVConfigOptions{PiTRRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != b.Name || a.Data[ConfigFileKey] != b.Data[ConfigFileKey] {
		t.Errorf("TOML form (%s):\n%s\nmap form (%s):\n%s", a.Name, a.Data[ConfigFileKey], b.Name, b.Data[ConfigFileKey])
	}
	cfg := a.Data[ConfigFileKey]
	for _, want := range []string{"ratio-threshold = -1.0\n", "wait-for-lock-timeout = 1000\n", "ca-path = '/var/lib/tikv-tls/ca.crt'\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestTiKVPiTRRestoreOverlayAndConfigMapName(t *testing.T) {
	cases := map[string]struct {
		strategy v1alpha1.ConfigUpdateStrategy
		renamed  bool // whether the overlay gives the ConfigMap a new name
	}{
		"RollingUpdate: a new hashed name, so the TiKV pods roll to it": {strategy: v1alpha1.ConfigUpdateStrategyRollingUpdate, renamed: true},
		"InPlace: the same ConfigMap is updated and nothing restarts":   {strategy: v1alpha1.ConfigUpdateStrategyInPlace},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.ConfigUpdateStrategy = c.strategy })
			without, err := TiKVConfigMapWith(tc, TiKVConfigOptions{})
			if err != nil {
				t.Fatal(err)
			}
			with, err := TiKVConfigMapWith(tc, TiKVConfigOptions{PiTRRestore: true})
			if err != nil {
				t.Fatal(err)
			}
			if (with.Name != without.Name) != c.renamed {
				t.Errorf("names %q and %q, want renamed=%v", without.Name, with.Name, c.renamed)
			}
			sts, err := TiKVStatefulSet(tc, with, StatefulSetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ConfigMapInUse(sts); got != with.Name {
				t.Errorf("ConfigMapInUse = %q, want %q", got, with.Name)
			}
			// The overlay goes with the Restore: the configuration is the user's again.
			again, err := TiKVConfigMap(tc)
			if err != nil {
				t.Fatal(err)
			}
			if again.Name != without.Name || again.Data[ConfigFileKey] != without.Data[ConfigFileKey] {
				t.Errorf("without the overlay the ConfigMap is %s:\n%s\nwant %s:\n%s", again.Name, again.Data[ConfigFileKey], without.Name, without.Data[ConfigFileKey])
			}
		})
	}
}

func TestHasPiTRRestoreOverlay(t *testing.T) {
	cases := map[string]struct {
		config string // tikv.toml
		want   bool
	}{
		"the overlay's float":                  {config: "[gc]\nratio-threshold = -1.0\n", want: true},
		"an integer -1 a user wrote":           {config: "[gc]\nratio-threshold = -1\n", want: true},
		"TiKV's default":                       {config: "[gc]\nratio-threshold = 1.1\n"},
		"no gc table":                          {config: "[log]\nlevel = 'info'\n"},
		"an empty file":                        {config: ""},
		"a file that is not TOML":              {config: "[gc\n"},
		"gc that is not a table":               {config: "gc = 'off'\n"},
		"ratio-threshold that is not a number": {config: "[gc]\nratio-threshold = '-1'\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cm := &corev1.ConfigMap{Data: map[string]string{ConfigFileKey: c.config}}
			if got := HasPiTRRestoreOverlay(cm); got != c.want {
				t.Errorf("HasPiTRRestoreOverlay(%q) = %v, want %v", c.config, got, c.want)
			}
		})
	}
	if HasPiTRRestoreOverlay(nil) {
		t.Error("a missing ConfigMap has no overlay")
	}
}
