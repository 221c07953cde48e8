// Package crd checks this project's CustomResourceDefinitions (manifests/crd) as the API server
// sees them, and against PingCAP TiDB Operator v1.6.3's CRDs.
//
// The promise being tested is drop-in compatibility: every manifest a v1.6 user wrote must be
// accepted and stored unchanged, and the validation we add on top must reject the mistakes it
// is meant to reject with a message that says what to fix. So the tests apply the examples/
// catalogue and a catalogue of invalid and edge-case manifests (testdata/) to a real
// kube-apiserver started with envtest, and walk the upstream openAPIV3Schema next to ours.
//
// The helpers in this package (manifest decoding, the "input is a subset of stored" comparator,
// the schema walkers) are plain functions over decoded YAML so that they can be tested without
// an API server and reused by other test packages.
package crd
