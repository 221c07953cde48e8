package operator

import (
	"flag"
	"io"
	"os"
	"testing"
)

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("tidb-operator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
