package tidbcluster

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster/tasks"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// Name is the controller's name, v1.6's, in logs and metrics.
const Name = "tidbcluster"

// RecorderName is the source of the controller's events, v1.6's component name.
const RecorderName = "tidb-controller-manager"

// DefaultResync is how often a cluster is reconciled without any change, to refresh what PD
// and TiDB report.
const DefaultResync = 30 * time.Second

// Reconciler reconciles TidbClusters.
type Reconciler struct {
	tasks.Deps
	// Resync is the period of reconciles without a change.
	Resync time.Duration
}

// locationLabelsTTL is how long PD's replication.location-labels are reused before PD is asked
// again; they change rarely, and a changed value takes effect within this delay.
const locationLabelsTTL = time.Minute

// Options configure SetupWithManager.
type Options struct {
	// DiscoveryImage runs the discovery Deployment of each cluster.
	DiscoveryImage string
	// RenderProbe: see tasks.Deps.RenderProbe (tests only).
	RenderProbe string
	// Resync is the period of reconciles without a change; zero means DefaultResync.
	Resync time.Duration
	// PD hands out PD clients; nil means a factory with default settings (proxies from the
	// environment, 5 second timeout).
	PD *pdapi.Factory
	// MaxConcurrentReconciles; zero keeps the manager's default.
	MaxConcurrentReconciles int
	// AutoFailover: -auto-failover and the TiKV and TiDB failover periods.
	AutoFailover tasks.FailoverConfig
	// ReadPVs: the operator may read and patch PersistentVolumes (cluster scoped, or
	// -cluster-permission-pv), so it labels the cluster's volumes and sets their reclaim policy.
	ReadPVs bool
	// ReadNodes: the operator may read Nodes (cluster scoped, or -cluster-permission-node), so
	// it copies node topology into TiKV store labels.
	ReadNodes bool
}

// SetupWithManager registers the controller: it reconciles a TidbCluster when the cluster
// changes, when an object it owns (StatefulSets, Services, ConfigMaps, the discovery
// Deployment) changes or is deleted, when one of its pods changes, when a PiTR Restore into it
// starts or stops holding the TiKV config overlay, and every Resync.
func SetupWithManager(mgr ctrl.Manager, o Options) error {
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.PD == nil {
		o.PD = pdapi.NewFactory()
	}
	r := &Reconciler{
		Deps: tasks.Deps{
			Client:         mgr.GetClient(),
			Scheme:         mgr.GetScheme(),
			Recorder:       mgr.GetEventRecorder(RecorderName),
			PD:             o.PD,
			DiscoveryImage: o.DiscoveryImage,
			RenderProbe:    o.RenderProbe,
			ReadNodes:      o.ReadNodes,
			ReadPVs:        o.ReadPVs,
			LocationLabels: &tasks.LocationLabelCache{TTL: locationLabelsTTL},
			SentLabels:     &tasks.SentLabels{},
			AutoFailover:   o.AutoFailover,
		},
		Resync: o.Resync,
	}
	if o.ReadNodes {
		// Register the Node metadata informer now, so that it syncs with the manager's cache
		// at start-up (and a missing permission shows as a cache that never syncs, at once)
		// rather than on the first store label read.
		node := &metav1.PartialObjectMetadata{}
		node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
		if _, err := mgr.GetCache().GetInformer(context.Background(), node, cache.BlockUntilSynced(false)); err != nil {
			return fmt.Errorf("watch nodes: %w", err)
		}
	}
	if o.ReadPVs {
		// As for Nodes: sync with the cache at start-up.
		if _, err := mgr.GetCache().GetInformer(context.Background(), &corev1.PersistentVolume{}, cache.BlockUntilSynced(false)); err != nil {
			return fmt.Errorf("watch persistent volumes: %w", err)
		}
	}
	// Restores are looked up by the cluster they restore into, for the PiTR overlay on TiKV's
	// configuration.
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.Restore{}, tasks.RestoreTargetIndex, tasks.RestoreTargetIndexValue); err != nil {
		return fmt.Errorf("index restores by target cluster: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(Name).
		For(&v1alpha1.TidbCluster{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&appsv1.Deployment{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToCluster),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&v1alpha1.Restore{}, handler.EnqueueRequestsFromMapFunc(restoreToCluster),
			builder.WithPredicates(pitrOverlayPredicate()))
	if o.MaxConcurrentReconciles > 0 {
		b = b.WithOptions(controllerOptions(o.MaxConcurrentReconciles))
	}
	return b.Complete(r)
}

// podToCluster maps a pod of a TidbCluster to the cluster, through the instance label (which
// is the cluster's name unless the cluster sets its own instance label, a rare v1.6 setup that
// then relies on the resync).
func podToCluster(_ context.Context, obj client.Object) []reconcile.Request {
	l := obj.GetLabels()
	if l[label.ManagedByLabelKey] != label.TiDBOperator || l[label.NameLabelKey] != label.TiDBClusterName || l[label.InstanceLabelKey] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: l[label.InstanceLabelKey]}}}
}

// restoreToCluster maps a Restore to the TidbCluster it restores into (spec.br.cluster in
// spec.br.clusterNamespace, else in the Restore's namespace). On an update both the old and the
// new target are mapped, so a Restore moved to another cluster wakes both.
func restoreToCluster(_ context.Context, obj client.Object) []reconcile.Request {
	rs, ok := obj.(*v1alpha1.Restore)
	if !ok {
		return nil
	}
	t, ok := tasks.RestoreTarget(rs)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: t}}
}

// pitrOverlayPredicate passes the Restore events that can change a cluster's PiTR overlay: a
// Restore that holds it is created or deleted, starts or stops holding it (finishes, fails, is
// being deleted, changes mode), or moves to another cluster. Progress updates of a running
// restore do not wake the cluster; the resync covers anything missed.
func pitrOverlayPredicate() predicate.Predicate {
	holds := func(obj client.Object) bool {
		rs, ok := obj.(*v1alpha1.Restore)
		return ok && tasks.HoldsPiTROverlay(rs)
	}
	target := func(obj client.Object) types.NamespacedName {
		if rs, ok := obj.(*v1alpha1.Restore); ok {
			t, _ := tasks.RestoreTarget(rs)
			return t
		}
		return types.NamespacedName{}
	}
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return holds(e.Object) },
		DeleteFunc: func(e event.DeleteEvent) bool { return holds(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			was, is := holds(e.ObjectOld), holds(e.ObjectNew)
			return was != is || (is && target(e.ObjectOld) != target(e.ObjectNew))
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// Reconcile runs the steps of builder.go for one cluster and logs one summary line.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	tc := &v1alpha1.TidbCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, tc); err != nil {
		if apierrors.IsNotFound(err) {
			r.Forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get TidbCluster %s: %w", req.NamespacedName, err)
	}
	s := tasks.NewState(r.Deps, log, tc)
	summary := buildRunner(s, r).Run(ctx)
	summary.Log(log)
	return summary.Result()
}
