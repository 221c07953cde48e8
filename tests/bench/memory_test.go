package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
)

// unrelatedPodCounts are the numbers of pods of other workloads the cache is measured with.
var unrelatedPodCounts = []int{0, 2000, 5000}

// unrelatedNamespaces spread the unrelated pods, as other teams' workloads would be.
const unrelatedNamespaces = 10

// createConcurrency bounds the parallel pod creations: enough to fill the pipe to the API
// server, few enough not to starve it on a small machine.
const createConcurrency = 16

// maxManagedGrowthMiB is how much the operator's cache may grow between no unrelated pods and
// the most: nothing of substance, so the bound only absorbs measuring noise.
const maxManagedGrowthMiB = 3

// cacheMeasurement is what one cache start measured.
type cacheMeasurement struct {
	heapInUseMiB, heapAllocMiB float64
	cachedPods                 int
	synced                     time.Duration
}

// BenchmarkCacheMemoryWithUnrelatedPods starts the operator's informer cache, configured exactly
// as pkg/operator configures it, in an API server that holds one TidbCluster's objects and a
// growing number of pods the operator does not manage, and measures the heap the cache takes
// and the pods it holds. For contrast it measures a cache with controller-runtime's defaults,
// which is what v1.6 effectively had (it cached every pod of the cluster). The operator's cache
// must not grow with the unrelated pods.
func BenchmarkCacheMemoryWithUnrelatedPods(b *testing.B) {
	c := startCluster(b, false)
	ctx := context.Background()
	kc := c.Client()

	const tcNamespace = "tidb"
	managedPods, err := createClusterObjects(ctx, kc, basicCluster(b, tcNamespace))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < unrelatedNamespaces; i++ {
		if err := createNamespace(ctx, kc, "unrelated-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}

	results := map[string]cacheMeasurement{}
	created := 0
	for _, n := range unrelatedPodCounts {
		b.Run("pods="+strconv.Itoa(n), func(b *testing.B) {
			began := time.Now()
			if err := createUnrelatedPods(ctx, kc, created, n); err != nil {
				b.Fatal(err)
			}
			if n > created {
				b.Logf("created %d unrelated pods in %s", n-created, time.Since(began).Round(time.Millisecond))
				created = n
			}
			for _, kind := range []string{"operator", "unrestricted"} {
				b.Run("cache="+kind, func(b *testing.B) {
					m, err := measureCache(ctx, c.Config(), kind)
					if err != nil {
						b.Fatal(err)
					}
					results[fmt.Sprintf("%d/%s", n, kind)] = m
					b.ReportMetric(m.heapInUseMiB, "heap-MB")
					b.ReportMetric(m.heapAllocMiB, "heap-alloc-MB")
					b.ReportMetric(float64(m.cachedPods), "cached-pods")
					b.ReportMetric(m.synced.Seconds(), "s-to-sync")
					if kind == "operator" && m.cachedPods != managedPods {
						b.Errorf("the operator's cache holds %d pods, want only the cluster's %d", m.cachedPods, managedPods)
					}
					if kind == "unrestricted" && m.cachedPods != managedPods+n {
						b.Errorf("the unrestricted cache holds %d pods, want all %d", m.cachedPods, managedPods+n)
					}
				})
			}
		})
	}

	lo, hi := unrelatedPodCounts[0], unrelatedPodCounts[len(unrelatedPodCounts)-1]
	first, last := results[fmt.Sprintf("%d/operator", lo)], results[fmt.Sprintf("%d/operator", hi)]
	unFirst, unLast := results[fmt.Sprintf("%d/unrestricted", lo)], results[fmt.Sprintf("%d/unrestricted", hi)]
	b.Logf("operator cache: %.1f MiB in use with %d unrelated pods, %.1f MiB with %d; unrestricted cache: %.1f MiB, %.1f MiB",
		first.heapInUseMiB, lo, last.heapInUseMiB, hi, unFirst.heapInUseMiB, unLast.heapInUseMiB)
	if growth := last.heapAllocMiB - first.heapAllocMiB; growth > maxManagedGrowthMiB {
		b.Errorf("the operator's cache grew by %.1f MiB with %d unrelated pods (bound %d MiB)", growth, hi-lo, maxManagedGrowthMiB)
	}
}

// measureCache starts a manager's cache with the informers the TidbCluster controller uses,
// waits for it to sync and measures the heap it added. kind "operator" builds the manager
// options with operator.ManagerOptions, "unrestricted" with controller-runtime's defaults.
func measureCache(ctx context.Context, cfg *rest.Config, kind string) (_ cacheMeasurement, retErr error) {
	scheme, err := operator.NewScheme()
	if err != nil {
		return cacheMeasurement{}, err
	}
	base := SampleHeap()
	mgrOpts, err := cacheManagerOptions(cfg, scheme, kind)
	if err != nil {
		return cacheMeasurement{}, err
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return cacheMeasurement{}, fmt.Errorf("create the manager: %w", err)
	}
	// The informers the TidbCluster controller watches or reads through the cache (the
	// discovery service's ServiceAccount, Role and RoleBinding among them). The cache starts an
	// informer only for kinds that are asked for, so they are asked for up front.
	for _, obj := range []client.Object{
		&v1alpha1.TidbCluster{}, &appsv1.StatefulSet{}, &corev1.Service{}, &corev1.ConfigMap{},
		&appsv1.Deployment{}, &corev1.Pod{}, &corev1.PersistentVolumeClaim{}, &batchv1.Job{},
		&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
	} {
		if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
			return cacheMeasurement{}, fmt.Errorf("informer for %T: %w", obj, err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	began := time.Now()
	go func() { done <- mgr.Start(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && retErr == nil {
			retErr = fmt.Errorf("the %s cache's manager: %w", kind, err)
		}
	}()
	syncCtx, syncCancel := context.WithTimeout(ctx, 5*time.Minute)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		return cacheMeasurement{}, fmt.Errorf("the %s cache did not sync", kind)
	}
	synced := time.Since(began)
	pods := &corev1.PodList{}
	if err := mgr.GetCache().List(ctx, pods); err != nil {
		return cacheMeasurement{}, fmt.Errorf("list pods from the cache: %w", err)
	}
	cached := len(pods.Items)
	pods = nil
	after := SampleHeap()
	inUse, alloc := after.MiBSince(base)
	m := cacheMeasurement{heapInUseMiB: inUse, heapAllocMiB: alloc, cachedPods: cached, synced: synced}
	// The manager must still be reachable when the heap is read, or its informers could be
	// collected before the measurement.
	_ = mgr.GetCache()
	return m, nil
}

func cacheManagerOptions(cfg *rest.Config, scheme *runtime.Scheme, kind string) (ctrl.Options, error) {
	noServers := func(o *ctrl.Options) {
		o.LeaderElection = false
		o.Metrics = metricsserver.Options{BindAddress: "0"}
		o.HealthProbeBindAddress = "0"
	}
	switch kind {
	case "operator":
		opts := options.New()
		o, err := operator.ManagerOptions(operator.Config{
			Options:     opts,
			Environment: operator.Environment{Namespace: operatorNamespace},
			RestConfig:  cfg,
			Logger:      logr.Discard(),
		}, scheme)
		if err != nil {
			return ctrl.Options{}, err
		}
		noServers(&o)
		return o, nil
	case "unrestricted":
		o := ctrl.Options{Scheme: scheme, Logger: logr.Discard()}
		noServers(&o)
		return o, nil
	}
	return ctrl.Options{}, fmt.Errorf("unknown cache kind %q", kind)
}

// createClusterObjects creates the objects the operator keeps for examples/basic (the
// TidbCluster, its Services, ConfigMaps, StatefulSets, the discovery service's Deployment,
// ServiceAccount, Role and RoleBinding, and the pods and claims the StatefulSets would make) and returns the number of pods. The builders make them,
// so they carry the operator's labels and realistic sizes.
func createClusterObjects(ctx context.Context, kc client.Client, tc *v1alpha1.TidbCluster) (int, error) {
	ns := tc.Namespace
	if err := createNamespace(ctx, kc, ns); err != nil {
		return 0, err
	}
	if err := kc.Create(ctx, tc); err != nil {
		return 0, fmt.Errorf("create TidbCluster: %w", err)
	}
	objs := []client.Object{
		builders.PDService(tc), builders.PDPeerService(tc), builders.TiKVPeerService(tc),
		builders.TiDBService(tc), builders.TiDBPeerService(tc),
		builders.DiscoveryService(tc), builders.DiscoveryDeployment(tc, options.DefaultDiscoveryImage),
		builders.DiscoveryServiceAccount(tc), builders.DiscoveryRole(tc), builders.DiscoveryRoleBinding(tc),
	}
	type stsBuilder func(*v1alpha1.TidbCluster, *corev1.ConfigMap, builders.StatefulSetOptions) (*appsv1.StatefulSet, error)
	components := []struct {
		cm  func(*v1alpha1.TidbCluster) (*corev1.ConfigMap, error)
		sts stsBuilder
	}{
		{builders.PDConfigMap, builders.PDStatefulSet},
		{builders.TiKVConfigMap, builders.TiKVStatefulSet},
		{builders.TiDBConfigMap, builders.TiDBStatefulSet},
	}
	pods := 0
	for _, comp := range components {
		cm, err := comp.cm(tc)
		if err != nil {
			return 0, err
		}
		sts, err := comp.sts(tc, cm, builders.StatefulSetOptions{})
		if err != nil {
			return 0, err
		}
		objs = append(objs, cm, sts)
		for i := int32(0); i < *sts.Spec.Replicas; i++ {
			objs = append(objs, podOf(sts, i))
			pods++
			for _, vct := range sts.Spec.VolumeClaimTemplates {
				pvc := vct.DeepCopy()
				pvc.Name = fmt.Sprintf("%s-%s-%d", vct.Name, sts.Name, i)
				pvc.Namespace = ns
				pvc.Labels = mergeLabels(sts.Spec.Template.Labels, vct.Labels)
				objs = append(objs, pvc)
			}
		}
	}
	for _, obj := range objs {
		obj.SetNamespace(ns)
		obj.SetResourceVersion("")
		if err := kc.Create(ctx, obj); err != nil {
			return 0, fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return pods, nil
}

// podOf is the pod the StatefulSet controller would create for ordinal i.
func podOf(sts *appsv1.StatefulSet, i int32) *corev1.Pod {
	name := fmt.Sprintf("%s-%d", sts.Name, i)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      mergeLabels(sts.Spec.Template.Labels, map[string]string{"statefulset.kubernetes.io/pod-name": name}),
			Annotations: sts.Spec.Template.Annotations,
		},
		Spec: *sts.Spec.Template.Spec.DeepCopy(),
	}
	p.Spec.Hostname, p.Spec.Subdomain = name, sts.Spec.ServiceName
	// The StatefulSet controller adds a volume for each claim template.
	for _, vct := range sts.Spec.VolumeClaimTemplates {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: vct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: fmt.Sprintf("%s-%s", vct.Name, name)},
		}})
	}
	return p
}

func mergeLabels(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// createUnrelatedPods creates pods web-<from>..web-<to-1> of a made-up web workload, spread
// over the unrelated namespaces, with createConcurrency creations in flight.
func createUnrelatedPods(ctx context.Context, kc client.Client, from, to int) error {
	work := make(chan int)
	errs := make(chan error, createConcurrency)
	var wg sync.WaitGroup
	for w := 0; w < createConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := kc.Create(ctx, unrelatedPod(i)); err != nil {
					errs <- fmt.Errorf("create unrelated pod %d: %w", i, err)
					return
				}
			}
		}()
	}
	var firstErr error
feed:
	for i := from; i < to; i++ {
		select {
		case work <- i:
		case firstErr = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if firstErr != nil {
		return firstErr
	}
	return <-errs
}

// unrelatedPod is an ordinary web pod, sized like a typical Deployment's pod, without the
// operator's managed-by label.
func unrelatedPod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("web-%05d", i),
			Namespace: "unrelated-" + strconv.Itoa(i%unrelatedNamespaces),
			Labels: map[string]string{
				"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop",
				"app.kubernetes.io/managed-by": "Helm", "pod-template-hash": "7d9f8c6b5",
			},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "registry.example.com/shop/web:1.42.0",
				Args:  []string{"--listen=:8080", "--metrics=:9090", "--log-format=json"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}},
				Env: []corev1.EnvVar{
					{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					{Name: "DATABASE_URL", Value: "mysql://shop@tidb.shop.svc:4000/shop"},
				},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}},
				VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/web"}},
			}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}},
			}}},
		},
	}
}
