package manifests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

var (
	crdOnce sync.Once
	crdErr  error
)

// withCRDs returns the shared cluster with our CRDs (from the built dev overlay) and Istio's
// installed and served.
func withCRDs(t *testing.T) *cluster.Cluster {
	t.Helper()
	cl := cluster.Shared(t)
	objs := built(t, devDir)
	crdOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		crdErr = installCRDs(ctx, cl.Client(), objs)
	})
	if crdErr != nil {
		t.Fatalf("installing the CRDs: %v", crdErr)
	}
	return cl
}

func installCRDs(ctx context.Context, c client.Client, overlay []*unstructured.Unstructured) error {
	path, err := IstioCRDs()
	if err != nil {
		return err
	}
	istio, err := readObjects(path)
	if err != nil {
		return err
	}
	var crds []*unstructured.Unstructured
	for _, o := range append(overlay, istio...) {
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o)
		}
	}
	if len(istio) == 0 {
		return fmt.Errorf("%s holds no objects", path)
	}
	for _, o := range crds {
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.ForceOwnership, client.FieldOwner(fieldManager))
		if err != nil {
			return fmt.Errorf("apply CRD %s: %w", o.GetName(), err)
		}
	}
	for _, o := range crds {
		var pending string
		err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			// Read unstructured: the harness's scheme has no apiextensions types.
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
			if err := c.Get(ctx, client.ObjectKey{Name: o.GetName()}, live); err != nil {
				return false, err
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, &crd); err != nil {
				return false, err
			}
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			pending = crd.Name
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", pending, err)
		}
	}
	return nil
}

// readObjects decodes every document of a YAML file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 1<<20)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}
