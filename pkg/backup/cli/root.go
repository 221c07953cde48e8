package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/logging"
	"github.com/tidbops/tidb-operator/pkg/version"
)

// ProgramName is the binary's name in help and errors.
const ProgramName = "tidb-backup-manager"

// NewCommand returns the root command. newRunner is called once a subcommand's flags are
// valid; stdout receives `version` output.
func NewCommand(newRunner NewRunner, stdout io.Writer) *cobra.Command {
	var (
		env      Env
		logFlags = flag.NewFlagSet(ProgramName, flag.ContinueOnError)
	)
	root := &cobra.Command{
		Use:   ProgramName,
		Short: "Runs backup, restore, clean and compact Jobs for TiDB Operator",
		// Errors are printed once by main; a usage dump after a failed backup only hides the
		// reason in the Job's log.
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logging.Setup(logFlags)
			if err != nil {
				return err
			}
			env.Logger = logger
			return nil
		},
	}
	// Shell completion is of no use inside a Job's container.
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVarP(&env.Kubeconfig, job.FlagKubeconfig, job.FlagKubeconfigShort, "", "Path to a kubeconfig; omit it inside the cluster")
	logging.AddFlags(logFlags)
	root.PersistentFlags().AddGoFlagSet(logFlags)
	// klog's flags stay accepted (v1.6's Jobs may pass them) but only -v is worth reading
	// about in --help; the rest would bury the subcommand's own flags.
	logFlags.VisitAll(func(f *flag.Flag) {
		if f.Name != "v" {
			_ = root.PersistentFlags().MarkHidden(f.Name)
		}
	})

	run := func(o job.Options, call func(context.Context, Runner) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			env.Logger.Info(version.Get().String(), version.Get().KeysAndValues()...)
			env.Logger.Info("starting", "command", o.Command(), "args", o.Args())
			r, err := newRunner(env)
			if err != nil {
				return fmt.Errorf("%s: preparing: %w", o.Command(), err)
			}
			return call(cmd.Context(), r)
		}
	}
	subcommand := func(o job.Options, short, long string, call func(context.Context, Runner) error) *cobra.Command {
		c := &cobra.Command{
			Use:   o.Command(),
			Short: short,
			Long:  short + ".\n\n" + long,
			Args:  cobra.NoArgs,
			RunE:  run(o, call),
		}
		o.AddFlags(c.Flags())
		return c
	}

	var (
		backup  job.BackupOptions
		restore job.RestoreOptions
		clean   job.CleanOptions
		compact job.CompactOptions
		export  job.ExportOptions
		imp     job.ImportOptions
	)
	root.AddCommand(
		subcommand(&backup, "Back up a cluster with BR as a Backup describes", helpBackup,
			func(ctx context.Context, r Runner) error { return r.Backup(ctx, backup) }),
		subcommand(&restore, "Restore a cluster with BR as a Restore describes", helpRestore,
			func(ctx context.Context, r Runner) error { return r.Restore(ctx, restore) }),
		subcommand(&clean, "Delete the data of a Backup", helpClean,
			func(ctx context.Context, r Runner) error { return r.Clean(ctx, clean) }),
		subcommand(&compact, "Compact log backup data as a CompactBackup describes", helpCompact,
			func(ctx context.Context, r Runner) error { return r.Compact(ctx, compact) }),
		subcommand(&export, "Not supported: v1.6's Dumpling export (a Backup without spec.br)", helpUnsupported,
			func(ctx context.Context, r Runner) error { return r.Export(ctx, export) }),
		subcommand(&imp, "Not supported: v1.6's Lightning import (a Restore without spec.br)", helpUnsupported,
			func(ctx context.Context, r Runner) error { return r.Import(ctx, imp) }),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			// Printing the version must work without any logging set up.
			PersistentPreRun: func(*cobra.Command, []string) {},
			Run: func(*cobra.Command, []string) {
				fmt.Fprintln(stdout, version.Get())
			},
		},
	)
	env.Logger = logr.Discard()
	return root
}
