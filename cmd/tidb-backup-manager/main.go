// Command tidb-backup-manager runs inside the Jobs the operator creates for Backup, Restore and
// CompactBackup resources. Its command line is package cli; its flags are package job, shared
// with the operator.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tidbops/tidb-operator/pkg/backup/cli"
	"github.com/tidbops/tidb-operator/pkg/backup/manager"
)

func main() {
	// A deleted Job pod gets SIGTERM; cancelling the context lets the runner stop its child
	// process and record the interruption before the kubelet kills it.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := cli.NewCommand(manager.New, os.Stdout).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cli.ProgramName, err)
		os.Exit(1)
	}
}
