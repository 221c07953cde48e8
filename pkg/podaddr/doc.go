// Package podaddr says how the operator reaches one pod of a TidbCluster component: through
// the component's headless peer Service, as "<pod>.<cluster>-<component>-peer.<namespace>"
// (plus ".svc.<clusterDomain>" when the cluster sets one), with https when cluster TLS is on.
// The TiKV, TiDB, TiCDC and TiFlash clients all address pods this way.
package podaddr
