package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DMCluster runs TiDB Data Migration: dm-master members (a Raft group) and dm-worker members.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dc,categories=pingcap
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Master",type=string,JSONPath=`.status.master.image`,description="Image dm-master runs"
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.master.storageSize`,description="Data volume size of each dm-master"
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.master.statefulSet.readyReplicas`,description="dm-master pods that are ready"
// +kubebuilder:printcolumn:name="Desire",type=integer,JSONPath=`.spec.master.replicas`,description="dm-master pods asked for"
// +kubebuilder:printcolumn:name="Worker",type=string,JSONPath=`.status.worker.image`,description="Image dm-worker runs"
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.worker.storageSize`,description="Data volume size of each dm-worker"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.worker.statefulSet.readyReplicas`,description="dm-worker pods that are ready"
// +kubebuilder:printcolumn:name="Desire",type=integer,JSONPath=`.spec.worker.replicas`,description="dm-worker pods asked for"
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DMCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec is the desired DM cluster.
	Spec DMClusterSpec `json:"spec"`

	// Status is what the operator last observed of the cluster.
	// +optional
	Status DMClusterStatus `json:"status,omitempty"`
}

// DMClusterList is a list of DMClusters.
//
// +kubebuilder:object:root=true
type DMClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []DMCluster `json:"items"`
}

// DMClusterSpec is the desired state of a DMCluster. The pod-level fields here are cluster-wide
// defaults that master, worker and discovery may override with a field of the same name.
//
// +kubebuilder:validation:XValidation:rule="!has(self.version) || !(self.version.startsWith('v1.') || self.version.startsWith('1.'))",message="spec.version must be v2.0.0 or later: the operator cannot run DM v1.x; set for example version: v8.5.0"
type DMClusterSpec struct {
	// Discovery configures the discovery service that helps dm-master members find each other.
	// +optional
	Discovery DMDiscoverySpec `json:"discovery,omitempty"`

	// Master is the dm-master component. Optional in the schema, as in v1.6, although a DM
	// cluster without dm-master cannot work.
	// +optional
	Master MasterSpec `json:"master"`

	// Worker is the dm-worker component; no workers run when unset.
	// +optional
	Worker *WorkerSpec `json:"worker,omitempty"`

	// Version (image tag) of DM, used by components that set no version of their own.
	// +optional
	Version string `json:"version,omitempty"`

	// Paused stops the operator from changing the cluster's pods.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// SchedulerName of the pods, for example tidb-scheduler.
	// +optional
	SchedulerName string `json:"schedulerName,omitempty"`

	// PVReclaimPolicy of the cluster's PersistentVolumes.
	// +optional
	// +kubebuilder:default=Retain
	PVReclaimPolicy *PVReclaimPolicy `json:"pvReclaimPolicy,omitempty"`

	// ImagePullPolicy of the pods.
	// +optional
	// +kubebuilder:default=IfNotPresent
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets of the pods.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// ConfigUpdateStrategy of components that set none.
	// +optional
	ConfigUpdateStrategy ConfigUpdateStrategy `json:"configUpdateStrategy,omitempty"`

	// EnablePVReclaim deletes the claims of scaled-in members (subject to pvReclaimPolicy).
	// +optional
	EnablePVReclaim *bool `json:"enablePVReclaim,omitempty"`

	// TLSCluster turns on mutual TLS between the DM components.
	// +optional
	TLSCluster *TLSCluster `json:"tlsCluster,omitempty"`

	// TLSClientSecretNames are Secrets with client certificates for the source and target
	// databases; each is mounted into the DM pods so task configurations can refer to it.
	// +optional
	TLSClientSecretNames []string `json:"tlsClientSecretNames,omitempty"`

	// HostNetwork runs the pods in the host's network namespace.
	// +optional
	HostNetwork *bool `json:"hostNetwork,omitempty"`

	// Affinity of the pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PriorityClassName of the pods.
	// +optional
	PriorityClassName *string `json:"priorityClassName,omitempty"`

	// NodeSelector of the pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Annotations added to the pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels added to the pods.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Tolerations of the pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// DNSConfig of the pods.
	// +optional
	DNSConfig *corev1.PodDNSConfig `json:"dnsConfig,omitempty"`

	// DNSPolicy of the pods.
	// +optional
	// +kubebuilder:validation:Enum="";ClusterFirstWithHostNet;ClusterFirst;Default;None
	DNSPolicy corev1.DNSPolicy `json:"dnsPolicy,omitempty"`

	// Timezone of the containers, for example UTC.
	// +optional
	Timezone string `json:"timezone,omitempty"`

	// PodSecurityContext of the pods.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// StatefulSetUpdateStrategy of the StatefulSets.
	// +optional
	StatefulSetUpdateStrategy StatefulSetUpdateStrategy `json:"statefulSetUpdateStrategy,omitempty"`

	// PodManagementPolicy of the StatefulSets.
	// +optional
	PodManagementPolicy PodManagementPolicy `json:"podManagementPolicy,omitempty"`

	// TopologySpreadConstraints of the pods.
	// +optional
	// +listType=map
	// +listMapKey=topologyKey
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// SuspendAction says what to remove while the cluster is suspended.
	// +optional
	SuspendAction *SuspendAction `json:"suspendAction,omitempty"`

	// PreferIPv6 makes the components bind and address each other over IPv6.
	// +optional
	PreferIPv6 bool `json:"preferIPv6,omitempty"`
}

// DMDiscoverySpec configures the discovery Deployment of a DM cluster.
type DMDiscoverySpec struct {
	DiscoverySpec `json:",inline"`

	// Address of an existing discovery service to use instead of deploying one, for example
	// http://basic-discovery.demo:10261.
	// +optional
	Address string `json:"address,omitempty"`
}

// MasterSpec is the desired state of dm-master.
//
// +kubebuilder:validation:XValidation:rule="self.replicas == 0 || (has(self.storageSize) && size(self.storageSize) > 0)",message="spec.master.storageSize (for example 10Gi) is required when dm-master has replicas: it is the size of each member's data volume"
type MasterSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas of dm-master; an odd number keeps the Raft group available.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage of dm-master; the tag comes from version.
	// +optional
	// +kubebuilder:default=pingcap/dm
	BaseImage string `json:"baseImage,omitempty"`

	// Service exposing the dm-master API.
	// +optional
	Service *MasterServiceSpec `json:"service,omitempty"`

	// MaxFailoverCount caps the members auto-failover may add.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// StorageClassName of the data claims.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageSize of each data claim, for example 10Gi.
	// +optional
	StorageSize string `json:"storageSize,omitempty"`

	// DataSubDir is a subdirectory of the data volume to keep the data in, relative.
	// +optional
	DataSubDir string `json:"dataSubDir,omitempty"`

	// Config of dm-master, as a TOML string or a map.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Config *Config `json:"config,omitempty"`

	// StartUpScriptVersion selects the start script; v1 is the only one.
	// +optional
	StartUpScriptVersion StartUpScriptVersion `json:"startUpScriptVersion,omitempty"`
}

// MasterServiceSpec is the client Service of dm-master.
type MasterServiceSpec struct {
	ServiceSpec `json:",inline"`

	// ExternalTrafficPolicy of a NodePort or LoadBalancer Service.
	// +optional
	ExternalTrafficPolicy *corev1.ServiceExternalTrafficPolicy `json:"externalTrafficPolicy,omitempty"`

	// MasterNodePort is the node port of a NodePort Service.
	// +optional
	MasterNodePort *int `json:"masterNodePort,omitempty"`
}

// WorkerSpec is the desired state of dm-worker.
type WorkerSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas of dm-worker.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage of dm-worker; the tag comes from version.
	// +optional
	// +kubebuilder:default=pingcap/dm
	BaseImage string `json:"baseImage,omitempty"`

	// MaxFailoverCount caps the members auto-failover may add.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// StorageClassName of the data claims.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageSize of each data claim, for example 10Gi.
	// +optional
	StorageSize string `json:"storageSize,omitempty"`

	// DataSubDir is a subdirectory of the data volume to keep the data in, relative.
	// +optional
	DataSubDir string `json:"dataSubDir,omitempty"`

	// Config of dm-worker, as a TOML string or a map.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Config *Config `json:"config,omitempty"`

	// RecoverFailover removes the workers auto-failover added once the failed ones are back.
	// +optional
	RecoverFailover bool `json:"recoverFailover,omitempty"`

	// Failover controls a one-shot recovery from auto-failover.
	// +optional
	Failover *Failover `json:"failover,omitempty"`
}

// DMClusterConditionType names a condition of a DMCluster.
type DMClusterConditionType string

const (
	// DMClusterReady is True when dm-master and dm-worker are up to date and healthy.
	DMClusterReady DMClusterConditionType = "Ready"
)

// DMClusterCondition is a condition of a DMCluster, in the v1.6 shape (with lastUpdateTime and
// without observedGeneration) so existing tooling can read it.
type DMClusterCondition struct {
	// Type of the condition, for example Ready.
	Type DMClusterConditionType `json:"type"`

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

// DMClusterStatus is the observed state of a DMCluster.
type DMClusterStatus struct {
	// Master is the observed state of dm-master.
	// +optional
	Master MasterStatus `json:"master,omitempty"`

	// Worker is the observed state of dm-worker.
	// +optional
	Worker WorkerStatus `json:"worker,omitempty"`

	// Conditions of the cluster; Ready summarises it.
	// +optional
	// +nullable
	Conditions []DMClusterCondition `json:"conditions,omitempty"`
}

// MasterStatus is the observed state of dm-master.
type MasterStatus struct {
	// Synced is true when the last status refresh from dm-master succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of dm-master.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of dm-master's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Members of the dm-master group, keyed by member name.
	// +optional
	Members map[string]MasterMember `json:"members,omitempty"`

	// Leader of the dm-master group.
	// +optional
	Leader *MasterMember `json:"leader,omitempty"`

	// FailureMembers are members auto-failover replaced, keyed by member name.
	// +optional
	FailureMembers map[string]MasterFailureMember `json:"failureMembers,omitempty"`

	// UnjoinedMembers are dm-master pods that are not members, keyed by pod name.
	// +optional
	UnjoinedMembers map[string]UnjoinedMember `json:"unjoinedMembers,omitempty"`

	// Image dm-master runs.
	// +optional
	Image string `json:"image,omitempty"`

	// Conditions of dm-master.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Volumes are the states of dm-master's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`
}

// MasterMember is one dm-master member as dm-master reports it.
type MasterMember struct {
	// Name of the member (the pod name).
	Name string `json:"name"`

	// ID of the member; a uint64 kept as a string.
	ID string `json:"id"`

	// ClientURL is the member's client URL.
	ClientURL string `json:"clientURL"`

	// Health is dm-master's view of the member.
	Health bool `json:"health"`

	// LastTransitionTime is when Health last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// MasterFailureMember is a dm-master member auto-failover replaced.
type MasterFailureMember struct {
	// PodName of the failed member.
	// +optional
	PodName string `json:"podName,omitempty"`

	// MemberID of the failed member.
	// +optional
	MemberID string `json:"memberID,omitempty"`

	// PVCUID is the UID of the member's data claim.
	// +optional
	PVCUID types.UID `json:"pvcUID,omitempty"`

	// MemberDeleted is true once the member was removed from the group.
	// +optional
	MemberDeleted bool `json:"memberDeleted,omitempty"`

	// CreatedAt is when the failure was recorded.
	// +optional
	// +nullable
	CreatedAt metav1.Time `json:"createdAt,omitempty"`
}

// WorkerStatus is the observed state of dm-worker.
type WorkerStatus struct {
	// Synced is true when the last status refresh from dm-master succeeded.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of dm-worker.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of dm-worker's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`

	// Members are the registered workers, keyed by worker name.
	// +optional
	Members map[string]WorkerMember `json:"members,omitempty"`

	// FailureMembers are workers auto-failover replaced, keyed by worker name.
	// +optional
	FailureMembers map[string]WorkerFailureMember `json:"failureMembers,omitempty"`

	// FailoverUID identifies the current auto-failover, for failover.recoverByUID.
	// +optional
	FailoverUID types.UID `json:"failoverUID,omitempty"`

	// Image dm-worker runs.
	// +optional
	Image string `json:"image,omitempty"`

	// Conditions of dm-worker.
	// +optional
	// +nullable
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Volumes are the states of dm-worker's volumes, keyed by volume name.
	// +optional
	Volumes map[StorageVolumeName]*StorageVolumeStatus `json:"volumes,omitempty"`
}

// WorkerStage is the state dm-master reports for a worker.
type WorkerStage string

const (
	// WorkerStageFree is a worker bound to no source.
	WorkerStageFree WorkerStage = "free"
	// WorkerStageBound is a worker replicating a source.
	WorkerStageBound WorkerStage = "bound"
	// WorkerStageOffline is a worker dm-master cannot reach.
	WorkerStageOffline WorkerStage = "offline"
)

// WorkerMember is one dm-worker as dm-master reports it.
type WorkerMember struct {
	// Name of the worker.
	// +optional
	Name string `json:"name,omitempty"`

	// Addr is the worker's address.
	// +optional
	Addr string `json:"addr,omitempty"`

	// Stage of the worker, for example free, bound or offline.
	Stage WorkerStage `json:"stage"`

	// LastTransitionTime is when Stage last changed.
	// +optional
	// +nullable
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
}

// WorkerFailureMember is a dm-worker auto-failover replaced.
type WorkerFailureMember struct {
	// PodName of the failed worker.
	// +optional
	PodName string `json:"podName,omitempty"`

	// CreatedAt is when the failure was recorded.
	// +optional
	// +nullable
	CreatedAt metav1.Time `json:"createdAt,omitempty"`
}

func init() { register(&DMCluster{}, &DMClusterList{}) }
