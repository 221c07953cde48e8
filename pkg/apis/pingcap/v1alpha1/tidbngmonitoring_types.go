package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TidbNGMonitoring runs ng-monitoring (continuous profiling and Top SQL) for one TidbCluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tngm,categories=pingcap
type TidbNGMonitoring struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec describes the ng-monitoring deployment.
	Spec TidbNGMonitoringSpec `json:"spec"`

	// Status is what the operator last observed of it.
	// +optional
	Status TidbNGMonitoringStatus `json:"status,omitempty"`
}

// TidbNGMonitoringList is a list of TidbNGMonitorings.
//
// +kubebuilder:object:root=true
type TidbNGMonitoringList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TidbNGMonitoring `json:"items"`
}

// TidbNGMonitoringSpec describes an ng-monitoring deployment. The pod-level settings here are
// the defaults for the ngMonitoring component.
type TidbNGMonitoringSpec struct {
	ComponentSpec `json:",inline"`

	// Clusters holds the one TidbCluster that ng-monitoring serves; ng-monitoring talks to a
	// single PD cluster, so exactly one entry is allowed.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1
	// +kubebuilder:validation:XValidation:rule="size(self) == 1",message="spec.clusters must name exactly one TidbCluster; create one TidbNGMonitoring per cluster"
	Clusters []TidbClusterRef `json:"clusters"`

	// Paused stops the operator from changing the deployment.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// PVReclaimPolicy of the PersistentVolumes.
	// +optional
	// +kubebuilder:default=Retain
	PVReclaimPolicy *PVReclaimPolicy `json:"pvReclaimPolicy,omitempty"`

	// ClusterDomain of the Kubernetes cluster ng-monitoring runs in, used in the addresses it
	// advertises.
	// +optional
	ClusterDomain string `json:"clusterDomain,omitempty"`

	// PreferIPv6 makes ng-monitoring bind and address components over IPv6.
	// +optional
	PreferIPv6 bool `json:"preferIPv6,omitempty"`

	// NGMonitoring describes the ng-monitoring component.
	NGMonitoring NGMonitoringSpec `json:"ngMonitoring"`
}

// NGMonitoringSpec describes the ng-monitoring component.
type NGMonitoringSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// BaseImage of ng-monitoring; the tag comes from version.
	// +optional
	// +kubebuilder:default=pingcap/ng-monitoring
	BaseImage string `json:"baseImage,omitempty"`

	// StorageClassName of the data claim; the claim's size is requests.storage.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageVolumes are extra persistent volumes mounted into ng-monitoring.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// RetentionPeriod of the collected data, passed to ng-monitoring as written.
	// +optional
	RetentionPeriod *string `json:"retentionPeriod,omitempty"`

	// Config of ng-monitoring, as a TOML string or a map.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Config *Config `json:"config,omitempty"`
}

// TidbNGMonitoringStatus is what the operator last observed.
type TidbNGMonitoringStatus struct {
	// NGMonitoring is the status of the ng-monitoring component.
	// +optional
	NGMonitoring NGMonitoringStatus `json:"ngMonitoring,omitempty"`
}

// NGMonitoringStatus is the status of the ng-monitoring component.
type NGMonitoringStatus struct {
	// Synced is true when the component's objects match the spec.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of the component, for example Normal or Upgrade.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of the component's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`
}

func init() { register(&TidbNGMonitoring{}, &TidbNGMonitoringList{}) }
