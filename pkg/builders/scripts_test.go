package builders

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// The component images run the scripts with a POSIX shell that also knows [[ ]], source and
// pipefail (bash or busybox ash); bash is what a test machine reliably has.
func needBash(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	return p
}

func TestStartScriptsParse(t *testing.T) {
	bash := needBash(t)
	variants := map[string]func(*v1alpha1.TidbCluster){
		"basic": nil,
		"TLS":   func(tc *v1alpha1.TidbCluster) { tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true} },
		"across Kubernetes clusters": func(tc *v1alpha1.TidbCluster) {
			tc.Spec.AcrossK8s = true
			tc.Spec.ClusterDomain = "cluster.local"
		},
		"plugins, arguments, init wait and sub-directories": func(tc *v1alpha1.TidbCluster) {
			tc.Spec.TiDB.Plugins = []string{"audit-1", "whitelist-1"}
			tc.Spec.TiDB.Arguments = []string{"--log-level=warn"}
			tc.Spec.PD.InitWaitTime = 20
			tc.Spec.PD.DataSubDir = "data"
			tc.Spec.TiKV.DataSubDir = "data"
		},
	}
	for name, mutate := range variants {
		t.Run(name, func(t *testing.T) {
			var muts []func(*v1alpha1.TidbCluster)
			if mutate != nil {
				muts = append(muts, mutate)
			}
			tc := basicCluster(t, muts...)
			for comp, script := range map[string]string{"pd": PDStartScript(tc), "tikv": TiKVStartScript(tc), "tidb": TiDBStartScript(tc)} {
				cmd := exec.Command(bash, "-n")
				cmd.Stdin = strings.NewReader(script)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s script does not parse: %v\n%s\n%s", comp, err, out, script)
				}
			}
		})
	}
}

// scriptRun runs a start script against stub commands: paths under /etc/podinfo, the data
// directory and the server binary are redirected into a temporary directory, and nslookup, wget
// and sleep are replaced by stubs. The server stub records its arguments.
type scriptRun struct {
	t      *testing.T
	dir    string
	script string
}

func newScriptRun(t *testing.T, script, dataDir, server string) *scriptRun {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"bin", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, "bin", name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stub("sleep", `echo "$@" >> "`+dir+`/sleep.log"`)
	stub("nslookup", `[ -f "`+dir+`/dns-fails" ] && exit 1; exit 0`)
	stub("wget", `echo "$@" >> "`+dir+`/wget.log"; cat "`+dir+`/discovery-answer"`)
	if err := os.WriteFile(filepath.Join(dir, "server"), []byte("#!/bin/sh\necho \"$@\" > \""+dir+"/server-args\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "annotations"), []byte("prometheus.io/scrape=\"true\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(script, "/etc/podinfo/annotations", filepath.Join(dir, "annotations"))
	if dataDir != "" {
		s = strings.ReplaceAll(s, dataDir, filepath.Join(dir, "data"))
	}
	s = strings.ReplaceAll(s, "exec "+server, "exec "+filepath.Join(dir, "server"))
	return &scriptRun{t: t, dir: dir, script: s}
}

func (r *scriptRun) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *scriptRun) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir, name))
	return strings.TrimSpace(string(b))
}

// run executes the script with the given environment and returns its combined output and error.
func (r *scriptRun) run(env ...string) (string, error) {
	r.t.Helper()
	cmd := exec.Command(needBash(r.t), "-c", r.script)
	cmd.Env = append([]string{"PATH=" + filepath.Join(r.dir, "bin") + ":" + os.Getenv("PATH"), "HOSTNAME=fallback-host"}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPDStartScriptBehaviour(t *testing.T) {
	pdEnv := []string{"POD_NAME=basic-pd-0", "NAMESPACE=demo", "PEER_SERVICE_NAME=basic-pd-peer"}
	base := "--data-dir=DATA --name=basic-pd-0 --peer-urls=http://0.0.0.0:2380 --advertise-peer-urls=http://basic-pd-0.basic-pd-peer.demo.svc:2380 --client-urls=http://0.0.0.0:2379 --advertise-client-urls=http://basic-pd-0.basic-pd-peer.demo.svc:2379 --config=/etc/pd/pd.toml"
	newURL := "http://basic-discovery.demo.svc:10261/new/" + base64.StdEncoding.EncodeToString([]byte("basic-pd-0.basic-pd-peer.demo.svc:2380\n"))
	cases := map[string]struct {
		mutate    func(*v1alpha1.TidbCluster) // change to the basic cluster
		prepare   func(r *scriptRun)          // state before the start
		wantArgs  string                      // pd-server arguments (DATA = the data directory)
		wantWget  string                      // discovery request, "" for none
		wantSleep string                      // a line the sleep stub must have logged
		wantErr   bool                        // the script must fail
	}{
		"with a cluster domain and TLS the member is named by its full DNS name over https": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.ClusterDomain = "cluster.local"
				tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
			},
			prepare:  func(r *scriptRun) { r.write("data/member/wal/0.wal", "x") },
			wantArgs: "--data-dir=DATA --name=basic-pd-0.basic-pd-peer.demo.svc.cluster.local --peer-urls=https://0.0.0.0:2380 --advertise-peer-urls=https://basic-pd-0.basic-pd-peer.demo.svc.cluster.local:2380 --client-urls=https://0.0.0.0:2379 --advertise-client-urls=https://basic-pd-0.basic-pd-peer.demo.svc.cluster.local:2379 --config=/etc/pd/pd.toml",
		},
		"the bootstrapping member waits initWaitTime seconds": {
			mutate:    func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.InitWaitTime = 25 },
			prepare:   func(r *scriptRun) { r.write("discovery-answer", "--initial-cluster=basic-pd-0=http://x:2380") },
			wantArgs:  base + " --initial-cluster=basic-pd-0=http://x:2380",
			wantWget:  "-qO- -T 3 " + newURL,
			wantSleep: "25",
		},
		"a new member asks discovery and uses its answer": {
			prepare: func(r *scriptRun) {
				r.write("discovery-answer", "--initial-cluster=basic-pd-0=http://basic-pd-0.basic-pd-peer.demo.svc:2380")
			},
			wantArgs: base + " --initial-cluster=basic-pd-0=http://basic-pd-0.basic-pd-peer.demo.svc:2380",
			wantWget: "-qO- -T 3 " + newURL,
		},
		"a member with a join file joins those peers without asking": {
			prepare: func(r *scriptRun) {
				r.write("data/join", "basic-pd-0=http://basic-pd-0.basic-pd-peer.demo.svc:2380,basic-pd-1=http://basic-pd-1.basic-pd-peer.demo.svc:2380")
			},
			wantArgs: base + " --join=http://basic-pd-0.basic-pd-peer.demo.svc:2380,http://basic-pd-1.basic-pd-peer.demo.svc:2380",
		},
		"a member with a WAL restarts as it is": {
			prepare:  func(r *scriptRun) { r.write("data/member/wal/0.wal", "x") },
			wantArgs: base,
		},
		"a name that never resolves makes the start fail": {
			prepare: func(r *scriptRun) { r.write("dns-fails", "") },
			wantErr: true,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var muts []func(*v1alpha1.TidbCluster)
			if c.mutate != nil {
				muts = append(muts, c.mutate)
			}
			tc := basicCluster(t, muts...)
			r := newScriptRun(t, PDStartScript(tc), "/var/lib/pd", "/pd-server")
			c.prepare(r)
			out, err := r.run(pdEnv...)
			if c.wantErr {
				if err == nil {
					t.Fatalf("script succeeded:\n%s", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			want := strings.ReplaceAll(c.wantArgs, "DATA", filepath.Join(r.dir, "data"))
			if got := r.read("server-args"); got != want {
				t.Errorf("pd-server args\n got %s\nwant %s", got, want)
			}
			if got := r.read("wget.log"); got != c.wantWget {
				t.Errorf("discovery request %q, want %q", got, c.wantWget)
			}
			if c.wantSleep != "" && !slices.Contains(strings.Split(r.read("sleep.log"), "\n"), c.wantSleep) {
				t.Errorf("sleeps %q lack %q", r.read("sleep.log"), c.wantSleep)
			}
		})
	}
}

func TestTiKVAndTiDBStartScriptBehaviour(t *testing.T) {
	cases := map[string]struct {
		mutate func(*v1alpha1.TidbCluster) // change to the basic cluster
		tikv   bool                        // TiKV (else TiDB)
		env    []string                    // container environment
		want   string                      // server arguments
	}{
		"TiKV advertises its peer name, status address and capacity": {
			tikv: true,
			env:  []string{"POD_NAME=basic-tikv-0", "NAMESPACE=demo", "CLUSTER_NAME=basic", "HEADLESS_SERVICE_NAME=basic-tikv-peer", "CAPACITY=100GB"},
			want: "--pd=http://basic-pd:2379 --advertise-addr=basic-tikv-0.basic-tikv-peer.demo.svc:20160 --addr=0.0.0.0:20160 --status-addr=0.0.0.0:20180 --advertise-status-addr=basic-tikv-0.basic-tikv-peer.demo.svc:20180 --data-dir=/var/lib/tikv --capacity=100GB --config=/etc/tikv/tikv.toml",
		},
		"TiKV passes STORE_LABELS and falls back to the host name": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.EnableDynamicConfiguration = nil
				tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
				tc.Spec.ClusterDomain = "cluster.local"
			},
			tikv: true,
			env:  []string{"NAMESPACE=demo", "CLUSTER_NAME=basic", "HEADLESS_SERVICE_NAME=basic-tikv-peer", "CAPACITY=0", "STORE_LABELS=zone=a"},
			want: "--pd=https://basic-pd:2379 --advertise-addr=fallback-host.basic-tikv-peer.demo.svc.cluster.local:20160 --addr=0.0.0.0:20160 --status-addr=0.0.0.0:20180 --data-dir=/var/lib/tikv --capacity=0 --config=/etc/tikv/tikv.toml --labels zone=a",
		},
		"TiKV of a cluster without PD uses the referenced cluster's PD": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.PD = nil
				tc.Spec.Cluster = &v1alpha1.TidbClusterRef{Name: "main", Namespace: "other"}
				tc.Spec.EnableDynamicConfiguration = nil
			},
			tikv: true,
			env:  []string{"POD_NAME=basic-tikv-0", "NAMESPACE=demo", "CLUSTER_NAME=basic", "HEADLESS_SERVICE_NAME=basic-tikv-peer", "CAPACITY=0"},
			want: "--pd=http://main-pd.other:2379 --advertise-addr=basic-tikv-0.basic-tikv-peer.demo.svc:20160 --addr=0.0.0.0:20160 --status-addr=0.0.0.0:20180 --data-dir=/var/lib/tikv --capacity=0 --config=/etc/tikv/tikv.toml",
		},
		"TiDB advertises its peer name and finds PD": {
			env:  []string{"POD_NAME=basic-tidb-1", "NAMESPACE=demo", "CLUSTER_NAME=basic", "HEADLESS_SERVICE_NAME=basic-tidb-peer", "BINLOG_ENABLED=false", "SLOW_LOG_FILE="},
			want: "--store=tikv --advertise-address=basic-tidb-1.basic-tidb-peer.demo.svc --host=0.0.0.0 --path=basic-pd:2379 --config=/etc/tidb/tidb.toml",
		},
		"TiDB adds binlog, slow log, plugins and arguments": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiDB.Plugins = []string{"audit-1"}
				tc.Spec.TiDB.Arguments = []string{"--log-level=warn"}
			},
			env:  []string{"POD_NAME=basic-tidb-1", "NAMESPACE=demo", "CLUSTER_NAME=basic", "HEADLESS_SERVICE_NAME=basic-tidb-peer", "BINLOG_ENABLED=true", "SLOW_LOG_FILE=/var/log/tidb/slowlog"},
			want: "--store=tikv --advertise-address=basic-tidb-1.basic-tidb-peer.demo.svc --host=0.0.0.0 --path=basic-pd:2379 --config=/etc/tidb/tidb.toml --enable-binlog=true --log-slow-query=/var/log/tidb/slowlog --plugin-dir /plugins --plugin-load audit-1 --log-level=warn",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var muts []func(*v1alpha1.TidbCluster)
			if c.mutate != nil {
				muts = append(muts, c.mutate)
			}
			tc := basicCluster(t, muts...)
			var r *scriptRun
			if c.tikv {
				r = newScriptRun(t, TiKVStartScript(tc), "", "/tikv-server")
			} else {
				r = newScriptRun(t, TiDBStartScript(tc), "", "/tidb-server")
			}
			out, err := r.run(c.env...)
			if err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			if got := r.read("server-args"); got != c.want {
				t.Errorf("args\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestStartScriptsVerifyPDAcrossKubernetes(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.AcrossK8s = true })
	r := newScriptRun(t, TiDBStartScript(tc), "", "/tidb-server")
	r.write("discovery-answer", "http://basic-pd.demo:2379")
	out, err := r.run("POD_NAME=basic-tidb-0", "NAMESPACE=demo", "CLUSTER_NAME=basic", "HEADLESS_SERVICE_NAME=basic-tidb-peer")
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, out)
	}
	wantURL := "http://basic-discovery.demo:10261/verify/" + base64.StdEncoding.EncodeToString([]byte("http://basic-pd:2379\n"))
	if got := r.read("wget.log"); got != "-qO- -T 3 "+wantURL {
		t.Errorf("verify request %q, want %q", got, wantURL)
	}
	if got := r.read("server-args"); !strings.Contains(got, "--path=basic-pd.demo:2379 ") {
		t.Errorf("TiDB must use the verified PD address without scheme: %s", got)
	}
}
