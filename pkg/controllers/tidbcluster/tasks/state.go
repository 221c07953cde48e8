package tasks

import (
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// Deps are the long-lived collaborators of the steps.
type Deps struct {
	// Client reads from the informer cache and writes to the API server.
	Client client.Client
	// Scheme resolves kinds for owner references.
	Scheme *runtime.Scheme
	// Recorder emits events on the TidbCluster.
	Recorder events.EventRecorder
	// PD hands out PD clients and HTTP clients for TiDB.
	PD *pdapi.Factory
	// DiscoveryImage runs the discovery Deployment.
	DiscoveryImage string
	// Requeue is the delay of a Retry while a multi-step action (scale-in) is in progress.
	Requeue time.Duration
	// ReadNodes: Nodes may be read (for TiKV store labels).
	ReadNodes bool
	// ReadPVs: PersistentVolumes may be read and patched (labels, reclaim policy).
	ReadPVs bool
	// LocationLabels caches PD's replication.location-labels per cluster; nil asks every time.
	LocationLabels *LocationLabelCache
	// SentLabels remembers the labels sent to each TiDB server; nil sends them every time.
	SentLabels *SentLabels
	// AutoFailover configures TiKV and TiDB failover.
	AutoFailover FailoverConfig
	// RenderProbe, when set, is a change of the operator's own rendering: a comment line in
	// every start script and an annotation on the discovery pods. Tests set it to play an
	// operator upgrade that renders differently; no flag sets it.
	RenderProbe string
}

// PDView is what PD answered in this reconcile.
type PDView struct {
	// Err is the error of the failed call, when PD could not be read.
	Err error
	// Health, Leader: members and the leader.
	Health []pdapi.MemberHealth
	Leader *pdapi.Member
	// Stores and Tombstones; StoresErr is set when the store list could not be read (before
	// bootstrap it matches pdapi.ErrNotBootstrapped).
	Stores     *pdapi.StoresInfo
	Tombstones *pdapi.StoresInfo
	StoresErr  error
}

// Reachable reports whether PD answered.
func (v *PDView) Reachable() bool { return v != nil && v.Err == nil }

// State is one reconcile's working set.
type State struct {
	Deps
	Log logr.Logger

	// Cluster is the TidbCluster as read at the start; its Status is the last written status.
	Cluster *v1alpha1.TidbCluster
	// Status is the status being computed; it is written once, at the end, if it differs.
	Status *v1alpha1.TidbClusterStatus

	// PD is the PD client for this cluster, when it has a PD source.
	PD pdapi.Client
	// PDView is what PD said; nil when it was not asked.
	PDView *PDView

	// StatefulSets are the live component StatefulSets after this reconcile's writes, by
	// component ("pd", "tikv", "tidb"); missing when they do not exist.
	StatefulSets map[string]*appsv1.StatefulSet

	// The live ConfigMaps, for the StatefulSet steps.
	pdConfigMap, tikvConfigMap, tidbConfigMap *corev1.ConfigMap
	// pitrRestores are the PiTR Restores ("namespace/name") that hold gc.ratio-threshold = -1
	// in TiKV's configuration in this reconcile (ObservePiTRRestores).
	pitrRestores []string
	// tikvOverlayNote is the PiTRRestoreOverlay event that waits for the TiKV StatefulSet to
	// mount the new ConfigMap (RollingUpdate); empty when there is none.
	tikvOverlayNote string
	// removingStores counts stores this reconcile already asked PD to remove, so that the
	// max-replicas check of the next one in the same round accounts for them.
	removingStores int
	// upgradeBlocked is set when the current component's upgrade step reported a safety hold.
	upgradeBlocked bool
	// skipped are the components suspended (or resuming) in this reconcile.
	skipped map[string]bool
	// plans are the rollout decisions of this reconcile by component (PlanRollout), read by
	// the ConfigMap and workload steps that follow and by status.
	plans map[string]*rolloutPlan
}

// NewState starts a reconcile of tc.
func NewState(deps Deps, log logr.Logger, tc *v1alpha1.TidbCluster) *State {
	return &State{
		Deps:         deps,
		Log:          log,
		Cluster:      tc,
		Status:       tc.Status.DeepCopy(),
		StatefulSets: map[string]*appsv1.StatefulSet{},
	}
}

// Deleting reports whether the cluster is being deleted.
func (s *State) Deleting() bool { return !s.Cluster.DeletionTimestamp.IsZero() }

// Paused reports spec.paused.
func (s *State) Paused() bool { return s.Cluster.Spec.Paused }

// clusterWithStatus is the cluster as seen with the status computed so far, for decisions that
// v1.6 bases on status.
func (s *State) clusterWithStatus() *v1alpha1.TidbCluster {
	tc := s.Cluster.DeepCopy()
	tc.Status = *s.Status
	return tc
}

// event records an event on the cluster.
func (s *State) event(eventType, reason, action, note string) {
	s.eventAbout(nil, eventType, reason, action, note)
}

// eventAbout records an event on the cluster about a related object (a workload). The related
// object keeps such events apart: the events API folds events of the same reason on the same
// object into one series, which would show only the first workload's note.
func (s *State) eventAbout(related runtime.Object, eventType, reason, action, note string) {
	if s.Recorder == nil {
		return
	}
	s.Recorder.Eventf(s.Cluster, related, eventType, reason, action, "%s", note)
}
