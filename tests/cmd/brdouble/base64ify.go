package main

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"
)

// runBase64ify is `br operator base64ify -s URL [-r]` (br/pkg/task/operator/base64ify.go):
// it opens the storage (so a bad URL fails here, as in BR) and prints
// base64(StdEncoding, protobuf StorageBackend) as the only line of stdout. v1.6's compact
// manager takes the trimmed stdout as the value of tikv-ctl's --storage-base64. Credentials
// from the environment are included only with --load-creds, after a warning on stderr.
func (c *brCLI) runBase64ify(ctx context.Context, cmd *cobra.Command) error {
	raw, err := storageFlag(cmd)
	if err != nil {
		return err
	}
	st, b, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	_ = b.Close()
	be := st.backend
	if loadCreds, _ := cmd.Flags().GetBool("load-creds"); loadCreds {
		if be, err = withEnvCredentials(be, c.p.lookup); err != nil {
			return err
		}
		fmt.Fprintln(c.p.stderr, "Credientials are encoded to the base64 string. DON'T share this with untrusted people!")
	}
	// No progress here: the controls apply at the one point where the command could fail.
	if err := c.step.after(ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.p.stdout, base64.StdEncoding.EncodeToString(be.encode()))
	return nil
}
