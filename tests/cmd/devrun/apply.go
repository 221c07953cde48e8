package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newClient returns a client that reads the cluster's API discovery lazily, so that kinds
// installed after it was made (the CRDs) are found.
func newClient(cfg *rest.Config) (client.Client, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return c, nil
}

// readManifests decodes every object of the YAML files matching pattern (multi-document files
// and JSON included), in file name order.
func readManifests(pattern string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no manifests match %s", pattern)
	}
	sort.Strings(files)
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("decode %s: %w", f, err)
			}
			if len(u.Object) == 0 {
				continue // an empty document, e.g. after a trailing ---
			}
			if u.GetKind() == "" || u.GetAPIVersion() == "" {
				return nil, fmt.Errorf("%s: an object without apiVersion or kind", f)
			}
			objs = append(objs, u)
		}
	}
	return objs, nil
}

// applyAll server-side applies objs, taking over fields other managers set (force), and puts
// namespaced objects without a namespace into defaultNamespace. It returns "kind/ns/name" of
// each object.
func applyAll(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, defaultNamespace string) ([]string, error) {
	var names []string
	for _, u := range objs {
		if u.GetNamespace() == "" {
			namespaced, err := c.IsObjectNamespaced(u)
			if err != nil {
				return names, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
			}
			if namespaced {
				u.SetNamespace(defaultNamespace)
			}
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return names, fmt.Errorf("apply %s %s: %w", u.GetKind(), describe(u), err)
		}
		names = append(names, u.GetKind()+"/"+describe(u))
	}
	return names, nil
}

func describe(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}

// waitEstablished waits until every CustomResourceDefinition among objs is Established, so that
// objects of its kind can be created right after.
func waitEstablished(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" {
			continue
		}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(u.GroupVersionKind())
			if err := c.Get(ctx, client.ObjectKey{Name: u.GetName()}, got); err != nil {
				return false, nil //nolint:nilerr // not yet visible: keep polling
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, raw := range conds {
				cond, _ := raw.(map[string]any)
				if cond["type"] == "Established" && cond["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CustomResourceDefinition %s is not Established: %w", u.GetName(), err)
		}
	}
	return nil
}

// ensureNamespace creates the namespace if it does not exist and reports whether it did.
func ensureNamespace(ctx context.Context, c client.Client, name string) (bool, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := c.Create(ctx, ns)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsAlreadyExists(err):
		return false, nil
	default:
		return false, fmt.Errorf("create namespace %s: %w", name, err)
	}
}

// installCRDs server-side applies every CRD of manifests/crd and waits until they are served.
func installCRDs(ctx context.Context, c client.Client, l layout, progress io.Writer) error {
	crds, err := readManifests(filepath.Join(l.root, "manifests", "crd", "*.yaml"))
	if err != nil {
		return err
	}
	say(progress, "devrun: installing %d CRDs from manifests/crd (server-side apply, field manager %s)", len(crds), FieldManager)
	if _, err := applyAll(ctx, c, crds, ""); err != nil {
		return err
	}
	return waitEstablished(ctx, c, crds)
}
