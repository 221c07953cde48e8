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
