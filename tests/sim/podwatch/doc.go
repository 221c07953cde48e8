// Package podwatch feeds the TiDB simulator's model from a Kubernetes cluster: it watches the
// operator's pods (label app.kubernetes.io/managed-by=tidb-operator) and tells the model which
// PD, TiKV, TiDB, TiFlash, TiCDC and PD micro-service pods exist and whether they run.
//
// In the test clusters pods are fake (kwok marks them Running without starting containers), so
// this is how the simulator learns that "PD started" or "a TiKV store went away".
//
// It also watches TidbCluster objects, when the API serves them, for three things a pod does
// not tell: spec.clusterDomain (advertised addresses), spec.cluster (a heterogeneous cluster
// whose TiKV and TiDB join another cluster's PD) and spec.pd.config (PD's initial replication
// and schedule settings, applied until PD first starts, as PD itself only reads its file
// then). Deleting a TidbCluster makes the model forget that cluster.
package podwatch
