// Package brdouble is the Go side of the br and tikv-ctl test double
// (github.com/tidbops/tidb-operator/tests/cmd/brdouble): it builds the binary once per test
// binary, names the environment variables that steer it, and reads what it recorded.
//
// The double is one binary that acts as BR or tikv-ctl by the base name it is run as, so
// Build lays it out as the backup Job does: <dir>/br-bin/br and <dir>/kvctl-bin/tikv-ctl.
// A test points the backup-manager at those paths and runs the real flows against real
// storage; the double writes and reads BR-format data there with the project's own storage
// code, so what the manager reads back (backupmeta, sizes, versions) is what it wrote.
//
// Environment controls (set them in the child's environment, e.g. the Job's env):
//
//	BRDOUBLE_FAIL=message      fail after the first progress step, as BR does on an error
//	BRDOUBLE_HANG=1            hang after the first progress step until signalled
//	BRDOUBLE_DIE=1             SIGKILL itself after the first progress step
//	BRDOUBLE_STEP_DELAY=300ms  the pause between progress lines
//	BRDOUBLE_ONLY=prefix,...   apply FAIL/HANG/DIE only to runs whose command path
//	                           ("br backup full", "br log truncate", "tikv-ctl compact-log-backup")
//	                           starts with one of the prefixes
//	BRDOUBLE_HANG_MAX=10m      the longest a hang lasts, so a forgotten double cannot outlive CI
//	BRDOUBLE_RECORD=path       append one JSON line per run (see Record)
//	BRDOUBLE_ETCD=1            log start|stop|pause|resume also write PD's etcd at --pd
//
// The etcd mode is off by default because the double's own state (under the storage prefix)
// is enough for the backup-manager's tests, which run without any PD. With BRDOUBLE_ETCD set
// the double also does what real BR does in PD's etcd, through etcd's gRPC client, so that a
// simulated --pd (<tc>-pd.<ns>:2379) is reached by pointing HTTPS_PROXY at the TiDB simulator
// (package tests/sim tunnels CONNECT to a real etcd per cluster):
//
//	log start    fails with ErrStreamLogTaskExist if /tidb/br-stream/info/<task> exists, else
//	             writes it (JSON: name, start_ts, end_ts, storage with secrets redacted,
//	             table_filter) and /tidb/br-stream/checkpoint/<task> = the start TS (--start-ts,
//	             else now) as an 8-byte big-endian TSO, in one transaction
//	log pause    writes /tidb/br-stream/pause/<task> (JSON: severity MANUAL, host, pid, time)
//	log resume   deletes the pause key
//	log stop     deletes the info, pause and checkpoint keys (and the checkpoint's sub-keys)
//
// pause, resume and stop fail with ErrStreamLogTaskNotFound when the info key is absent, and
// need no --storage in this mode (real BR finds the task in PD); with --storage they also update
// the double's storage state as without etcd, taking the paused or stopped task's checkpoint from
// etcd. What moves the checkpoint afterwards is TiKV, i.e. the simulator's advancer. --ca, --cert
// and --key give the etcd client TLS. Every etcd operation is bounded by 30 seconds.
package brdouble
