// Command tidb-operator is the TiDB Operator controller manager (v1.6's tidb-controller-manager).
// The same binary is the per-cluster discovery service when it runs as tidb-discovery (the name
// the image links it under) or with the discovery subcommand.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	ctrl "sigs.k8s.io/controller-runtime"
)

// discoveryProgram is the name the discovery service is started under in v1.6 manifests
// (/usr/local/bin/tidb-discovery).
const discoveryProgram = "tidb-discovery"

// discoveryCommand is the subcommand that selects the discovery service explicitly.
const discoveryCommand = "discovery"

// exitCodeError ends the process with a code and no further message: the flag package has
// already printed what went wrong, together with the usage.
type exitCodeError int

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	ctx := ctrl.SetupSignalHandler()
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
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

// run picks the mode from the program name and the first argument.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := filepath.Base(args[0])
	rest := args[1:]
	switch {
	case name == discoveryProgram:
		return runDiscovery(ctx, name, rest, getenv, stdout, stderr)
	case len(rest) > 0 && rest[0] == discoveryCommand:
		return runDiscovery(ctx, name+" "+discoveryCommand, rest[1:], getenv, stdout, stderr)
	default:
		return runOperator(ctx, name, rest, getenv, stdout, stderr)
	}
}
