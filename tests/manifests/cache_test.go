package manifests

import (
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Building a kustomization takes seconds (the TidbCluster CRD alone is megabytes of YAML), so
// every test of the package shares one build of each directory.
var (
	buildMu    sync.Mutex
	buildCache = map[string][]*unstructured.Unstructured{}
)

// built returns the objects of dir (relative to the repository root), failing the test if it
// does not build. Callers must not modify the objects; deep-copy them first.
func built(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if objs, ok := buildCache[dir]; ok {
		return objs
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatalf("%v", err)
	}
	buildCache[dir] = objs
	return objs
}

// mustFind returns the object of kind and name in objs, failing the test if it is missing.
func mustFind(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o := Find(objs, kind, name)
	if o == nil {
		t.Fatalf("no %s %q in the build", kind, name)
	}
	return o
}
