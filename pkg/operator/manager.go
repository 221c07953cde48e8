package operator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/pkg/version"
)

// userAgentName is the client name shown in API server audit logs; it is v1.6's process name.
const userAgentName = "tidb-controller-manager"

// cacheSyncCheckTimeout bounds how long one readiness probe waits for the informers.
const cacheSyncCheckTimeout = time.Second

// Config is everything needed to build the manager.
type Config struct {
	Options     *options.Options
	Environment Environment
	// RestConfig reaches the API server; build it with RestConfig.
	RestConfig  *rest.Config
	Controllers []Controller
	Logger      logr.Logger
	// MapperProvider replaces the REST mapper that discovers kinds from the API server; nil
	// keeps controller-runtime's. Tests use it to build a manager without an API server.
	MapperProvider func(*rest.Config, *http.Client) (meta.RESTMapper, error)
}

// NewScheme returns the types the operator reads and writes: the Kubernetes built-ins and
// pingcap.com/v1alpha1.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("registering the Kubernetes types: %w", err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("registering %s: %w", v1alpha1.SchemeGroupVersion, err)
	}
	return s, nil
}

// RestConfig loads the API server connection: -kubeconfig when given, otherwise $KUBECONFIG,
// the in-cluster service account, or ~/.kube/config, in that order. -kube-client-qps and
// -kube-client-burst apply when set.
func RestConfig(o *options.Options) (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	if o.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	} else {
		cfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("loading the Kubernetes client configuration: %w", err)
	}
	applyThrottling(cfg, o)
	cfg.UserAgent = fmt.Sprintf("%s/%s", userAgentName, version.Get().GitVersion)
	return cfg, nil
}

// applyThrottling sets the client rate limits from the flags. Unset flags leave client-side
// throttling off, as controller-runtime does by default; the API server's priority and fairness
// protects it instead.
func applyThrottling(cfg *rest.Config, o *options.Options) {
	if o.KubeClientQPS > 0 {
		cfg.QPS = float32(o.KubeClientQPS)
	} else if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	if o.KubeClientBurst > 0 {
		cfg.Burst = o.KubeClientBurst
	}
}

// ManagerOptions translates the operator's options into controller-runtime's.
func ManagerOptions(cfg Config, scheme *runtime.Scheme) (ctrl.Options, error) {
	o := cfg.Options
	byObject, err := selectorByObject(scheme, v1alpha1.SchemeGroupVersion, o)
	if err != nil {
		return ctrl.Options{}, err
	}
	byObject, err = restrictToManagedObjects(byObject)
	if err != nil {
		return ctrl.Options{}, err
	}
	cacheOpts := cache.Options{
		// -resync-duration is not the informers' resync period here: v1.6 polled PD through
		// informer resyncs, but replaying every cached pod and child object queues each
		// cluster many times per period (each replay at a different moment), multiplying PD
		// calls. The TidbCluster controller instead asks for one requeue per resync-duration,
		// and the informers keep controller-runtime's default (hours).
		ByObject: byObject,
	}
	if !o.ClusterScoped {
		// Cluster-scoped kinds (Nodes, PersistentVolumes, StorageClasses) are not affected by
		// this; whether they are read at all is up to -cluster-permission-*.
		cacheOpts.DefaultNamespaces = map[string]cache.Config{cfg.Environment.Namespace: {}}
	}
	lease, renew, retry := o.LeaseDuration, o.RenewDeadline, o.RetryPeriod
	return ctrl.Options{
		Scheme:   scheme,
		Cache:    cacheOpts,
		NewCache: newCache(v1alpha1.SchemeGroupVersion),
		// Secrets are read straight from the API server, never cached: a cluster-wide Secret
		// informer would hold every Secret of every namespace in memory (and in core dumps).
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		Logger: cfg.Logger,

		MapperProvider: cfg.MapperProvider,

		LeaderElection:             true,
		LeaderElectionID:           cfg.Environment.LeaderElectionID(),
		LeaderElectionNamespace:    cfg.Environment.Namespace,
		LeaderElectionResourceLock: o.LeaderResourceLock,
		// Start returns only when the process is about to exit, so giving the lease up right away
		// lets another replica take over without waiting for it to expire.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		RetryPeriod:                   &retry,

		Metrics: metricsserver.Options{
			BindAddress:   o.MetricsBindAddress,
			ExtraHandlers: pprofHandlers(),
		},
		HealthProbeBindAddress: o.HealthProbeBindAddress,

		Controller: ctrlconfig.Controller{
			MaxConcurrentReconciles: o.Workers,
		},
	}, nil
}

// selectorByObject applies -selector to every kind of the pingcap.com group, as v1.6 applied it
// to its custom-resource informers only. Kinds are taken from the scheme, so a kind added to the
// API package is covered without touching this code.
func selectorByObject(scheme *runtime.Scheme, gv schema.GroupVersion, o *options.Options) (map[client.Object]cache.ByObject, error) {
	if o.Selector == "" {
		return nil, nil
	}
	sel, err := o.LabelSelector()
	if err != nil {
		return nil, err
	}
	byObject := make(map[client.Object]cache.ByObject)
	for kind := range scheme.KnownTypes(gv) {
		obj, err := scheme.New(gv.WithKind(kind))
		if err != nil {
			return nil, fmt.Errorf("instantiating %s: %w", gv.WithKind(kind), err)
		}
		// The group version also carries the meta types (ListOptions, WatchEvent, ...) and the
		// list kinds; only real objects are cached.
		cobj, ok := obj.(client.Object)
		if !ok || meta.IsListType(obj) {
			continue
		}
		byObject[cobj] = cache.ByObject{Label: sel}
	}
	return byObject, nil
}

// managedByValues are the app.kubernetes.io/managed-by values of everything the operators
// create.
var managedByValues = []string{label.TiDBOperator, label.BackupOperator, label.RestoreOperator, label.BackupScheduleOperator}

// restrictToManagedObjects limits the informers of the high-volume built-in kinds to objects the
// operator manages. v1.6 cached every Pod (and ConfigMap, Service, ...) of the cluster and was
// OOM-killed where many unrelated workloads ran; with this selector the cache grows only with the
// TiDB clusters. A reconcile that must see an unlabelled object has to read it with the API
// reader. Entries already in byObject (none today for these kinds) keep their other settings.
func restrictToManagedObjects(byObject map[client.Object]cache.ByObject) (map[client.Object]cache.ByObject, error) {
	req, err := labels.NewRequirement(label.ManagedByLabelKey, selection.In, managedByValues)
	if err != nil {
		return nil, fmt.Errorf("building the managed-by selector: %w", err)
	}
	sel := labels.NewSelector().Add(*req)
	if byObject == nil {
		byObject = map[client.Object]cache.ByObject{}
	}
	for _, obj := range []client.Object{
		&corev1.Pod{}, &corev1.PersistentVolumeClaim{}, &corev1.Service{}, &corev1.ConfigMap{},
		&appsv1.StatefulSet{}, &appsv1.Deployment{}, &batchv1.Job{},
		// The discovery identity objects: one set per cluster, but cached cluster-wide they
		// would grow with every namespace's service accounts and roles.
		&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
	} {
		byObject[obj] = cache.ByObject{Label: sel}
	}
	return byObject, nil
}

// NewManager builds the manager and sets up every controller on it.
func NewManager(cfg Config) (ctrl.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	mgrOpts, err := ManagerOptions(cfg, scheme)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg.RestConfig, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the liveness check: %w", err)
	}
	if err := mgr.AddReadyzCheck("informers", cacheSynced(mgr.GetCache())); err != nil {
		return nil, fmt.Errorf("adding the readiness check: %w", err)
	}
	if err := setupControllers(mgr, cfg.Options, cfg.Controllers); err != nil {
		return nil, err
	}
	return mgr, nil
}

func setupControllers(mgr ctrl.Manager, o *options.Options, controllers []Controller) error {
	seen := make(map[string]bool, len(controllers))
	for _, c := range controllers {
		if c.Name == "" || c.Setup == nil {
			return fmt.Errorf("controller %q: a controller needs both a name and a setup function", c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("controller %q is registered twice", c.Name)
		}
		seen[c.Name] = true
		if err := c.Setup(mgr, o); err != nil {
			return fmt.Errorf("setting up controller %q: %w", c.Name, err)
		}
	}
	return nil
}

// cacheWaiter is the part of the manager's cache the readiness check needs.
type cacheWaiter interface {
	WaitForCacheSync(ctx context.Context) bool
}

// errCacheNotSynced is reported by the readiness probe until the informers have listed
// everything once.
var errCacheNotSynced = errors.New("informer caches have not synced yet")

// cacheSynced is a readiness check: the operator is ready once its informers hold a full copy of
// what it watches. Non-leader replicas run informers too, so they become ready as well and can
// take over quickly.
func cacheSynced(c cacheWaiter) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), cacheSyncCheckTimeout)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errCacheNotSynced
		}
		return nil
	}
}

// Run builds the manager and runs it until ctx is cancelled or leadership is lost. Losing the
// lease ends Run with an error, so the process exits and restarts as a follower, as in v1.6.
func Run(ctx context.Context, cfg Config) error {
	mgr, err := NewManager(cfg)
	if err != nil {
		return err
	}
	cfg.Logger.Info("starting the controller manager",
		"namespace", cfg.Environment.Namespace,
		"leaderElectionID", cfg.Environment.LeaderElectionID(),
		"clusterScoped", cfg.Options.ClusterScoped,
		"controllers", len(cfg.Controllers),
		"features", cfg.Options.Features.String())
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the controller manager: %w", err)
	}
	return nil
}
