// Package tidbapi is the operator's client for a TiDB pod's status port (10080): the health
// probe that fills status.tidb.members[].health, and the call that gives TiDB servers their
// location labels so that reads can prefer nearby replicas.
package tidbapi
