package pdapi

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestTargetFor(t *testing.T) {
	cases := map[string]struct {
		// tc is the TidbCluster.
		tc *v1alpha1.TidbCluster
		// want is the derived target.
		want ClusterTarget
	}{
		"a cluster with its own PD": {
			tc: &v1alpha1.TidbCluster{
				ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "basic"},
				Spec: v1alpha1.TidbClusterSpec{
					PD:            &v1alpha1.PDSpec{},
					ClusterDomain: "cluster.local",
					TLSCluster:    &v1alpha1.TLSCluster{Enabled: true},
				},
				Status: v1alpha1.TidbClusterStatus{PD: v1alpha1.PDStatus{PeerMembers: map[string]v1alpha1.PDMember{
					"z-pd-0": {Name: "z-pd-0", ClientURL: "https://z-pd-0.z-pd-peer.db.svc:2379"},
					"a-pd-0": {Name: "a-pd-0", ClientURL: "https://a-pd-0.a-pd-peer.db.svc:2379"},
				}}},
			},
			want: ClusterTarget{
				Namespace: "db", Name: "basic", ClusterDomain: "cluster.local", TLS: true, LocalPD: true,
				PeerClientURLs: []string{"https://a-pd-0.a-pd-peer.db.svc:2379", "https://z-pd-0.z-pd-peer.db.svc:2379"},
			},
		},
		"a heterogeneous cluster refers to the other cluster, in its own namespace by default": {
			tc: &v1alpha1.TidbCluster{
				ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "extra"},
				Spec:       v1alpha1.TidbClusterSpec{Cluster: &v1alpha1.TidbClusterRef{Name: "basic"}, AcrossK8s: true, PDAddresses: []string{"http://ext:2379"}},
			},
			want: ClusterTarget{
				Namespace: "db", Name: "extra", AcrossK8s: true, Ref: &ClusterRef{Namespace: "db", Name: "basic"},
				PDAddresses: []string{"http://ext:2379"}, PeerClientURLs: []string{},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := TargetFor(tc.tc); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}
