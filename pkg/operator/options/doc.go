// Package options holds the command-line options of tidb-operator (the controller manager): every
// flag v1.6's tidb-controller-manager accepted, with the same name, type and default, plus the
// few flags that only exist here because controller-runtime serves probes and metrics itself.
//
// It is a leaf package so that controllers can read their settings (workers, failover periods,
// images, feature gates) without importing the code that builds the manager.
package options
