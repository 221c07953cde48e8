package manifests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const schedulerComponentDir = "manifests/components/tidb-scheduler"

// The optional tidb-scheduler component, added to the dev overlay as docs/install.md says,
// builds, is accepted by the API server, and its pods pass the namespace's "restricted" pod
// security admission (kube-controller-manager creates them, as for the operator).
func TestDevOverlayWithTheSchedulerComponent(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	component := filepath.Join(root, schedulerComponentDir)
	if _, err := os.Stat(component); os.IsNotExist(err) {
		t.Skipf("%s does not exist yet", schedulerComponentDir)
	}
	dir := t.TempDir()
	relDev, err := filepath.Rel(dir, filepath.Join(root, devDir))
	if err != nil {
		t.Fatal(err)
	}
	relComponent, err := filepath.Rel(dir, component)
	if err != nil {
		t.Fatal(err)
	}
	// What a user's copy of the dev overlay amounts to once the component line is uncommented.
	kustomization := "namespace: " + operatorNS + "\nresources:\n- " + relDev + "\ncomponents:\n- " + relComponent + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	var schedulers []*appsv1.Deployment
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() != operatorName {
			schedulers = append(schedulers, typed[appsv1.Deployment](t, o))
		}
	}
	if len(schedulers) == 0 {
		t.Fatal("the component adds no Deployment")
	}

	cl := withCRDs(t)
	c := cl.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ensureNamespace(ctx, t, c, objs)
	apply(ctx, t, c, objs, true)
	if t.Failed() {
		t.FailNow()
	}
	apply(ctx, t, c, objs, false)
	for _, d := range schedulers {
		var pods corev1.PodList
		err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
			if err := c.List(ctx, &pods, client.InNamespace(operatorNS), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
				return false, err
			}
			return len(pods.Items) > 0 && int32(len(pods.Items)) >= ptrValue(d.Spec.Replicas), nil
		})
		if err != nil {
			var events corev1.EventList
			_ = c.List(context.Background(), &events, client.InNamespace(operatorNS))
			var msgs []string
			for _, e := range events.Items {
				if strings.HasPrefix(e.InvolvedObject.Name, d.Name) {
					msgs = append(msgs, e.Reason+": "+e.Message)
				}
			}
			t.Errorf("Deployment %s: its pods were not created (%v); events:\n%s", d.Name, err, strings.Join(msgs, "\n"))
		}
	}
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}
