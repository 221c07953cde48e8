package builders

import (
	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Ports of the components, as v1.6 uses them.
const (
	PDClientPort       int32 = 2379
	PDPeerPort         int32 = 2380
	TiKVServerPort     int32 = 20160
	TiKVStatusPort     int32 = 20180
	TiDBServerPort     int32 = 4000
	TiDBStatusPort     int32 = 10080
	DiscoveryPort      int32 = 10261
	DiscoveryProxyPort int32 = 10262
)

// Keys of the component ConfigMaps.
const (
	ConfigFileKey    = "config-file"
	StartupScriptKey = "startup-script"
)

// Mount paths inside the component containers.
const (
	pdDataMountPath   = "/var/lib/pd"
	tikvDataMountPath = "/var/lib/tikv"
	podInfoMountPath  = "/etc/podinfo"
	scriptMountPath   = "/usr/local/bin"

	clusterClientTLSVolume    = "cluster-client-tls"
	clusterClientTLSMountPath = "/var/lib/cluster-client-tls"
	tidbClientTLSVolume       = "tidb-client-tls"
	tidbClientTLSMountPath    = "/var/lib/tidb-client-tls"
	tidbServerTLSVolume       = "tidb-server-tls"
	tidbServerTLSMountPath    = "/var/lib/tidb-server-tls"
	tidbAuthTokenVolume       = "tidb-auth-token"
	tidbAuthTokenMountPath    = "/var/lib/tidb-auth-token"
	tidbAuthTokenJWKSFile     = "tidb_auth_token_jwks.json"

	slowLogVolume      = "slowlog"
	slowLogDir         = "/var/log/tidb"
	slowLogFileName    = "slowlog"
	slowLogContainer   = "slowlog"
	discoveryContainer = "discovery"
	discoveryCommand   = "/usr/local/bin/tidb-discovery"
)

// Secret keys of a TLS secret.
const (
	tlsCAKey   = "ca.crt"
	tlsCertKey = "tls.crt"
	tlsKeyKey  = "tls.key"
)

// MemberName is the name of a component's StatefulSet, client Service and (InPlace) ConfigMap:
// "<tc>-<component>".
func MemberName(tcName, component string) string { return tcName + "-" + component }

// PeerServiceName is the name of a component's headless Service: "<tc>-<component>-peer".
func PeerServiceName(tcName, component string) string { return tcName + "-" + component + "-peer" }

// DiscoveryName names the discovery Deployment, Service, ServiceAccount, Role and RoleBinding.
func DiscoveryName(tcName string) string { return tcName + "-discovery" }

// ClusterTLSSecretName is the Secret with a component's server and peer certificate when
// tlsCluster is on: "<tc>-<component>-cluster-secret".
func ClusterTLSSecretName(tcName, component string) string {
	return tcName + "-" + component + "-cluster-secret"
}

// ClusterClientTLSSecretName is the operator's own client certificate: "<tc>-cluster-client-secret".
func ClusterClientTLSSecretName(tcName string) string { return tcName + "-cluster-client-secret" }

// TiDBServerTLSSecretName is TiDB's MySQL server certificate: "<tc>-tidb-server-secret".
func TiDBServerTLSSecretName(tcName string) string { return tcName + "-tidb-server-secret" }

// TiDBClientTLSSecretName is the client certificate for MySQL connections: "<tc>-tidb-client-secret".
func TiDBClientTLSSecretName(tcName string) string { return tcName + "-tidb-client-secret" }

// TiDBAuthTokenJWKSSecretName holds the JWKS for token-based authentication.
func TiDBAuthTokenJWKSSecretName(tcName string) string {
	return tcName + "-tidb-auth-token-jwks-secret"
}

// InstanceName is the value of app.kubernetes.io/instance: the cluster's own instance label when it
// has one, else its name.
func InstanceName(tc *v1alpha1.TidbCluster) string {
	if v := tc.Labels[label.InstanceLabelKey]; v != "" {
		return v
	}
	return tc.Name
}

// ComponentLabels are the selector labels of a component's pods.
func ComponentLabels(tc *v1alpha1.TidbCluster, component string) label.Label {
	return label.New().Instance(InstanceName(tc)).Component(component)
}

// scheme is the URL scheme of the cluster's internal endpoints.
func scheme(tc *v1alpha1.TidbCluster) string {
	if tc.IsTLSClusterEnabled() {
		return "https"
	}
	return "http"
}

// clusterDomainSuffix is ".<clusterDomain>" or "".
func clusterDomainSuffix(tc *v1alpha1.TidbCluster) string {
	if tc.Spec.ClusterDomain == "" {
		return ""
	}
	return "." + tc.Spec.ClusterDomain
}
