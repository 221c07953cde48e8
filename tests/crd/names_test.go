package crd

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

const servedVersion = "v1alpha1"

// crdPair is one kind's CRD upstream and ours.
type crdPair struct {
	kind     string
	upstream *apiextensionsv1.CustomResourceDefinition
	ours     *apiextensionsv1.CustomResourceDefinition
}

// crdPairs loads both CRD sets and fails for every upstream kind we do not define.
func crdPairs(t *testing.T) []crdPair {
	t.Helper()
	upstream := upstreamCRDs(t)
	ours, err := LoadCRDs(ourCRDDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []crdPair
	for _, kind := range sortedKeys(upstream) {
		if ours[kind] == nil {
			t.Errorf("manifests/crd has no CRD for kind %s", kind)
			continue
		}
		pairs = append(pairs, crdPair{kind: kind, upstream: upstream[kind], ours: ours[kind]})
	}
	return pairs
}

// column is the part of a printer column kubectl users see.
type column struct {
	Name     string
	JSONPath string
	Priority int32
}

func columns(v *apiextensionsv1.CustomResourceDefinitionVersion) []column {
	if v == nil {
		return nil
	}
	var out []column
	for _, c := range v.AdditionalPrinterColumns {
		out = append(out, column{Name: c.Name, JSONPath: c.JSONPath, Priority: c.Priority})
	}
	return out
}

// TestCRDNamesColumnsAndSubresources compares each of our CRD files with v1.6.3 (pure YAML):
// the same group, plural, scope and short names, the same printer columns in the same order,
// a status subresource, and served and stored as v1alpha1.
func TestCRDNamesColumnsAndSubresources(t *testing.T) {
	for _, p := range crdPairs(t) {
		t.Run(p.kind, func(t *testing.T) {
			up, ours := p.upstream.Spec, p.ours.Spec
			if ours.Group != up.Group || ours.Names.Plural != up.Names.Plural || ours.Scope != up.Scope {
				t.Errorf("group/plural/scope %s/%s/%s, want %s/%s/%s",
					ours.Group, ours.Names.Plural, ours.Scope, up.Group, up.Names.Plural, up.Scope)
			}
			if want := fmt.Sprintf("%s.%s", up.Names.Plural, up.Group); p.ours.Name != want {
				t.Errorf("CRD named %q, want %q", p.ours.Name, want)
			}
			for _, short := range up.Names.ShortNames {
				if !slices.Contains(ours.Names.ShortNames, short) {
					t.Errorf("short name %q missing (have %v)", short, ours.Names.ShortNames)
				}
			}
			ourVersion := Version(p.ours, servedVersion)
			if ourVersion == nil || !ourVersion.Served || !ourVersion.Storage {
				t.Fatalf("%s is not served and stored", servedVersion)
			}
			want, got := columns(Version(p.upstream, servedVersion)), columns(ourVersion)
			if !slices.Equal(got, want) {
				t.Errorf("printer columns differ from v1.6.3:\n  have %+v\n  want %+v", got, want)
			}
			if ourVersion.Subresources == nil || ourVersion.Subresources.Status == nil {
				t.Error("no status subresource")
			}
		})
	}
}

// TestServedNamesAndColumns asks the API server itself, after installing our CRDs: discovery
// must list every resource with its v1.6 short names and a status subresource, and a Table
// listing (what kubectl get prints) must have the v1.6 columns.
func TestServedNamesAndColumns(t *testing.T) {
	cfg := apiServer(t)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resources, err := dc.ServerResourcesForGroupVersion(pingcapGroup + "/" + servedVersion)
	if err != nil {
		t.Fatalf("discovery of %s/%s: %v", pingcapGroup, servedVersion, err)
	}
	served := map[string]metav1.APIResource{}
	for _, r := range resources.APIResources {
		served[r.Name] = r
	}
	restClient, err := rest.UnversionedRESTClientFor(tableConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range crdPairs(t) {
		plural := p.upstream.Spec.Names.Plural
		t.Run(p.kind, func(t *testing.T) {
			r, ok := served[plural]
			if !ok {
				t.Fatalf("%s is not served", plural)
			}
			for _, short := range p.upstream.Spec.Names.ShortNames {
				if !slices.Contains(r.ShortNames, short) {
					t.Errorf("served short names %v lack %q", r.ShortNames, short)
				}
			}
			if _, ok := served[plural+"/status"]; !ok {
				t.Errorf("%s/status is not served", plural)
			}

			raw, err := restClient.Get().AbsPath("/apis", pingcapGroup, servedVersion, "namespaces", "default", plural).
				SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(testContext(t))
			if err != nil {
				t.Fatalf("listing %s as a table: %v", plural, err)
			}
			var table metav1.Table
			if err := json.Unmarshal(raw, &table); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range table.ColumnDefinitions {
				got = append(got, c.Name)
			}
			want := expectedTableColumns(Version(p.upstream, servedVersion))
			if !slices.Equal(got, want) {
				t.Errorf("kubectl get columns\n  have %s\n  want %s", strings.Join(got, ", "), strings.Join(want, ", "))
			}
		})
	}
}

// expectedTableColumns is what the API server prints for a CRD version: Name, then the printer
// columns, or Name and Age when the CRD declares none.
func expectedTableColumns(v *apiextensionsv1.CustomResourceDefinitionVersion) []string {
	cols := []string{"Name"}
	if len(v.AdditionalPrinterColumns) == 0 {
		return append(cols, "Age")
	}
	for _, c := range v.AdditionalPrinterColumns {
		cols = append(cols, c.Name)
	}
	return cols
}

func tableConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &metav1.SchemeGroupVersion
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return c
}

// etcdRequestLimit is etcd's default --max-request-bytes (1.5 MiB). A CRD whose JSON is larger
// cannot be stored by a default etcd, and the apiserver's own client gives up at 2 MiB.
const etcdRequestLimit = 3 << 19

// TestCRDsFitInEtcd keeps each CRD small enough to be created on a cluster with default etcd
// settings (pure YAML): a CRD that does not fit is rejected at install time, typically only in
// production because test setups often raise the limit.
func TestCRDsFitInEtcd(t *testing.T) {
	for _, p := range crdPairs(t) {
		raw, err := json.Marshal(p.ours)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > etcdRequestLimit {
			t.Errorf("%s: the CRD is %d bytes as JSON, over etcd's default limit of %d (drop descriptions with crd:maxDescLen=0?)",
				p.kind, len(raw), etcdRequestLimit)
		}
	}
}
