package cli

import (
	"context"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

// Runner carries out the subcommands. Each method runs to completion, records the outcome in
// the custom resource's status, and returns an error when the Job should fail.
type Runner interface {
	Backup(ctx context.Context, o job.BackupOptions) error
	Restore(ctx context.Context, o job.RestoreOptions) error
	Clean(ctx context.Context, o job.CleanOptions) error
	Compact(ctx context.Context, o job.CompactOptions) error
	Export(ctx context.Context, o job.ExportOptions) error
	Import(ctx context.Context, o job.ImportOptions) error
}

// Env is what a Runner is built from: the global flags and the logger.
type Env struct {
	// Kubeconfig (--kubeconfig, -k) points at a kubeconfig; empty means in-cluster.
	Kubeconfig string
	Logger     logr.Logger
}

// NewRunner builds the Runner once the flags are parsed.
type NewRunner func(Env) (Runner, error)
