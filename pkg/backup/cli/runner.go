package cli

import (
	"context"
	"errors"
	"fmt"

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

// ErrNotImplemented marks a subcommand whose implementation is not part of this build.
var ErrNotImplemented = errors.New("not implemented in this build")

// Unlinked is the NewRunner of a build without the backup logic: every subcommand fails with
// ErrNotImplemented and says which part is missing, so a Job run by such an image fails loudly
// instead of reporting success.
func Unlinked(Env) (Runner, error) { return unlinkedRunner{}, nil }

type unlinkedRunner struct{}

func missing(command, namespace, name, piece string) error {
	return fmt.Errorf("%s %s/%s: %w: %s", command, namespace, name, ErrNotImplemented, piece)
}

func (unlinkedRunner) Backup(_ context.Context, o job.BackupOptions) error {
	return missing(job.CommandBackup, o.Namespace, o.BackupName, "the BR backup driver (package pkg/backup) is not linked in")
}

func (unlinkedRunner) Restore(_ context.Context, o job.RestoreOptions) error {
	return missing(job.CommandRestore, o.Namespace, o.RestoreName, "the BR restore driver (package pkg/backup) is not linked in")
}

func (unlinkedRunner) Clean(_ context.Context, o job.CleanOptions) error {
	return missing(job.CommandClean, o.Namespace, o.BackupName, "the backup data cleaner (package pkg/backup) is not linked in")
}

func (unlinkedRunner) Compact(_ context.Context, o job.CompactOptions) error {
	return missing(job.CommandCompact, o.Namespace, o.ResourceName, "the log backup compactor (package pkg/backup) is not linked in")
}

func (unlinkedRunner) Export(_ context.Context, o job.ExportOptions) error {
	return missing(job.CommandExport, o.Namespace, o.BackupName, "the Dumpling export driver (package pkg/backup) is not linked in")
}

func (unlinkedRunner) Import(_ context.Context, o job.ImportOptions) error {
	return missing(job.CommandImport, o.Namespace, o.RestoreName, "the Lightning import driver (package pkg/backup) is not linked in")
}
