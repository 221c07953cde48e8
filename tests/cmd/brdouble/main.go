// Command brdouble is a test double of BR (`br`) and `tikv-ctl`: one binary that acts as
// tikv-ctl when its base name is "tikv-ctl" and as br otherwise. Tests copy it to
// .../br-bin/br and .../kvctl-bin/tikv-ctl (package tests/brdouble does) and the real
// backup-manager runs it exactly as it runs BR.
//
// What it checks is the contract, not a cluster: it parses arguments with BR's own flag
// library (cobra/pflag) and BR's flag names, so an unknown or misplaced flag fails as BR
// fails; it parses --storage URLs and the provider flags itself, independently of the
// backup-manager's code, into a storage.Location, and reads and writes real objects there
// with the project's storage package (credentials from the environment only, v1.6's names);
// and it writes BR-format data (a v2 backupmeta with nested meta files) that the
// backup-manager must read back. It needs no PD or TiKV: the state a log backup task keeps
// in PD is kept under the storage prefix (v1/task/<name>/state). With BRDOUBLE_ETCD set, log
// start, stop, pause and resume also write that state into PD's etcd at --pd, as BR does
// (through HTTPS_PROXY, i.e. the TiDB simulator, for a simulated PD; see package tests/brdouble).
//
// BR behaviours:
//
//	backup full|db|table|raw   6 .sst objects, then backupmeta (v2: file_index → 2 meta files);
//	                           EndVersion = --backupts, else now - --timeago, as a TSO;
//	                           refuses a prefix that already has a backupmeta
//	restore full|db|table|raw  reads backupmeta, follows the meta files, checks every data
//	                           file's size and SHA-256
//	restore point              --restored-ts (default: the log checkpoint) with
//	                           --full-backup-storage or --start-ts; checks the ranges as BR does
//	abort restore ...          logs and succeeds
//	log start|stop|pause|resume|status|truncate
//	                           start writes backupmeta (StartVersion) and log files
//	                           v1/<date>/<hour>/<store>/<min>-<max>.log with metas in v1/backupmeta/;
//	                           truncate --until deletes the files wholly before it
//	operator base64ify         prints base64(StorageBackend protobuf) on stdout, as BR does
//	operator pause-gc-and-schedulers
//	                           runs until signalled
//
// tikv-ctl behaviour: `tikv-ctl [--log-level L] [--log-format json|text] compact-log-backup
// --storage-base64 B --from TS --until TS [-N N] [-n NAME]` decodes the storage, selects the
// log files in [from, until), writes v1/compaction_out/<name>/..., and logs on stderr the
// lines v1.6's compact manager parses ("Spawning compaction." with input_max_ts, "Finishing
// compaction." with meta_completed/meta_total/bytes_to_compact/bytes_compacted, "Compaction
// aborted." with err).
//
// Logging follows BR: with BR_LOG_TO_TERM set (v1.6's Jobs set it) log lines go to stdout;
// without it they go to --log-file (default a timestamped file in the temp dir), stderr says
// "Detail BR log in ...", and only the summary line is copied to stdout.
//
// Controls, from the environment (names and defaults in package tests/brdouble):
//
//	BRDOUBLE_FAIL=message      after the first progress step: [ERROR] lines with the message on
//	                           stdout, "Error: message" on stderr, exit 1
//	BRDOUBLE_HANG=1            after the first progress step, hang until SIGTERM/SIGINT (then
//	                           "received signal to exit", "context canceled", exit 1), until the
//	                           parent goes away, or until BRDOUBLE_HANG_MAX (default 10m)
//	BRDOUBLE_DIE=1             after the first progress step, SIGKILL itself
//	BRDOUBLE_STEP_DELAY=300ms  pause between progress lines
//	BRDOUBLE_ONLY=prefix,...   FAIL/HANG/DIE only for command paths with one of these prefixes
//	                           ("br backup", "br log truncate", "tikv-ctl", ...)
//	BRDOUBLE_RECORD=path       append one JSON line per run: tool, argv with secrets REDACTED,
//	                           and the names (never values) of the credential variables set
//	BRDOUBLE_ETCD=1            log start|stop|pause|resume also keep the task in PD's etcd
//	                           (/tidb/br-stream/info|pause|checkpoint/<task>)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	tool := "br"
	if filepath.Base(os.Args[0]) == "tikv-ctl" {
		tool = "tikv-ctl"
	}
	p := &proc{
		tool:   tool,
		args:   os.Args[1:],
		stdout: os.Stdout,
		stderr: os.Stderr,
		lookup: os.LookupEnv,
		ctl:    readControls(os.LookupEnv),
	}
	p.record()
	ctx, stop := p.listenSignals(context.Background())
	defer stop()
	var code int
	if tool == "tikv-ctl" {
		code = p.runTiKVCtl(ctx)
	} else {
		code = p.runBR(ctx)
	}
	stop()
	os.Exit(code)
}

// proc is one run of the double: its arguments, its standard streams, its environment and
// the test controls read from it.
type proc struct {
	tool           string
	args           []string
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
	ctl            controls

	// onSignal reports a caught signal in the tool's own words (BR logs it).
	onSignal func(os.Signal)
}

// listenSignals cancels the returned context on SIGTERM, SIGINT or SIGQUIT as BR's
// StartExitSingleListener does; a second signal exits at once with code 1.
func (p *proc) listenSignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			if p.tool == "tikv-ctl" {
				// tikv-ctl installs no handler: the signal's default action ends it.
				signal.Reset(sig.(syscall.Signal))
				_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
				return
			}
			if p.onSignal != nil {
				p.onSignal(sig)
			}
			fmt.Fprintln(p.stderr, "gracefully shutting down, press ^C again to force exit")
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			// BR: there is no checkpoint to resume from, so a forced exit is a failure.
			os.Exit(1)
		case <-done:
		}
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			signal.Stop(ch)
			close(done)
			cancel()
		}
	}
}

// errInterrupted is what a step returns when the run was signalled, worded as BR's error.
var errInterrupted = context.Canceled

func isInterrupted(err error) bool { return errors.Is(err, context.Canceled) }
