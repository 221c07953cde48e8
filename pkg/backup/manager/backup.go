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
	reasonAlreadyExists       = "BackupAlreadyExists"
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
	// secrets are the spec's credentials (a SAS token) that BR's output must not show.
	secrets []string
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
	loc, err := storage.FromProvider(bk.Spec.StorageProvider, bk.Spec.BR.Options)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonInvalidSpec, fmt.Errorf("storage: %w", err))
	}
	r.secrets = []string{loc.SASToken}
	if r.command != "" {
		if err := r.condition(ctx, v1alpha1.BackupPrepare, "", "", status.BackupFields{BackupPath: loc.StatusPath()}); err != nil {
			return err
		}
		return r.logBackup(ctx, loc)
	}
	// A pod of this Job ran before: v1.6 records that, so a user can tell a retried Job from a
	// clean run, and carries on.
	if bk.Status.Phase != v1alpha1.BackupScheduled && bk.Status.Phase != "" {
		r.restarted = true
		if err := r.condition(ctx, v1alpha1.BackupRestart, "RestartedPod", "the backup pod was restarted; running the backup again", status.BackupFields{}); err != nil {
			return err
		}
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
	// One read before anything is recorded tells a credential or endpoint problem apart from a
	// BR failure, in words that name the credential's source, and finds a backup already at
	// the prefix. It comes before Prepare so that a refused Backup never records a path that
	// is another backup's: a clean of this Backup must never reach that data.
	exists, err := r.m.hasBackupMeta(ctx, loc)
	if err != nil {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonFor(ctx, err, reasonStorageAccess), err)
	}
	adopt := exists && r.ranBR()
	if exists && !adopt {
		return r.fail(ctx, v1alpha1.BackupFailed, reasonAlreadyExists, fmt.Errorf(
			"%s already holds a backup (its backupmeta exists) and BR never overwrites one: give this Backup another prefix, or delete the old backup first", loc.StatusPath()))
	}
	if err := r.condition(ctx, v1alpha1.BackupPrepare, "", "", status.BackupFields{BackupPath: loc.StatusPath()}); err != nil {
		return err
	}
	started := metav1.NewTime(r.m.Clock.Now())
	if adopt {
		// BR writes backupmeta last, so this Backup's previous pod's BR finished: record its
		// result rather than fail on BR's refusal to overwrite it.
		r.m.Log.Info("the previous pod's BR had finished; recording its backup", "path", loc.Redacted())
		started = bk.Status.TimeStarted
	} else if err := r.runSnapshotBR(ctx, args, started); err != nil {
		return err
	}
	// BR succeeded: the data is there, so the result is recorded even if the pod is being
	// stopped.
	wctx, cancel := r.m.afterStop(ctx)
	defer cancel()
	sum, err := r.m.readMeta(wctx, loc)
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
	if err := r.condition(wctx, v1alpha1.BackupComplete, "", "", fields); err != nil {
		return err
	}
	r.m.Log.Info("backup complete", "commitTs", sum.EndVersion, "size", fields.BackupSizeReadable, "took", fields.TimeTaken)
	return nil
}

// ranBR says an earlier pod of this Backup started BR (it recorded Running with a start time)
// and was not refused for a backup already at the prefix: only then can a backupmeta found
// there be this Backup's own.
func (r *backupRun) ranBR() bool {
	if !r.restarted || r.bk.Status.TimeStarted.IsZero() || !v1alpha1.IsBackupRunning(r.bk) {
		return false
	}
	_, failed := v1alpha1.GetBackupCondition(&r.bk.Status, v1alpha1.BackupFailed)
	return failed == nil || failed.Reason != reasonAlreadyExists
}

// runSnapshotBR raises the GC life time when spec.from asks for it, runs BR, and sets the GC
// life time back before the outcome is recorded, so that a reset failure is the outcome
// (v1.6's order) and the cluster is never left with a raised GC life time unreported.
func (r *backupRun) runSnapshotBR(ctx context.Context, args []string, started metav1.Time) error {
	reset := func(context.Context) error { return nil }
	if from := r.bk.Spec.From; from != nil {
		var err error
		reset, err = r.m.raiseGCLifeTime(ctx, from, r.bk.Spec.TikvGCLifeTime, r.o.Common)
		if err != nil {
			reason := "SetTikvGCLifeTimeFailed"
			var ge *gcError
			if errors.As(err, &ge) {
				reason = ge.reason
			}
			return r.fail(ctx, v1alpha1.BackupFailed, reasonFor(ctx, err, reason), err)
		}
	}
	// Each run's progress starts from zero: a restarted pod's BR starts over.
	err := r.update(ctx, status.All(
		status.SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupRunning, Status: corev1.ConditionTrue}, status.BackupFields{TimeStarted: &started}),
		status.ClearBackupProgress()))
	if err == nil {
		if err = r.runBR(ctx, args); err != nil {
			err = &toolFailure{reason: reasonFor(ctx, err, reasonBackupFailed), err: fmt.Errorf("br backup: %w", err)}
		}
	} else {
		err = fmt.Errorf("backup %s: record Running: %w", r.key, err)
	}
	rctx, cancel := r.m.afterStop(ctx)
	defer cancel()
	if rerr := reset(rctx); rerr != nil {
		r.m.Log.Error(rerr, "could not set tikv_gc_life_time back; set it back by hand")
		return r.fail(ctx, v1alpha1.BackupFailed, "ResetTikvGCLifeTimeFailed", errors.Join(rerr, err))
	}
	var tf *toolFailure
	if errors.As(err, &tf) {
		return r.fail(ctx, v1alpha1.BackupFailed, tf.reason, tf.err)
	}
	return err
}

// toolFailure carries a tool's failure with its condition reason until it is recorded.
type toolFailure struct {
	reason string
	err    error
}

func (e *toolFailure) Error() string { return e.err.Error() }
func (e *toolFailure) Unwrap() error { return e.err }

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
		return r.fail(ctx, v1alpha1.BackupFailed, reasonFor(ctx, err, reasonBackupFailed), fmt.Errorf("br log %s: %w", logVerb(r.command), err))
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
	return r.m.runBR(ctx, args, r.secrets, func(ctx context.Context, p brlog.Progress, now metav1.Time) error {
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
	return r.m.recordFailure(ctx, "backup", r.key, cause, func(ctx context.Context, message string) error {
		return r.condition(ctx, t, reason, message, status.BackupFields{})
	})
}

func (r *backupRun) update(ctx context.Context, mutate func(*v1alpha1.Backup) bool) error {
	return update(ctx, r.m.Client, r.key, &v1alpha1.Backup{}, mutate)
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
