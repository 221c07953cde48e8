package operator

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The informers of the busy built-in kinds hold only what the operators manage, and Secrets
// are never cached: memory must not grow with unrelated workloads (v1.6 was OOM-killed there).
func TestTheCacheHoldsOnlyManagedObjectsAndNoSecrets(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	o, err := ManagerOptions(testConfig(t), scheme)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]client.Object{
		"Pod": &corev1.Pod{}, "PersistentVolumeClaim": &corev1.PersistentVolumeClaim{}, "Service": &corev1.Service{},
		"ConfigMap": &corev1.ConfigMap{}, "StatefulSet": &appsv1.StatefulSet{}, "Deployment": &appsv1.Deployment{}, "Job": &batchv1.Job{},
		"ServiceAccount": &corev1.ServiceAccount{}, "Role": &rbacv1.Role{}, "RoleBinding": &rbacv1.RoleBinding{},
	}
	for kind, proto := range want {
		var found bool
		for obj, by := range o.Cache.ByObject {
			if fmt.Sprintf("%T", obj) != fmt.Sprintf("%T", proto) {
				continue
			}
			found = true
			if by.Label == nil {
				t.Fatalf("%s informer has no label selector", kind)
			}
			for _, mb := range []string{"tidb-operator", "backup-operator", "restore-operator", "backup-schedule-operator"} {
				if !by.Label.Matches(labels.Set{"app.kubernetes.io/managed-by": mb}) {
					t.Errorf("%s selector %s does not match managed-by=%s", kind, by.Label, mb)
				}
			}
			if by.Label.Matches(labels.Set{"app": "web"}) {
				t.Errorf("%s selector %s matches an unrelated object", kind, by.Label)
			}
		}
		if !found {
			t.Errorf("no cache restriction for %s", kind)
		}
	}
	if o.Client.Cache == nil || len(o.Client.Cache.DisableFor) != 1 {
		t.Fatalf("client cache options %+v, want Secrets read uncached", o.Client.Cache)
	}
	if _, ok := o.Client.Cache.DisableFor[0].(*corev1.Secret); !ok {
		t.Fatalf("uncached kinds %T, want *v1.Secret", o.Client.Cache.DisableFor[0])
	}
}
