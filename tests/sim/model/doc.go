// Package model is the state machine behind the TiDB simulator: what PD, TiKV, TiDB, TiFlash
// and TiCDC would report for each TidbCluster, given the pods that run.
//
// The model knows nothing about HTTP or Kubernetes. Pods are fed in (UpsertPod, DeletePod) by
// an adapter or by tests; HTTP handlers read and change a cluster through Model.Cluster.
//
// Time is injected through Clock. Everything that takes time in a real cluster (region and
// leader movement, store heartbeats, TiCDC table draining) advances in fixed ticks
// (Options.TickInterval) that are replayed lazily whenever the model is used, so a test that
// steps a FakeClock sees exactly the same sequence every run.
//
// What is modelled, in short:
//   - PD members: a PD pod joins as a member the first time it runs (if a leader exists to
//     add it, or it is the first member) and stays a member, healthy only while its pod runs,
//     until it is deleted through the API. A deleted member stays out while the same pod
//     instance (UID) keeps running; a new pod instance joins again with a new member ID. The
//     leader is the lowest-named healthy member, elected only while a quorum is healthy.
//   - Stores: a running TiKV or TiFlash pod registers a store (IDs allocated by PD, counting
//     from 1) once PD has a leader; the first TiKV store bootstraps the cluster and holds all
//     regions. A store keeps its ID across pod restarts; a new pod instance at the address of
//     a Tombstone store registers a new store. Without heartbeats a store turns Disconnected
//     after Options.DisconnectAfter and Down after the configured max-store-down-time.
//   - Regions: explicit regions with peers and a leader. Each tick PD moves leaders off
//     evicted stores, moves peers off Offline and Down stores, adds missing replicas, and
//     balances regions and leaders (when the balance schedulers are enabled), each at a
//     configurable rate. An Offline store becomes Tombstone once it holds no region.
package model
