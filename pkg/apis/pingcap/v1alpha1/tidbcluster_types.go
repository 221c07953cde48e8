package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TidbCluster is a TiDB cluster: PD, TiKV and TiDB plus the optional TiFlash, TiCDC, TiProxy, Pump
// and PD micro-services, run as one StatefulSet per component.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tc,categories=pingcap
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="PD",type=string,JSONPath=`.status.pd.image`,description="Image PD currently runs"
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.pd.requests.storage`,description="Size of each PD data volume"
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.pd.statefulSet.readyReplicas`,description="PD pods that are ready"
// +kubebuilder:printcolumn:name="Desire",type=integer,JSONPath=`.spec.pd.replicas`,description="PD pods asked for"
// +kubebuilder:printcolumn:name="TiKV",type=string,JSONPath=`.status.tikv.image`,description="Image TiKV currently runs"
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.tikv.requests.storage`,description="Size of each TiKV data volume"
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.tikv.statefulSet.readyReplicas`,description="TiKV pods that are ready"
// +kubebuilder:printcolumn:name="Desire",type=integer,JSONPath=`.spec.tikv.replicas`,description="TiKV pods asked for"
// +kubebuilder:printcolumn:name="TiDB",type=string,JSONPath=`.status.tidb.image`,description="Image TiDB currently runs"
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.tidb.statefulSet.readyReplicas`,description="TiDB pods that are ready"
// +kubebuilder:printcolumn:name="Desire",type=integer,JSONPath=`.spec.tidb.replicas`,description="TiDB pods asked for"
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TidbCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired cluster.
	Spec TidbClusterSpec `json:"spec"`

	// Status is what the operator last observed.
	// +optional
	Status TidbClusterStatus `json:"status,omitempty"`
}

// TidbClusterList is a list of TidbClusters.
//
// +kubebuilder:object:root=true
type TidbClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []TidbCluster `json:"items"`
}

func init() { register(&TidbCluster{}, &TidbClusterList{}) }

// StartScriptVersion selects the generation of the components' start scripts.
// +kubebuilder:validation:Enum="";v1;v2
type StartScriptVersion string

const (
	// StartScriptV1 is the original set of start scripts (the default).
	StartScriptV1 StartScriptVersion = "v1"
	// StartScriptV2 is the rewritten start scripts, which wait for their own DNS name and support
	// the feature flags in startScriptV2FeatureFlags.
	StartScriptV2 StartScriptVersion = "v2"
)

// StartScriptV2FeatureFlag switches on an optional behaviour of the v2 start scripts.
type StartScriptV2FeatureFlag string

const (
	// StartScriptV2FeatureFlagWaitForDNSNameIPMatch makes a component wait until its DNS name
	// resolves to its own pod IP before starting.
	StartScriptV2FeatureFlagWaitForDNSNameIPMatch StartScriptV2FeatureFlag = "WaitForDnsNameIpMatch"
	// StartScriptV2FeatureFlagPreferPDAddressesOverDiscovery makes PD, TiKV and TiDB dial
	// spec.pdAddresses instead of asking the discovery service.
	StartScriptV2FeatureFlagPreferPDAddressesOverDiscovery StartScriptV2FeatureFlag = "PreferPDAddressesOverDiscovery"
)

// PDMode is how PD runs.
// +kubebuilder:validation:Enum="";ms
type PDMode string

const (
	// PDModeMicroService runs PD as an API service next to separate tso and scheduling services
	// (spec.pdms).
	PDModeMicroService PDMode = "ms"
)

// PDMSName names a PD micro-service.
// +kubebuilder:validation:Enum=tso;scheduling
type PDMSName string

const (
	// PDMSTSO is the timestamp-oracle micro-service.
	PDMSTSO PDMSName = "tso"
	// PDMSScheduling is the scheduling micro-service.
	PDMSScheduling PDMSName = "scheduling"
)

// StartUpScriptVersion selects the start script of PD and the PD micro-services; only v1 exists.
// +kubebuilder:validation:Enum="";v1
type StartUpScriptVersion string

// TidbClusterSpec is the desired state of a TidbCluster. The pod-level fields here are cluster-wide
// defaults that each component may override with its own field of the same name.
//
// PD-dependent components need a PD to talk to: either this cluster's own spec.pd, another
// TidbCluster's PD (spec.cluster), or PD endpoints listed in spec.pdAddresses.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.tikv) || has(self.tidb) || has(self.tiflash) || has(self.ticdc) || has(self.tiproxy) || has(self.pump) || (has(self.pdms) && size(self.pdms) > 0)) || has(self.pd) || (has(self.cluster) && size(self.cluster.name) > 0) || (has(self.pdAddresses) && size(self.pdAddresses) > 0)",message="TiKV, TiDB, TiFlash, TiCDC, TiProxy, Pump and PD micro-services need a PD: add spec.pd, set spec.cluster to the TidbCluster whose PD this cluster joins, or list the PD endpoints in spec.pdAddresses"
type TidbClusterSpec struct {
	// Discovery configures the discovery service that helps PD members find each other.
	// +optional
	Discovery *DiscoverySpec `json:"discovery,omitempty"`

	// PD is the placement driver. Leave it out only when this cluster joins the PD of another
	// cluster (spec.cluster) or external PD endpoints (spec.pdAddresses).
	// +optional
	PD *PDSpec `json:"pd,omitempty"`

	// PDMS are the PD micro-services (tso, scheduling); used only when spec.pd.mode is "ms".
	// +optional
	// +listType=map
	// +listMapKey=name
	PDMS []PDMSSpec `json:"pdms,omitempty"`

	// TiDB is the SQL layer.
	// +optional
	TiDB *TiDBSpec `json:"tidb,omitempty"`

	// TiKV is the row store.
	// +optional
	TiKV *TiKVSpec `json:"tikv,omitempty"`

	// TiFlash is the columnar store.
	// +optional
	TiFlash *TiFlashSpec `json:"tiflash,omitempty"`

	// TiCDC captures row changes.
	// +optional
	TiCDC *TiCDCSpec `json:"ticdc,omitempty"`

	// TiProxy is the SQL proxy in front of TiDB.
	// +optional
	TiProxy *TiProxySpec `json:"tiproxy,omitempty"`

	// Pump collects TiDB binlog (deprecated by TiDB itself, still supported).
	// +optional
	Pump *PumpSpec `json:"pump,omitempty"`

	// Helper is the image of auxiliary containers, such as the log tailers.
	// +optional
	Helper *HelperSpec `json:"helper,omitempty"`

	// Paused stops the operator from changing the cluster's workloads; status is still refreshed.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// RecoveryMode starts TiKV but holds TiDB back while a volume-snapshot restore runs.
	// +optional
	RecoveryMode bool `json:"recoveryMode,omitempty"`

	// Version is the image tag of every component that does not set its own version.
	// +optional
	Version string `json:"version,omitempty"`

	// SchedulerName of the pods, for example tidb-scheduler.
	// +optional
	SchedulerName string `json:"schedulerName,omitempty"`

	// PVReclaimPolicy is set on the PersistentVolumes bound to the cluster's claims.
	// +optional
	// +kubebuilder:default=Retain
	PVReclaimPolicy *PVReclaimPolicy `json:"pvReclaimPolicy,omitempty"`

	// ImagePullPolicy of the containers, unless a component sets its own.
	// +optional
	// +kubebuilder:default=IfNotPresent
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets of the pods, unless a component sets its own.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// ConfigUpdateStrategy of the components that do not set their own.
	// +optional
	ConfigUpdateStrategy ConfigUpdateStrategy `json:"configUpdateStrategy,omitempty"`

	// EnablePVReclaim lets the operator delete the claims (and volumes) that scale-in left behind.
	// +optional
	EnablePVReclaim *bool `json:"enablePVReclaim,omitempty"`

	// EnablePVCReplace lets the operator replace volumes whose spec changed in a way that cannot be
	// applied in place (for example a new storage class).
	// +optional
	EnablePVCReplace *bool `json:"enablePVCReplace,omitempty"`

	// TLSCluster turns on mutual TLS between the components.
	// +optional
	TLSCluster *TLSCluster `json:"tlsCluster,omitempty"`

	// HostNetwork runs the pods in the host's network namespace, unless a component says otherwise.
	// +optional
	HostNetwork *bool `json:"hostNetwork,omitempty"`

	// Affinity of the pods, unless a component sets its own.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// PriorityClassName of the pods, unless a component sets its own.
	// +optional
	PriorityClassName *string `json:"priorityClassName,omitempty"`

	// NodeSelector of the pods; a component's own selector is merged over it.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Annotations added to the pods; a component's own annotations are merged over them.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels added to the pods; a component's own labels are merged over them.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Tolerations of the pods, unless a component sets its own.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// DNSConfig of the pods, unless a component sets its own.
	// +optional
	DNSConfig *corev1.PodDNSConfig `json:"dnsConfig,omitempty"`

	// DNSPolicy of the pods, unless a component sets its own.
	// +optional
	// +kubebuilder:validation:Enum="";ClusterFirstWithHostNet;ClusterFirst;Default;None
	DNSPolicy corev1.DNSPolicy `json:"dnsPolicy,omitempty"`

	// Timezone of the components, for example Asia/Shanghai; UTC when empty.
	// +optional
	Timezone string `json:"timezone,omitempty"`

	// Services is the old way to set the PD Service type. Deprecated: use spec.pd.service.
	// +optional
	Services []Service `json:"services,omitempty"`

	// EnableDynamicConfiguration starts TiKV with its status address advertised, so that its
	// configuration can be changed online.
	// +optional
	EnableDynamicConfiguration *bool `json:"enableDynamicConfiguration,omitempty"`

	// ClusterDomain of the Kubernetes cluster; when set, components advertise fully qualified
	// names (<pod>.<service>.<namespace>.svc.<clusterDomain>).
	// +optional
	ClusterDomain string `json:"clusterDomain,omitempty"`

	// AcrossK8s says the TiDB cluster spans several Kubernetes clusters; components then always
	// advertise fully qualified names and discovery runs even without a local PD.
	// +optional
	AcrossK8s bool `json:"acrossK8s,omitempty"`

	// Cluster is another TidbCluster whose PD this one joins (heterogeneous or multi-cluster
	// deployments).
	// +optional
	Cluster *TidbClusterRef `json:"cluster,omitempty"`

	// PDAddresses are external PD endpoints (http://host:port) that this cluster's PD joins.
	// +optional
	PDAddresses []string `json:"pdAddresses,omitempty"`

	// StatefulSetUpdateStrategy of the components that do not set their own.
	// +optional
	StatefulSetUpdateStrategy StatefulSetUpdateStrategy `json:"statefulSetUpdateStrategy,omitempty"`

	// PodManagementPolicy of the components that do not set their own.
	// +optional
	PodManagementPolicy PodManagementPolicy `json:"podManagementPolicy,omitempty"`

	// PodSecurityContext of the pods, unless a component sets its own.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// TopologySpreadConstraints of the pods, unless a component sets its own.
	// +optional
	// +listType=map
	// +listMapKey=topologyKey
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// StartScriptVersion selects the start scripts; v1 when empty.
	// +optional
	StartScriptVersion StartScriptVersion `json:"startScriptVersion,omitempty"`

	// StartScriptV2FeatureFlags turn on optional behaviours of the v2 start scripts.
	// +optional
	StartScriptV2FeatureFlags []StartScriptV2FeatureFlag `json:"startScriptV2FeatureFlags,omitempty"`

	// SuspendAction says what to remove to suspend the whole cluster.
	// +optional
	SuspendAction *SuspendAction `json:"suspendAction,omitempty"`

	// PreferIPv6 makes the components bind and advertise IPv6 addresses.
	// +optional
	PreferIPv6 bool `json:"preferIPv6,omitempty"`

	// ServiceAccount of the pods, unless a component sets its own.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// Service is the deprecated way to pick the type of a component's Service.
type Service struct {
	// Name of the component, for example pd.
	// +optional
	Name string `json:"name,omitempty"`

	// Type of the Service.
	// +optional
	Type string `json:"type,omitempty"`
}

// HelperSpec is the image of auxiliary containers, such as the slow-log and RocksDB log tailers.
type HelperSpec struct {
	// Image of the auxiliary containers; busybox:1.26.2 when empty.
	// +optional
	Image *string `json:"image,omitempty"`

	// ImagePullPolicy of the auxiliary containers; the cluster's policy when empty.
	// +optional
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
}

// DiscoverySpec configures the discovery Deployment. It has no replicas: discovery always runs one
// pod.
type DiscoverySpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// LivenessProbe adds a TCP liveness probe on the discovery port.
	// +optional
	LivenessProbe *Probe `json:"livenessProbe,omitempty"`
}

// PDSpec is the desired state of PD.
//
// +kubebuilder:validation:XValidation:rule="has(self.requests) && 'storage' in self.requests",message="spec.pd.requests.storage is required: it is the size of each PD data volume, for example requests: {storage: 10Gi}"
type PDSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of PD members.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/pd"
	BaseImage string `json:"baseImage,omitempty"`

	// Service configures the PD client Service.
	// +optional
	Service *ServiceSpec `json:"service,omitempty"`

	// MaxFailoverCount caps the members auto-failover may add; 3 when unset, 0 turns failover off.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// StorageClassName of the data volume; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageVolumes are extra persistent volumes.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// DataSubDir is a sub-directory of the data volume that PD uses as its data directory.
	// +optional
	DataSubDir string `json:"dataSubDir,omitempty"`

	// Config is PD's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// TLSClientSecretName is the Secret with the client certificate the PD dashboard uses to reach
	// TiDB; <cluster>-tidb-client-secret when empty.
	// +optional
	TLSClientSecretName *string `json:"tlsClientSecretName,omitempty"`

	// EnableDashboardInternalProxy serves the PD dashboard through the discovery proxy.
	// +optional
	EnableDashboardInternalProxy *bool `json:"enableDashboardInternalProxy,omitempty"`

	// MountClusterClientSecret mounts the cluster client certificate into the PD pods (for pd-ctl).
	// +optional
	MountClusterClientSecret *bool `json:"mountClusterClientSecret,omitempty"`

	// StartTimeout is how long, in seconds, the start script waits for the pod's DNS name.
	// +optional
	// +kubebuilder:default=30
	StartTimeout int `json:"startTimeout,omitempty"`

	// InitWaitTime is how long, in seconds, the first PD member waits before bootstrapping a new
	// cluster, so that the others can join it.
	// +optional
	// +kubebuilder:default=0
	InitWaitTime int `json:"initWaitTime,omitempty"`

	// Mode "ms" runs PD as the API service of the PD micro-services (spec.pdms).
	// +optional
	Mode PDMode `json:"mode,omitempty"`

	// SpareVolReplaceReplicas is how many extra members a volume replacement may add; 1 when unset.
	// +optional
	// +kubebuilder:validation:Minimum=0
	SpareVolReplaceReplicas *int32 `json:"spareVolReplaceReplicas,omitempty"`

	// StartUpScriptVersion selects the start script; v1 is the only one.
	// +optional
	StartUpScriptVersion StartUpScriptVersion `json:"startUpScriptVersion,omitempty"`

	// ServiceAccount of the PD pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// PDMSSpec is the desired state of one PD micro-service.
type PDMSSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Name of the micro-service: tso or scheduling.
	Name PDMSName `json:"name"`

	// Replicas is the number of pods.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/pd"
	BaseImage string `json:"baseImage,omitempty"`

	// Service configures the micro-service's client Service.
	// +optional
	Service *ServiceSpec `json:"service,omitempty"`

	// MaxFailoverCount caps the pods auto-failover may add.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// StorageClassName of the volumes; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// StorageVolumes are extra persistent volumes.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// Config is the micro-service's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// TLSClientSecretName is the Secret with a client certificate for TiDB connections.
	// +optional
	TLSClientSecretName *string `json:"tlsClientSecretName,omitempty"`

	// MountClusterClientSecret mounts the cluster client certificate into the pods.
	// +optional
	MountClusterClientSecret *bool `json:"mountClusterClientSecret,omitempty"`

	// StartTimeout is how long, in seconds, the start script waits for the pod's DNS name.
	// +optional
	// +kubebuilder:default=30
	StartTimeout int `json:"startTimeout,omitempty"`

	// StartUpScriptVersion selects the start script; v1 is the only one.
	// +optional
	StartUpScriptVersion StartUpScriptVersion `json:"startUpScriptVersion,omitempty"`

	// ServiceAccount of the pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// TiKVSpec is the desired state of TiKV.
//
// +kubebuilder:validation:XValidation:rule="has(self.requests) && 'storage' in self.requests",message="spec.tikv.requests.storage is required: it is the size of each TiKV data volume, for example requests: {storage: 100Gi}"
type TiKVSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of TiKV stores.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/tikv"
	BaseImage string `json:"baseImage,omitempty"`

	// Privileged runs the TiKV container privileged.
	// +optional
	Privileged *bool `json:"privileged,omitempty"`

	// MaxFailoverCount caps the stores auto-failover may add; 3 when unset, 0 turns failover off.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// SeparateRocksDBLog writes the RocksDB log to its own file, shown by a tailer sidecar.
	// +optional
	SeparateRocksDBLog *bool `json:"separateRocksDBLog,omitempty"`

	// SeparateRaftLog writes the Raft engine log to its own file, shown by a tailer sidecar.
	// +optional
	SeparateRaftLog *bool `json:"separateRaftLog,omitempty"`

	// RocksDBLogVolumeName is the storage volume that holds the RocksDB log.
	// +optional
	RocksDBLogVolumeName string `json:"rocksDBLogVolumeName,omitempty"`

	// RaftLogVolumeName is the storage volume that holds the Raft engine log.
	// +optional
	RaftLogVolumeName string `json:"raftLogVolumeName,omitempty"`

	// LogTailer sets the resources of the log tailer sidecars.
	// +optional
	LogTailer *LogTailerSpec `json:"logTailer,omitempty"`

	// StorageClassName of the data volume; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// DataSubDir is a sub-directory of the data volume that TiKV uses as its data directory.
	// +optional
	DataSubDir string `json:"dataSubDir,omitempty"`

	// Config is TiKV's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// RecoverFailover removes the stores auto-failover added once the failed ones are back.
	// +optional
	RecoverFailover bool `json:"recoverFailover,omitempty"`

	// Failover controls recovery from auto-failover.
	// +optional
	Failover *Failover `json:"failover,omitempty"`

	// MountClusterClientSecret mounts the cluster client certificate into the TiKV pods
	// (for tikv-ctl).
	// +optional
	MountClusterClientSecret *bool `json:"mountClusterClientSecret,omitempty"`

	// EvictLeaderTimeout bounds the wait for a store's leaders to move away before its pod is
	// restarted (Go duration, 1500m when unset).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$')",message="evictLeaderTimeout must be a Go duration such as 30s, 10m or 1h30m"
	EvictLeaderTimeout *string `json:"evictLeaderTimeout,omitempty"`

	// WaitLeaderTransferBackTimeout bounds the wait for leaders to come back to an upgraded store
	// (Go duration, 400s when unset).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$')",message="waitLeaderTransferBackTimeout must be a Go duration such as 30s, 10m or 1h30m"
	WaitLeaderTransferBackTimeout *metav1.Duration `json:"waitLeaderTransferBackTimeout,omitempty"`

	// StorageVolumes are extra persistent volumes.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// StoreLabels are node labels, besides PD's location-labels, copied to the stores.
	// +optional
	StoreLabels []string `json:"storeLabels,omitempty"`

	// EnableNamedStatusPort names the status container port "status" so monitors can find it.
	// +optional
	EnableNamedStatusPort bool `json:"enableNamedStatusPort,omitempty"`

	// ScalePolicy sets how many stores are added or removed at a time.
	// +optional
	ScalePolicy ScalePolicy `json:"scalePolicy,omitempty"`

	// SpareVolReplaceReplicas is how many extra stores a volume replacement may add; 1 when unset.
	// +optional
	// +kubebuilder:validation:Minimum=0
	SpareVolReplaceReplicas *int32 `json:"spareVolReplaceReplicas,omitempty"`

	// ServiceAccount of the TiKV pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// TiFlashSpec is the desired state of TiFlash.
type TiFlashSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of TiFlash stores.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/tiflash"
	BaseImage string `json:"baseImage,omitempty"`

	// Privileged runs the TiFlash container privileged.
	// +optional
	Privileged *bool `json:"privileged,omitempty"`

	// MaxFailoverCount caps the stores auto-failover may add; 3 when unset, 0 turns failover off.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// StorageClaims are TiFlash's data volumes, mounted at /data0, /data1, ...
	// +kubebuilder:validation:MinItems=1
	StorageClaims []StorageClaim `json:"storageClaims"`

	// Config is TiFlash's configuration: the server file and the proxy file.
	// +optional
	Config *TiFlashConfig `json:"config,omitempty"`

	// LogTailer sets the resources of the log tailer sidecars.
	// +optional
	LogTailer *LogTailerSpec `json:"logTailer,omitempty"`

	// Initializer sets the resources of the init container that renders the configuration.
	// +optional
	Initializer *InitContainerSpec `json:"initializer,omitempty"`

	// RecoverFailover removes the stores auto-failover added once the failed ones are back.
	// +optional
	RecoverFailover bool `json:"recoverFailover,omitempty"`

	// Failover controls recovery from auto-failover.
	// +optional
	Failover *Failover `json:"failover,omitempty"`

	// ScalePolicy sets how many stores are added or removed at a time.
	// +optional
	ScalePolicy ScalePolicy `json:"scalePolicy,omitempty"`

	// ServiceAccount of the TiFlash pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// TiFlashConfig holds TiFlash's two configuration files.
type TiFlashConfig struct {
	// Common is the TiFlash server configuration (TOML string or map).
	// +optional
	Common *Config `json:"config,omitempty"`

	// Proxy is the configuration of TiFlash's embedded TiKV proxy (TOML string or map).
	// +optional
	Proxy *Config `json:"proxy,omitempty"`
}

// TiDBSpec is the desired state of TiDB.
type TiDBSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of TiDB servers.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/tidb"
	BaseImage string `json:"baseImage,omitempty"`

	// Service configures the MySQL client Service; without it no <cluster>-tidb Service exists.
	// +optional
	Service *TiDBServiceSpec `json:"service,omitempty"`

	// BinlogEnabled makes TiDB write binlog to Pump; on by default when spec.pump is set.
	// +optional
	BinlogEnabled *bool `json:"binlogEnabled,omitempty"`

	// MaxFailoverCount caps the servers auto-failover may add; 3 when unset, 0 turns failover off.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxFailoverCount *int32 `json:"maxFailoverCount,omitempty"`

	// SeparateSlowLog writes the slow-query log to its own file, shown by a tailer sidecar
	// (on by default).
	// +optional
	SeparateSlowLog *bool `json:"separateSlowLog,omitempty"`

	// SlowLogVolumeName is the storage or additional volume that holds the slow-query log.
	// +optional
	SlowLogVolumeName string `json:"slowLogVolumeName,omitempty"`

	// SlowLogTailer configures the slow-query log tailer sidecar.
	// +optional
	SlowLogTailer *TiDBSlowLogTailerSpec `json:"slowLogTailer,omitempty"`

	// TLSClient turns on TLS for MySQL clients.
	// +optional
	TLSClient *TiDBTLSClient `json:"tlsClient,omitempty"`

	// TokenBasedAuthEnabled turns on JWT-based authentication with the keys in
	// <cluster>-tidb-auth-token-jwks-secret.
	// +optional
	TokenBasedAuthEnabled *bool `json:"tokenBasedAuthEnabled,omitempty"`

	// Plugins are the TiDB plugins to load.
	// +optional
	Plugins []string `json:"plugins,omitempty"`

	// Config is TiDB's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// Lifecycle hooks of the TiDB container, for example a preStop sleep for graceful draining.
	// +optional
	Lifecycle *corev1.Lifecycle `json:"lifecycle,omitempty"`

	// StorageVolumes are extra persistent volumes.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// StorageClassName of the storage volumes; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Initializer sets the root password on first start.
	// +optional
	Initializer *TiDBInitializer `json:"initializer,omitempty"`

	// BootstrapSQLConfigMapName is a ConfigMap whose key bootstrap-sql holds SQL run once when the
	// cluster is first bootstrapped.
	// +optional
	BootstrapSQLConfigMapName *string `json:"bootstrapSQLConfigMapName,omitempty"`

	// ScalePolicy sets how many servers are added or removed at a time.
	// +optional
	ScalePolicy ScalePolicy `json:"scalePolicy,omitempty"`

	// CustomizedStartupProbe replaces the default startup probe with a command.
	// +optional
	CustomizedStartupProbe *CustomizedProbe `json:"customizedStartupProbe,omitempty"`

	// Arguments are appended to TiDB's command line.
	// +optional
	Arguments []string `json:"arguments,omitempty"`

	// ServiceAccount of the TiDB pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// TiDBServiceSpec configures the MySQL client Service of TiDB.
type TiDBServiceSpec struct {
	ServiceSpec `json:",inline"`

	// ExternalTrafficPolicy of a NodePort or LoadBalancer Service.
	// +optional
	ExternalTrafficPolicy *corev1.ServiceExternalTrafficPolicy `json:"externalTrafficPolicy,omitempty"`

	// ExposeStatus also exposes the status port 10080 (on by default).
	// +optional
	ExposeStatus *bool `json:"exposeStatus,omitempty"`

	// MySQLNodePort is the node port of the MySQL port of a NodePort Service.
	// +optional
	MySQLNodePort *int `json:"mysqlNodePort,omitempty"`

	// StatusNodePort is the node port of the status port of a NodePort Service.
	// +optional
	StatusNodePort *int `json:"statusNodePort,omitempty"`

	// AdditionalPorts are added to the Service as written.
	// +optional
	AdditionalPorts []corev1.ServicePort `json:"additionalPorts,omitempty"`
}

// TiDBTLSClient configures TLS between MySQL clients and TiDB.
type TiDBTLSClient struct {
	// Enabled turns TLS on; the server certificate comes from <cluster>-tidb-server-secret.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// DisableClientAuthn stops TiDB from verifying client certificates.
	// +optional
	DisableClientAuthn bool `json:"disableClientAuthn,omitempty"`

	// SkipInternalClientCA keeps the operator's internal clients from presenting a certificate.
	// +optional
	SkipInternalClientCA bool `json:"skipInternalClientCA,omitempty"`
}

// TiDBInitializer sets up a fresh TiDB.
type TiDBInitializer struct {
	// CreatePassword generates a root password into the Secret <cluster>-init and sets it.
	// +optional
	CreatePassword bool `json:"createPassword,omitempty"`
}

// TiDBSlowLogTailerSpec is the slow-query log tailer sidecar of TiDB.
type TiDBSlowLogTailerSpec struct {
	corev1.ResourceRequirements `json:",inline"`

	// Image of the sidecar. Deprecated: use spec.helper.image.
	// +optional
	Image *string `json:"image,omitempty"`

	// ImagePullPolicy of the sidecar. Deprecated: use spec.helper.imagePullPolicy.
	// +optional
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
}

// LogTailerSpec sets the resources of log tailer sidecars.
type LogTailerSpec struct {
	corev1.ResourceRequirements `json:",inline"`
}

// InitContainerSpec sets the resources of an init container.
type InitContainerSpec struct {
	corev1.ResourceRequirements `json:",inline"`
}

// CustomizedProbe is a command probe: BinaryName from Image is copied into the pod by an init
// container and run with Args.
type CustomizedProbe struct {
	// Image that holds the probe binary.
	Image string `json:"image"`

	// BinaryName is the path of the probe binary in Image.
	BinaryName string `json:"binaryName"`

	// Args of the probe binary.
	// +optional
	Args []string `json:"args,omitempty"`

	// InitialDelaySeconds before the first probe.
	// +optional
	InitialDelaySeconds *int32 `json:"initialDelaySeconds,omitempty"`

	// TimeoutSeconds of one probe.
	// +optional
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`

	// PeriodSeconds between probes.
	// +optional
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`

	// SuccessThreshold is the number of successes after a failure that count as success.
	// +optional
	SuccessThreshold *int32 `json:"successThreshold,omitempty"`

	// FailureThreshold is the number of failures that count as failure.
	// +optional
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`
}

// ScalePolicy sets how many pods of a store component change at a time.
type ScalePolicy struct {
	// ScaleInParallelism is how many pods are removed at a time.
	// +optional
	// +kubebuilder:default=1
	ScaleInParallelism *int32 `json:"scaleInParallelism,omitempty"`

	// ScaleOutParallelism is how many pods are added at a time.
	// +optional
	// +kubebuilder:default=1
	ScaleOutParallelism *int32 `json:"scaleOutParallelism,omitempty"`
}

// Failover controls recovery from store auto-failover.
type Failover struct {
	// RecoverByUID removes the stores that the failover with this UID (status failoverUID) added;
	// a one-shot alternative to recoverFailover.
	// +optional
	RecoverByUID string `json:"recoverByUID,omitempty"`
}

// TiCDCSpec is the desired state of TiCDC.
type TiCDCSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of TiCDC captures.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/ticdc"
	BaseImage string `json:"baseImage,omitempty"`

	// TLSClientSecretNames are Secrets mounted at /var/lib/sink-tls/<name> for TLS to sinks.
	// +optional
	TLSClientSecretNames []string `json:"tlsClientSecretNames,omitempty"`

	// StorageVolumes are extra persistent volumes.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// StorageClassName of the storage volumes; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Config is TiCDC's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// GracefulShutdownTimeout bounds the wait for a capture to drain before its pod is restarted
	// or removed (Go duration, 10m when unset).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$')",message="gracefulShutdownTimeout must be a Go duration such as 30s, 10m or 1h30m"
	GracefulShutdownTimeout *metav1.Duration `json:"gracefulShutdownTimeout,omitempty"`

	// ServiceAccount of the TiCDC pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// TiProxySpec is the desired state of TiProxy.
type TiProxySpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of TiProxy pods.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/tiproxy"
	BaseImage string `json:"baseImage,omitempty"`

	// SSLEnableTiDB makes TiProxy connect to TiDB over TLS.
	// +optional
	SSLEnableTiDB bool `json:"sslEnableTiDB,omitempty"`

	// TLSClientSecretName is the Secret with the client certificate for TiDB connections.
	// +optional
	TLSClientSecretName *string `json:"tlsClientSecretName,omitempty"`

	// CertLayout selects how certificates are laid out in the pod (empty or "v1").
	// +optional
	CertLayout string `json:"certLayout,omitempty"`

	// StorageVolumes are extra persistent volumes.
	// +optional
	StorageVolumes []StorageVolume `json:"storageVolumes,omitempty"`

	// StorageClassName of the storage volumes; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Config is TiProxy's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// ServiceAccount of the TiProxy pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// PumpSpec is the desired state of Pump.
type PumpSpec struct {
	ComponentSpec               `json:",inline"`
	corev1.ResourceRequirements `json:",inline"`

	// Replicas is the number of Pump nodes.
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`

	// BaseImage is the image without tag; the tag is the version.
	// +optional
	// +kubebuilder:default="pingcap/tidb-binlog"
	BaseImage string `json:"baseImage,omitempty"`

	// StorageClassName of the data volume; the cluster default when empty.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Config is Pump's configuration (TOML string or map).
	// +optional
	Config *Config `json:"config,omitempty"`

	// SetTimeZone passes the cluster's timezone to Pump.
	// +optional
	SetTimeZone *bool `json:"setTimeZone,omitempty"`

	// ServiceAccount of the Pump pods.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
}
