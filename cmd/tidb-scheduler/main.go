// Command tidb-scheduler is the kube-scheduler extender that keeps PD and TiKV pods spread over
// topologies and TiDB pods on their previous nodes. It runs as a sidecar of a kube-scheduler
// configured with urlPrefix http://127.0.0.1:10262/scheduler.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/logging"
	"github.com/tidbops/tidb-operator/pkg/scheduler/options"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
	"github.com/tidbops/tidb-operator/pkg/version"
)

// newExtender builds the placement logic linked into this build; nil means none is, and the
// server then answers /healthz only.
var newExtender func(*options.Options, logr.Logger) (server.Extender, error)

// exitCodeError ends the process with a code after the flag package printed the problem.
type exitCodeError int

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	var code exitCodeError
	switch {
	case err == nil:
	case errors.As(err, &code):
		os.Exit(int(code))
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(filepath.Base(args[0]), flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := options.New()
	opts.AddFlags(fs)
	logging.AddFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitCodeError(0)
		}
		return exitCodeError(2)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: tidb-scheduler takes only flags", fs.Arg(0))
	}
	if opts.PrintVersion {
		_, _ = fmt.Fprintln(stdout, version.Get())
		return nil
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid flags:\n%w", err)
	}
	logger, err := logging.Setup(fs)
	if err != nil {
		return err
	}
	logger.Info(version.Get().String(), version.Get().KeysAndValues()...)

	cfg := server.Config{
		Addr:        opts.ExtenderAddress(),
		MetricsAddr: opts.MetricsBindAddress,
		Logger:      logger,
	}
	if newExtender == nil {
		logger.Info("no scheduling logic is linked into this build; serving /healthz only, extender requests get 404")
	} else {
		ext, err := newExtender(opts, logger)
		if err != nil {
			return fmt.Errorf("building the scheduler extender: %w", err)
		}
		cfg.Extender = ext
	}
	return server.New(cfg).Run(ctx)
}
