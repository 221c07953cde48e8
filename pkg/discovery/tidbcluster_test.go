package discovery

import (
	"context"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

func TestTidbClustersReadsWhatDiscoveryNeeds(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	tc := &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "basic"},
		Spec: v1alpha1.TidbClusterSpec{
			PD:            &v1alpha1.PDSpec{Replicas: 3},
			ClusterDomain: "cluster.local",
			PDAddresses:   []string{"http://ext:2379"},
			TLSCluster:    &v1alpha1.TLSCluster{Enabled: true},
		},
		Status: v1alpha1.TidbClusterStatus{PD: v1alpha1.PDStatus{
			FailureMembers: map[string]v1alpha1.PDFailureMember{"basic-pd-1": {MemberDeleted: true}, "basic-pd-2": {}},
			PeerMembers:    map[string]v1alpha1.PDMember{"o": {ClientURL: "https://o-pd-0.o-pd-peer.default.svc:2379"}},
		}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc).Build()
	getter := TidbClusters{Reader: c}

	got, err := getter.GetCluster(context.Background(), "default", "basic")
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion == "" {
		t.Error("the resource version must be carried over")
	}
	got.ResourceVersion = ""
	want := &Cluster{
		Replicas: 4, // 3 + one failure member already deleted from PD
		TLS:      true, ClusterDomain: "cluster.local", LocalPD: true,
		PDAddresses: []string{"http://ext:2379"}, PeerClientURLs: []string{"https://o-pd-0.o-pd-peer.default.svc:2379"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}

	if _, err := getter.GetCluster(context.Background(), "default", "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("a missing cluster: %v", err)
	}
}

func TestClusterFromAHeterogeneousCluster(t *testing.T) {
	tc := &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "extra", ResourceVersion: "7"},
		Spec:       v1alpha1.TidbClusterSpec{PD: &v1alpha1.PDSpec{Replicas: 1}, Cluster: &v1alpha1.TidbClusterRef{Namespace: "main", Name: "basic"}},
	}
	got := ClusterFrom(tc)
	if got.Ref == nil || *got.Ref != (pdapi.ClusterRef{Namespace: "main", Name: "basic"}) || got.Replicas != 1 || got.ResourceVersion != "7" {
		t.Errorf("got %#v", got)
	}
}
