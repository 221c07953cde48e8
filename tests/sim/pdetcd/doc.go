// Package pdetcd holds the end-to-end tests of PD's embedded etcd as the simulator provides it:
// the operator's checkpoint reader (pkg/backup/checkpoint) and the br double
// (tests/cmd/brdouble with BRDOUBLE_ETCD) reach a real etcd through the simulator's CONNECT
// tunnel, named only by simulated PD addresses that DNS cannot resolve, while the simulated TiKV
// advances log backup checkpoints.
//
// The tests live in a package of their own because they set HTTPS_PROXY for the whole test
// process before anything reads it: Go's http.ProxyFromEnvironment, which grpc-go uses to
// choose its proxy, caches the environment on first use, so a package whose other tests
// already made a proxied request would silently ignore the variable.
package pdetcd
