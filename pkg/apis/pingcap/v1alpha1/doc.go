// Package v1alpha1 holds the pingcap.com/v1alpha1 API types: TidbCluster, the backup kinds
// (Backup, Restore, BackupSchedule, CompactBackup), TidbInitializer, TidbMonitor, TidbDashboard,
// TidbNGMonitoring, DMCluster and TidbClusterAutoScaler.
//
// The JSON shapes are those of PingCAP TiDB Operator v1.6, so manifests written for it keep working
// unchanged. On purpose, the generated CRDs add what v1.6 lacked: a status subresource on every kind,
// enums for closed sets of values, and CEL rules for the invariants users most often get wrong.
//
// This package depends only on k8s.io/api and k8s.io/apimachinery, so the operator, the
// backup-manager, the scheduler extender and external tools can all import it cheaply.
//
// +kubebuilder:object:generate=true
// +groupName=pingcap.com
package v1alpha1
