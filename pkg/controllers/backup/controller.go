package backup

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/checkpoint"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

// Name is the controller's name, v1.6's, in logs and metrics.
const Name = "backup"

// RecorderName is the source of the controller's events, v1.6's component name.
const RecorderName = "tidb-controller-manager"

// Defaults of Options.
const (
	// DefaultResync re-reads a Backup that nothing changed. Jobs and Backups are watched, so
	// this only bounds how late a missed event is noticed.
	DefaultResync = 5 * time.Minute
	// DefaultCheckpointInterval is v1.6's: the tracker reads a log backup's checkpoint from
	// PD once a minute.
	DefaultCheckpointInterval = time.Minute
	// DefaultCleanRetryInterval is how long a failed clean-<name> Job is kept, for the user to
	// read, before it runs again.
	DefaultCleanRetryInterval = 5 * time.Minute
)

// CheckpointReader reads a log backup task's checkpoint TSO from PD's etcd.
// *checkpoint.Reader implements it.
type CheckpointReader interface {
	Checkpoint(ctx context.Context, endpoint string, tlsConfig *tls.Config, task string) (uint64, error)
}

// Options configure SetupWithManager.
type Options struct {
	// Settings are the Jobs' operator-wide inputs (the backup-manager image).
	Settings job.Settings
	// Resync is the period of reconciles without a change; zero means DefaultResync.
	Resync time.Duration
	// CheckpointInterval is the period of the log backup checkpoint tracker; zero means
	// DefaultCheckpointInterval.
	CheckpointInterval time.Duration
	// CleanRetryInterval; zero means DefaultCleanRetryInterval.
	CleanRetryInterval time.Duration
	// Checkpoints reads checkpoints; nil means a checkpoint.Reader with default settings.
	Checkpoints CheckpointReader
	// MaxConcurrentReconciles; zero keeps the manager's default.
	MaxConcurrentReconciles int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.CleanRetryInterval <= 0 {
		o.CleanRetryInterval = DefaultCleanRetryInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Reconciler reconciles Backups.
type Reconciler struct {
	// Client reads from the informer cache and writes.
	Client client.Client
	// Status runs status transactions: writes through Client, reads from the API server.
	Status client.Client
	// Recorder emits events on the Backup.
	Recorder events.EventRecorder
	Options  Options

	// warned remembers the failed Jobs already reported by an event, so a Job kept for the
	// user to read produces one Warning, not one per reconcile until it is retried.
	warned sync.Map
}

// warnOnce reports whether the failure of the Job with this UID has not been reported yet, and
// remembers it. After an operator restart a failure is reported once more, which is fine.
func (r *Reconciler) warnOnce(uid types.UID) bool {
	_, seen := r.warned.LoadOrStore(uid, struct{}{})
	return !seen
}

// SetupWithManager registers the controller: a Backup is reconciled when it changes and when
// one of its Jobs changes.
func SetupWithManager(mgr ctrl.Manager, o Options) error {
	o.defaults()
	if o.Checkpoints == nil {
		o.Checkpoints = checkpoint.NewReader(checkpoint.Options{})
	}
	r := &Reconciler{
		Client:   mgr.GetClient(),
		Status:   common.DirectReads(mgr.GetClient(), mgr.GetAPIReader()),
		Recorder: mgr.GetEventRecorder(RecorderName),
		Options:  o,
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(Name).
		For(&v1alpha1.Backup{}).
		Owns(&batchv1.Job{}).
		// A Backup applied together with its TidbCluster may be seen first and found Invalid
		// (ClusterNotFound); the cluster's creation validates it again at once.
		Watches(&v1alpha1.TidbCluster{}, handler.EnqueueRequestsFromMapFunc(r.waitingFor),
			builder.WithPredicates(common.CreatedOnly()))
	if o.MaxConcurrentReconciles > 0 {
		b = b.WithOptions(controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles})
	}
	return b.Complete(r)
}

// waitingFor maps a created TidbCluster to the Invalid Backups that name it.
func (r *Reconciler) waitingFor(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1alpha1.BackupList{}
	if err := r.Client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list Backups waiting for a TidbCluster", "tidbcluster", client.ObjectKeyFromObject(obj).String())
		return nil
	}
	want := client.ObjectKeyFromObject(obj)
	var out []reconcile.Request
	for i := range list.Items {
		bk := &list.Items[i]
		s := state{bk: bk}
		if v1alpha1.IsBackupInvalid(bk) && s.clusterKey() == want {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(bk)})
		}
	}
	return out
}

// Reconcile runs the steps of one Backup and logs one summary line.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	bk := &v1alpha1.Backup{}
	if err := r.Client.Get(ctx, req.NamespacedName, bk); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get Backup %s: %w", req.NamespacedName, err)
	}
	s := &state{r: r, bk: bk, now: r.Options.Now()}
	summary := buildRunner(s).Run(ctx)
	summary.Log(log)
	return summary.Result()
}
