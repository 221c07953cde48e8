package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TidbDashboard runs a standalone TiDB Dashboard for a TidbCluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=td,categories=pingcap
type TidbDashboard struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec describes the dashboard deployment.
	Spec TidbDashboardSpec `json:"spec"`

	// Status is what the operator last observed of the dashboard.
	// +optional
	Status TidbDashboardStatus `json:"status,omitempty"`
}

// TidbDashboardList is a list of TidbDashboards.
//
// +kubebuilder:object:root=true
type TidbDashboardList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TidbDashboard `json:"items"`
}

// TidbDashboardSpec describes a TiDB Dashboard deployment (one pod with a data volume).
type TidbDashboardSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Clusters holds the one TidbCluster the dashboard serves; it is a list only for
	// compatibility with v1.6, which also required exactly one entry.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1
	// +kubebuilder:validation:XValidation:rule="size(self) == 1",message="spec.clusters must name exactly one TidbCluster; create one TidbDashboard per cluster"
	Clusters []TidbClusterRef `json:"clusters"`

	// PVReclaimPolicy of the dashboard's PersistentVolumes.
	// +optional
	// +kubebuilder:default=Retain
	PVReclaimPolicy *PVReclaimPolicy `json:"pvReclaimPolicy,omitempty"`

	// BaseImage of TiDB Dashboard; the tag comes from version.
	// +optional
	// +kubebuilder:default=pingcap/tidb-dashboard
	BaseImage string `json:"baseImage,omitempty"`

	// StorageClassName of the data claim; the claim's size is requests.storage.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageVolumes are extra persistent volumes mounted into the dashboard.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// PathPrefix under which the dashboard serves its UI and API.
	// +optional
	PathPrefix *string `json:"pathPrefix,omitempty"`

	// Service exposing the dashboard (port 12333 by default).
	// +optional
	Service ServiceSpec `json:"service,omitempty"`

	// Telemetry lets the dashboard send usage data to PingCAP; the dashboard's own default
	// applies when unset.
	// +optional
	Telemetry *bool `json:"telemetry,omitempty"`

	// Experimental turns on the dashboard's experimental features; the dashboard's own default
	// applies when unset.
	// +optional
	Experimental *bool `json:"experimental,omitempty"`

	// PreferIPv6 makes the dashboard bind and address components over IPv6.
	// +optional
	PreferIPv6 bool `json:"preferIPv6,omitempty"`

	// ListenOnLocalhostOnly makes the dashboard listen on 127.0.0.1 only, for use behind a
	// sidecar proxy.
	// +optional
	ListenOnLocalhostOnly *bool `json:"listenOnLocalhostOnly,omitempty"`

	// DisableKeyVisualizer turns the Key Visualizer off.
	// +optional
	DisableKeyVisualizer *bool `json:"disableKeyVisualizer,omitempty"`
}

// TidbDashboardStatus is what the operator last observed of a dashboard.
type TidbDashboardStatus struct {
	// Synced is true when the dashboard's objects match the spec.
	// +optional
	Synced bool `json:"synced,omitempty"`

	// Phase of the dashboard, for example Normal or Upgrade.
	// +optional
	Phase MemberPhase `json:"phase,omitempty"`

	// StatefulSet is the status of the dashboard's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`
}

func init() { register(&TidbDashboard{}, &TidbDashboardList{}) }
