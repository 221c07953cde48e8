// Package task runs a reconcile as a list of small named steps.
//
// A step returns one of four outcomes with a message: Complete (go on), Fail (an error; stop),
// Retry (stop and come back after a delay) or Wait (stop until something changes; the caller's
// periodic resync is the backstop). Steps compose with If and IfBreak instead of nested ifs, and
// a runner executes the list, then the "finally" steps that must run whatever happened before
// (status is computed and written there), and logs one summary line per reconcile.
//
// Summary.Result is the only place that turns outcomes into a controller-runtime result, so no
// controller builds a ctrl.Result or chooses a requeue delay itself.
package task
