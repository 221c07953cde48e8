package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tidbops/tidb-operator/pkg/logging"
	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/pkg/version"
)

// runOperator runs the controller manager until ctx ends.
func runOperator(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := options.New()
	opts.AddFlags(fs)
	logging.AddFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the controller manager takes only flags (the one subcommand is %q)", fs.Arg(0), discoveryCommand)
	}
	if opts.PrintVersion {
		fmt.Fprintln(stdout, version.Get())
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

	env, err := operator.LoadEnvironment(getenv)
	if err != nil {
		return err
	}
	restConfig, err := operator.RestConfig(opts)
	if err != nil {
		return err
	}
	return operator.Run(ctx, operator.Config{
		Options:     opts,
		Environment: env,
		RestConfig:  restConfig,
		Controllers: operator.Controllers(),
		Logger:      logger,
	})
}

// parseFlags parses args and turns the flag package's errors into exit codes: -h ends the
// program successfully, a bad flag with status 2 (as Go's flag.ExitOnError would), in both cases
// after the flag package has printed the usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return exitCodeError(0)
	default:
		return exitCodeError(2)
	}
}
