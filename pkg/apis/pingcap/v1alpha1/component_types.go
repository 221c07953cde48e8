package v1alpha1

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// ConfigUpdateStrategy says how a configuration change reaches running pods.
// +kubebuilder:validation:Enum="";InPlace;RollingUpdate
type ConfigUpdateStrategy string

const (
	// ConfigUpdateStrategyInPlace rewrites the ConfigMap in place; pods pick the change up on
	// their next restart.
	ConfigUpdateStrategyInPlace ConfigUpdateStrategy = "InPlace"
	// ConfigUpdateStrategyRollingUpdate gives every configuration its own (hashed) ConfigMap
	// name, so a change rolls the pods.
	ConfigUpdateStrategyRollingUpdate ConfigUpdateStrategy = "RollingUpdate"
)

// StatefulSetUpdateStrategy is the update strategy of a component's StatefulSet. It is a defined
// type rather than an alias of the apps/v1 type because controller-gen cannot generate schemas for
// aliases of types from other packages.
// +kubebuilder:validation:Enum="";RollingUpdate;OnDelete
type StatefulSetUpdateStrategy string

const (
	// RollingUpdateStatefulSetStrategy lets the operator roll pods by lowering the partition.
	RollingUpdateStatefulSetStrategy StatefulSetUpdateStrategy = StatefulSetUpdateStrategy(appsv1.RollingUpdateStatefulSetStrategyType)
	// OnDeleteStatefulSetStrategy updates a pod only when it is deleted.
	OnDeleteStatefulSetStrategy StatefulSetUpdateStrategy = StatefulSetUpdateStrategy(appsv1.OnDeleteStatefulSetStrategyType)
)

// PodManagementPolicy is the pod management policy of a component's StatefulSet.
// +kubebuilder:validation:Enum="";OrderedReady;Parallel
type PodManagementPolicy string

const (
	// OrderedReadyPodManagement starts and stops pods one at a time, in order.
	OrderedReadyPodManagement PodManagementPolicy = PodManagementPolicy(appsv1.OrderedReadyPodManagement)
	// ParallelPodManagement starts and stops pods all at once.
	ParallelPodManagement PodManagementPolicy = PodManagementPolicy(appsv1.ParallelPodManagement)
)

// PVReclaimPolicy is applied to the PersistentVolumes of a cluster's claims.
// +kubebuilder:validation:Enum="";Retain;Delete;Recycle
type PVReclaimPolicy string

const (
	// PVReclaimRetain keeps volumes after their claims are deleted (the default).
	PVReclaimRetain PVReclaimPolicy = PVReclaimPolicy(corev1.PersistentVolumeReclaimRetain)
	// PVReclaimDelete deletes volumes with their claims.
	PVReclaimDelete PVReclaimPolicy = PVReclaimPolicy(corev1.PersistentVolumeReclaimDelete)
	// PVReclaimRecycle scrubs volumes for reuse (deprecated in Kubernetes).
	PVReclaimRecycle PVReclaimPolicy = PVReclaimPolicy(corev1.PersistentVolumeReclaimRecycle)
)

// StatefulSetStatus is a StatefulSet's status as recorded in a component's status. It has exactly
// the fields of appsv1.StatefulSetStatus, so `v1alpha1.StatefulSetStatus(sts.Status)` converts,
// but its conditions list is atomic: recent k8s.io/api marks the condition type optional while
// keying the list on it, which the API server refuses in a CRD schema.
type StatefulSetStatus struct {
	// ObservedGeneration is the StatefulSet generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Replicas is the number of pods the controller created.
	Replicas int32 `json:"replicas"`
	// ReadyReplicas is the number of pods with a Ready condition.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// CurrentReplicas is the number of pods at currentRevision.
	// +optional
	CurrentReplicas int32 `json:"currentReplicas,omitempty"`
	// UpdatedReplicas is the number of pods at updateRevision.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`
	// CurrentRevision is the revision of the pods before the update in progress.
	// +optional
	CurrentRevision string `json:"currentRevision,omitempty"`
	// UpdateRevision is the revision the pods are being updated to.
	// +optional
	UpdateRevision string `json:"updateRevision,omitempty"`
	// CollisionCount counts hash collisions of controller revisions.
	// +optional
	CollisionCount *int32 `json:"collisionCount,omitempty"`
	// Conditions of the StatefulSet.
	// +optional
	// +listType=atomic
	Conditions []appsv1.StatefulSetCondition `json:"conditions,omitempty"`
	// AvailableReplicas is the number of pods ready for at least minReadySeconds.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas"`
}

// ComponentSpec holds the pod-level settings every component shares. A setting left empty on a
// component falls back to the cluster-level setting of the same name, where one exists.
type ComponentSpec struct {
	// Image of the component. Deprecated: use baseImage and version.
	// +optional
	Image string `json:"image,omitempty"`

	// Version (image tag) of the component; overrides the cluster's version.
	// +optional
	Version *string `json:"version,omitempty"`

	// ImagePullPolicy of the component's containers; defaults to the cluster's policy.
	// +optional
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets for the component's pods; defaults to the cluster's.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// HostNetwork runs the pods in the host's network namespace.
	// +optional
	HostNetwork *bool `json:"hostNetwork,omitempty"`

	// Affinity of the component's pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PriorityClassName of the component's pods.
	// +optional
	PriorityClassName *string `json:"priorityClassName,omitempty"`

	// SchedulerName of the component's pods, for example tidb-scheduler.
	// +optional
	SchedulerName *string `json:"schedulerName,omitempty"`

	// NodeSelector of the component's pods, merged over the cluster's.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Annotations added to the component's pods, merged over the cluster's.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels added to the component's pods, merged over the cluster's.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Tolerations of the component's pods; replace the cluster's when set.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// PodSecurityContext of the component's pods.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// ConfigUpdateStrategy of the component; defaults to the cluster's.
	// +optional
	ConfigUpdateStrategy *ConfigUpdateStrategy `json:"configUpdateStrategy,omitempty"`

	// Env added to the component's main container.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// EnvFrom added to the component's main container.
	// +optional
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`

	// InitContainers added to the component's pods.
	// +optional
	InitContainers []corev1.Container `json:"initContainers,omitempty"`

	// AdditionalContainers are added to the pods; one named like a built-in container is merged
	// into it (strategic merge), which is how users patch the main container.
	// +optional
	AdditionalContainers []corev1.Container `json:"additionalContainers,omitempty"`

	// AdditionalVolumes added to the component's pods.
	// +optional
	AdditionalVolumes []corev1.Volume `json:"additionalVolumes,omitempty"`

	// AdditionalVolumeMounts added to the component's main container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`

	// DNSConfig of the component's pods.
	// +optional
	DNSConfig *corev1.PodDNSConfig `json:"dnsConfig,omitempty"`

	// DNSPolicy of the component's pods.
	// +optional
	// +kubebuilder:validation:Enum="";ClusterFirstWithHostNet;ClusterFirst;Default;None
	DNSPolicy corev1.DNSPolicy `json:"dnsPolicy,omitempty"`

	// TerminationGracePeriodSeconds of the component's pods.
	// +optional
	// +kubebuilder:validation:Minimum=0
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`

	// StatefulSetUpdateStrategy of the component's StatefulSet.
	// +optional
	StatefulSetUpdateStrategy StatefulSetUpdateStrategy `json:"statefulSetUpdateStrategy,omitempty"`

	// PodManagementPolicy of the component's StatefulSet.
	// +optional
	PodManagementPolicy PodManagementPolicy `json:"podManagementPolicy,omitempty"`

	// TopologySpreadConstraints of the component's pods; the operator fills in the label
	// selector that matches the component.
	// +optional
	// +listType=map
	// +listMapKey=topologyKey
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// SuspendAction says what to remove while the cluster is suspended.
	// +optional
	SuspendAction *SuspendAction `json:"suspendAction,omitempty"`

	// ReadinessProbe of the component's main container.
	// +optional
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
}

// TopologySpreadConstraint is the part of a Kubernetes topology spread constraint users set; the
// operator completes it with a label selector for the component's pods and
// whenUnsatisfiable: DoNotSchedule.
type TopologySpreadConstraint struct {
	// TopologyKey is the node label whose values are the topology domains.
	TopologyKey string `json:"topologyKey"`

	// MaxSkew is the greatest allowed difference in pod count between two domains.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	MaxSkew int32 `json:"maxSkew,omitempty"`

	// MinDomains is the least number of eligible domains.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MinDomains *int32 `json:"minDomains,omitempty"`

	// NodeAffinityPolicy says whether node affinity and selectors count when computing skew.
	// +optional
	// +kubebuilder:validation:Enum="";Honor;Ignore
	NodeAffinityPolicy *corev1.NodeInclusionPolicy `json:"nodeAffinityPolicy,omitempty"`

	// MatchLabels narrows the pods counted; the component's own labels are always included.
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// SuspendAction lists what is removed while a cluster is suspended.
type SuspendAction struct {
	// SuspendStatefulSet deletes the component's StatefulSet (keeping its PVCs).
	// +optional
	SuspendStatefulSet bool `json:"suspendStatefulSet,omitempty"`
}

// ProbeType names how a readiness probe checks the container.
// +kubebuilder:validation:Enum="";tcp;command
type ProbeType string

const (
	// TCPProbeType checks that the component's port accepts connections.
	TCPProbeType ProbeType = "tcp"
	// CommandProbeType runs a command in the container (for example curl against the status port).
	CommandProbeType ProbeType = "command"
)

// Probe is the simplified readiness probe v1.6 offers on components.
type Probe struct {
	// Type of the probe: tcp or command. Default depends on the component.
	// +optional
	Type *ProbeType `json:"type,omitempty"`

	// InitialDelaySeconds before the first probe.
	// +optional
	// +kubebuilder:validation:Minimum=0
	InitialDelaySeconds *int32 `json:"initialDelaySeconds,omitempty"`

	// PeriodSeconds between probes.
	// +optional
	// +kubebuilder:validation:Minimum=1
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
}

// ServiceSpec describes a component's client Service.
type ServiceSpec struct {
	// Type of the Service (ClusterIP, NodePort, LoadBalancer or ExternalName).
	// +optional
	// +kubebuilder:validation:Enum="";ClusterIP;NodePort;LoadBalancer;ExternalName
	Type corev1.ServiceType `json:"type,omitempty"`

	// Annotations of the Service.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels of the Service.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// LoadBalancerIP requested for a LoadBalancer Service.
	// +optional
	LoadBalancerIP *string `json:"loadBalancerIP,omitempty"`

	// ClusterIP of the Service; "None" makes it headless.
	// +optional
	ClusterIP *string `json:"clusterIP,omitempty"`

	// LoadBalancerSourceRanges restricts the clients of a LoadBalancer Service.
	// +optional
	LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges,omitempty"`

	// LoadBalancerClass of a LoadBalancer Service.
	// +optional
	LoadBalancerClass *string `json:"loadBalancerClass,omitempty"`

	// Port the Service exposes; defaults to the component's client port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`

	// PortName of the client port.
	// +optional
	PortName *string `json:"portName,omitempty"`
}

// StorageVolume is an extra persistent volume for a component, mounted at MountPath.
type StorageVolume struct {
	// Name of the volume; the claim template is named <component>-<name>.
	Name string `json:"name"`

	// StorageClassName of the claim; defaults to the component's.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageSize of the claim, for example 10Gi.
	StorageSize string `json:"storageSize"`

	// MountPath in the main container.
	// +optional
	MountPath string `json:"mountPath,omitempty"`
}

// StorageClaim is one data volume of TiFlash.
type StorageClaim struct {
	// Resources of the claim; requests.storage is its size.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// StorageClassName of the claim.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// TLSCluster turns on mutual TLS between the components of a cluster.
type TLSCluster struct {
	// Enabled turns mutual TLS on; the certificates come from Secrets <cluster>-<component>-cluster-secret.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
}

// TidbClusterRef points at a TidbCluster, possibly in another namespace or Kubernetes cluster.
type TidbClusterRef struct {
	// Namespace of the cluster; defaults to the referrer's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the cluster.
	Name string `json:"name"`

	// ClusterDomain of the Kubernetes cluster the TidbCluster runs in, for clusters that span
	// Kubernetes clusters.
	// +optional
	ClusterDomain string `json:"clusterDomain,omitempty"`
}
