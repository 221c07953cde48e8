// Package scheduler holds the end-to-end tests of tidb-scheduler: a real kube-scheduler,
// configured with the KubeSchedulerConfiguration that manifests/components/tidb-scheduler ships
// (only the extender's port and the kubeconfig differ), calls the tidb-scheduler extender
// running in the test process, and places StatefulSet-like PD, TiKV and TiDB pods on the kwok
// nodes of the local cluster (3 zones × 2 hosts).
//
// The TidbCluster controller is not involved: the tests create the TidbCluster objects, the
// pods (with v1.6's labels and schedulerName: tidb-scheduler) and their PVCs themselves, and
// write status.tidb.members where a test needs it.
package scheduler
