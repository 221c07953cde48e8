// Package label holds the label and annotation keys and values of TiDB Operator v1.6, the ones
// existing dashboards, scripts, runbooks and PingCAP-created objects carry, and small helpers to
// build the label sets and selectors the operator, the scheduler extender and the tests share.
// Keeping them in the API module lets every binary agree on them without importing controllers.
package label
