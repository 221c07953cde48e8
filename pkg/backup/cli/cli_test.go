package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/logging"
)

// recorder is a Runner that remembers what it was asked to do.
type recorder struct {
	env    Env
	called string
	opts   any
	err    error
}

func (r *recorder) Backup(_ context.Context, o job.BackupOptions) error { return r.record("backup", o) }
func (r *recorder) Restore(_ context.Context, o job.RestoreOptions) error {
	return r.record("restore", o)
}
func (r *recorder) Clean(_ context.Context, o job.CleanOptions) error { return r.record("clean", o) }
func (r *recorder) Compact(_ context.Context, o job.CompactOptions) error {
	return r.record("compact", o)
}
func (r *recorder) Export(_ context.Context, o job.ExportOptions) error { return r.record("export", o) }
func (r *recorder) Import(_ context.Context, o job.ImportOptions) error { return r.record("import", o) }

func (r *recorder) record(name string, o any) error {
	r.called, r.opts = name, o
	return r.err
}

// execute runs the command line with a recording runner.
func execute(t *testing.T, r *recorder, args ...string) (string, error) {
	t.Helper()
	resetVerbosity(t)
	var out bytes.Buffer
	built := false
	cmd := NewCommand(func(env Env) (Runner, error) {
		built = true
		r.env = env
		return r, nil
	}, &out)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.ExecuteContext(context.Background())
	if !built && r.called != "" {
		t.Fatal("the runner was used without being built")
	}
	return out.String(), err
}

func TestSubcommandsHandTheirOptionsToTheRunner(t *testing.T) {
	cases := map[string]struct {
		args       []string // command line
		wantCalled string   // Runner method expected
		wantOpts   any      // options it receives
	}{
		"backup": {
			args:       []string{"backup", "--namespace=tidb", "--backupName=b", "--tikvVersion=v8.5.0", "--mode=log", "--subcommand=log-stop", "--cluster-tls=true"},
			wantCalled: "backup",
			wantOpts: job.BackupOptions{Common: job.Common{Namespace: "tidb"}, BackupName: "b", TiKVVersion: "v8.5.0", TLSCluster: true,
				Mode: v1alpha1.BackupModeLog, Subcommand: v1alpha1.LogStopCommand, CommitTS: "0", TruncateUntil: "0"},
		},
		"restore": {
			args:       []string{"restore", "--namespace=tidb", "--restoreName=r", "--mode=pitr", "--pitrRestoredTs=123"},
			wantCalled: "restore",
			wantOpts: job.RestoreOptions{Common: job.Common{Namespace: "tidb"}, RestoreName: "r", TiKVVersion: "4.0",
				Mode: v1alpha1.RestoreModePiTR, PitrRestoredTS: "123"},
		},
		"clean":   {[]string{"clean", "--namespace=tidb", "--backupName=b"}, "clean", job.CleanOptions{Namespace: "tidb", BackupName: "b"}},
		"compact": {[]string{"compact", "--namespace=tidb", "--resourceName=c"}, "compact", job.CompactOptions{Namespace: "tidb", ResourceName: "c"}},
		"export": {
			[]string{"export", "--namespace=tidb", "--backupName=b", "--bucket=bk", "--storageType=gcs", "--client-tls=true", "--skipClientCA=true"},
			"export",
			job.ExportOptions{Common: job.Common{Namespace: "tidb", TLSClient: true, SkipClientCA: true}, BackupName: "b", Bucket: "bk", StorageType: v1alpha1.BackupStorageTypeGcs},
		},
		"import": {
			[]string{"import", "--namespace=tidb", "--restoreName=r", "--backupPath=s3://bk/p"},
			"import",
			job.ImportOptions{Common: job.Common{Namespace: "tidb"}, RestoreName: "r", BackupPath: "s3://bk/p"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &recorder{}
			if _, err := execute(t, r, tc.args...); err != nil {
				t.Fatal(err)
			}
			if r.called != tc.wantCalled {
				t.Fatalf("called %q, want %q", r.called, tc.wantCalled)
			}
			if !reflect.DeepEqual(r.opts, tc.wantOpts) {
				t.Fatalf("options = %+v\nwant      %+v", r.opts, tc.wantOpts)
			}
		})
	}
}

func TestOperatorRenderedArgsRunTheSameOptions(t *testing.T) {
	o := job.NewBackupOptions()
	o.Namespace, o.BackupName, o.TiKVVersion, o.TLSClient = "tidb", "nightly", "v8.5.0", true

	r := &recorder{}
	if _, err := execute(t, r, o.Args()...); err != nil {
		t.Fatal(err)
	}
	if got := r.opts.(job.BackupOptions); !reflect.DeepEqual(got, *o) {
		t.Fatalf("backup-manager saw %+v, operator meant %+v", got, *o)
	}
}

func TestGlobalFlags(t *testing.T) {
	r := &recorder{}
	_, err := execute(t, r, "clean", "-k", "/etc/kube/config", "-v=3", "--namespace=n", "--backupName=b")
	if err != nil {
		t.Fatal(err)
	}
	if r.env.Kubeconfig != "/etc/kube/config" {
		t.Fatalf("Kubeconfig = %q", r.env.Kubeconfig)
	}
	if !r.env.Logger.V(3).Enabled() || r.env.Logger.V(4).Enabled() {
		t.Fatal("-v=3 did not set the logger's verbosity")
	}
	r = &recorder{}
	if _, err := execute(t, r, "--kubeconfig=/k", "-v=0", "compact", "--namespace=n", "--resourceName=c"); err != nil {
		t.Fatal(err)
	}
	if r.env.Kubeconfig != "/k" {
		t.Fatalf("Kubeconfig = %q", r.env.Kubeconfig)
	}
}

func TestInvalidFlagsStopBeforeTheRunner(t *testing.T) {
	cases := map[string]struct {
		args    []string // command line
		wantErr string   // substring of the error
	}{
		"a missing backup name": {[]string{"backup", "--namespace=n"}, "backup: invalid flags: --backupName is required"},
		"an unknown flag":       {[]string{"clean", "--namespace=n", "--backupName=b", "--force"}, "unknown flag: --force"},
		"a positional argument": {[]string{"compact", "--namespace=n", "--resourceName=c", "now"}, `unknown command "now"`},
		"a bad boolean":         {[]string{"restore", "--namespace=n", "--restoreName=r", "--abort=perhaps"}, `invalid argument "perhaps" for "--abort"`},
		"an unknown subcommand": {[]string{"snapshot"}, `unknown command "snapshot"`},
		"a negative log level":  {[]string{"clean", "-v=-1", "--namespace=n", "--backupName=b"}, "verbosity must not be negative"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &recorder{}
			_, err := execute(t, r, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if r.called != "" {
				t.Fatalf("the runner ran %s", r.called)
			}
		})
	}
}

func TestRunnerErrorsAreReturned(t *testing.T) {
	boom := errors.New("br exited with status 1")
	r := &recorder{err: boom}
	_, err := execute(t, r, "clean", "--namespace=n", "--backupName=b")
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want %v", err, boom)
	}
}

func TestRunnerConstructionFailureNamesTheCommand(t *testing.T) {
	cmd := NewCommand(func(Env) (Runner, error) { return nil, errors.New("no kubeconfig") }, &bytes.Buffer{})
	cmd.SetArgs([]string{"compact", "--namespace=n", "--resourceName=c"})
	err := cmd.Execute()
	if err == nil || err.Error() != "compact: preparing: no kubeconfig" {
		t.Fatalf("error = %v", err)
	}
}

func TestVersionSubcommand(t *testing.T) {
	r := &recorder{}
	out, err := execute(t, r, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "TiDB Operator Version: ") {
		t.Fatalf("version printed %q", out)
	}
}

func TestEveryV16SubcommandAndFlagExists(t *testing.T) {
	want := map[string][]string{
		"backup":  {"namespace", "backupName", "tikvVersion", "client-tls", "cluster-tls", "skipClientCA", "mode", "subcommand", "commit-ts", "truncate-until", "initialize"},
		"restore": {"namespace", "restoreName", "tikvVersion", "client-tls", "cluster-tls", "skipClientCA", "mode", "pitrRestoredTs", "prepare", "target-az", "use-fsr", "abort"},
		"clean":   {"namespace", "backupName"},
		"compact": {"namespace", "resourceName"},
		"export":  {"namespace", "backupName", "bucket", "client-tls", "skipClientCA", "storageType"},
		"import":  {"namespace", "restoreName", "client-tls", "skipClientCA", "backupPath"},
	}
	root := NewCommand(func(Env) (Runner, error) { return &recorder{}, nil }, &bytes.Buffer{})
	if root.PersistentFlags().ShorthandLookup("k") == nil || root.PersistentFlags().Lookup("kubeconfig") == nil {
		t.Error("--kubeconfig/-k is missing")
	}
	for sub, flags := range want {
		cmd, _, err := root.Find([]string{sub})
		if err != nil || cmd.Name() != sub {
			t.Errorf("subcommand %s missing: %v", sub, err)
			continue
		}
		for _, f := range flags {
			if cmd.Flags().Lookup(f) == nil {
				t.Errorf("%s --%s is missing", sub, f)
			}
		}
		if got, wantN := countFlags(cmd), len(flags); got != wantN {
			t.Errorf("%s has %d local flags, v1.6 has %d", sub, got, wantN)
		}
	}
}

// resetVerbosity puts klog's process-wide -v back to zero after a test that may change it.
func resetVerbosity(t *testing.T) {
	fs := flag.NewFlagSet("reset", flag.ContinueOnError)
	logging.AddFlags(fs)
	t.Cleanup(func() { _ = fs.Set("v", "0") })
}

// countFlags counts a subcommand's own flags, leaving out cobra's --help.
func countFlags(cmd *cobra.Command) int {
	n := 0
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			n++
		}
	})
	return n
}

func TestHelpShowsTheSubcommandsOwnFlagsAndVerbosityOnly(t *testing.T) {
	root := NewCommand(func(Env) (Runner, error) { return &recorder{}, nil }, &bytes.Buffer{})
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"clean", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for _, want := range []string{"--backupName", "--namespace", "--kubeconfig", "-v, --v", "status.backupPath"} {
		if !strings.Contains(help, want) {
			t.Errorf("clean --help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "log_backtrace_at") {
		t.Errorf("clean --help lists klog's flags:\n%s", help)
	}
}

func TestHiddenKlogFlagsAreStillAccepted(t *testing.T) {
	r := &recorder{}
	if _, err := execute(t, r, "clean", "--namespace=n", "--backupName=b", "--logtostderr=true", "--skip_headers"); err != nil {
		t.Fatalf("a v1.6 Job passing klog flags is refused: %v", err)
	}
	if r.called != "clean" {
		t.Fatalf("runner called %q", r.called)
	}
}
