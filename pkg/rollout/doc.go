// Package rollout decides whether the pod template the operator renders for a workload (a
// component's StatefulSet, the discovery Deployment) replaces the live one.
//
// The rule is that only the user restarts pods. A live template is replaced when the spec asks
// for something it does not implement; a difference that comes from the operator's own rendering
// (a new start script, a changed default, a new annotation, a template another operator wrote)
// is kept, reported, and applied with the next change of the spec or on request.
//
// To tell the two apart, every workload the operator writes records the inputs it was rendered
// from (InputsAnnotation). Rendering the recorded inputs and the current ones with the same,
// current renderer shows whether the spec changed for this workload: equal renderings mean
// every difference with the live template is the renderer's. A workload without a record (one
// that TiDB Operator v1.6 created, or an older version of this operator) is compared with the
// spec field by field (Mismatches): image, resources, environment, volumes, storage, placement
// and the configuration as parsed TOML. When it implements the spec it is adopted as it is.
//
// Decide is the pure decision; Differences and Mismatches are the pure comparisons feeding it
// and the reports. Nothing here reads the API server.
package rollout
