package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// MemberPhase is where a component is in its life cycle. Other kinds with StatefulSet-backed
// components (DMCluster) use it too.
type MemberPhase string

const (
	// NormalPhase: the component's StatefulSet matches the spec.
	NormalPhase MemberPhase = "Normal"
	// UpgradePhase: pods are being rolled to a new template.
	UpgradePhase MemberPhase = "Upgrade"
	// ScalePhase: the replica count is changing.
	ScalePhase MemberPhase = "Scale"
	// SuspendPhase: the component's StatefulSet has been removed by a suspend action.
	SuspendPhase MemberPhase = "Suspend"
)

// IsUpgradingOrScaling reports whether the phase is Upgrade or Scale, the two phases that hold
// back the components that depend on this one.
func (p MemberPhase) IsUpgradingOrScaling() bool {
	return p == UpgradePhase || p == ScalePhase
}

// TidbClusterConditionType names a condition of a TidbCluster.
type TidbClusterConditionType string

const (
	// TidbClusterReady is True when every component is up to date and healthy.
	TidbClusterReady TidbClusterConditionType = "Ready"
)

// Reasons of the Ready condition, in the order they are checked: the first that applies wins.
const (
	// ReasonStatefulSetNotUpToDate: a StatefulSet still has pods of an old revision.
	ReasonStatefulSetNotUpToDate = "StatefulSetNotUpToDate"
	// ReasonPDUnhealthy: not every desired PD member is healthy.
	ReasonPDUnhealthy = "PDUnhealthy"
	// ReasonTiKVStoreNotUp: not every desired TiKV store is Up.
	ReasonTiKVStoreNotUp = "TiKVStoreNotUp"
	// ReasonTiDBUnhealthy: not every desired TiDB server is healthy.
	ReasonTiDBUnhealthy = "TiDBUnhealthy"
	// ReasonTiFlashStoreNotUp: not every desired TiFlash store is Up.
	ReasonTiFlashStoreNotUp = "TiFlashStoreNotUp"
	// ReasonTiCDCCaptureNotReady: not every desired TiCDC capture is ready.
	ReasonTiCDCCaptureNotReady = "TiCDCCaptureNotReady"
	// ReasonTiProxyUnhealthy: not every desired TiProxy pod is healthy.
	ReasonTiProxyUnhealthy = "TiProxyUnhealthy"
	// ReasonReady: everything is up and running.
	ReasonReady = "Ready"
)

// Condition types of status.<component>.conditions (metav1.Condition).
const (
	// ComponentConditionLeaderEvicting is True while the volume modifier moves leaders off a TiKV
	// store; TiKV does not enter the Upgrade phase meanwhile.
	ComponentConditionLeaderEvicting = "LeaderEvicting"
)

// Store states as PD reports them (state_name).
const (
	TiKVStateUp        = "Up"
	TiKVStateDown      = "Down"
	TiKVStateOffline   = "Offline"
	TiKVStateTombstone = "Tombstone"
)

// TidbClusterStatus is what the operator last observed of a TidbCluster.
type TidbClusterStatus struct {
	// ObservedGeneration is the metadata.generation of the spec the operator last reconciled;
	// when it lags behind, status describes an older spec. Not in v1.6; additive.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ClusterID is the PD cluster ID.
	// +optional
	ClusterID string `json:"clusterID,omitempty"`

	// PD is the status of PD.
	// +optional
	PD PDStatus `json:"pd,omitempty"`

	// PDMS is the status of each PD micro-service, keyed by its name.
	// +optional
	PDMS map[string]*PDMSStatus `json:"pdms,omitempty"`

	// TiKV is the status of TiKV.
	// +optional
	TiKV TiKVStatus `json:"tikv,omitempty"`

	// TiDB is the status of TiDB.
	// +optional
	TiDB TiDBStatus `json:"tidb,omitempty"`

	// Pump is the status of Pump.
	// +optional
	Pump PumpStatus `json:"pump,omitempty"`

	// TiFlash is the status of TiFlash.
	// +optional
	TiFlash TiFlashStatus `json:"tiflash,omitempty"`

	// TiProxy is the status of TiProxy.
	// +optional
	TiProxy TiProxyStatus `json:"tiproxy,omitempty"`

	// TiCDC is the status of TiCDC.
	// +optional
	TiCDC TiCDCStatus `json:"ticdc,omitempty"`

	// Conditions of the cluster; Ready summarises it.
	// +optional
	// +nullable
	Conditions []TidbClusterCondition `json:"conditions,omitempty"`

	// PendingRollouts lists the workloads whose pod template the operator would render
	// differently from the live one although the spec did not ask for a change (a template
	// another operator, or an older version of this one, rendered). The live template is kept
	// until the component's spec changes or the annotation
	// tidb.pingcap.com/apply-pending-rollout gets a new value. Not in v1.6; additive.
	// +optional
	// +listType=map
	// +listMapKey=component
	PendingRollouts []PendingRollout `json:"pendingRollouts,omitempty"`
}

// PendingRollout is one workload whose live pod template is kept although the operator renders
// it differently.
type PendingRollout struct {
	// Component is pd, tikv, tidb or discovery.
	Component string `json:"component"`

	// Object is the kind and name of the workload, for example "StatefulSet basic-pd".
	Object string `json:"object"`

	// Reason is Adopted (the template was rendered by another operator and implements the
	// spec) or RenderingChanged (this operator renders the same spec differently now).
	Reason string `json:"reason"`

	// Differences name what the operator's rendering would change, as field paths of the pod
	// template and keys of its ConfigMap.
	// +optional
	Differences []string `json:"differences,omitempty"`
}

// TidbClusterCondition is a condition of a TidbCluster. It keeps the v1.6 shape (with
// lastUpdateTime and without observedGeneration) so existing tooling can read it.
type TidbClusterCondition struct {
	// Type of the condition, for example Ready.
	Type TidbClusterConditionType `json:"type"`

	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`

	// LastUpdateTime is when the condition was last written.
	// +optional
	// +nullable
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`

	// LastTransitionTime is when the status last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Reason is a CamelCase word for the status.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message explains the status to people.
	// +optional
	Message string `json:"message,omitempty"`
}

// EmptyStruct is the value type of sets stored as maps.
type EmptyStruct struct{}

// StorageVolumeName names a volume of a component: the data volume or a storage volume.
type StorageVolumeName string

// StorageVolumeStatus is the state of one volume across a component's pods.
type StorageVolumeStatus struct {
	ObservedStorageVolumeStatus `json:",inline"`

	// Name of the volume.
	Name StorageVolumeName `json:"name"`
}

// ObservedStorageVolumeStatus counts a volume's claims by how far they are with a change of size
// or storage class.
type ObservedStorageVolumeStatus struct {
	// BoundCount is the number of bound claims.
	// +optional
	BoundCount int `json:"boundCount"`

	// CurrentCount is the number of claims still at the current size and class.
	// +optional
	CurrentCount int `json:"currentCount"`

	// ModifiedCount is the number of claims already at the desired size and class.
	// +optional
	ModifiedCount int `json:"modifiedCount"`

	// CurrentCapacity is the size most claims have now.
	// +optional
	CurrentCapacity resource.Quantity `json:"currentCapacity"`

	// ModifiedCapacity is the desired size.
	// +optional
	ModifiedCapacity resource.Quantity `json:"modifiedCapacity"`

	// CurrentStorageClass is the class most claims have now.
	// +optional
	CurrentStorageClass string `json:"currentStorageClass"`

	// ModifiedStorageClass is the desired class.
	// +optional
	ModifiedStorageClass string `json:"modifiedStorageClass"`

	// ResizedCount is the number of claims already at the desired size. Deprecated: use
	// ModifiedCount.
	// +optional
	ResizedCount int `json:"resizedCount,omitempty"`

	// ResizedCapacity is the desired size. Deprecated: use ModifiedCapacity.
	// +optional
	ResizedCapacity resource.Quantity `json:"resizedCapacity,omitempty"`
}

// PDStatus is the observed state of PD.
type PDStatus struct {
	// Synced is true when the last status refresh from PD succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of PD.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of PD's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Members are this cluster's PD members, keyed by member name.
	// +optional
	Members map[string]PDMember `json:"members,omitempty"`

	// PeerMembers are PD members of other clusters in the same PD cluster, keyed by member name.
	// +optional
	PeerMembers map[string]PDMember `json:"peerMembers,omitempty"`

	// Leader is the PD leader.
	// +optional
	Leader *PDMember `json:"leader,omitempty"`

	// FailureMembers are members auto-failover replaced, keyed by member name.
	// +optional
	FailureMembers map[string]PDFailureMember `json:"failureMembers,omitempty"`

	// UnjoinedMembers are pods that are not PD members, keyed by pod name.
	// +optional
	UnjoinedMembers map[string]UnjoinedMember `json:"unjoinedMembers,omitempty"`

	// Image PD runs.
	// +optional
	Image string `json:"image,omitempty"`

	// Volumes are the states of PD's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of PD.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// VolReplaceInProgress is true while volumes are being replaced.
	// +optional
	VolReplaceInProgress bool `json:"volReplaceInProgress,omitempty"`
}

// PDMember is one PD member as PD reports it.
type PDMember struct {
	// Name of the member (the pod name, or its FQDN across Kubernetes clusters).
	Name string `json:"name"`

	// ID of the member; a uint64 kept as a string.
	ID string `json:"id"`

	// ClientURL is the member's first client URL.
	ClientURL string `json:"clientURL"`

	// Health is PD's view of the member.
	Health bool `json:"health"`

	// LastTransitionTime is when Health last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// PDFailureMember is a PD member auto-failover replaced.
type PDFailureMember struct {
	// PodName of the failed member.
	// +optional
	PodName string `json:"podName,omitempty"`

	// MemberID of the failed member.
	// +optional
	MemberID string `json:"memberID,omitempty"`

	// PVCUID is the UID of the member's data claim. Deprecated: use PVCUIDSet.
	// +optional
	PVCUID types.UID `json:"pvcUID,omitempty"`

	// PVCUIDSet are the UIDs of the member's claims.
	// +optional
	PVCUIDSet map[types.UID]EmptyStruct `json:"pvcUIDSet,omitempty"`

	// MemberDeleted is true once the member was removed from PD.
	// +optional
	MemberDeleted bool `json:"memberDeleted,omitempty"`

	// HostDown is true when the member's node is gone.
	// +optional
	HostDown bool `json:"hostDown,omitempty"`

	// CreatedAt is when the failure was recorded.
	// +optional
	// +nullable
	CreatedAt metav1.Time `json:"createdAt,omitempty"`
}

// UnjoinedMember is a PD pod that is not (yet) a member.
type UnjoinedMember struct {
	// PodName of the pod.
	// +optional
	PodName string `json:"podName,omitempty"`

	// PVCUID is the UID of the pod's data claim. Deprecated: use PVCUIDSet.
	// +optional
	PVCUID types.UID `json:"pvcUID,omitempty"`

	// PVCUIDSet are the UIDs of the pod's claims.
	// +optional
	PVCUIDSet map[types.UID]EmptyStruct `json:"pvcUIDSet,omitempty"`

	// CreatedAt is when the pod was first seen without membership.
	// +optional
	// +nullable
	CreatedAt metav1.Time `json:"createdAt,omitempty"`
}

// PDMSStatus is the observed state of one PD micro-service.
type PDMSStatus struct {
	// Name of the micro-service.
	// +optional
	Name string `json:"name,omitempty"`

	// Synced is true when the last status refresh succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of the micro-service.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of the micro-service's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Members are the addresses of the micro-service's members.
	// +optional
	Members []string `json:"members,omitempty"`

	// Image the micro-service runs.
	// +optional
	Image string `json:"image,omitempty"`

	// Volumes are the states of the micro-service's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of the micro-service.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// TiKVStatus is the observed state of TiKV.
type TiKVStatus struct {
	// Synced is true when the last status refresh from PD succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of TiKV.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// BootStrapped is true once PD reports the cluster bootstrapped.
	// +optional
	BootStrapped bool `json:"bootStrapped,omitempty"`

	// StatefulSet is the status of TiKV's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Stores are this cluster's TiKV stores, keyed by store ID.
	// +optional
	Stores map[string]TiKVStore `json:"stores,omitempty"`

	// PeerStores are TiKV stores of other clusters in the same PD cluster, keyed by store ID.
	// +optional
	PeerStores map[string]TiKVStore `json:"peerStores,omitempty"`

	// TombstoneStores are this cluster's removed stores, keyed by store ID.
	// +optional
	TombstoneStores map[string]TiKVStore `json:"tombstoneStores,omitempty"`

	// FailureStores are stores auto-failover replaced, keyed by store ID.
	// +optional
	FailureStores map[string]TiKVFailureStore `json:"failureStores,omitempty"`

	// FailoverUID identifies the current round of auto-failover; see spec.tikv.failover.
	// +optional
	FailoverUID types.UID `json:"failoverUID,omitempty"`

	// Image TiKV runs.
	// +optional
	Image string `json:"image,omitempty"`

	// EvictLeader records the leader evictions users asked for with a pod annotation, keyed by pod
	// name.
	// +optional
	EvictLeader map[string]*EvictLeaderStatus `json:"evictLeader,omitempty"`

	// Volumes are the states of TiKV's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of TiKV.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// VolReplaceInProgress is true while volumes are being replaced.
	// +optional
	VolReplaceInProgress bool `json:"volReplaceInProgress,omitempty"`
}

// TiKVStore is one TiKV or TiFlash store as PD reports it.
type TiKVStore struct {
	// ID of the store; a uint64 kept as a string.
	ID string `json:"id"`

	// PodName is the first DNS label of the store's address.
	PodName string `json:"podName"`

	// IP is the host part of the store's address.
	IP string `json:"ip"`

	// LeaderCount is the number of Region leaders on the store.
	LeaderCount int32 `json:"leaderCount"`

	// State is PD's state name: Up, Down, Offline or Tombstone.
	State string `json:"state"`

	// LastTransitionTime is when State last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// LeaderCountBeforeUpgrade is the leader count recorded before leaders were evicted for an
	// upgrade, used to wait for them to come back.
	// +optional
	LeaderCountBeforeUpgrade *int32 `json:"leaderCountBeforeUpgrade,omitempty"`
}

// TiKVFailureStore is a store auto-failover replaced.
type TiKVFailureStore struct {
	// PodName of the failed store.
	// +optional
	PodName string `json:"podName,omitempty"`

	// StoreID of the failed store.
	// +optional
	StoreID string `json:"storeID,omitempty"`

	// PVCUIDSet are the UIDs of the store's claims.
	// +optional
	PVCUIDSet map[types.UID]EmptyStruct `json:"pvcUIDSet,omitempty"`

	// StoreDeleted is true once the store was deleted from PD (node-failure recovery).
	// +optional
	StoreDeleted bool `json:"storeDeleted,omitempty"`

	// HostDown is true when the store's node is gone.
	// +optional
	HostDown bool `json:"hostDown,omitempty"`

	// CreatedAt is when the failure was recorded.
	// +optional
	// +nullable
	CreatedAt metav1.Time `json:"createdAt,omitempty"`
}

// EvictLeaderStatus is a leader eviction a user asked for on a TiKV pod.
type EvictLeaderStatus struct {
	// PodCreateTime is the creation time of the pod the eviction is for; a recreated pod ends it.
	// +optional
	PodCreateTime metav1.Time `json:"podCreateTime,omitempty"`

	// BeginTime is when the eviction started.
	// +optional
	BeginTime metav1.Time `json:"beginTime,omitempty"`

	// Value of the annotation that asked for it (none or delete-pod).
	// +optional
	Value string `json:"value,omitempty"`
}

// TiFlashStatus is the observed state of TiFlash.
type TiFlashStatus struct {
	// Synced is true when the last status refresh from PD succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of TiFlash.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of TiFlash's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Stores are this cluster's TiFlash stores, keyed by store ID.
	// +optional
	Stores map[string]TiKVStore `json:"stores,omitempty"`

	// PeerStores are TiFlash stores of other clusters in the same PD cluster, keyed by store ID.
	// +optional
	PeerStores map[string]TiKVStore `json:"peerStores,omitempty"`

	// TombstoneStores are this cluster's removed stores, keyed by store ID.
	// +optional
	TombstoneStores map[string]TiKVStore `json:"tombstoneStores,omitempty"`

	// FailureStores are stores auto-failover replaced, keyed by store ID.
	// +optional
	FailureStores map[string]TiKVFailureStore `json:"failureStores,omitempty"`

	// FailoverUID identifies the current round of auto-failover; see spec.tiflash.failover.
	// +optional
	FailoverUID types.UID `json:"failoverUID,omitempty"`

	// Image TiFlash runs.
	// +optional
	Image string `json:"image,omitempty"`

	// Volumes are the states of TiFlash's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of TiFlash.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// VolReplaceInProgress is true while volumes are being replaced.
	// +optional
	VolReplaceInProgress bool `json:"volReplaceInProgress,omitempty"`
}

// TiDBStatus is the observed state of TiDB.
type TiDBStatus struct {
	// Phase of TiDB.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of TiDB's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Members are the TiDB servers, keyed by pod name.
	// +optional
	Members map[string]TiDBMember `json:"members,omitempty"`

	// FailureMembers are servers auto-failover replaced, keyed by pod name.
	// +optional
	FailureMembers map[string]TiDBFailureMember `json:"failureMembers,omitempty"`

	// ResignDDLOwnerRetryCount counts attempts to move the DDL owner away before an upgrade.
	// +optional
	ResignDDLOwnerRetryCount int32 `json:"resignDDLOwnerRetryCount,omitempty"`

	// Image TiDB runs.
	// +optional
	Image string `json:"image,omitempty"`

	// PasswordInitialized is true once the initializer set the root password.
	// +optional
	PasswordInitialized *bool `json:"passwordInitialized,omitempty"`

	// Volumes are the states of TiDB's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of TiDB.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// VolReplaceInProgress is true while volumes are being replaced.
	// +optional
	VolReplaceInProgress bool `json:"volReplaceInProgress,omitempty"`
}

// TiDBMember is one TiDB server.
type TiDBMember struct {
	// Name is the pod name.
	Name string `json:"name"`

	// Health is true when the server's status endpoint answers.
	Health bool `json:"health"`

	// LastTransitionTime is when Health last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Node is the node the pod runs on.
	// +optional
	NodeName string `json:"node,omitempty"`
}

// TiDBFailureMember is a TiDB server auto-failover replaced.
type TiDBFailureMember struct {
	// PodName of the failed server.
	// +optional
	PodName string `json:"podName,omitempty"`

	// CreatedAt is when the failure was recorded.
	// +optional
	// +nullable
	CreatedAt metav1.Time `json:"createdAt,omitempty"`
}

// TiCDCStatus is the observed state of TiCDC.
type TiCDCStatus struct {
	// Synced is true when every desired capture is ready.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of TiCDC.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of TiCDC's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Captures are the TiCDC captures, keyed by pod name.
	// +optional
	Captures map[string]TiCDCCapture `json:"captures,omitempty"`

	// Volumes are the states of TiCDC's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of TiCDC.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// TiCDCCapture is one TiCDC capture as it reports itself.
type TiCDCCapture struct {
	// PodName of the capture.
	// +optional
	PodName string `json:"podName,omitempty"`

	// ID of the capture.
	// +optional
	ID string `json:"id,omitempty"`

	// Version of TiCDC the capture runs.
	// +optional
	Version string `json:"version,omitempty"`

	// IsOwner is true for the capture that owns the cluster.
	// +optional
	IsOwner bool `json:"isOwner,omitempty"`

	// Ready is true when the capture is initialized.
	// +optional
	Ready bool `json:"ready,omitempty"`
}

// TiProxyStatus is the observed state of TiProxy.
type TiProxyStatus struct {
	// Synced is true when the last health check of every pod succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of TiProxy.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// Members are the TiProxy pods, keyed by pod name.
	// +optional
	Members map[string]TiProxyMember `json:"members,omitempty"`

	// StatefulSet is the status of TiProxy's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Volumes are the states of TiProxy's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of TiProxy.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// TiProxyMember is one TiProxy pod.
type TiProxyMember struct {
	// Name is the pod name.
	Name string `json:"name"`

	// Health is true when the pod's health endpoint answers.
	Health bool `json:"health"`

	// Info is what the health endpoint returned.
	// +optional
	Info string `json:"info,omitempty"`

	// LastTransitionTime is when Health last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// PumpStatus is the observed state of Pump.
type PumpStatus struct {
	// Phase of Pump.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of Pump's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Members are the Pump nodes registered in PD's etcd.
	// +optional
	Members []*PumpNodeStatus `json:"members,omitempty"`

	// Volumes are the states of Pump's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`

	// Conditions of Pump.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PumpNodeStatus is one Pump node as registered in PD's etcd.
type PumpNodeStatus struct {
	// NodeID of the node.
	NodeID string `json:"nodeId"`

	// Host is the node's advertised address.
	Host string `json:"host"`

	// State of the node: online, offline, paused, ...
	State string `json:"state"`
}
