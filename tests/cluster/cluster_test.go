package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// secondScheduler is a scheduler profile the shared cluster is configured with, to prove that
// Options.SchedulerConfig reaches kube-scheduler.
const secondScheduler = "harness-second-scheduler"

const testSchedulerConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: ` + secondScheduler + `
`

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime; without a logger it prints a warning with a stack
	// trace once the binary has run for 30 seconds.
	ctrllog.SetLogger(logr.Discard())
	SharedForTest(m, Options{Full: true, SchedulerConfig: []byte(testSchedulerConfig)})
}

// waitFor polls cond every half second until it returns true, an error, or timeout passes; on
// timeout it fails the test with the last state describe returned.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error), describe func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, describe())
	}
}

// describePods summarises the pods of a namespace, for failure messages.
func describePods(c client.Client, ns string) string {
	var pods corev1.PodList
	if err := c.List(context.Background(), &pods, client.InNamespace(ns)); err != nil {
		return "list pods: " + err.Error()
	}
	var b strings.Builder
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "pod %s: phase=%s node=%q ip=%q", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
		for _, c := range p.Status.Conditions {
			fmt.Fprintf(&b, " %s=%s(%s)", c.Type, c.Status, c.Message)
		}
		b.WriteByte('\n')
	}
	var events corev1.EventList
	if err := c.List(context.Background(), &events, client.InNamespace(ns)); err == nil {
		for _, e := range events.Items {
			fmt.Fprintf(&b, "event %s/%s: %s %s\n", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
	return b.String()
}

func TestFakeNodesAreReadyWithTopologyLabels(t *testing.T) {
	c := Shared(t)
	t.Parallel()
	var nodes corev1.NodeList
	if err := c.Client().List(context.Background(), &nodes); err != nil {
		t.Fatal(err)
	}
	var names []string
	perZone := map[string][]string{}
	for _, n := range nodes.Items {
		names = append(names, n.Name)
		if ok, why := nodeSchedulable(&n); !ok {
			t.Errorf("node %s is %s", n.Name, why)
		}
		want := map[string]string{LabelHostname: n.Name, LabelOS: "linux", LabelArch: "amd64"}
		for k, v := range want {
			if n.Labels[k] != v {
				t.Errorf("node %s: label %s=%q, want %q", n.Name, k, n.Labels[k], v)
			}
		}
		perZone[n.Labels[LabelZone]] = append(perZone[n.Labels[LabelZone]], n.Name)
		if n.Annotations[FakeNodeAnnotation] != FakeNodeAnnotationValue {
			t.Errorf("node %s is not a kwok node: %v", n.Name, n.Annotations)
		}
		if pods := n.Status.Allocatable[corev1.ResourcePods]; pods.Value() < 100 {
			t.Errorf("node %s can take only %s pods", n.Name, pods.String())
		}
		if cpu := n.Status.Allocatable[corev1.ResourceCPU]; cpu.Cmp(resource.MustParse("16")) < 0 {
			t.Errorf("node %s has only %s CPUs", n.Name, cpu.String())
		}
	}
	sort.Strings(names)
	want := c.Nodes()
	sort.Strings(want)
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("nodes = %v, want %v", names, want)
	}
	if len(perZone) != 3 {
		t.Errorf("nodes spread over %d zones, want 3: %v", len(perZone), perZone)
	}
	for zone, nodes := range perZone {
		if len(nodes) != 2 {
			t.Errorf("zone %q has nodes %v, want 2", zone, nodes)
		}
	}
}

func TestStatefulSetWithVolumeClaimTemplateGetsVolumesAndReadyPodsOnDistinctNodes(t *testing.T) {
	c := Shared(t)
	t.Parallel()
	ns := Namespace(t)
	ctx := context.Background()
	labels := map[string]string{"app": "sts"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sts"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To[int32](3),
			ServiceName:         "sts",
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					// Required anti-affinity: the scheduler must put every replica on its own host.
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
							LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
							TopologyKey:   LabelHostname,
						}},
					}},
					Containers: []corev1.Container{{
						Name:         "app",
						Image:        "example.invalid/app:1",
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
					}},
				},
			},
			// No storage class: the kwok default class must be picked.
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("1Gi"),
					}},
				},
			}},
		},
	}
	began := time.Now()
	if err := c.Client().Create(ctx, sts); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "StatefulSet ready", func(ctx context.Context) (bool, error) {
		if err := c.Client().Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return false, err
		}
		return sts.Status.ReadyReplicas == 3, nil
	}, func() string { return describePods(c.Client(), ns) })
	t.Logf("StatefulSet had 3 ready replicas %s after creation", time.Since(began).Round(100*time.Millisecond))

	var pods corev1.PodList
	if err := c.Client().List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			t.Errorf("pod %s: phase %s, IP %q", p.Name, p.Status.Phase, p.Status.PodIP)
		}
		if nodes[p.Spec.NodeName] {
			t.Errorf("pod %s shares node %s with another replica", p.Name, p.Spec.NodeName)
		}
		nodes[p.Spec.NodeName] = true
	}
	if len(pods.Items) != 3 {
		t.Errorf("%d pods, want 3", len(pods.Items))
	}

	var pvcs corev1.PersistentVolumeClaimList
	if err := c.Client().List(ctx, &pvcs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(pvcs.Items) != 3 {
		t.Fatalf("%d claims, want 3", len(pvcs.Items))
	}
	for _, pvc := range pvcs.Items {
		if pvc.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim %s is %s", pvc.Name, pvc.Status.Phase)
		}
		if got := ptr.Deref(pvc.Spec.StorageClassName, ""); got != DefaultStorageClass {
			t.Errorf("claim %s has class %q, want the default %q", pvc.Name, got, DefaultStorageClass)
		}
		var pv corev1.PersistentVolume
		if err := c.Client().Get(ctx, types.NamespacedName{Name: pvc.Spec.VolumeName}, &pv); err != nil {
			t.Errorf("claim %s: volume %q: %v", pvc.Name, pvc.Spec.VolumeName, err)
			continue
		}
		if pv.Status.Phase != corev1.VolumeBound || pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID {
			t.Errorf("volume %s: phase %s, claim %v", pv.Name, pv.Status.Phase, pv.Spec.ClaimRef)
		}
	}
}

func TestDeploymentPodsRun(t *testing.T) {
	c := Shared(t)
	t.Parallel()
	ns := Namespace(t)
	labels := map[string]string{"app": "deploy"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deploy"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app:1"}}},
			},
		},
	}
	if err := c.Client().Create(context.Background(), deploy); err != nil {
		t.Fatal(err)
	}
	// Pods exist only if the deployment and replica-set controllers of the controller manager
	// work; they run only if the scheduler placed them and kwok started them.
	waitFor(t, 2*time.Minute, "Deployment pods running", func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.Client().List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && len(p.OwnerReferences) == 1 && p.OwnerReferences[0].Kind == "ReplicaSet" {
				running++
			}
		}
		return running == 2, nil
	}, func() string { return describePods(c.Client(), ns) })
}

func TestSchedulerConfigurationProfileIsServed(t *testing.T) {
	c := Shared(t)
	t.Parallel()
	ns := Namespace(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "second"},
		Spec: corev1.PodSpec{
			SchedulerName: secondScheduler,
			Containers:    []corev1.Container{{Name: "app", Image: "example.invalid/app:1"}},
		},
	}
	if err := c.Client().Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	// Only a scheduler running the extra profile binds a pod that names it.
	waitFor(t, time.Minute, "pod bound by the second profile", func(ctx context.Context) (bool, error) {
		if err := c.Client().Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false, err
		}
		return pod.Spec.NodeName != "", nil
	}, func() string { return describePods(c.Client(), ns) })
}

func TestStopLeavesNoProcessesBehind(t *testing.T) {
	Shared(t) // skipped with -short, like every test that needs control-plane binaries
	t.Parallel()
	ctx := context.Background()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	began := time.Now()
	c, err := Start(ctx, Options{
		Full:              true,
		Zones:             1,
		NodesPerZone:      1,
		KubeconfigPath:    kubeconfig,
		CRDDirectoryPaths: []string{filepath.Join("testdata", "crds")},
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop()
		}
	})
	tm := c.Timings()
	t.Logf("second cluster: started in %s (binaries %s, API server %s, ready %s)", time.Since(began).Round(100*time.Millisecond),
		tm.Binaries.Round(time.Millisecond), tm.APIServer.Round(time.Millisecond), tm.Ready.Round(time.Millisecond))

	if _, err := os.Stat(kubeconfig); err != nil {
		t.Errorf("kubeconfig not written where asked: %v", err)
	}
	// The CRD from Options.CRDDirectoryPaths is served.
	widget := &unstructured.Unstructured{}
	widget.SetAPIVersion("harness.tidbops.io/v1")
	widget.SetKind("Widget")
	widget.SetNamespace("default")
	widget.SetName("w")
	if err := unstructured.SetNestedField(widget.Object, int64(3), "spec", "size"); err != nil {
		t.Fatal(err)
	}
	if err := c.Client().Create(ctx, widget); err != nil {
		t.Errorf("create a custom resource of the installed CRD: %v", err)
	}

	procs := c.Processes()
	var names []string
	groups := map[int]string{}
	for _, p := range procs {
		names = append(names, p.Name)
		groups[p.PID] = p.Name
		if !processAlive(p.PID) {
			t.Errorf("%s (pid %d) is not running", p.Name, p.PID)
		}
		if _, pgid, err := procStat(p.PID); err != nil || pgid != p.PID {
			t.Errorf("%s (pid %d) does not lead its own process group (pgid %d, %v)", p.Name, p.PID, pgid, err)
		}
	}
	sort.Strings(names)
	if want := "etcd,guardian,kube-apiserver,kube-controller-manager,kube-scheduler,kwok"; strings.Join(names, ",") != want {
		t.Errorf("processes %v, want %s", names, want)
	}
	workDir := c.WorkDir()

	stopped = true
	stopBegan := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	t.Logf("second cluster stopped in %s", time.Since(stopBegan).Round(100*time.Millisecond))

	// Neither the processes nor anything else in their groups may remain, not even as zombies.
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if name, ok := groups[pid]; ok {
			t.Errorf("%s (pid %d) still exists after Stop", name, pid)
		}
		if _, pgid, err := procStat(pid); err == nil {
			if name, ok := groups[pgid]; ok && pid != pgid {
				t.Errorf("process %d of %s's group still exists after Stop", pid, name)
			}
		}
	}
	if _, err := os.Stat(workDir); !os.IsNotExist(err) {
		t.Errorf("work directory %s not removed: %v", workDir, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestAPIServerOnlyClusterServesItsKubeconfig(t *testing.T) {
	Shared(t) // skipped with -short, like every test that needs control-plane binaries
	t.Parallel()
	c, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	t.Logf("API server only: started in %s (binaries %s)", c.Timings().APIServer.Round(time.Millisecond),
		c.Timings().Binaries.Round(time.Millisecond))
	if len(c.Nodes()) != 0 || c.Timings().Ready != 0 {
		t.Errorf("an API-server-only cluster has nodes %v, ready time %s", c.Nodes(), c.Timings().Ready)
	}
	var names []string
	for _, p := range c.Processes() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	if got, want := strings.Join(names, ","), "etcd,guardian,kube-apiserver"; got != want {
		t.Errorf("processes %s, want %s", got, want)
	}
	// Another process connects through the kubeconfig file alone.
	raw, err := os.ReadFile(c.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		t.Fatalf("kubeconfig does not load: %v", err)
	}
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ns corev1.Namespace
	if err := cl.Get(context.Background(), types.NamespacedName{Name: "kube-system"}, &ns); err != nil {
		t.Errorf("kubeconfig user cannot read: %v", err)
	}
	// The kubeconfig user is an administrator.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "harness"}}
	if err := cl.Create(context.Background(), cm); err != nil {
		t.Errorf("kubeconfig user cannot write: %v", err)
	}
}
