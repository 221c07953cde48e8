package discovery

import (
	"context"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// Cluster is what discovery needs to know about a TidbCluster (or DMCluster). The binary's
// ClusterGetter fills it from the object; tests fill it directly.
type Cluster struct {
	// ResourceVersion of the object. Any change (spec or status) starts a new round of
	// questions: the set of pods that asked is forgotten.
	ResourceVersion string
	// Replicas is the desired member count including failover replacements
	// (PDStsDesiredReplicas; for DM the desired dm-master replicas).
	Replicas int
	// TLS is spec.tlsCluster.enabled: peer URLs use https.
	TLS bool
	// ClusterDomain is spec.clusterDomain; with it (or AcrossK8s) members are named by FQDN.
	ClusterDomain string
	// AcrossK8s is spec.acrossK8s.
	AcrossK8s bool
	// LocalPD is spec.pd != nil.
	LocalPD bool
	// Ref is spec.cluster: the cluster joins that cluster's PD and never bootstraps its own.
	Ref *pdapi.ClusterRef
	// PDAddresses is spec.pdAddresses: external PD endpoints to join.
	PDAddresses []string
	// PeerClientURLs are the client URLs of status.pd.peerMembers.
	PeerClientURLs []string
}

// ClusterGetter loads a cluster by namespace and name.
type ClusterGetter interface {
	GetCluster(ctx context.Context, namespace, name string) (*Cluster, error)
}

// ClusterGetterFunc adapts a function to ClusterGetter.
type ClusterGetterFunc func(ctx context.Context, namespace, name string) (*Cluster, error)

// GetCluster calls f.
func (f ClusterGetterFunc) GetCluster(ctx context.Context, namespace, name string) (*Cluster, error) {
	return f(ctx, namespace, name)
}

// PD is the part of PD's API that discovery reads; pdapi.Client satisfies it.
type PD interface {
	Members(ctx context.Context) (*pdapi.MembersInfo, error)
	Health(ctx context.Context) ([]pdapi.MemberHealth, error)
}

// PDDialer returns a PD client for baseURL, with the credentials of target's cluster.
type PDDialer func(ctx context.Context, target pdapi.ClusterTarget, baseURL string) (PD, error)

// FactoryDialer dials through a pdapi.Factory (shared transport, TLS, proxy settings).
func FactoryDialer(f *pdapi.Factory) PDDialer {
	return func(ctx context.Context, target pdapi.ClusterTarget, baseURL string) (PD, error) {
		return f.ForURL(ctx, target, baseURL)
	}
}

// DMSource gives discovery what it needs for DM-master pods. The DM-master API client lives
// with the DM controller; the server only needs these two reads.
type DMSource interface {
	// GetDMCluster loads a DMCluster; Replicas is the desired dm-master count.
	GetDMCluster(ctx context.Context, namespace, name string) (*Cluster, error)
	// MasterPeerURLs lists the peer URLs (port 8291) of the current, alive dm-masters.
	MasterPeerURLs(ctx context.Context, namespace, name string, c *Cluster) ([]string, error)
}

func (c *Cluster) target(namespace, name string) pdapi.ClusterTarget {
	return pdapi.ClusterTarget{
		Namespace:      namespace,
		Name:           name,
		ClusterDomain:  c.ClusterDomain,
		TLS:            c.TLS,
		AcrossK8s:      c.AcrossK8s,
		LocalPD:        c.LocalPD,
		Ref:            c.Ref,
		PeerClientURLs: c.PeerClientURLs,
		PDAddresses:    c.PDAddresses,
	}
}

// pdURLs are the places to read PD's members from, in order: the cluster's own PD service,
// the referenced cluster's PD, then the peer members.
func (c *Cluster) pdURLs(namespace, name string) []string {
	var urls []string
	if c.LocalPD {
		urls = append(urls, pdapi.ServiceURL(namespace, name, c.ClusterDomain, c.TLS, c.AcrossK8s))
	}
	if c.Ref != nil {
		ns := c.Ref.Namespace
		if ns == "" {
			ns = namespace
		}
		urls = append(urls, pdapi.ServiceURL(ns, c.Ref.Name, c.Ref.ClusterDomain, c.TLS, c.AcrossK8s))
	}
	return append(urls, c.PeerClientURLs...)
}
