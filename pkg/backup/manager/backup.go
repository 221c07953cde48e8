package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/backupmeta"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// Condition reasons the backup flow writes (v1.6's where v1.6 had one).
const (
	reasonGetBackupFailed     = "GetBackupCRFailed"
	reasonInvalidSpec         = "InvalidSpec"
	reasonBackupFailed        = "BackupDataToRemoteFailed"
	reasonGetBackupMetaFailed = "GetBackupMetaFailed"
	reasonNotSupported        = "NotSupported"
	reasonStorageAccess       = "StorageAccessFailed"
)

// backupRun is one backup subcommand's state: the resource, where its data goes, and how to
// write its status.
type backupRun struct {
	m   *Manager
	key client.ObjectKey
	bk  *v1alpha1.Backup
	o   job.BackupOptions
	// command is the log subcommand, empty for a snapshot backup; every condition carries it.
	command v1alpha1.LogSubCommandType
	// restarted says a previous pod of this Job got past Scheduled.
	restarted bool
}

// Backup runs `tidb-backup-manager backup`.
func (m *Manager) Backup(ctx context.Context, o job.BackupOptions) error {
	key := client.ObjectKey{Namespace: o.Namespace, Name: o.BackupName}
	bk := &v1alpha1.Backup{}
	if err := m.Client.Get(ctx, key, bk); err != nil {
		return fmt.Errorf("backup %s: read the Backup: %w", key, err)
	}
	r := &backupRun{m: m, key: key, bk: bk, o: o}
	if o.Mode == v1alpha1.BackupModeLog {
		r.command = o.Subcommand
	}
	log := m.Log.WithValues("backup", key.String(), "mode", o.Mode)
	if r.command != "" {
		log = log.WithValues("subcommand", r.command)
	}
	// The run's own copy of the manager logs with the backup's name on every line.
	mm := *m
	mm.Log = log
	r.m = &mm

	if o.Mode == v1alpha1.BackupModeVolumeSnapshot {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonNotSupported,
			errors.New("spec.backupMode volume-snapshot (EBS volume snapshots) is not supported by this tidb-backup-manager: use backupMode snapshot or log"))
	}
	if bk.Spec.BR == nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonInvalidSpec,
			errors.New("spec.br is not set: this tidb-backup-manager backs up with BR only; set spec.br.cluster to the TidbCluster to back up"))
	}
	// A pod of this Job ran before: v1.6 records that, so a user can tell a retried Job from a
	// clean run, and carries on.
	if r.command == "" && bk.Status.Phase != v1alpha1.BackupScheduled && bk.Status.Phase != "" {
		r.restarted = true
		if err := r.condition(ctx, v1alpha1.BackupRestart, "RestartedPod", "the backup pod was restarted; running the backup again", status.BackupFields{}); err != nil {
			return err
		}
	}
	loc, err := storage.FromProvider(bk.Spec.StorageProvider, bk.Spec.BR.Options)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonInvalidSpec, fmt.Errorf("storage: %w", err))
	}
	if err := r.condition(ctx, v1alpha1.BackupPrepare, "", "", status.BackupFields{BackupPath: loc.StatusPath()}); err != nil {
		return err
	}
	if r.command != "" {
		return r.logBackup(ctx, loc)
	}
	return r.snapshot(ctx, loc)
}

// snapshot is a full, db or table backup: BR writes the data and backupmeta, which is then read
// back for the commit TS and size.
func (r *backupRun) snapshot(ctx context.Context, loc storage.Location) error {
	bk := r.bk
	args, err := brcmd.Backup(bk, r.o, r.cluster(), loc)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonInvalidSpec, err)
	}
	if bk.Spec.From != nil {
		restore, err := r.m.raiseGCLifeTime(ctx, bk.Spec.From, bk.Spec.TikvGCLifeTime, r.o.Common)
		if err != nil {
			var ge *gcError
			if errors.As(err, &ge) {
				return r.fail(ctx, v1alpha1.BackupFailed, ge.reason, err)
			}
			return r.fail(ctx, v1alpha1.BackupFailed, "SetTikvGCLifeTimeFailed", err)
		}
		defer func() {
			rctx, cancel := afterStop(ctx)
			defer cancel()
			if err := restore(rctx); err != nil {
				r.m.Log.Error(err, "could not restore tikv_gc_life_time; set it back by hand")
				_ = r.condition(rctx, v1alpha1.BackupRunning, "ResetTikvGCLifeTimeFailed", oneLine(err), status.BackupFields{})
			}
		}()
	}

	// One read before BR starts tells a credential or endpoint problem apart from a BR failure,
	// in words that name the credential's source, and finds a backup already at the prefix.
	exists, err := r.m.hasBackupMeta(ctx, loc)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonStorageAccess, err)
	}
	started := metav1.NewTime(r.m.Clock.Now())
	switch {
	case exists && r.restarted:
		// BR writes backupmeta last, so the previous pod's BR finished: record its result
		// rather than fail on BR's refusal to overwrite.
		r.m.Log.Info("the previous pod's BR had finished; recording its backup", "path", loc.Redacted())
	case exists:
		return r.fail(ctx, v1alpha1.BackupFailed, reasonInvalidSpec, fmt.Errorf(
			"%s already holds a backup (its backupmeta exists) and BR never overwrites one: give this Backup another prefix, or delete the old backup first", loc.StatusPath()))
	default:
		if err := r.condition(ctx, v1alpha1.BackupRunning, "", "", status.BackupFields{TimeStarted: &started}); err != nil {
			return err
		}
		if err := r.runBR(ctx, args); err != nil {
			return r.fail(ctx, v1alpha1.BackupFailed, reasonFor(err, reasonBackupFailed), fmt.Errorf("br backup: %w", err))
		}
	}
	if !r.bk.Status.TimeStarted.IsZero() && exists {
		started = r.bk.Status.TimeStarted
	}
	sum, err := r.m.readMeta(ctx, loc)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonGetBackupMetaFailed, err)
	}
	completed := metav1.NewTime(r.m.Clock.Now())
	size := int64(sum.Size)
	fields := status.BackupFields{
		BackupPath:         loc.StatusPath(),
		CommitTs:           fmt.Sprint(sum.EndVersion),
		TimeStarted:        &started,
		TimeCompleted:      &completed,
		TimeTaken:          completed.Sub(started.Time).Round(time.Millisecond).String(),
		BackupSize:         &size,
		BackupSizeReadable: readableSize(sum.Size),
	}
	if err := r.condition(ctx, v1alpha1.BackupComplete, "", "", fields); err != nil {
		return err
	}
	r.m.Log.Info("backup complete", "commitTs", sum.EndVersion, "size", fields.BackupSizeReadable, "took", fields.TimeTaken)
	return nil
}

// logBackup runs one log backup subcommand.
func (r *backupRun) logBackup(ctx context.Context, loc storage.Location) error {
	args, err := brcmd.Backup(r.bk, r.o, r.cluster(), loc)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonInvalidSpec, err)
	}
	started := metav1.NewTime(r.m.Clock.Now())
	if err := r.condition(ctx, v1alpha1.BackupRunning, "", "", status.BackupFields{TimeStarted: &started}); err != nil {
		return err
	}
	if err := r.runBR(ctx, args); err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonFor(err, reasonBackupFailed), fmt.Errorf("br log %s: %w", logVerb(r.command), err))
	}
	completed := metav1.NewTime(r.m.Clock.Now())
	fields := status.BackupFields{TimeCompleted: &completed}
	switch r.command {
	case v1alpha1.LogStartCommand, v1alpha1.LogResumeCommand:
		if r.command == v1alpha1.LogStartCommand {
			sum, err := r.m.readMeta(ctx, loc)
			if err != nil {
				return r.fail(ctx, v1alpha1.BackupFailed, reasonGetBackupMetaFailed, err)
			}
			fields.CommitTs = fmt.Sprint(sum.StartVersion)
		}
	case v1alpha1.LogTruncateCommand:
		fields.LogSuccessTruncateUntil = r.o.TruncateUntil
	}
	return r.condition(ctx, v1alpha1.BackupComplete, "", "", fields)
}

func logVerb(c v1alpha1.LogSubCommandType) string {
	switch c {
	case v1alpha1.LogStartCommand:
		return "start"
	case v1alpha1.LogStopCommand:
		return "stop"
	case v1alpha1.LogPauseCommand:
		return "pause"
	case v1alpha1.LogResumeCommand:
		return "resume"
	case v1alpha1.LogTruncateCommand:
		return "truncate"
	default:
		return string(c)
	}
}

func (r *backupRun) cluster() brcmd.Cluster {
	return brcmd.Cluster{PDAddress: brcmd.PDAddress(r.bk.Spec.BR, r.bk.Namespace), TLS: r.o.TLSCluster}
}

// runBR runs BR with its progress lines written to status.progresses.
func (r *backupRun) runBR(ctx context.Context, args []string) error {
	return r.m.runBR(ctx, args, func(ctx context.Context, p brlog.Progress, now metav1.Time) error {
		return r.update(ctx, status.SetBackupProgress(p.Step, p.Percent, now))
	})
}

// condition records a True condition of the given type (with the fields) in one transaction.
func (r *backupRun) condition(ctx context.Context, t v1alpha1.BackupConditionType, reason, message string, fields status.BackupFields) error {
	cond := v1alpha1.BackupCondition{Command: r.command, Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message}
	if err := r.update(ctx, status.SetBackupCondition(cond, fields)); err != nil {
		return fmt.Errorf("backup %s: record %s: %w", r.key, t, err)
	}
	return nil
}

// fail records a failure and returns it, so the Job fails with the same words as the status.
// The write uses a context that survives SIGTERM: an interruption must be recorded.
func (r *backupRun) fail(ctx context.Context, t v1alpha1.BackupConditionType, reason string, cause error) error {
	wctx, cancel := afterStop(ctx)
	defer cancel()
	err := fmt.Errorf("backup %s: %w", r.key, cause)
	if werr := r.condition(wctx, t, reason, oneLine(cause), status.BackupFields{}); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

func (r *backupRun) update(ctx context.Context, mutate func(*v1alpha1.Backup) bool) error {
	return status.Update(ctx, r.m.Client, r.key, &v1alpha1.Backup{}, mutate)
}

// hasBackupMeta reports whether a backupmeta is at the location; its error names what failed
// (credentials by their source, never their value).
func (m *Manager) hasBackupMeta(ctx context.Context, loc storage.Location) (bool, error) {
	b, err := storage.Open(ctx, loc, m.LookupEnv)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", loc.Redacted(), err)
	}
	defer func() { _ = b.Close() }()
	_, err = b.Get(ctx, backupmeta.FileName)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("checking the storage before starting BR: %w", err)
	}
}

// readMeta reads BR's backupmeta at the location.
func (m *Manager) readMeta(ctx context.Context, loc storage.Location) (backupmeta.Summary, error) {
	b, err := storage.Open(ctx, loc, m.LookupEnv)
	if err != nil {
		return backupmeta.Summary{}, fmt.Errorf("open %s to read backupmeta: %w", loc.Redacted(), err)
	}
	defer func() { _ = b.Close() }()
	sum, err := backupmeta.Read(ctx, b.Get)
	if err != nil {
		return backupmeta.Summary{}, fmt.Errorf("read backupmeta at %s: %w", loc.Redacted(), err)
	}
	return sum, nil
}
