// Package simapi is the contract between the TiDB simulator's admin API and the tests that
// drive it: the JSON types, the paths under /_sim/, and a Go client.
//
// Server and client live together so that a change to one is reviewed with the other. The
// package depends only on the standard library, so tests can import it without pulling in the
// simulator or Kubernetes client libraries.
package simapi
