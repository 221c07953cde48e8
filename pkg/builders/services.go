package builders

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func intOrString(port int32) intstr.IntOrString { return intstr.FromInt32(port) }

func tcpPort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intOrString(port), Protocol: corev1.ProtocolTCP}
}

// peerService is a component's headless Service. It publishes not-ready addresses because members
// must resolve each other's names before they are ready (PD peers form a quorum through them).
// The type is left to the API server's default (ClusterIP), as v1.6 leaves it, so that the spec
// recorded in the last-applied annotation is v1.6's and a taken-over Service is not rewritten.
func peerService(tc *v1alpha1.TidbCluster, component string, ports ...corev1.ServicePort) *corev1.Service {
	sel := ComponentLabels(tc, component)
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(tc, PeerServiceName(tc.Name, component), sel.Copy().UsedBy(label.UsedByPeer).Labels()),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Ports:                    ports,
			Selector:                 sel.Copy().Labels(),
			PublishNotReadyAddresses: true,
		},
	}
}

// PDPeerService is "<tc>-pd-peer": headless, ports tcp-peer-2380 and tcp-peer-2379.
func PDPeerService(tc *v1alpha1.TidbCluster) *corev1.Service {
	return peerService(tc, label.PDComponent,
		tcpPort("tcp-peer-2380", PDPeerPort),
		tcpPort("tcp-peer-2379", PDClientPort))
}

// TiKVPeerService is "<tc>-tikv-peer": headless, port peer 20160.
func TiKVPeerService(tc *v1alpha1.TidbCluster) *corev1.Service {
	return peerService(tc, label.TiKVComponent, tcpPort("peer", TiKVServerPort))
}

// TiDBPeerService is "<tc>-tidb-peer": headless, port status 10080.
func TiDBPeerService(tc *v1alpha1.TidbCluster) *corev1.Service {
	return peerService(tc, label.TiDBComponent, tcpPort("status", TiDBStatusPort))
}

// applyServiceSpec copies the user's client Service settings.
func applyServiceSpec(svc *corev1.Service, s *v1alpha1.ServiceSpec) {
	if s == nil {
		return
	}
	if s.Type != "" {
		svc.Spec.Type = s.Type
	}
	svc.Labels = mergeMaps(s.Labels, svc.Labels)
	svc.Annotations = mergeMaps(s.Annotations)
	if s.ClusterIP != nil {
		svc.Spec.ClusterIP = *s.ClusterIP
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		if s.LoadBalancerIP != nil {
			svc.Spec.LoadBalancerIP = *s.LoadBalancerIP
		}
		svc.Spec.LoadBalancerSourceRanges = append([]string(nil), s.LoadBalancerSourceRanges...)
		svc.Spec.LoadBalancerClass = s.LoadBalancerClass
	}
}

// PDService is "<tc>-pd", the client Service: port client 2379 (name from
// spec.pd.service.portName). The type comes from spec.pd.service, else the deprecated
// spec.services entry named "pd", else ClusterIP.
func PDService(tc *v1alpha1.TidbCluster) *corev1.Service {
	sel := ComponentLabels(tc, label.PDComponent)
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(tc, MemberName(tc.Name, label.PDComponent), sel.Copy().UsedBy(label.UsedByEndUser).Labels()),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Ports:    []corev1.ServicePort{tcpPort("client", PDClientPort)},
			Selector: sel.Copy().Labels(),
		},
	}
	for _, s := range tc.Spec.Services {
		if s.Name == label.PDComponent && s.Type != "" {
			svc.Spec.Type = corev1.ServiceType(s.Type)
		}
	}
	if tc.Spec.PD != nil && tc.Spec.PD.Service != nil {
		ss := tc.Spec.PD.Service
		applyServiceSpec(svc, ss)
		if ss.PortName != nil && *ss.PortName != "" {
			svc.Spec.Ports[0].Name = *ss.PortName
		}
		if ss.Port != nil {
			svc.Spec.Ports[0].Port = *ss.Port
		}
	}
	return svc
}

// TiDBService is "<tc>-tidb", the MySQL Service. As in v1.6 it exists only when
// spec.tidb.service is set (nil otherwise): port mysql-client (spec port, default 4000) to 4000,
// the additional ports, and status 10080 unless exposeStatus is false. Node ports and the external
// traffic policy are applied only to NodePort and LoadBalancer Services, the only types the API
// server accepts them on.
func TiDBService(tc *v1alpha1.TidbCluster) *corev1.Service {
	if tc.Spec.TiDB == nil || tc.Spec.TiDB.Service == nil {
		return nil
	}
	ss := tc.Spec.TiDB.Service
	sel := ComponentLabels(tc, label.TiDBComponent)
	mysql := tcpPort("mysql-client", TiDBServerPort)
	if ss.PortName != nil && *ss.PortName != "" {
		mysql.Name = *ss.PortName
	}
	if ss.Port != nil {
		mysql.Port = *ss.Port
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(tc, MemberName(tc.Name, label.TiDBComponent), sel.Copy().UsedBy(label.UsedByEndUser).Labels()),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: sel.Copy().Labels(),
		},
	}
	applyServiceSpec(svc, &ss.ServiceSpec)
	nodePorts := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	if nodePorts && ss.MySQLNodePort != nil {
		mysql.NodePort = int32(*ss.MySQLNodePort)
	}
	// v1.6 order: the MySQL port, the additional ports, then the status port.
	svc.Spec.Ports = []corev1.ServicePort{mysql}
	for _, p := range ss.AdditionalPorts {
		svc.Spec.Ports = append(svc.Spec.Ports, *p.DeepCopy())
	}
	if ss.ShouldExposeStatus() {
		status := tcpPort("status", TiDBStatusPort)
		if nodePorts && ss.StatusNodePort != nil {
			status.NodePort = int32(*ss.StatusNodePort)
		}
		svc.Spec.Ports = append(svc.Spec.Ports, status)
	}
	if ss.ExternalTrafficPolicy != nil && nodePorts {
		svc.Spec.ExternalTrafficPolicy = *ss.ExternalTrafficPolicy
	}
	return svc
}
