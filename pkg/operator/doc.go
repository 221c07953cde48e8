// Package operator assembles tidb-operator's controller manager: it reads the start-up
// environment, builds a controller-runtime manager that behaves like v1.6's controller manager
// (leader election on a lease named after the Helm release, metrics and pprof on :6060, watches
// limited to one namespace unless cluster scoped, custom resources filtered by -selector, a
// periodic resync) and sets up the registered controllers on it.
//
// The controllers themselves live in their own packages; Controllers is the one list that names
// them, so adding a controller is one entry there.
package operator
