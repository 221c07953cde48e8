package discovery

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// ClusterFrom is what discovery needs to know about tc.
func ClusterFrom(tc *v1alpha1.TidbCluster) *Cluster {
	t := pdapi.TargetFor(tc)
	return &Cluster{
		ResourceVersion: tc.ResourceVersion,
		Replicas:        int(tc.PDStsDesiredReplicas()),
		TLS:             t.TLS,
		ClusterDomain:   t.ClusterDomain,
		AcrossK8s:       t.AcrossK8s,
		LocalPD:         t.LocalPD,
		Ref:             t.Ref,
		PDAddresses:     t.PDAddresses,
		PeerClientURLs:  t.PeerClientURLs,
	}
}

// TidbClusters is the ClusterGetter of the discovery binary: it reads the TidbCluster from the
// API server on every question (the discovery Role allows get on its own cluster only, so a
// cache would not work, and the questions are rare).
type TidbClusters struct {
	Reader client.Reader
}

// GetCluster reads TidbCluster namespace/name.
func (k TidbClusters) GetCluster(ctx context.Context, namespace, name string) (*Cluster, error) {
	tc := &v1alpha1.TidbCluster{}
	if err := k.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, tc); err != nil {
		return nil, err
	}
	return ClusterFrom(tc), nil
}
