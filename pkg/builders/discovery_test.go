package builders

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestDiscoveryObjects(t *testing.T) {
	tc := basicCluster(t)
	labels := ComponentLabels(tc, "discovery").Labels()
	for _, name := range []string{
		DiscoveryDeployment(tc, "img").Name, DiscoveryService(tc).Name, DiscoveryServiceAccount(tc).Name,
		DiscoveryRole(tc).Name, DiscoveryRoleBinding(tc).Name,
	} {
		if name != "basic-discovery" {
			t.Errorf("name %q, want basic-discovery", name)
		}
	}

	t.Run("the Deployment runs one tidb-discovery pod with the v1.6 env and ports", func(t *testing.T) {
		d := DiscoveryDeployment(tc, "pingcap/tidb-operator:v1.6.3")
		if *d.Spec.Replicas != 1 || !reflect.DeepEqual(d.Spec.Selector.MatchLabels, labels) || !reflect.DeepEqual(d.Labels, labels) {
			t.Errorf("replicas %d selector %v labels %v", *d.Spec.Replicas, d.Spec.Selector.MatchLabels, d.Labels)
		}
		spec := d.Spec.Template.Spec
		if spec.ServiceAccountName != "basic-discovery" || len(spec.Containers) != 1 {
			t.Fatalf("serviceAccount %q containers %d", spec.ServiceAccountName, len(spec.Containers))
		}
		c := spec.Containers[0]
		if c.Name != "discovery" || c.Image != "pingcap/tidb-operator:v1.6.3" || !slices.Equal(c.Command, []string{"/usr/local/bin/tidb-discovery"}) {
			t.Errorf("container %s %s %v", c.Name, c.Image, c.Command)
		}
		want := map[string]string{"MY_POD_NAMESPACE": "fieldRef:metadata.namespace", "TC_NAME": "basic", "TZ": "UTC"}
		if got := envMap(c); !reflect.DeepEqual(got, want) {
			t.Errorf("env %v, want %v", got, want)
		}
		if got := portNames(c); !reflect.DeepEqual(got, map[string]int32{"discovery": 10261, "proxy": 10262}) {
			t.Errorf("ports %v", got)
		}
		if c.LivenessProbe != nil {
			t.Error("no liveness probe unless spec.discovery.livenessProbe is set")
		}
	})

	t.Run("the Service exposes discovery 10261 and proxy 10262", func(t *testing.T) {
		s := DiscoveryService(tc)
		want := []port{{"discovery", 10261, 10261, 0}, {"proxy", 10262, 10262, 0}}
		if !reflect.DeepEqual(ports(s), want) || !reflect.DeepEqual(s.Spec.Selector, labels) {
			t.Errorf("ports %+v selector %v", ports(s), s.Spec.Selector)
		}
	})

	t.Run("the Role reads only this TidbCluster and no Secrets", func(t *testing.T) {
		r := DiscoveryRole(tc)
		want := []rbacv1.PolicyRule{
			{APIGroups: []string{"pingcap.com"}, Resources: []string{"tidbclusters"}, ResourceNames: []string{"basic"}, Verbs: []string{"get"}},
		}
		if !reflect.DeepEqual(r.Rules, want) {
			t.Errorf("rules %+v", r.Rules)
		}
	})

	t.Run("the RoleBinding binds the Role to the ServiceAccount of its namespace, as v1.6 writes it", func(t *testing.T) {
		b := DiscoveryRoleBinding(tc)
		if len(b.Subjects) != 1 || b.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Name: "basic-discovery"}) {
			t.Errorf("subjects %+v", b.Subjects)
		}
		if b.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "basic-discovery"}) {
			t.Errorf("roleRef %+v", b.RoleRef)
		}
	})

	t.Run("with TLS it mounts the PD certificate and says so", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
			tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
			tc.Spec.Discovery = &v1alpha1.DiscoverySpec{
				LivenessProbe: &v1alpha1.Probe{PeriodSeconds: new(int32(7))},
				ComponentSpec: v1alpha1.ComponentSpec{
					AdditionalContainers: []corev1.Container{{Name: "discovery", Env: []corev1.EnvVar{{Name: "X", Value: "1"}}}},
				},
			}
		})
		d := DiscoveryDeployment(tc, "img")
		c := d.Spec.Template.Spec.Containers[0]
		env := envMap(c)
		if env["TC_TLS_ENABLED"] != "true" || env["X"] != "1" || env["TC_NAME"] != "basic" {
			t.Errorf("env %v", env)
		}
		if mountMap(c)["pd-tls"] != "/var/lib/pd-tls" {
			t.Errorf("mounts %v", mountMap(c))
		}
		v := d.Spec.Template.Spec.Volumes
		if len(v) != 1 || v[0].Secret == nil || v[0].Secret.SecretName != "basic-pd-cluster-secret" {
			t.Errorf("volumes %+v", v)
		}
		p := c.LivenessProbe
		if p == nil || p.TCPSocket == nil || p.TCPSocket.Port.IntValue() != 10261 || p.PeriodSeconds != 7 {
			t.Errorf("liveness probe %+v", p)
		}
	})
}
