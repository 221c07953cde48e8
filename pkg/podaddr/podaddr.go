package podaddr

import "fmt"

// Pod identifies a component pod of a TidbCluster.
type Pod struct {
	Namespace string
	// Cluster is the TidbCluster name.
	Cluster string
	// Name is the pod name, "<cluster>-<component>-<ordinal>".
	Name string
	// ClusterDomain is spec.clusterDomain.
	ClusterDomain string
	// TLS is spec.tlsCluster.enabled.
	TLS bool
}

// Scheme is "https" with cluster TLS, else "http".
func Scheme(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

// PeerHost is "<pod>.<cluster>-<component>-peer.<ns>", without the cluster domain: the part
// every address the pod advertises contains.
func (p Pod) PeerHost(component string) string {
	return fmt.Sprintf("%s.%s-%s-peer.%s", p.Name, p.Cluster, component, p.Namespace)
}

// URL is "<scheme>://<pod>.<cluster>-<component>-peer.<ns>[.svc.<domain>]:<port>".
func (p Pod) URL(component string, port int) string {
	host := p.PeerHost(component)
	if p.ClusterDomain != "" {
		host += ".svc." + p.ClusterDomain
	}
	return fmt.Sprintf("%s://%s:%d", Scheme(p.TLS), host, port)
}
