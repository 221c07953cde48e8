// Package integration runs the operator's controllers against a real API server (the
// API-server-only mode of tests/cluster, with the CRDs of manifests/crd) and the TiDB simulator
// served in-process, reached through an HTTP proxy exactly as the operator would reach PD and
// TiDB in a cluster. Without a kubelet no pod runs, so tests tell the simulator which PD, TiKV
// and TiDB pods "run" and write the StatefulSet status the StatefulSet controller would write.
package integration
