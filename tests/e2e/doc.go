// Package e2e runs the operator against a whole simulated Kubernetes cluster: a real API
// server, controller manager and scheduler, kwok nodes in three zones, and the TiDB simulator
// standing in for PD, TiKV and TiDB behind an HTTP forward proxy.
//
// The operator runs inside the test process, built the way the tidb-operator binary builds it
// (package operator), so every test can count the API requests it makes and read what it asked
// PD for from the simulator's call log. Each scenario gets its own namespace and its own
// operator watching only that namespace, which lets the scenarios run in parallel without
// seeing each other's writes. Each operator acts as the ServiceAccount of its namespace,
// holding only the ClusterRole and Role generated into manifests/base, so a scenario fails with
// the refused request when the generated RBAC misses a rule the operator needs.
//
// The tests need the control-plane binaries (make testbin) and are skipped with -short.
package e2e
