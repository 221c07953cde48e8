// Package predicates holds tidb-scheduler's placement decisions as pure functions: given a pod,
// its TidbCluster's numbers, the candidate nodes and the pods already placed, they say which
// nodes may take the pod, how to score them and why, without talking to the API server.
//
// The rules are v1.6's:
//
//   - HA (PD and TiKV): no topology may end up holding a PD quorum, and TiKV spreads so that no
//     topology holds more than ceil(N/3) stores once three or more topologies exist; within the
//     allowed topologies the emptiest win, so pods spread evenly.
//   - The scheduling lock: one pod of a component is placed at a time, tracked by the
//     tidb.pingcap.com/pod-scheduling annotation on the pod's data PVC.
//   - StableScheduling (TiDB): a recreated TiDB pod goes back to the node the TidbCluster status
//     recorded for it.
//
// Beyond v1.6, Scores ranks nodes of emptier topologies (and emptier nodes within a topology)
// higher, and every decision carries a message naming the rule and the counts, which the
// extender records as an event on the pod. Keeping the rules here, separate from HTTP and the
// API client, lets table tests cover every edge cheaply and lets the extender run them under
// any concurrency without shared state.
package predicates
