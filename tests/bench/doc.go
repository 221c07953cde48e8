// Package bench holds the operator's benchmarks that need a real control plane: how long a
// TidbCluster takes from apply to Ready on the simulated cluster and how many API requests the
// operator spends on it, the same for a rolling upgrade of every component, and how much memory the operator's informer cache takes when the
// cluster runs many pods the operator does not manage.
//
// The benchmarks measure one run each (run them with -benchtime=1x) and report their figures
// with b.ReportMetric; `make bench` runs them and docs/benchmarks.md records the results. The
// package's non-test files hold the measuring tools (a request-counting round tripper, heap
// sampling, reconcile-time gathering), which have their own unit tests.
//
// The operator's PD, TiKV and TiDB clients reach the in-process simulator through
// HTTP_PROXY, which TestMain sets before any HTTP client of the process exists: Go reads the
// proxy environment only once.
package bench
