package restore

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

// Name is the controller's name, v1.6's, in logs and metrics.
const Name = "restore"

// RecorderName is the source of the controller's events, v1.6's component name.
const RecorderName = "tidb-controller-manager"

// DefaultResync re-reads a Restore whose Job runs while nothing changed. Restores and their Jobs
// are watched, so this only bounds how late a missed event is noticed; finished and invalid
// Restores are not requeued at all.
const DefaultResync = 5 * time.Minute

// Options configure SetupWithManager. They match the CompactBackup controller's field for field but
// stay this controller's own type: its configuration, with its own defaults (DefaultResync).
type Options struct {
	// Settings are the Jobs' operator-wide inputs (the backup-manager image, required).
	Settings job.Settings
	// Resync is the period of reconciles without a change while a Job runs; zero means
	// DefaultResync.
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

// Reconciler reconciles Restores.
type Reconciler struct {
	// Client reads from the informer cache and writes (Jobs).
	Client client.Client
	// Status runs status transactions: writes through the API server, reads from it too
	// (common.DirectReads), because the backup-manager writes the same status.
	Status client.Client
	// APIReader reads past the cache, to tell a Job that is really gone from one the cache has
	// not seen yet before anything is concluded from its absence.
	APIReader client.Reader
	// Recorder emits events on the Restore.
	Recorder events.EventRecorder
	Options  Options
}

// errNoImage refuses to start without the backup-manager image: every Job would fail to
// build, and the controller would take that for a problem of each Restore's spec.
var errNoImage = errors.New("no tidb-backup-manager image: start the operator with -tidb-backup-manager-image")

// SetupWithManager registers the controller: a Restore is reconciled when it changes, when one
// of its Jobs changes, and when the TidbCluster an invalid Restore waits for is created.
func SetupWithManager(mgr ctrl.Manager, o Options) error {
	if o.Settings.BackupManagerImage == "" {
		return fmt.Errorf("set up the %s controller: %w", Name, errNoImage)
	}
	o.defaults()
	r := &Reconciler{
		Client:    mgr.GetClient(),
		Status:    common.DirectReads(mgr.GetClient(), mgr.GetAPIReader()),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder(RecorderName),
		Options:   o,
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(Name).
		For(&v1alpha1.Restore{}).
		Owns(&batchv1.Job{}).
		// Applying a TidbCluster and a Restore into it together is the usual way to restore a
		// new cluster; whichever the operator sees first, the Restore must not stay Invalid.
		Watches(&v1alpha1.TidbCluster{}, handler.EnqueueRequestsFromMapFunc(r.waitingFor),
			builder.WithPredicates(common.CreatedOnly()))
	if o.MaxConcurrentReconciles > 0 {
		b = b.WithOptions(controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles})
	}
	return b.Complete(r)
}

// waitingFor maps a TidbCluster to the Invalid Restores that target it, so that they are
// validated again now that it exists. The Backup controller's waitingFor has the same shape but
// its own list and test of "waiting" (a Restore may name no cluster, and a finished one is
// never validated again), so each controller keeps its own.
func (r *Reconciler) waitingFor(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1alpha1.RestoreList{}
	if err := r.Client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list Restores waiting for a TidbCluster", "tidbcluster", client.ObjectKeyFromObject(obj).String())
		return nil
	}
	want := client.ObjectKeyFromObject(obj)
	var out []reconcile.Request
	for i := range list.Items {
		rs := &list.Items[i]
		if key, ok := clusterKey(rs); ok && key == want && v1alpha1.IsRestoreInvalid(rs) && !finished(rs) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(rs)})
		}
	}
	return out
}

// Reconcile runs the steps of one Restore and logs one summary line.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	rs := &v1alpha1.Restore{}
	if err := r.Client.Get(ctx, req.NamespacedName, rs); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get Restore %s: %w", req.NamespacedName, err)
	}
	s := &state{r: r, rs: rs, now: r.Options.Now()}
	summary := buildRunner(s).Run(ctx)
	if s.settled {
		// Nothing will change without an event (a spec change, a Job update): no resync.
		summary.Resync = 0
	}
	summary.Log(log)
	return summary.Result()
}
