// Package tidbcluster is the TidbCluster controller: it runs PD, TiKV and TiDB for each
// TidbCluster, keeps the discovery service its PD pods bootstrap through, scales components
// safely through PD, and reports what PD and TiDB say in the cluster's status.
//
// controller.go wires the watches; builder.go lists the steps of one reconcile in order; the
// steps and the decisions they follow are in package tasks.
package tidbcluster
