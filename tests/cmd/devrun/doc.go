// Command devrun is what `make run` executes: the quickest way to see the operator at work.
//
// Without KUBECONFIG it starts the test harness's local cluster (a real API server, controller
// manager and scheduler with kwok fake nodes), the TiDB simulator that plays PD, TiKV and TiDB
// for the fake pods, builds the operator from source and runs it against that cluster, and
// applies examples/basic. With KUBECONFIG set it installs the CRDs into that cluster and runs
// the operator from source against it, nothing else.
//
// Everything it writes goes under <repo>/.run: the admin kubeconfig of the local cluster, the
// operator binary and the logs. Ctrl-C or SIGTERM stops everything it started.
//
// The work is done by Run, so that a test can drive the same path `make run` takes.
package main
