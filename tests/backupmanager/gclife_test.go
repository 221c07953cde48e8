package backupmanager

import (
	"context"
	"database/sql"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/backupenv"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// TestBackupRaisesTheGCLifeTimeAndSetsItBack runs a backup with spec.from against a real
// MySQL-protocol server: while BR runs the GC life time is spec.tikvGCLifeTime, and afterwards
// it is what it was. The password reaches the process only as BACKUP_MANAGER_PASSWORD.
func TestBackupRaisesTheGCLifeTimeAndSetsItBack(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := backupenv.MySQL(t)
	db.InitTiDBGCTable(t)
	b := localBackend(t)
	bk := newBackup(ns, "with-gc", b, "with-gc")
	wanted := "96h"
	bk.Spec.TikvGCLifeTime = &wanted
	bk.Spec.From = &v1alpha1.TiDBAccessConfig{Host: db.Host, Port: int32(db.Port), User: db.User, SecretName: "tidb-secret"}
	scheduleBackup(ctx, t, bk)

	// BR takes a few seconds (one second between progress lines), long enough to read the
	// raised value while it runs.
	r := startManager(t, b.env.with(env{"BACKUP_MANAGER_PASSWORD": db.Password, "BRDOUBLE_STEP_DELAY": "1s"}),
		"backup", "--namespace="+ns, "--backupName=with-gc")
	waitFor(ctx, t, "Running", func() bool {
		got := &v1alpha1.Backup{}
		return c.Get(ctx, client.ObjectKeyFromObject(bk), got) == nil && got.Status.Phase == v1alpha1.BackupRunning
	})
	if got := gcLifeTime(ctx, t, db); got != wanted {
		t.Errorf("GC life time while BR runs: %q, want %q", got, wanted)
	}
	r.mustSucceed(t, time.Minute)
	if got := gcLifeTime(ctx, t, db); got != "10m0s" {
		t.Errorf("GC life time after the backup: %q, want it back at 10m0s", got)
	}
	if out := r.out.String(); db.Password != "" && strings.Contains(out, db.Password) {
		t.Error("the TiDB password appears in the output")
	}

	// Stopped mid-backup, the manager still sets the GC life time back before it exits.
	stopped := newBackup(ns, "with-gc-stopped", b, "with-gc-stopped")
	stopped.Spec.TikvGCLifeTime = &wanted
	stopped.Spec.From = bk.Spec.From
	scheduleBackup(ctx, t, stopped)
	r = startManager(t, b.env.with(env{"BACKUP_MANAGER_PASSWORD": db.Password, "BRDOUBLE_HANG": "1"}),
		"backup", "--namespace="+ns, "--backupName=with-gc-stopped")
	waitFor(ctx, t, "the raised GC life time", func() bool { return gcLifeTime(ctx, t, db) == wanted })
	waitFor(ctx, t, "Running", func() bool {
		got := &v1alpha1.Backup{}
		return c.Get(ctx, client.ObjectKeyFromObject(stopped), got) == nil && got.Status.Phase == v1alpha1.BackupRunning
	})
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 30*time.Second); code == 0 {
		t.Fatal("exit 0 after SIGTERM")
	}
	if got := gcLifeTime(ctx, t, db); got != "10m0s" {
		t.Errorf("GC life time after an interrupted backup: %q, want it back at 10m0s", got)
	}
}

// TestBackupRaisesTheGCLifeTimeOverTLS is TestBackupRaisesTheGCLifeTimeAndSetsItBack against a
// server that takes TCP clients over TLS with a client certificate only, as a TidbCluster with
// spec.tidb.tlsClient: the Job passes --client-tls and the manager reads ca.crt, tls.crt and
// tls.key from the folder the Job mounts (here named by BACKUP_MANAGER_TIDB_TLS_DIR). A ca.crt
// that did not sign the server's certificate fails the backup before BR runs, unless
// --skipClientCA says not to verify the server.
func TestBackupRaisesTheGCLifeTimeOverTLS(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	db := backupenv.MySQL(t, backupenv.WithTLS())
	db.InitTiDBGCTable(t)
	b := localBackend(t)
	from := &v1alpha1.TiDBAccessConfig{Host: db.Host, Port: int32(db.Port), User: db.User, SecretName: "tidb-secret"}
	wanted := "96h"
	unrelatedCA := db.TLSDirWithUnrelatedCA(t)

	// runBackup schedules a Backup with spec.from and starts the manager on it with the
	// certificate folder tlsDir and the extra flags.
	runBackup := func(ctx context.Context, t *testing.T, name, tlsDir string, extra env, flags ...string) (*run, client.ObjectKey) {
		t.Helper()
		bk := newBackup(ns, name, b, name)
		bk.Spec.TikvGCLifeTime = &wanted
		bk.Spec.From = from
		scheduleBackup(ctx, t, bk)
		e := b.env.with(env{"BACKUP_MANAGER_PASSWORD": db.Password, "BACKUP_MANAGER_TIDB_TLS_DIR": tlsDir}).with(extra)
		args := append([]string{"backup", "--namespace=" + ns, "--backupName=" + name}, flags...)
		return startManager(t, e, args...), client.ObjectKeyFromObject(bk)
	}
	// raisedWhileBRRuns runs a backup that must succeed, with the GC life time raised while BR
	// runs and set back after.
	raisedWhileBRRuns := func(t *testing.T, name, tlsDir string, flags ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// A second between BR's progress lines: time to read the raised value while it runs.
		r, key := runBackup(ctx, t, name, tlsDir, env{"BRDOUBLE_STEP_DELAY": "1s"}, flags...)
		waitFor(ctx, t, "Running", func() bool {
			got := &v1alpha1.Backup{}
			return c.Get(ctx, key, got) == nil && got.Status.Phase == v1alpha1.BackupRunning
		})
		if got := gcLifeTime(ctx, t, db); got != wanted {
			t.Errorf("GC life time while BR runs: %q, want %q", got, wanted)
		}
		r.mustSucceed(t, time.Minute)
		if got := gcLifeTime(ctx, t, db); got != backupenv.DefaultTiDBGCLifeTime {
			t.Errorf("GC life time after the backup: %q, want it back at %s", got, backupenv.DefaultTiDBGCLifeTime)
		}
		if got := getBackup(ctx, t, key); got.Status.Phase != v1alpha1.BackupComplete {
			t.Errorf("phase %q, want Complete; conditions %+v", got.Status.Phase, got.Status.Conditions)
		}
	}
	// failsReadingTheGCLifeTime runs a backup that must fail on its first query, with the GC
	// life time untouched and a Failed condition whose message contains want.
	failsReadingTheGCLifeTime := func(t *testing.T, name, tlsDir, want string, flags ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		r, key := runBackup(ctx, t, name, tlsDir, nil, flags...)
		if code := r.wait(t, time.Minute); code == 0 {
			t.Fatal("exit 0; want the backup to fail")
		}
		got := getBackup(ctx, t, key)
		failed := condition(got, v1alpha1.BackupFailed)
		if failed == nil || failed.Reason != "GetTikvGCLifeTimeFailed" || !strings.Contains(failed.Message, want) {
			t.Fatalf("conditions %+v; want Failed (GetTikvGCLifeTimeFailed) with a message containing %q", got.Status.Conditions, want)
		}
		t.Logf("Failed (%s): %s", failed.Reason, failed.Message)
		if running := condition(got, v1alpha1.BackupRunning); running != nil {
			t.Errorf("BR ran (condition %+v) although TiDB could not be reached", running)
		}
		if got := gcLifeTime(ctx, t, db); got != backupenv.DefaultTiDBGCLifeTime {
			t.Errorf("GC life time after the failed backup: %q, want it untouched at %s", got, backupenv.DefaultTiDBGCLifeTime)
		}
	}

	t.Run("verified", func(t *testing.T) {
		raisedWhileBRRuns(t, "gc-tls", db.TLSDir, "--client-tls")
	})
	// The server requires TLS: without --client-tls the same backup cannot even read the GC
	// life time, so the success above went through TLS. (MariaDB refuses a plain connection as
	// access denied.)
	t.Run("without --client-tls", func(t *testing.T) {
		failsReadingTheGCLifeTime(t, "gc-tls-plain", db.TLSDir, "Access denied")
	})
	t.Run("unrelated CA", func(t *testing.T) {
		failsReadingTheGCLifeTime(t, "gc-tls-wrong-ca", unrelatedCA, "certificate", "--client-tls")
	})
	// --skipClientCA skips only verifying the server: the client certificate, which the server
	// requires, is still presented.
	t.Run("unrelated CA with --skipClientCA", func(t *testing.T) {
		raisedWhileBRRuns(t, "gc-tls-skip-ca", unrelatedCA, "--client-tls", "--skipClientCA")
	})
}

// gcLifeTime reads tikv_gc_life_time the way pre-v5 TiDB keeps it, from mysql.tidb.
func gcLifeTime(ctx context.Context, t *testing.T, db *backupenv.MySQLServer) string {
	t.Helper()
	conn, err := sql.Open("mysql", db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM mysql.tidb WHERE VARIABLE_NAME = 'tikv_gc_life_time'").Scan(&v); err != nil {
		t.Fatalf("read tikv_gc_life_time: %v", err)
	}
	return v
}
