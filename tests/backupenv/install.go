package backupenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

// Environment variables that name an executable to use instead of the one hack/testservers.sh
// installs, for machines where the script cannot run (no network, no root for apt-get).
const (
	// EnvVersitygw names a versitygw executable.
	EnvVersitygw = "TIDB_OPERATOR_VERSITYGW"
	// EnvAzuriteBlob names Azurite's azurite-blob executable (node_modules/.bin/azurite-blob).
	EnvAzuriteBlob = "TIDB_OPERATOR_AZURITE_BLOB"
	// EnvMariadbd names a mariadbd executable; mariadb-install-db is looked up on PATH and
	// beside it.
	EnvMariadbd = "TIDB_OPERATOR_MARIADBD"
)

// serversScript installs and caches the servers; relative to the repository root.
const serversScript = "hack/testservers.sh"

// installTimeout bounds one run of the script. A cold versitygw build takes over a minute on two
// cores and may wait behind another package's build holding the lock, so this is generous; it is
// separate from the (short) start-up timeout of a server.
const installTimeout = 20 * time.Minute

type serverKind string

const (
	kindS3    serverKind = "s3"
	kindAzure serverKind = "azure"
	kindMySQL serverKind = "mysql"
)

var kindEnv = map[serverKind]string{
	kindS3:    EnvVersitygw,
	kindAzure: EnvAzuriteBlob,
	kindMySQL: EnvMariadbd,
}

var (
	locatedMu sync.Mutex
	located   = map[serverKind]string{}
)

// locate returns the executable of a server: from its environment variable if set, otherwise
// the path hack/testservers.sh prints after installing whatever is missing. The result is
// remembered for the life of the test binary, so only the first server of each kind pays for
// running the script. The script takes a lock per server, so test binaries of several packages
// starting together install it once.
func locate(kind serverKind) (string, error) {
	locatedMu.Lock()
	defer locatedMu.Unlock()
	if p, ok := located[kind]; ok {
		return p, nil
	}
	env := kindEnv[kind]
	if p := os.Getenv(env); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", env, p, err)
		}
		located[kind] = p
		return p, nil
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		return "", fmt.Errorf("%w (or set %s)", err, env)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, serversScript), string(kind))
	cmd.Dir = root
	cmd.Stdout = &stdout
	// Progress of a first install (minutes) shows in the test binary's output.
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w (set %s to use an installed server)", serversScript, kind, err, env)
	}
	p := lastLine(stdout.String())
	if p == "" {
		return "", fmt.Errorf("%s %s printed no path", serversScript, kind)
	}
	if err := checkExecutable(p); err != nil {
		return "", fmt.Errorf("%s %s printed %s: %w", serversScript, kind, p, err)
	}
	located[kind] = p
	return p, nil
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
