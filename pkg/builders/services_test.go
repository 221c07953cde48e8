package builders

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

type port struct {
	name     string
	port     int32
	target   int32
	nodePort int32
}

func ports(svc *corev1.Service) []port {
	var out []port
	for _, p := range svc.Spec.Ports {
		if p.Protocol != corev1.ProtocolTCP {
			return nil
		}
		out = append(out, port{p.Name, p.Port, int32(p.TargetPort.IntValue()), p.NodePort})
	}
	return out
}

func TestPeerServices(t *testing.T) {
	tc := basicCluster(t)
	cases := map[string]struct {
		svc   *corev1.Service // built Service
		name  string          // expected name
		comp  string          // component
		ports []port          // expected ports
	}{
		"PD peer Service carries 2380 and 2379": {
			svc: PDPeerService(tc), name: "basic-pd-peer", comp: "pd",
			ports: []port{{"tcp-peer-2380", 2380, 2380, 0}, {"tcp-peer-2379", 2379, 2379, 0}},
		},
		"TiKV peer Service carries peer 20160": {
			svc: TiKVPeerService(tc), name: "basic-tikv-peer", comp: "tikv",
			ports: []port{{"peer", 20160, 20160, 0}},
		},
		"TiDB peer Service carries status 10080": {
			svc: TiDBPeerService(tc), name: "basic-tidb-peer", comp: "tidb",
			ports: []port{{"status", 10080, 10080, 0}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := c.svc
			if s.Name != c.name || s.Spec.ClusterIP != "None" || !s.Spec.PublishNotReadyAddresses {
				t.Errorf("%s clusterIP %q publishNotReady %v: want headless and publishing not-ready pods", s.Name, s.Spec.ClusterIP, s.Spec.PublishNotReadyAddresses)
			}
			if !reflect.DeepEqual(ports(s), c.ports) {
				t.Errorf("ports %+v, want %+v", ports(s), c.ports)
			}
			sel := ComponentLabels(tc, c.comp).Labels()
			if !reflect.DeepEqual(s.Spec.Selector, sel) {
				t.Errorf("selector %v", s.Spec.Selector)
			}
			if s.Labels["app.kubernetes.io/used-by"] != "peer" || s.Labels["app.kubernetes.io/component"] != c.comp {
				t.Errorf("labels %v", s.Labels)
			}
		})
	}
}

func TestPDService(t *testing.T) {
	cases := map[string]struct {
		mutate   func(*v1alpha1.TidbCluster) // change to the basic cluster
		wantType corev1.ServiceType          // Service type
		ports    []port                      // ports
		ann      map[string]string           // annotations
	}{
		"by default a ClusterIP Service with port client 2379": {
			wantType: corev1.ServiceTypeClusterIP, ports: []port{{"client", 2379, 2379, 0}},
		},
		"the deprecated spec.services still sets the type": {
			mutate:   func(tc *v1alpha1.TidbCluster) { tc.Spec.Services = []v1alpha1.Service{{Name: "pd", Type: "NodePort"}} },
			wantType: corev1.ServiceTypeNodePort, ports: []port{{"client", 2379, 2379, 0}},
		},
		"spec.pd.service sets type, port name and annotations": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.Services = []v1alpha1.Service{{Name: "pd", Type: "NodePort"}}
				tc.Spec.PD.Service = &v1alpha1.ServiceSpec{
					Type: corev1.ServiceTypeLoadBalancer, PortName: new("http-client"),
					Annotations: map[string]string{"lb": "internal"},
				}
			},
			wantType: corev1.ServiceTypeLoadBalancer, ports: []port{{"http-client", 2379, 2379, 0}},
			ann: map[string]string{"lb": "internal"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t)
			if c.mutate != nil {
				c.mutate(tc)
			}
			s := PDService(tc)
			if s.Name != "basic-pd" || s.Spec.Type != c.wantType {
				t.Errorf("%s type %q, want basic-pd %q", s.Name, s.Spec.Type, c.wantType)
			}
			if !reflect.DeepEqual(ports(s), c.ports) {
				t.Errorf("ports %+v, want %+v", ports(s), c.ports)
			}
			if !reflect.DeepEqual(s.Annotations, c.ann) {
				t.Errorf("annotations %v, want %v", s.Annotations, c.ann)
			}
			if s.Labels["app.kubernetes.io/used-by"] != "end-user" || !reflect.DeepEqual(s.Spec.Selector, ComponentLabels(tc, "pd").Labels()) {
				t.Errorf("labels %v selector %v", s.Labels, s.Spec.Selector)
			}
		})
	}
}

func TestTiDBService(t *testing.T) {
	cases := map[string]struct {
		service *v1alpha1.TiDBServiceSpec // spec.tidb.service
		want    []port                    // nil: no Service at all
		check   func(*testing.T, *corev1.Service)
	}{
		"no spec.tidb.service means no Service, as in v1.6": {
			service: nil, want: nil,
		},
		"an empty spec exposes mysql-client 4000 and status 10080": {
			service: &v1alpha1.TiDBServiceSpec{},
			want:    []port{{"mysql-client", 4000, 4000, 0}, {"status", 10080, 10080, 0}},
		},
		"exposeStatus false leaves the status port out; port and name are the user's, the target stays 4000": {
			service: &v1alpha1.TiDBServiceSpec{
				ServiceSpec:  v1alpha1.ServiceSpec{Port: new(int32(3306)), PortName: new("mysql")},
				ExposeStatus: new(false),
			},
			want: []port{{"mysql", 3306, 4000, 0}},
		},
		"a NodePort Service keeps the requested node ports, with the additional ports before status as in v1.6": {
			service: &v1alpha1.TiDBServiceSpec{
				ServiceSpec:           v1alpha1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Labels: map[string]string{"team": "db"}},
				MySQLNodePort:         new(30400),
				StatusNodePort:        new(30080),
				ExternalTrafficPolicy: new(corev1.ServiceExternalTrafficPolicyLocal),
				AdditionalPorts:       []corev1.ServicePort{{Name: "extra", Port: 9000, TargetPort: intstr.FromInt32(9000), Protocol: corev1.ProtocolTCP}},
			},
			want: []port{{"mysql-client", 4000, 4000, 30400}, {"extra", 9000, 9000, 0}, {"status", 10080, 10080, 30080}},
			check: func(t *testing.T, s *corev1.Service) {
				if s.Spec.Type != corev1.ServiceTypeNodePort || s.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
					t.Errorf("type %q policy %q", s.Spec.Type, s.Spec.ExternalTrafficPolicy)
				}
				if s.Labels["team"] != "db" || s.Labels["app.kubernetes.io/used-by"] != "end-user" {
					t.Errorf("labels %v", s.Labels)
				}
			},
		},
		"node ports are ignored on a ClusterIP Service": {
			service: &v1alpha1.TiDBServiceSpec{MySQLNodePort: new(30400)},
			want:    []port{{"mysql-client", 4000, 4000, 0}, {"status", 10080, 10080, 0}},
		},
		"a LoadBalancer gets its IP, source ranges and class": {
			service: &v1alpha1.TiDBServiceSpec{ServiceSpec: v1alpha1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, LoadBalancerIP: new("10.0.0.9"),
				LoadBalancerSourceRanges: []string{"10.0.0.0/8"}, LoadBalancerClass: new("internal"),
			}},
			want: []port{{"mysql-client", 4000, 4000, 0}, {"status", 10080, 10080, 0}},
			check: func(t *testing.T, s *corev1.Service) {
				if s.Spec.LoadBalancerIP != "10.0.0.9" || len(s.Spec.LoadBalancerSourceRanges) != 1 || *s.Spec.LoadBalancerClass != "internal" {
					t.Errorf("spec %+v", s.Spec)
				}
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiDB.Service = c.service })
			s := TiDBService(tc)
			if c.want == nil {
				if s != nil {
					t.Fatalf("got a Service %+v", s)
				}
				return
			}
			if s == nil {
				t.Fatal("no Service")
			}
			if s.Name != "basic-tidb" || !reflect.DeepEqual(s.Spec.Selector, ComponentLabels(tc, "tidb").Labels()) {
				t.Errorf("name %q selector %v", s.Name, s.Spec.Selector)
			}
			if !reflect.DeepEqual(ports(s), c.want) {
				t.Errorf("ports %+v, want %+v", ports(s), c.want)
			}
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
}
