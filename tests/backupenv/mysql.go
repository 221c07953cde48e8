package backupenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TiDB keeps the GC life time as a row of mysql.tidb (all versions; v5+ also exposes it as the
// system variable tidb_gc_life_time, which MariaDB cannot imitate). InitTiDBGCTable creates
// that table with its default row.
const (
	// TiDBGCLifeTimeVariable is the VARIABLE_NAME of the GC life time row in mysql.tidb.
	TiDBGCLifeTimeVariable = "tikv_gc_life_time"
	// DefaultTiDBGCLifeTime is TiDB's default GC life time, in Go duration format as TiDB
	// writes it.
	DefaultTiDBGCLifeTime = "10m0s"
	// tidbGCLifeTimeComment is the COMMENT TiDB writes for the row.
	tidbGCLifeTimeComment = "All versions within life time will not be collected by GC, at least 10m, in Go format."
)

// MySQLServer is a MariaDB server with a password-protected root account, running for one test.
// It speaks the MySQL protocol, which is all the backup-manager needs from TiDB's SQL port.
type MySQLServer struct {
	Host     string // "127.0.0.1"
	Port     int
	User     string // "root", with every privilege
	Password string // random per server
	// DataDir is the server's data directory.
	DataDir string
	// TLSDir, with WithTLS, is the client certificate folder: ca.crt (the CA that signed the
	// server's certificate), tls.crt and tls.key (root's client certificate). Empty without.
	TLSDir string

	// tlsName is the go-sql-driver name of the client TLS configuration, with WithTLS.
	tlsName string

	dbOnce sync.Once
	db     *sql.DB
	dbErr  error
}

// MySQL starts a MariaDB server for the test, installing MariaDB first if needed (see
// hack/testservers.sh; that needs root), and stops it when the test ends. The root account
// has a password, as in a TiDB cluster with one, so a wrong password is refused. Skipped under
// -short.
func MySQL(t testing.TB, opts ...Option) *MySQLServer {
	t.Helper()
	skipShort(t, "MariaDB (MySQL protocol)")
	mariadbd := locateOrFail(t, kindMySQL)
	o := applyOptions(opts)
	dir := workDir(t, "mysql", o)
	s := &MySQLServer{
		Host:     "127.0.0.1",
		User:     "root",
		Password: rand.Text(),
		DataDir:  filepath.Join(dir, "data"),
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	socket := socketPath(t, dir)
	// Without TLS, REQUIRE NONE also undoes a REQUIRE X509 left by an earlier TLS server on
	// the same data (WithDir).
	require := "NONE"
	var tlsArgs []string
	if o.tls {
		tlsArgs = s.setUpTLS(t, filepath.Join(dir, "tls"))
		// The password alone is not enough: a client must present a certificate signed by
		// the CA, so a client that loses its certificate on the way is refused.
		require = "X509"
	}

	// A data directory from an earlier server (WithDir) is reused as it is.
	if _, err := os.Stat(filepath.Join(s.DataDir, "mysql")); errors.Is(err, os.ErrNotExist) {
		installDB(t, mariadbd, s.DataDir, tmp, filepath.Join(dir, "mariadb-install-db.log"))
	}

	// The init file runs at every start, after the grant tables are loaded: it gives root
	// (created without a password by mariadb-install-db) this server's password, on every
	// host entry a TCP client from 127.0.0.1 can match.
	initFile := filepath.Join(dir, "init.sql")
	initSQL := fmt.Sprintf(`ALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED BY '%[1]s';
ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY '%[1]s';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '%[1]s';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '%[1]s' REQUIRE %[2]s;
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
`, s.Password, require)
	if err := os.WriteFile(initFile, []byte(initSQL), 0o600); err != nil {
		t.Fatalf("backupenv: write %s: %v", initFile, err)
	}

	_, port := start(t, serverSpec{
		name:    "mariadbd",
		path:    mariadbd,
		logPath: filepath.Join(dir, "mariadbd.log"),
		args: func(port int) []string {
			// --no-defaults first (MariaDB requires it there): the machine's /etc/mysql
			// configuration (socket in /run/mysqld, port 3306) must not leak in.
			args := []string{
				"--no-defaults",
				"--datadir=" + s.DataDir,
				"--socket=" + socket,
				"--port=" + strconv.Itoa(port),
				"--bind-address=127.0.0.1",
				// Clients are matched by IP (root@127.0.0.1), without reverse DNS lookups.
				"--skip-name-resolve",
				"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
				"--tmpdir=" + tmp,
				"--init-file=" + initFile,
				// TiDB's defaults, so that strings compare as they would there.
				"--character-set-server=utf8mb4",
				"--collation-server=utf8mb4_bin",
				// Small: several servers may run at once on a small machine.
				"--innodb-buffer-pool-size=32M",
				"--innodb-log-file-size=16M",
			}
			args = append(args, tlsArgs...)
			return append(args, userArgs()...)
		},
		ready: func(ctx context.Context, port int) error {
			c := s.config()
			c.Addr = fmt.Sprintf("%s:%d", s.Host, port)
			return pingDSN(ctx, c.FormatDSN())
		},
	})
	s.Port = port
	t.Cleanup(func() {
		if s.db != nil {
			_ = s.db.Close()
		}
	})
	return s
}

// setUpTLS writes the server's and the client's certificates under dir, registers the client
// configuration with go-sql-driver (a DSN refers to it by name) until the test ends, and returns
// mariadbd's flags for TLS.
func (s *MySQLServer) setUpTLS(t testing.TB, dir string) []string {
	t.Helper()
	f, err := writeTLSFiles(dir)
	if err != nil {
		t.Fatalf("backupenv: TLS certificates: %v", err)
	}
	s.TLSDir = f.clientDir
	// Unique per server: the registry is global to the test binary, and tests run in parallel.
	s.tlsName = "backupenv-" + rand.Text()
	if err := mysql.RegisterTLSConfig(s.tlsName, f.client); err != nil {
		t.Fatalf("backupenv: register the TLS configuration: %v", err)
	}
	t.Cleanup(func() { mysql.DeregisterTLSConfig(s.tlsName) })
	return []string{
		"--ssl-ca=" + filepath.Join(f.serverDir, TLSCAFile),
		"--ssl-cert=" + filepath.Join(f.serverDir, serverCertFile),
		"--ssl-key=" + filepath.Join(f.serverDir, serverKeyFile),
		// TCP clients without TLS are refused, as by a TiDB with require-secure-transport
		// (MariaDB counts its Unix socket as secure, so that stays open).
		"--require-secure-transport=ON",
	}
}

// TLSDirWithUnrelatedCA returns a new client certificate folder with this server's client
// certificate and key but the ca.crt of another CA, which did not sign the server's
// certificate: a client that verifies the server with it must refuse the connection, one that
// skips the verification still gets in. Only for a server started WithTLS.
func (s *MySQLServer) TLSDirWithUnrelatedCA(t testing.TB) string {
	t.Helper()
	if s.TLSDir == "" {
		t.Fatal("backupenv: TLSDirWithUnrelatedCA: the server was started without WithTLS")
	}
	other, err := newCA("backupenv unrelated CA")
	if err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "unrelated-ca")
	if err := copyClientWithCA(s.TLSDir, dir, other.pem); err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	return dir
}

// userArgs is --user=root when running as root: mariadbd refuses to run as root without being
// told to, and only root may name a user at all.
func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// socketPath returns where the server's Unix socket goes: in its folder unless that path is too
// long for a socket address (108 bytes on Linux), as a folder given WithDir may be.
func socketPath(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "mysqld.sock")
	if len(p) < 100 {
		return p
	}
	short, err := os.MkdirTemp("", "bkenv-sock-")
	if err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(short) })
	return filepath.Join(short, "mysqld.sock")
}

// installDB creates the system tables in a new data directory. tmpDir is the server's own
// temporary folder (see --tmpdir below).
func installDB(t testing.TB, mariadbd, dataDir, tmpDir, logPath string) {
	t.Helper()
	tool, err := findInstallDB(mariadbd)
	if err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{
		"--no-defaults",
		"--datadir=" + dataDir,
		// A root that logs in with a password (set by the init file), not through the
		// unix_socket plugin, which would tie it to the operating-system user.
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		// Grant entries by IP address only; the host name of the machine is irrelevant.
		"--skip-name-resolve",
		"--innodb-log-file-size=16M",
		// Not the shared /tmp: a starting mariadbd deletes every temporary table file in its
		// tmpdir (mysql_rm_tmp_tables), so a bootstrap starting beside another in a parallel
		// test would delete that one's temporary tables mid-install ("ERROR: 1051 Unknown
		// table 'mysql.tmp_user_sys'"). mariadb-install-db passes the flag on to mariadbd.
		"--tmpdir=" + tmpDir,
	}
	args = append(args, userArgs()...)
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	defer func() { _ = log.Close() }()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = sysProcAttr()
	// The tool is a shell script running mariadbd --bootstrap; on timeout stop both.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := startOnLockedThread(cmd); err != nil {
		t.Fatalf("backupenv: start %s: %v", tool, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("backupenv: %s: %v; output in %s:\n%s", tool, err, logPath, tailFile(logPath, logTailLines))
	}
}

// findInstallDB finds mariadb-install-db: on PATH, or in the bin folder beside mariadbd's
// sbin (Debian: /usr/bin and /usr/sbin).
func findInstallDB(mariadbd string) (string, error) {
	if p, err := exec.LookPath("mariadb-install-db"); err == nil {
		return p, nil
	}
	candidates := []string{
		filepath.Join(filepath.Dir(mariadbd), "mariadb-install-db"),
		filepath.Join(filepath.Dir(filepath.Dir(mariadbd)), "bin", "mariadb-install-db"),
	}
	for _, c := range candidates {
		if checkExecutable(c) == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("mariadb-install-db is neither on PATH nor in %s", strings.Join(candidates, " or "))
}

func pingDSN(ctx context.Context, dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return db.PingContext(ctx)
}

// config is the go-sql-driver configuration for the server, without a default database.
func (s *MySQLServer) config() *mysql.Config {
	c := mysql.NewConfig()
	c.User = s.User
	c.Passwd = s.Password
	c.Net = "tcp"
	c.Addr = s.Addr()
	c.Timeout = 10 * time.Second
	c.TLSConfig = s.tlsName // empty, i.e. no TLS, without WithTLS
	return c
}

// Addr is "127.0.0.1:PORT".
func (s *MySQLServer) Addr() string {
	return fmt.Sprintf("%s:%d", s.Host, s.Port)
}

// DSN is a go-sql-driver/mysql data source name for the root account over TCP, without a
// default database. With WithTLS it names a TLS configuration registered with go-sql-driver
// for as long as the test runs.
func (s *MySQLServer) DSN() string {
	return s.config().FormatDSN()
}

// DB returns a connection pool to the server as root, closed when the test ends.
func (s *MySQLServer) DB(t testing.TB) *sql.DB {
	t.Helper()
	s.dbOnce.Do(func() {
		s.db, s.dbErr = sql.Open("mysql", s.DSN())
	})
	if s.dbErr != nil {
		t.Fatalf("backupenv: open %s: %v", s.Addr(), s.dbErr)
	}
	return s.db
}

// InitTiDBGCTable creates TiDB's mysql.tidb table (VARIABLE_NAME, VARIABLE_VALUE, COMMENT, as
// TiDB's bootstrap creates it) holding the GC life time row with TiDB's default,
// ('tikv_gc_life_time', '10m0s', ...), so that code reading and restoring the GC life time the
// way the backup-manager does for TiDB (SELECT/UPDATE on mysql.tidb) runs against a real SQL
// server. Calling it again resets the row to the default.
func (s *MySQLServer) InitTiDBGCTable(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := s.DB(t)
	stmts := []struct {
		sql  string
		args []any
	}{
		{`CREATE TABLE IF NOT EXISTS mysql.tidb (
			VARIABLE_NAME VARCHAR(64) NOT NULL PRIMARY KEY,
			VARIABLE_VALUE VARCHAR(1024) DEFAULT NULL,
			COMMENT VARCHAR(1024)
		)`, nil},
		{`INSERT INTO mysql.tidb (VARIABLE_NAME, VARIABLE_VALUE, COMMENT) VALUES (?, ?, ?)
			ON DUPLICATE KEY UPDATE VARIABLE_VALUE = VALUES(VARIABLE_VALUE), COMMENT = VALUES(COMMENT)`,
			[]any{TiDBGCLifeTimeVariable, DefaultTiDBGCLifeTime, tidbGCLifeTimeComment}},
	}
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st.sql, st.args...); err != nil {
			t.Fatalf("backupenv: create mysql.tidb: %v", err)
		}
	}
}

// TiDBVariable returns the VARIABLE_VALUE of a row of mysql.tidb, failing the test if there is
// no such row (see InitTiDBGCTable).
func (s *MySQLServer) TiDBVariable(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v sql.NullString
	err := s.DB(t).QueryRowContext(ctx, `SELECT VARIABLE_VALUE FROM mysql.tidb WHERE VARIABLE_NAME = ?`, name).Scan(&v)
	if err != nil {
		t.Fatalf("backupenv: read mysql.tidb %s: %v", name, err)
	}
	return v.String
}

// SetTiDBVariable writes a row of mysql.tidb, e.g. a GC life time other than the default before
// a backup, failing the test if it cannot.
func (s *MySQLServer) SetTiDBVariable(t testing.TB, name, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.DB(t).ExecContext(ctx, `INSERT INTO mysql.tidb (VARIABLE_NAME, VARIABLE_VALUE) VALUES (?, ?)
		ON DUPLICATE KEY UPDATE VARIABLE_VALUE = VALUES(VARIABLE_VALUE)`, name, value)
	if err != nil {
		t.Fatalf("backupenv: write mysql.tidb %s: %v", name, err)
	}
}
