// Package imagever reads the TiDB version from a component's image tag ("pingcap/tidb:v8.5.0"),
// for the behaviours that depend on it (log file layout, server labels, dashboards). Tags that
// are not versions ("latest", "nightly", a digest) count as recent, as v1.6 treats them.
package imagever
