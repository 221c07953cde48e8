package cluster

import (
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// Options says what kind of cluster Start brings up. The zero value is an API server without
// controllers or nodes.
type Options struct {
	// Full adds kube-controller-manager, kube-scheduler, kwok, the kwok default StorageClass and
	// fake nodes to the API server. Without it there are no nodes, no controllers and no
	// scheduler: objects are stored and validated but nothing acts on them.
	Full bool

	// Zones and NodesPerZone shape the fake nodes of a full cluster. Zero means 3 zones with 2
	// nodes each, enough for zone- and host-spread placement to be observable.
	Zones        int
	NodesPerZone int

	// NodeAllocatable replaces the capacity and allocatable resources every fake node reports.
	// The default is large (32 CPUs, 128Gi memory, 250 pods) so that tests are never limited by
	// node size unless they ask to be.
	NodeAllocatable corev1.ResourceList

	// CRDDirectoryPaths lists directories or files of CustomResourceDefinition manifests to install
	// before Start returns. Missing paths are an error.
	CRDDirectoryPaths []string

	// SchedulerConfig, if set, is a KubeSchedulerConfiguration document (YAML or JSON) passed to
	// kube-scheduler with --config, for extra profiles or scheduler extenders. The harness fills
	// in clientConnection.kubeconfig; leader election is turned off on the command line.
	SchedulerConfig []byte

	// WorkDir holds the kubeconfig, generated configuration and component logs. Empty means a new
	// temporary directory, removed by Stop unless KeepWorkDir was called.
	WorkDir string

	// KubeconfigPath is where the admin kubeconfig is written. Empty means WorkDir/kubeconfig.
	KubeconfigPath string

	// Scheme is used by Cluster.Client and to install CRDs. Empty means client-go's scheme; a
	// scheme given here must include the client-go types too (clientgoscheme.AddToScheme), which
	// the harness itself reads and writes.
	Scheme *runtime.Scheme

	// Logger receives the harness's own progress messages. Empty means they are dropped.
	Logger logr.Logger

	// Progress receives the output of hack/testbin.sh, which can spend minutes building binaries
	// on a fresh machine. Nil means os.Stderr.
	Progress io.Writer

	// APIServerStartTimeout bounds the start of etcd and of kube-apiserver, each. Zero means two
	// minutes: on a busy two-core machine the API server can need tens of seconds.
	APIServerStartTimeout time.Duration

	// ReadyTimeout bounds the wait, in a full cluster, for the nodes to become Ready and the
	// controller manager to act. Zero means three minutes.
	ReadyTimeout time.Duration

	// LocalJobs, in a full cluster, stops kwok from finishing the pods of Jobs by itself. kwok's
	// general pod life cycle includes a pod-complete stage that turns every Running pod owned by
	// a Job into Succeeded a few seconds later, whatever its container would have done; with
	// LocalJobs that stage is left out, so Job pods stay Running until something else reports
	// how their container ended, as tests/jobrunner does when it runs the container's program
	// as a local process. Job pods nothing runs then never finish.
	LocalJobs bool
}

// kwokStagePodComplete is the kwok stage LocalJobs leaves out.
const kwokStagePodComplete = "pod-complete"

// droppedKwokStages lists the kwok stages the options leave out of kwok's configuration.
func (o Options) droppedKwokStages() []string {
	if o.LocalJobs {
		return []string{kwokStagePodComplete}
	}
	return nil
}

// Names and values the fake nodes carry; tests select on them.
const (
	// FakeNodeAnnotation marks the nodes kwok manages (kwok runs with an annotation selector, so
	// that nodes a test creates itself are left alone unless they carry it too).
	FakeNodeAnnotation = "kwok.x-k8s.io/node"
	// FakeNodeAnnotationValue is the value of FakeNodeAnnotation on managed nodes.
	FakeNodeAnnotationValue = "fake"
	// DefaultStorageClass is the kwok StorageClass a full cluster installs and marks as default.
	DefaultStorageClass = "kwok-volume"
)

func (o Options) withDefaults() Options {
	if o.Zones <= 0 {
		o.Zones = 3
	}
	if o.NodesPerZone <= 0 {
		o.NodesPerZone = 2
	}
	if o.NodeAllocatable == nil {
		o.NodeAllocatable = corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse("32"),
			corev1.ResourceMemory:           resource.MustParse("128Gi"),
			corev1.ResourcePods:             resource.MustParse("250"),
			corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
		}
	}
	if o.Scheme == nil {
		o.Scheme = clientgoscheme.Scheme
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	if o.Progress == nil {
		o.Progress = os.Stderr
	}
	if o.APIServerStartTimeout <= 0 {
		o.APIServerStartTimeout = 2 * time.Minute
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	return o
}
