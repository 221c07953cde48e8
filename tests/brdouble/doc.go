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
package brdouble
