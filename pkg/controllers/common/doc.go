// Package common holds what every controller of the operator shares: the one helper through
// which child objects are created and updated (Apply, with the fixed field manager
// "tidb-operator"), the status writer (compute in memory, write once through the status
// subresource, and only when something changed), the constructors of conditions, and the watch
// predicates more than one controller uses (CreatedOnly).
//
// Both writers compare before they write, so a reconcile that finds everything as it should be
// makes no API writes at all; that is what keeps the operator cheap in clusters with many
// TidbClusters.
package common
