package compactbackup

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

// Name is the controller's name, v1.6's, in logs and metrics.
const Name = "compactBackup"

// RecorderName is the source of the controller's events, v1.6's component name.
const RecorderName = "tidb-controller-manager"

// DefaultResync re-reads a CompactBackup whose Job runs while nothing changed. CompactBackups
// and their Jobs are watched, so this only bounds how late a missed event is noticed; finished
// compactions are not requeued at all.
const DefaultResync = 5 * time.Minute

// Options configure SetupWithManager. They match the Restore controller's field for field but
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

// Reconciler reconciles CompactBackups.
type Reconciler struct {
	// Client reads from the informer cache and writes (Jobs).
	Client client.Client
	// Status runs status transactions: writes through the API server and reads from it too
	// (common.DirectReads), because the backup-manager writes the same status.
	Status client.Client
	// APIReader reads past the cache, to tell a Job that is really gone from one the cache has
	// not seen yet.
	APIReader client.Reader
	// Recorder emits events on the CompactBackup.
	Recorder events.EventRecorder
	Options  Options
}

// errNoImage refuses to start without the backup-manager image: every Job would fail to
// build, and the controller would record that as each compaction's failure.
var errNoImage = errors.New("no tidb-backup-manager image: start the operator with -tidb-backup-manager-image")

// SetupWithManager registers the controller: a CompactBackup is reconciled when it changes and
// when its Job changes.
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
		For(&v1alpha1.CompactBackup{}).
		Owns(&batchv1.Job{})
	if o.MaxConcurrentReconciles > 0 {
		b = b.WithOptions(controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles})
	}
	return b.Complete(r)
}

// Reconcile runs the steps of one CompactBackup and logs one summary line.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	cb := &v1alpha1.CompactBackup{}
	if err := r.Client.Get(ctx, req.NamespacedName, cb); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get CompactBackup %s: %w", req.NamespacedName, err)
	}
	s := &state{r: r, cb: cb, now: r.Options.Now()}
	summary := buildRunner(s).Run(ctx)
	if s.settled {
		// Nothing will change without an event (a Job update, a new object): no resync.
		summary.Resync = 0
	}
	summary.Log(log)
	return summary.Result()
}
