package backupschedule

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

// Name is the controller's name in logs and metrics. v1.6 registered this controller as
// "backup" (a copy-paste slip in its backup_schedule_controller.go), the name of its Backup
// controller; the two must differ here, so it is the kind's name.
const Name = "backupschedule"

// RecorderName is the source of the controller's events, v1.6's component name.
const RecorderName = "tidb-controller-manager"

// DefaultResync re-reads a schedule that nothing changed. Ticks and compactions ask for their
// own reconcile, and the children are watched, so this only bounds how late a missed event is
// noticed.
const DefaultResync = 5 * time.Minute

// Options configure SetupWithManager.
type Options struct {
	// Resync is the period of reconciles without a change; zero means DefaultResync.
	Resync time.Duration
	// MaxConcurrentReconciles; zero keeps the manager's default.
	MaxConcurrentReconciles int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Reconciler reconciles BackupSchedules.
type Reconciler struct {
	// Client reads from the informer cache and writes.
	Client client.Client
	// Status runs the status transaction and the reads that must not be stale: writes through
	// Client, reads from the API server (common.DirectReads).
	Status client.Client
	// Recorder emits events on the schedule.
	Recorder events.EventRecorder
	Options  Options
}

// NewReconciler builds a Reconciler with the defaults of Options filled in.
func NewReconciler(c, status client.Client, rec events.EventRecorder, o Options) *Reconciler {
	o.defaults()
	return &Reconciler{Client: c, Status: status, Recorder: rec, Options: o}
}

// SetupWithManager registers the controller: a schedule is reconciled when it changes, when one
// of its Backups or CompactBackups (tidb.pingcap.com/backup-schedule=<schedule>) changes in a
// way its decisions read, when a Backup of its group (tidb.pingcap.com/backup-schedule-group)
// does, and every Resync.
func SetupWithManager(mgr ctrl.Manager, o Options) error {
	r := NewReconciler(mgr.GetClient(), common.DirectReads(mgr.GetClient(), mgr.GetAPIReader()),
		mgr.GetEventRecorder(RecorderName), o)
	b := ctrl.NewControllerManagedBy(mgr).
		Named(Name).
		For(&v1alpha1.BackupSchedule{}).
		Watches(&v1alpha1.Backup{}, handler.EnqueueRequestsFromMapFunc(backupToSchedules(mgr.GetClient())),
			builder.WithPredicates(backupPredicate())).
		Watches(&v1alpha1.CompactBackup{}, handler.EnqueueRequestsFromMapFunc(compactToSchedule),
			builder.WithPredicates(compactPredicate()))
	if o.MaxConcurrentReconciles > 0 {
		b = b.WithOptions(controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles})
	}
	return b.Complete(r)
}

// backupToSchedules maps a Backup to its schedule and, when it carries a group label, to every
// schedule of the group in its namespace (read from the cache), so a schedule waiting for
// another schedule's Backup goes on as soon as that Backup finishes.
func backupToSchedules(c client.Reader) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		var reqs []reconcile.Request
		seen := map[string]bool{}
		add := func(name string) {
			if name != "" && !seen[name] {
				seen[name] = true
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}})
			}
		}
		add(obj.GetLabels()[label.BackupScheduleLabelKey])
		if g := obj.GetLabels()[label.BackupScheduleGroupLabelKey]; g != "" {
			list := &v1alpha1.BackupScheduleList{}
			if err := c.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingLabels{label.BackupScheduleGroupLabelKey: g}); err == nil {
				for i := range list.Items {
					add(list.Items[i].Name)
				}
			}
			// A failed cache read only delays the group: the waiting schedule comes back
			// at its resync.
		}
		return reqs
	}
}

// compactToSchedule maps a CompactBackup to its schedule.
func compactToSchedule(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[label.BackupScheduleLabelKey]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
}

// backupView is what the schedule's decisions read of a Backup. Updates that leave it alone
// (progress reports, sizes, retry records) do not reconcile the schedule.
type backupView struct {
	schedule, group string
	deleting        bool
	phase           v1alpha1.BackupConditionType
	done, failed    bool
	commitTs        string
	checkpoint      string
	truncated       string
	truncateUntil   string
}

func viewOf(bk *v1alpha1.Backup) backupView {
	done, failed := finished(bk)
	return backupView{
		schedule: bk.Labels[label.BackupScheduleLabelKey], group: bk.Labels[label.BackupScheduleGroupLabelKey],
		deleting: !bk.DeletionTimestamp.IsZero(), phase: bk.Status.Phase, done: done, failed: failed,
		commitTs: bk.Status.CommitTs, checkpoint: bk.Status.LogCheckpointTs,
		truncated: bk.Status.LogSuccessTruncateUntil, truncateUntil: bk.Spec.LogTruncateUntil,
	}
}

// backupPredicate passes creations, deletions and the updates that change a backupView.
func backupPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.Backup)
		n, ok2 := e.ObjectNew.(*v1alpha1.Backup)
		return !ok1 || !ok2 || viewOf(o) != viewOf(n)
	}}
}

// compactPredicate passes creations, deletions and the updates that change what the schedule
// reads of a CompactBackup: its state and window.
func compactPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.CompactBackup)
		n, ok2 := e.ObjectNew.(*v1alpha1.CompactBackup)
		if !ok1 || !ok2 {
			return true
		}
		return o.Status.State != n.Status.State || o.Spec.EndTs != n.Spec.EndTs ||
			o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero() ||
			o.Labels[label.BackupScheduleLabelKey] != n.Labels[label.BackupScheduleLabelKey]
	}}
}

// Reconcile runs the steps of builder.go for one schedule and logs one summary line.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	bs := &v1alpha1.BackupSchedule{}
	if err := r.Client.Get(ctx, req.NamespacedName, bs); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get BackupSchedule %s: %w", req.NamespacedName, err)
	}
	s := newState(r, bs)
	summary := buildRunner(s).Run(ctx)
	summary.Log(log)
	return summary.Result()
}
