// Package extender is tidb-scheduler's placement logic behind the HTTP frame of package
// server: it implements server.Extender by reading the pod's TidbCluster, its component's pods
// and PVCs and the relevant nodes from the API server, running the pure rules of package
// predicates, taking the per-component scheduling lock, and recording each decision as an event
// on the pod.
//
// Reads go to the API server rather than an informer cache: a decision made on a cache that
// has not yet seen the previous pod's binding would count one pod too few, which is exactly the
// mistake HA placement exists to prevent. Requests for different components or clusters run in
// parallel; only requests for the same component of the same cluster are serialised, by a lock
// keyed on namespace/cluster/component, because they read and move the same scheduling lock.
package extender
