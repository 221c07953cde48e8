package builders

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the builders' output")

// basicCluster reads the 3 PD / 3 TiKV / 2 TiDB cluster of testdata/basic-tidbcluster.yaml and
// applies the changes given, so each test states only what it varies.
func basicCluster(t *testing.T, mutate ...func(*v1alpha1.TidbCluster)) *v1alpha1.TidbCluster {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "basic-tidbcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tc := &v1alpha1.TidbCluster{}
	if err := yaml.UnmarshalStrict(b, tc); err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	for _, m := range mutate {
		m(tc)
	}
	return tc
}

// mustConfig decodes a config value written as JSON (a string for TOML, an object for a map).
func mustConfig(t *testing.T, js string) *v1alpha1.Config {
	t.Helper()
	c := &v1alpha1.Config{}
	if err := c.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatal(err)
	}
	return c
}

// checkGolden compares obj, as YAML, with testdata/<name>.golden.yaml (rewritten with -update).
func checkGolden(t *testing.T, name string, obj any) {
	t.Helper()
	got, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/builders/ -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (rerun with -update if the change is intended):\n%s", name, path, got)
	}
}
