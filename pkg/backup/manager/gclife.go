package manager

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

// DefaultGCLifeTime is what tikv_gc_life_time is raised to during a backup when the spec does
// not say (v1.6's default): long enough that the snapshot BR reads is not collected under it.
const DefaultGCLifeTime = "72h"

// gcError carries the v1.6 condition reason of a GC life time step that failed.
type gcError struct {
	reason string
	err    error
}

func (e *gcError) Error() string { return e.err.Error() }
func (e *gcError) Unwrap() error { return e.err }

// gcVariable is how a TiDB version keeps the GC life time: the system variable
// tidb_gc_life_time (v5.0 and later) or the row tikv_gc_life_time of mysql.tidb (before).
type gcVariable struct {
	get, set string
}

var (
	gcSystemVariable = gcVariable{
		get: "SELECT @@global.tidb_gc_life_time",
		set: "SET GLOBAL tidb_gc_life_time = ?",
	}
	gcTableRow = gcVariable{
		get: "SELECT VARIABLE_VALUE FROM mysql.tidb WHERE VARIABLE_NAME = 'tikv_gc_life_time'",
		set: "UPDATE mysql.tidb SET VARIABLE_VALUE = ? WHERE VARIABLE_NAME = 'tikv_gc_life_time'",
	}
)

// mysqlUnknownSystemVariable is the server's error number for a variable it does not have.
const mysqlUnknownSystemVariable = 1193

// gcDecision says whether the GC life time must be raised for the backup: only when the
// current value is shorter than wanted, so a user's longer setting is never shortened.
func gcDecision(current, wanted string) (raise bool, err error) {
	cur, err := time.ParseDuration(current)
	if err != nil {
		return false, fmt.Errorf("the cluster's GC life time %q is not a duration: %w", current, err)
	}
	want, err := time.ParseDuration(wanted)
	if err != nil {
		return false, fmt.Errorf("spec.tikvGCLifeTime %q is not a duration such as 72h: %w", wanted, err)
	}
	return cur < want, nil
}

// raiseGCLifeTime connects to TiDB as spec.from says and raises the GC life time for the
// backup's duration. The returned function sets it back; it is a no-op when nothing was raised.
func (m *Manager) raiseGCLifeTime(ctx context.Context, from *v1alpha1.TiDBAccessConfig, wanted *string, c job.Common) (func(context.Context) error, error) {
	want := DefaultGCLifeTime
	if wanted != nil && *wanted != "" {
		want = *wanted
	}
	db, err := m.openTiDB(from, c)
	if err != nil {
		return nil, &gcError{reason: "GetTikvGCLifeTimeFailed", err: err}
	}
	v, current, err := readGCLifeTime(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, &gcError{reason: "GetTikvGCLifeTimeFailed", err: err}
	}
	raise, err := gcDecision(current, want)
	if err != nil {
		_ = db.Close()
		return nil, &gcError{reason: "GetTikvGCLifeTimeFailed", err: err}
	}
	if !raise {
		_ = db.Close()
		m.Log.Info("GC life time is long enough for the backup", "current", current, "wanted", want)
		return func(context.Context) error { return nil }, nil
	}
	if _, err := db.ExecContext(ctx, v.set, want); err != nil {
		_ = db.Close()
		return nil, &gcError{reason: "SetTikvGCLifeTimeFailed", err: fmt.Errorf("raise the GC life time to %s: %w", want, err)}
	}
	m.Log.Info("raised the GC life time for the backup", "from", current, "to", want)
	return func(ctx context.Context) error {
		defer func() { _ = db.Close() }()
		if _, err := db.ExecContext(ctx, v.set, current); err != nil {
			return &gcError{reason: "ResetTikvGCLifeTimeFailed", err: fmt.Errorf("set the GC life time back to %s: %w", current, err)}
		}
		m.Log.Info("set the GC life time back", "to", current)
		return nil
	}, nil
}

// readGCLifeTime reads the GC life time in whichever form the server keeps it.
func readGCLifeTime(ctx context.Context, db *sql.DB) (gcVariable, string, error) {
	var value string
	err := db.QueryRowContext(ctx, gcSystemVariable.get).Scan(&value)
	if err == nil {
		return gcSystemVariable, value, nil
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != mysqlUnknownSystemVariable {
		return gcVariable{}, "", fmt.Errorf("read the GC life time: %w", err)
	}
	if err := db.QueryRowContext(ctx, gcTableRow.get).Scan(&value); err != nil {
		return gcVariable{}, "", fmt.Errorf("read tikv_gc_life_time from mysql.tidb: %w", err)
	}
	return gcTableRow, value, nil
}

// openTiDB opens a connection pool to TiDB with the password from the Job's environment and,
// with --client-tls, the client certificate the Job mounts.
func (m *Manager) openTiDB(from *v1alpha1.TiDBAccessConfig, c job.Common) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = from.GetTidbUser()
	cfg.Passwd, _ = m.LookupEnv(EnvTiDBPassword)
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(from.Host, strconv.Itoa(int(from.GetTidbPort())))
	cfg.Timeout = 10 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	if c.TLSClient {
		tc, err := m.tidbTLS(from.Host, c.SkipClientCA)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to TiDB at %s as %s: %w", cfg.Addr, cfg.User, err)
	}
	return sql.OpenDB(conn), nil
}

// tidbTLS builds the client TLS configuration from the mounted secret (ca.crt, tls.crt,
// tls.key). skipCA skips verifying the server, as v1.6's --skipClientCA did.
func (m *Manager) tidbTLS(host string, skipCA bool) (*tls.Config, error) {
	dir := m.TiDBTLSDir
	if dir == "" {
		dir = TiDBClientTLSDir
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		return nil, fmt.Errorf("load the TiDB client certificate from %s: %w", dir, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ServerName: host, MinVersion: tls.VersionTLS12}
	if skipCA {
		cfg.InsecureSkipVerify = true //nolint:gosec // the user asked for it with spec.from's skipClientCA
		return cfg, nil
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read the TiDB CA from %s: %w", dir, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s holds no PEM certificate", filepath.Join(dir, "ca.crt"))
	}
	cfg.RootCAs = pool
	return cfg, nil
}
