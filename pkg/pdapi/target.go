package pdapi

import (
	"fmt"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/podaddr"
)

// ClientPort is PD's client port, where its HTTP API and embedded etcd listen.
const ClientPort = 2379

// Scheme is "https" for clusters with TLS between components, "http" otherwise.
func Scheme(tls bool) string { return podaddr.Scheme(tls) }

// ServiceURL is the base URL of the PD service of TidbCluster name in namespace:
// "<scheme>://<name>-pd.<ns>:2379", or "<scheme>://<name>-pd.<ns>.svc.<domain>:2379" once a
// cluster domain is set. headless selects the "<name>-pd-peer" service, which resolves to the
// member pods themselves and is what works across Kubernetes clusters.
func ServiceURL(namespace, name, clusterDomain string, tls, headless bool) string {
	svc := name + "-pd"
	if headless {
		svc += "-peer"
	}
	if clusterDomain == "" {
		return fmt.Sprintf("%s://%s.%s:%d", Scheme(tls), svc, namespace, ClientPort)
	}
	return fmt.Sprintf("%s://%s.%s.svc.%s:%d", Scheme(tls), svc, namespace, clusterDomain, ClientPort)
}

// ClusterRef points at another TidbCluster (spec.cluster), whose PD a heterogeneous cluster
// without its own PD uses.
type ClusterRef struct {
	Namespace     string
	Name          string
	ClusterDomain string
}

// ClusterTarget is what the operator knows about where a TidbCluster's PD runs. The controller
// fills it from the TidbCluster; keeping it a plain struct keeps URL selection a pure function.
type ClusterTarget struct {
	// Namespace and Name of the TidbCluster. TLS client credentials always come from this
	// cluster, even when its PD is the referenced cluster's.
	Namespace string
	Name      string
	// ClusterDomain is spec.clusterDomain.
	ClusterDomain string
	// TLS is spec.tlsCluster.enabled.
	TLS bool
	// AcrossK8s is spec.acrossK8s: PD is reached through the headless peer service.
	AcrossK8s bool
	// LocalPD is spec.pd != nil.
	LocalPD bool
	// Ref is spec.cluster; used when the cluster has no PD of its own.
	Ref *ClusterRef
	// PeerClientURLs are the client URLs of status.pd.peerMembers (PD members that belong to
	// other TidbClusters of the same PD cluster), tried when the service is unhealthy.
	PeerClientURLs []string
	// PDAddresses is spec.pdAddresses, external PD endpoints. They are tried after the peer
	// members, and first when the cluster has neither a PD nor a reference to one.
	PDAddresses []string
}

// PrimaryURL is the base URL used for the cluster's PD when nothing is known to be wrong.
func (t ClusterTarget) PrimaryURL() string {
	switch {
	case t.LocalPD:
		return ServiceURL(t.Namespace, t.Name, t.ClusterDomain, t.TLS, t.AcrossK8s)
	case t.Ref != nil:
		ns := t.Ref.Namespace
		if ns == "" {
			ns = t.Namespace
		}
		return ServiceURL(ns, t.Ref.Name, t.Ref.ClusterDomain, t.TLS, t.AcrossK8s)
	case len(t.PDAddresses) > 0:
		return strings.TrimRight(t.PDAddresses[0], "/")
	default:
		return ServiceURL(t.Namespace, t.Name, t.ClusterDomain, t.TLS, t.AcrossK8s)
	}
}

// FallbackURLs are the base URLs tried, in order, when the primary one fails its health check.
func (t ClusterTarget) FallbackURLs() []string {
	primary := t.PrimaryURL()
	seen := map[string]bool{primary: true}
	var out []string
	for _, u := range append(append([]string{}, t.PeerClientURLs...), t.PDAddresses...) {
		u = strings.TrimRight(u, "/")
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	return out
}
