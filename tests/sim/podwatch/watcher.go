package podwatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tidbops/tidb-operator/tests/sim/model"
)

// TidbClusterResource is the TidbCluster resource the watcher reads.
var TidbClusterResource = schema.GroupVersionResource{Group: "pingcap.com", Version: "v1alpha1", Resource: "tidbclusters"}

// Options configure a Watcher.
type Options struct {
	// Namespace limits the watch to one namespace; empty means all.
	Namespace string
	// Resync is the informer resync period (default 30s); a resync re-feeds every pod.
	Resync time.Duration
	// Logger receives errors and progress.
	Logger logr.Logger
}

// Watcher feeds the model from the Kubernetes API.
type Watcher struct {
	kube  kubernetes.Interface
	dyn   dynamic.Interface
	model *model.Model
	opts  Options
	log   logr.Logger

	pods listersv1.PodLister

	mu       sync.Mutex
	clusters map[model.ClusterKey]clusterInfo
}

// New returns a watcher. dyn may be nil, in which case TidbClusters are not watched.
func New(kube kubernetes.Interface, dyn dynamic.Interface, m *model.Model, opts Options) *Watcher {
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	return &Watcher{
		kube: kube, dyn: dyn, model: m, opts: opts, log: opts.Logger,
		clusters: map[model.ClusterKey]clusterInfo{},
	}
}

// Start begins watching and returns once the first listing has been fed to the model. The
// watch runs until ctx is done.
func (w *Watcher) Start(ctx context.Context) error {
	// The pod lister exists before the TidbCluster handlers can run (they re-feed pods); the
	// pod informer itself starts after TidbClusters synced, so that pods are converted with
	// their cluster's settings from the first event.
	factory := informers.NewSharedInformerFactoryWithOptions(w.kube, w.opts.Resync,
		informers.WithNamespace(w.opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = PodSelector }))
	podInformer := factory.Core().V1().Pods()
	w.pods = podInformer.Lister()
	if w.dyn != nil {
		if err := w.startClusters(ctx); err != nil {
			return err
		}
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.onPod(obj) },
		UpdateFunc: func(_, obj any) { w.onPod(obj) },
		DeleteFunc: w.onPodDelete,
	}); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		return fmt.Errorf("pods informer did not sync: %w", ctx.Err())
	}
	w.log.Info("watching pods", "namespace", w.opts.Namespace, "selector", PodSelector)
	return nil
}

// startClusters watches TidbClusters if the API serves them. It waits for the first listing so
// that pods are converted with their cluster's settings from the start.
func (w *Watcher) startClusters(ctx context.Context) error {
	probe := w.dyn.Resource(TidbClusterResource).Namespace(w.opts.Namespace)
	if _, err := probe.List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		if apierrors.IsNotFound(err) {
			w.log.Info("TidbClusters are not served; not watching them (no cluster domain, heterogeneous clusters or PD config seeds)")
			return nil
		}
		return fmt.Errorf("list TidbClusters: %w", err)
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(w.dyn, w.opts.Resync, w.opts.Namespace, nil)
	inf := factory.ForResource(TidbClusterResource).Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.onCluster(obj) },
		UpdateFunc: func(_, obj any) { w.onCluster(obj) },
		DeleteFunc: w.onClusterDelete,
	}); err != nil {
		return fmt.Errorf("watch TidbClusters: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("TidbCluster informer did not sync: %w", ctx.Err())
	}
	return nil
}

func (w *Watcher) info(namespace, name string) clusterInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clusters[model.ClusterKey{Namespace: namespace, Name: name}]
}

func (w *Watcher) onPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	p, ok := toSimPod(pod, w.info)
	if !ok {
		return
	}
	if err := w.model.UpsertPod(p); err != nil {
		w.log.Error(err, "feed pod to the simulator", "pod", pod.Namespace+"/"+pod.Name)
	}
}

func (w *Watcher) onPodDelete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		w.model.DeletePod(pod.Namespace, pod.Name)
	}
}

func (w *Watcher) onCluster(obj any) {
	tc, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := model.ClusterKey{Namespace: tc.GetNamespace(), Name: tc.GetName()}
	ci := clusterInfoFrom(tc)
	w.mu.Lock()
	old, had := w.clusters[key]
	w.clusters[key] = ci
	w.mu.Unlock()

	if seed, err := pdConfigSeed(tc); err != nil {
		w.log.Error(err, "read PD config of TidbCluster", "tidbcluster", key.String())
	} else {
		w.model.SeedConfig(key, seed)
	}
	if !had || old.clusterDomain != ci.clusterDomain || !sameRef(old, ci) {
		w.refeed(key)
	}
}

func sameRef(a, b clusterInfo) bool {
	if a.pdCluster == nil || b.pdCluster == nil {
		return a.pdCluster == b.pdCluster
	}
	return *a.pdCluster == *b.pdCluster
}

// refeed converts a cluster's pods again after its settings changed.
func (w *Watcher) refeed(key model.ClusterKey) {
	pods, err := w.pods.Pods(key.Namespace).List(labels.Everything())
	if err != nil {
		w.log.Error(err, "list pods", "namespace", key.Namespace)
		return
	}
	for _, pod := range pods {
		if p, ok := toSimPod(pod, w.info); ok && p.Cluster == key.Name {
			w.onPod(pod)
		}
	}
}

func (w *Watcher) onClusterDelete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	tc, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := model.ClusterKey{Namespace: tc.GetNamespace(), Name: tc.GetName()}
	w.mu.Lock()
	delete(w.clusters, key)
	w.mu.Unlock()
	w.model.RemoveCluster(key)
	w.log.Info("TidbCluster deleted; simulator forgot it", "tidbcluster", key.String())
}
