package manifests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// RepoRoot returns the repository root: the closest parent of the working directory holding
// go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run from inside the repository")
		}
		dir = parent
	}
}

// Build runs `kustomize build` on dir (absolute, or relative to the repository root) and returns
// the objects in output order.
func Build(dir string) ([]*unstructured.Unstructured, error) {
	return BuildFS(filesys.MakeFsOnDisk(), dir)
}

// BuildFS is Build on a given file system, for tests that add a kustomization of their own
// (filesys.MakeFsInMemory does not reach the repository, so they layer an overlay on disk).
func BuildFS(fs filesys.FileSystem, dir string) ([]*unstructured.Unstructured, error) {
	if !filepath.IsAbs(dir) {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(root, dir)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(fs, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, res := range resMap.Resources() {
		// Through JSON, so that numbers become int64 and float64 as in objects read from the
		// API (kustomize's own maps hold int, which apimachinery cannot deep-copy).
		raw, err := res.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, res.CurId(), err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, res.CurId(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// Find returns the object of the given kind and name, or nil.
func Find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}
