// Package features holds the operator's feature gates: the names and defaults v1.6 accepts in
// -features (StableScheduling, AdvancedStatefulSet, VolumeModifying, VolumeReplacing).
//
// A Gates value is a flag.Value, so both tidb-operator and tidb-scheduler register the same
// -features flag and read it back through Enabled. There is no package-level gate set: the
// binaries own their Gates and hand them to the code that needs them, which keeps tests free to
// use different gates side by side.
package features
