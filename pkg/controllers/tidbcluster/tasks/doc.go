// Package tasks holds the steps of a TidbCluster reconcile (see ../builder.go for their order)
// and the pure decisions they follow (decide.go): when a component may start, how replicas move,
// when a PD member or a TiKV store may be removed, and what the Ready condition says.
//
// A step reads and writes the reconcile's State: the cluster as read, the status being computed
// in memory, and what PD answered. Only the last step writes status, once.
package tasks
