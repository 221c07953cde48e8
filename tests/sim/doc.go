// Package sim serves the simulated HTTP APIs of PD, TiKV, TiDB, TiFlash and TiCDC for the
// operator under test, backed by the state machine in package model.
//
// The operator must not know it talks to a simulator: its HTTP clients keep their real URLs
// (http://<tc>-pd.<ns>:2379, http://<pod>.<tc>-tikv-peer.<ns>.svc:20180, ...) and reach the
// simulator through a standard HTTP forward proxy (HTTP_PROXY=http://<simulator address>).
// The simulator therefore routes every request by its Host:
//
//	<tc>-pd.<ns>[.svc[.<domain>]]:2379                  PD through its Service
//	<tc>-pd-peer.<ns>[.svc[.<domain>]]:2379             PD through the headless Service
//	<pod>.<tc>-pd-peer.<ns>[.svc[.<domain>]]:2379       one PD member
//	<pod>.<tc>-tikv-peer.<ns>[...]:20180                TiKV status port
//	<pod>.<tc>-tidb-peer.<ns>[...]:10080                TiDB status port
//	<pod>.<tc>-tiflash-peer.<ns>[...]:20292             TiFlash proxy status port
//	<pod>.<tc>-ticdc-peer.<ns>[...]:8301                TiCDC
//	<tc>-tso.<ns>[...]:2379, <tc>-scheduling.<ns>[...]  PD micro-services (and their pods)
//
// It answers both proxy-form requests (GET http://host:port/path) and direct requests that
// carry the simulated host in the Host header. A host that names nothing the simulator knows
// gets 502, as a proxy answers when DNS fails; a known pod or Service with no running process
// behind it, or a port nothing listens on, gets its connection reset, as a refused connection
// would look.
//
// CONNECT is tunnelled for PD's client port only, where PD's embedded etcd listens: the operator
// reads log backup checkpoints there and BR registers log backup tasks there, both with etcd's
// gRPC client, which goes through HTTPS_PROXY (grpc-go sends CONNECT with the unresolved host
// name for any non-loopback target; like net/http it reads the variable once per process, on
// first use, so it must be set before the process makes its first request). The tunnel leads to a real etcd process, one per simulated
// cluster, started on the first CONNECT to any of its PD host forms (Service, headless Service or
// member; the binary from LocateEtcd, usually the one `make testbin` builds), on loopback ports
// with its data in a temporary directory, and stopped and removed by Server.Close. The tunnel is
// raw TCP, so the etcd speaks plaintext and a TLS client would fail its handshake. A CONNECT is
// routed like a request: 502 for a host that names nothing, a reset when no PD runs, and faults
// without a Path (unreachable, timeout, error, latency) apply to it; every other known host
// answers 405, https not being simulated. A cluster's etcd outlives ForgetCluster.
//
// In that etcd the simulator also plays TiKV's log backup advancer: every
// Options.LogBackupAdvanceInterval (default 1s) each task registered under
// /tidb/br-stream/info/<task> and not paused (/tidb/br-stream/pause/<task> absent) gets its
// checkpoint /tidb/br-stream/checkpoint/<task> (an 8-byte big-endian TSO) moved to the model's
// clock, never backwards. AdvanceLogBackups does one such tick on demand.
//
// Two properties of Go HTTP clients matter when pointing one at the simulator. HTTP_PROXY only
// applies to http:// URLs and never to loopback addresses, so the operator's API server
// connection is unaffected. And a Go transport retries an idempotent request (GET without a
// body) once, on a new connection, when a reused keep-alive connection drops before the answer:
// an "unreachable" or "timeout" fault limited with Times may therefore be consumed by that
// silent retry. Use Times only with clients that disable keep-alives, or count the retry.
//
// The admin API lives under /_sim/ on the same listener and is only served for direct requests
// (see package simapi for the contract and a client): injected faults (unreachable, 5xx,
// timeouts, latency, and model faults such as a forced Down store, an eviction that never
// completes, a tombstone that never arrives, an unhealthy PD member), the log of every call
// (GET /_sim/calls), pods for tests without Kubernetes, and snapshots of each cluster.
//
// Wire quirks reproduced on purpose, because the operator depends on them:
//   - PD answers with indented JSON and a trailing newline; errors are a JSON string, e.g.
//     "[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first"
//     with status 500 before the first TiKV store registers;
//   - replication.location-labels is one comma-joined string, enable-placement-rules and
//     strictly-match-label are the strings "true"/"false", max-replicas is always present;
//   - store capacity, available and used_size are human-readable strings ("100GiB") and uptime
//     is a Go duration string, as PD's typeutil types marshal them;
//   - 404 answers where the operator treats 404 as success: DELETE of an unknown member or
//     store, DELETE of an unknown scheduler, GET /pd/api/v2/ready on a PD that predates it
//     (ClusterPatch.ReadyAPIMissing);
//   - TiCDC answers 202 Accepted to owner resign and capture drain, and errors as
//     {"error_msg","error_code"}.
package sim
