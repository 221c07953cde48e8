package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TidbClusterAutoScaler asks PD to scale a TidbCluster's TiKV and TiDB in and out by load (or
// asks an external service how many replicas to run). PingCAP dropped this kind in v1.6.2; it is
// kept with its v1.6.1 schema so existing objects still load.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ta,categories=pingcap
type TidbClusterAutoScaler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec describes the scaling rules.
	Spec TidbClusterAutoScalerSpec `json:"spec"`

	// Status records the last scaling of each resource group.
	// +optional
	Status TidbClusterAutoScalerStatus `json:"status,omitempty"`
}

// TidbClusterAutoScalerList is a list of TidbClusterAutoScalers.
//
// +kubebuilder:object:root=true
type TidbClusterAutoScalerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TidbClusterAutoScaler `json:"items"`
}

// TidbClusterAutoScalerSpec names the cluster to scale and the rules per component.
type TidbClusterAutoScalerSpec struct {
	// Cluster to scale.
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="spec.cluster.name must name the TidbCluster to scale"
	Cluster TidbClusterRef `json:"cluster"`

	// TiKV scaling; TiKV is not scaled when unset.
	// +optional
	TiKV *TikvAutoScalerSpec `json:"tikv,omitempty"`

	// TiDB scaling; TiDB is not scaled when unset.
	// +optional
	TiDB *TidbAutoScalerSpec `json:"tidb,omitempty"`
}

// TikvAutoScalerSpec is the scaling of TiKV.
type TikvAutoScalerSpec struct {
	BasicAutoScalerSpec `json:",inline"`
}

// TidbAutoScalerSpec is the scaling of TiDB.
type TidbAutoScalerSpec struct {
	BasicAutoScalerSpec `json:",inline"`
}

// BasicAutoScalerSpec holds the scaling settings shared by TiKV and TiDB.
type BasicAutoScalerSpec struct {
	// Resources are the instance shapes PD may add, keyed by a name that rules refer to.
	// +optional
	Resources map[string]AutoResource `json:"resources,omitempty"`

	// Rules keyed by the resource they watch: cpu (TiKV and TiDB) or storage (TiKV).
	// +optional
	Rules map[corev1.ResourceName]AutoRule `json:"rules,omitempty"`

	// ScaleInIntervalSeconds is the least time between two scale-ins.
	// +optional
	ScaleInIntervalSeconds *int32 `json:"scaleInIntervalSeconds,omitempty"`

	// ScaleOutIntervalSeconds is the least time between two scale-outs.
	// +optional
	ScaleOutIntervalSeconds *int32 `json:"scaleOutIntervalSeconds,omitempty"`

	// External hands the replica decision to an external HTTP service instead of PD.
	// +optional
	External *ExternalConfig `json:"external,omitempty"`
}

// AutoResource is one instance shape the autoscaler may create.
type AutoResource struct {
	// CPU of an instance.
	CPU resource.Quantity `json:"cpu"`

	// Memory of an instance.
	Memory resource.Quantity `json:"memory"`

	// Storage of an instance; required for TiKV shapes.
	// +optional
	Storage *resource.Quantity `json:"storage,omitempty"`

	// Count caps the instances of this shape; unlimited when unset.
	// +optional
	Count *int32 `json:"count,omitempty"`
}

// AutoRule is the threshold band of one watched resource. The JSON names keep the snake case
// that v1.5 and v1.6.1 used.
//
// +kubebuilder:validation:XValidation:rule="self.max_threshold >= 0.0 && self.max_threshold <= 1.0",message="max_threshold is a fraction of usage and must lie between 0 and 1, for example 0.8"
// +kubebuilder:validation:XValidation:rule="!has(self.min_threshold) || (self.min_threshold >= 0.0 && self.min_threshold <= self.max_threshold)",message="min_threshold must lie between 0 and max_threshold, for example 0.2 with max_threshold 0.8"
type AutoRule struct {
	// MaxThreshold is the usage above which the component scales out (for storage: the used
	// fraction above which TiKV scales out).
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=number
	MaxThreshold float64 `json:"max_threshold"`

	// MinThreshold is the usage below which the component scales in (cpu only).
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=number
	MinThreshold *float64 `json:"min_threshold,omitempty"`

	// ResourceTypes names the entries of resources this rule may scale out with.
	// +optional
	ResourceTypes []string `json:"resource_types,omitempty"`
}

// ExternalConfig hands scaling decisions to an external service.
type ExternalConfig struct {
	// Endpoint of the service returning the wanted replicas.
	// +optional
	Endpoint ExternalEndpoint `json:"endpoint,omitempty"`

	// MaxReplicas caps the replicas the service may ask for.
	// +kubebuilder:validation:Minimum=0
	MaxReplicas int32 `json:"maxReplicas"`
}

// ExternalEndpoint is the HTTP(S) address of an external scaling service.
type ExternalEndpoint struct {
	// Host of the service.
	Host string `json:"host"`

	// Port of the service.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// Path of the request.
	Path string `json:"path"`

	// TLSSecret holds the client certificate for an HTTPS endpoint; plain HTTP when unset.
	// +optional
	TLSSecret *ExternalTLSSecretRef `json:"tlsSecret,omitempty"`
}

// ExternalTLSSecretRef names a Secret in a given namespace.
type ExternalTLSSecretRef struct {
	// Name of the Secret.
	Name string `json:"name"`

	// Namespace of the Secret.
	Namespace string `json:"namespace"`
}

// TidbClusterAutoScalerStatus records the last scaling per resource group.
type TidbClusterAutoScalerStatus struct {
	// TiKV status keyed by resource group.
	// +optional
	TiKV map[string]TikvAutoScalerStatus `json:"tikv,omitempty"`

	// TiDB status keyed by resource group.
	// +optional
	TiDB map[string]TidbAutoScalerStatus `json:"tidb,omitempty"`
}

// TikvAutoScalerStatus is the scaling status of a TiKV resource group.
type TikvAutoScalerStatus struct {
	BasicAutoScalerStatus `json:",inline"`
}

// TidbAutoScalerStatus is the scaling status of a TiDB resource group.
type TidbAutoScalerStatus struct {
	BasicAutoScalerStatus `json:",inline"`
}

// BasicAutoScalerStatus is the scaling status shared by TiKV and TiDB.
type BasicAutoScalerStatus struct {
	// LastAutoScalingTimestamp is when the group was last scaled.
	// +optional
	LastAutoScalingTimestamp *metav1.Time `json:"lastAutoScalingTimestamp,omitempty"`
}

func init() { register(&TidbClusterAutoScaler{}, &TidbClusterAutoScalerList{}) }
