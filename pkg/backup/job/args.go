package job

import (
	"fmt"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// New returns a subcommand's options at their v1.6 defaults, or an error naming the known
// subcommands.
func New(command string) (Options, error) {
	var o Options
	switch command {
	case CommandBackup:
		o = &BackupOptions{}
	case CommandRestore:
		o = &RestoreOptions{}
	case CommandClean:
		o = &CleanOptions{}
	case CommandCompact:
		o = &CompactOptions{}
	case CommandExport:
		o = &ExportOptions{}
	case CommandImport:
		o = &ImportOptions{}
	default:
		return nil, unknownCommand(command)
	}
	// The defaults live in the flag definitions only; registering them fills them in.
	o.AddFlags(newFlagSet(command))
	return o, nil
}

// NewBackupOptions returns backup options at their defaults, for the operator to fill in.
func NewBackupOptions() *BackupOptions { return withDefaults(&BackupOptions{}) }

// NewRestoreOptions returns restore options at their defaults, for the operator to fill in.
func NewRestoreOptions() *RestoreOptions { return withDefaults(&RestoreOptions{}) }

func withDefaults[P Options](o P) P {
	o.AddFlags(newFlagSet(o.Command()))
	return o
}

func unknownCommand(command string) error {
	return fmt.Errorf("unknown tidb-backup-manager subcommand %q (known: %s, %s, %s, %s, %s, %s)", command,
		CommandBackup, CommandRestore, CommandClean, CommandCompact, CommandExport, CommandImport)
}

// Parse reads container arguments (the subcommand, then its flags) the way the backup-manager
// does, without running anything. The operator uses it to read back the arguments of an
// existing Job; tests use it to check Args.
func Parse(args []string) (Options, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no subcommand in the arguments")
	}
	o, err := New(args[0])
	if err != nil {
		return nil, err
	}
	fs := newFlagSet(args[0])
	o.AddFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, fmt.Errorf("%s: %w", args[0], err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", args[0], fs.Arg(0))
	}
	return o, nil
}

func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	// Keep definition order so the rendered arguments read like v1.6's (--namespace first).
	fs.SortFlags = false
	return fs
}

// render registers a scratch copy's flags, loads the real values into it, and writes out the
// flags that must appear. Going through the flag definitions is what keeps Args and the parser
// in step.
func render[T any, P interface {
	*T
	Options
}](o *T, always ...string) []string {
	scratch := new(T)
	fs := newFlagSet(P(scratch).Command())
	P(scratch).AddFlags(fs) // registers flags bound to scratch and resets it to the defaults
	*scratch = *o           // the flags now read the values to render
	args := []string{P(scratch).Command()}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Value.String() != f.DefValue || slices.Contains(always, f.Name) {
			args = append(args, fmt.Sprintf("--%s=%s", f.Name, f.Value.String()))
		}
	})
	return args
}

// The Args methods. The identifying flags always appear, as in v1.6's Jobs; a log backup always
// names its action so the Job says what it does.

func (o *BackupOptions) Args() []string {
	always := []string{FlagNamespace, FlagBackupName, FlagTiKVVersion, FlagMode}
	if o.Mode == v1alpha1.BackupModeLog {
		always = append(always, FlagSubcommand)
	}
	return render(o, always...)
}

func (o *RestoreOptions) Args() []string {
	return render(o, FlagNamespace, FlagRestoreName, FlagTiKVVersion, FlagMode)
}

func (o *CleanOptions) Args() []string {
	return render(o, FlagNamespace, FlagBackupName)
}

func (o *CompactOptions) Args() []string {
	return render(o, FlagNamespace, FlagResourceName)
}

func (o *ExportOptions) Args() []string {
	return render(o, FlagNamespace, FlagBackupName, FlagBucket, FlagStorageType)
}

func (o *ImportOptions) Args() []string {
	return render(o, FlagNamespace, FlagRestoreName, FlagBackupPath)
}
