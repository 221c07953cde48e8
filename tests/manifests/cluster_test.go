package manifests

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const fieldManager = "manifests-test"

// apply server-side applies objs (a copy of each), optionally as a dry run.
func apply(ctx context.Context, t testing.TB, c client.Client, objs []*unstructured.Unstructured, dryRun bool) {
	t.Helper()
	for _, o := range objs {
		opts := []client.ApplyOption{client.ForceOwnership, client.FieldOwner(fieldManager)}
		if dryRun {
			opts = append(opts, client.DryRunAll)
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), opts...); err != nil {
			t.Errorf("apply %s %s/%s (dry run %t): %v", o.GetKind(), o.GetNamespace(), o.GetName(), dryRun, err)
		}
	}
}

// ensureNamespace applies the overlay's Namespace for real: dry runs of namespaced objects are
// refused in a namespace that does not exist.
func ensureNamespace(ctx context.Context, t testing.TB, c client.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	apply(ctx, t, c, []*unstructured.Unstructured{mustFind(t, objs, "Namespace", operatorNS)}, false)
}

func TestEveryObjectOfTheDevOverlayIsAcceptedByTheAPIServer(t *testing.T) {
	c := withCRDs(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs := built(t, devDir)
	ensureNamespace(ctx, t, c, objs)
	apply(ctx, t, c, objs, true)
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true
	}
	// The Istio kinds must have been checked against their CRD schemas, not skipped.
	for _, k := range []string{"PeerAuthentication", "Telemetry", "Sidecar", "NetworkPolicy", "CustomResourceDefinition"} {
		if !kinds[k] {
			t.Errorf("the overlay has no %s to validate", k)
		}
	}

	// The server does reject what the schemas forbid: a misspelt mTLS mode is refused.
	bad := mustFind(t, objs, "PeerAuthentication", "default").DeepCopy()
	if err := unstructured.SetNestedField(bad.Object, "STRICTLY", "spec", "mtls", "mode"); err != nil {
		t.Fatal(err)
	}
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(bad), client.FieldOwner(fieldManager), client.DryRunAll)
	if !apierrors.IsInvalid(err) {
		t.Errorf("a PeerAuthentication with mode STRICTLY was not refused as invalid: %v", err)
	}
}

func TestDevOverlayRunsTwoAdmittedOperatorPodsInDifferentZones(t *testing.T) {
	cl := withCRDs(t)
	c := cl.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	objs := built(t, devDir)
	ensureNamespace(ctx, t, c, objs)
	apply(ctx, t, c, objs, false)
	if t.Failed() {
		t.FailNow()
	}

	// kube-controller-manager creates the pods through the ReplicaSet, so they pass pod
	// admission (Pod Security "restricted" among it) as they would in a real cluster.
	var pods corev1.PodList
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.List(ctx, &pods, client.InNamespace(operatorNS), client.MatchingLabels(operatorLabels)); err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == 2 && len(pods.Items) == 2, nil
	})
	if err != nil {
		var events corev1.EventList
		_ = c.List(context.Background(), &events, client.InNamespace(operatorNS))
		var msgs []string
		for _, e := range events.Items {
			msgs = append(msgs, e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name+": "+e.Reason+": "+e.Message)
		}
		t.Fatalf("want 2 running operator pods, have %d: %v; events:\n%s", len(pods.Items), err, strings.Join(msgs, "\n"))
	}
	zones := map[string]string{}
	for _, p := range pods.Items {
		var node corev1.Node
		if err := c.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, &node); err != nil {
			t.Fatal(err)
		}
		zone := node.Labels[corev1.LabelTopologyZone]
		if other, ok := zones[zone]; ok {
			t.Errorf("pods %s and %s are both in zone %s", other, p.Name, zone)
		}
		zones[zone] = p.Name
	}

	// Admission really enforces "restricted" here, so the operator pods passing it means
	// something: a pod asking for root and privilege escalation is refused.
	bad := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "not-restricted", Namespace: operatorNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "busybox",
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true), RunAsUser: ptr.To[int64](0)},
		}}},
	}
	err = c.Create(ctx, bad, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("a pod violating the restricted standard was not refused by Pod Security admission: %v", err)
	}
}
