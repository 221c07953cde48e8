package pdapi

import (
	"sort"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// TargetFor describes where the PD of tc is, from its spec and status.
func TargetFor(tc *v1alpha1.TidbCluster) ClusterTarget {
	t := ClusterTarget{
		Namespace:     tc.Namespace,
		Name:          tc.Name,
		ClusterDomain: tc.Spec.ClusterDomain,
		TLS:           tc.IsTLSClusterEnabled(),
		AcrossK8s:     tc.AcrossK8s(),
		LocalPD:       tc.HasLocalPD(),
		PDAddresses:   tc.Spec.PDAddresses,
	}
	if tc.Heterogeneous() {
		t.Ref = &ClusterRef{Namespace: tc.ClusterRefNamespace(), Name: tc.Spec.Cluster.Name, ClusterDomain: tc.Spec.Cluster.ClusterDomain}
	}
	t.PeerClientURLs = PeerClientURLs(tc)
	return t
}

// PeerClientURLs lists the client URLs of tc's peer members, ordered by member name so that
// fallbacks are tried in a stable order.
func PeerClientURLs(tc *v1alpha1.TidbCluster) []string {
	names := make([]string, 0, len(tc.Status.PD.PeerMembers))
	for name, m := range tc.Status.PD.PeerMembers {
		if m.ClientURL != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	urls := make([]string, 0, len(names))
	for _, name := range names {
		urls = append(urls, tc.Status.PD.PeerMembers[name].ClientURL)
	}
	return urls
}
