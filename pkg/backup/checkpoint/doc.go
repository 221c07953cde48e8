// Package checkpoint reads a log backup's checkpoint from PD's embedded etcd, as v1.6's backup
// tracker does to fill a log Backup's status.logCheckpointTs.
//
// The checkpoint is not reported by the backup Job: TiKV's log backup advancer keeps it in PD's
// etcd under /tidb/br-stream/checkpoint/<task name> as an 8-byte big-endian TSO, and only the
// operator, which polls it, turns it into status. The task name is the Backup's name.
//
// PD's etcd listens on PD's client port, so the endpoint is the same address the operator's PD
// HTTP client uses without its scheme ("<tc>-pd.<ns>:2379", see Endpoint). The etcd client is
// gRPC, which honours HTTPS_PROXY / NO_PROXY for such a name (through
// http.ProxyFromEnvironment, read once per process); that is how tests point the operator at a
// simulated PD without it knowing.
//
// A Reader keeps one etcd client per endpoint, because the tracker polls every running log
// backup every minute and a gRPC connection per poll would mean a TCP (and TLS) handshake each
// time. A client unused for Options.IdleTimeout is closed, so that a cluster whose log backups
// are gone does not keep a connection open forever. A client is also replaced when a call brings
// a different TLS configuration for its endpoint (certificates rotated), compared by content
// rather than by pointer since callers usually build a fresh tls.Config for every call.
package checkpoint
