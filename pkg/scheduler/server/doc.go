// Package server is tidb-scheduler's HTTP side: the kube-scheduler extender endpoints
// (POST /scheduler/filter, /scheduler/preempt, /scheduler/prioritize), /healthz, and a separate
// listener for /metrics and /debug/pprof.
//
// The placement decisions are behind the Extender interface; this package only speaks the wire
// format (k8s.io/kube-scheduler/extender/v1 types, whose JSON keys are the Go field names) and
// maps outcomes to status codes: 400 for a body that does not decode, 500 when the extender
// returns an error. Without an Extender the extender routes are not mounted at all, so a
// misconfigured kube-scheduler gets 404 rather than a fake answer.
package server
