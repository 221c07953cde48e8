package v1alpha1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TidbMonitor deploys Prometheus and (optionally) Grafana and Thanos for one or more TidbClusters,
// with the dashboards and alert rules that match the clusters' versions.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tm,categories=pingcap
type TidbMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec describes the monitoring stack.
	Spec TidbMonitorSpec `json:"spec"`

	// Status is what the operator last observed of the stack.
	// +optional
	Status TidbMonitorStatus `json:"status,omitempty"`
}

// TidbMonitorList is a list of TidbMonitors.
//
// +kubebuilder:object:root=true
type TidbMonitorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TidbMonitor `json:"items"`
}

// TidbMonitorSpec describes a monitoring stack. The operator does nothing for a monitor that
// names no cluster, so the API rejects that up front.
//
// +kubebuilder:validation:XValidation:rule="has(self.clusters) && size(self.clusters) > 0",message="spec.clusters must name at least one TidbCluster to monitor"
// +kubebuilder:validation:XValidation:rule="!has(self.persistent) || !self.persistent || (has(self.storage) && size(self.storage) > 0)",message="spec.storage (for example 10Gi) must be set when spec.persistent is true"
type TidbMonitorSpec struct {
	// Clusters to monitor. The first one also decides the TLS and version defaults.
	// +optional
	Clusters []TidbClusterRef `json:"clusters,omitempty"`

	// Prometheus container.
	Prometheus PrometheusSpec `json:"prometheus"`

	// Grafana container; Grafana is not deployed when unset.
	// +optional
	Grafana *GrafanaSpec `json:"grafana,omitempty"`

	// Reloader container, which watches the monitor ConfigMap and reloads Prometheus.
	Reloader ReloaderSpec `json:"reloader"`

	// Initializer container, which renders the Prometheus configuration and the dashboards.
	Initializer MonitorInitializerSpec `json:"initializer"`

	// DM adds DMClusters to the monitored targets.
	// +optional
	DM *DMMonitorSpec `json:"dm,omitempty"`

	// Thanos sidecar, for querying several Prometheus shards or monitors together.
	// +optional
	Thanos *ThanosSpec `json:"thanos,omitempty"`

	// PrometheusReloader is the container reloading Prometheus when its configuration changes.
	// +optional
	PrometheusReloader *PrometheusReloaderSpec `json:"prometheusReloader,omitempty"`

	// PVReclaimPolicy of the monitor's PersistentVolumes.
	// +optional
	// +kubebuilder:default=Retain
	PVReclaimPolicy *PVReclaimPolicy `json:"pvReclaimPolicy,omitempty"`

	// ImagePullPolicy of containers that set none themselves.
	// +optional
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets of the monitor's pods.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// Persistent stores Prometheus data in a PersistentVolumeClaim of size Storage.
	// +optional
	Persistent bool `json:"persistent,omitempty"`

	// StorageClassName of the data claim.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// Storage is the size of the data claim, for example 10Gi.
	// +optional
	Storage string `json:"storage,omitempty"`

	// NodeSelector of the monitor's pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Annotations added to the monitor's pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels added to the monitor's pods.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Tolerations of the monitor's pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// PodSecurityContext of the monitor's pods.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`

	// KubePrometheusURL, when set, makes Grafana also read metrics from this Prometheus.
	// +optional
	KubePrometheusURL *string `json:"kubePrometheusURL,omitempty"`

	// AlertmanagerURL that Prometheus sends alerts to.
	// +optional
	AlertmanagerURL *string `json:"alertmanagerURL,omitempty"`

	// AlertManagerRulesVersion picks the version of the alert rules; defaults to the first
	// cluster's version.
	// +optional
	AlertManagerRulesVersion *string `json:"alertManagerRulesVersion,omitempty"`

	// AdditionalContainers are added to the monitor pod; one named like a built-in container
	// is merged into it.
	// +optional
	AdditionalContainers []corev1.Container `json:"additionalContainers,omitempty"`

	// ClusterScoped gives the monitor a ClusterRole, for watching clusters in other namespaces.
	// +optional
	ClusterScoped bool `json:"clusterScoped,omitempty"`

	// ExternalLabels attached to every series and alert this Prometheus sends out.
	// +optional
	ExternalLabels map[string]string `json:"externalLabels,omitempty"`

	// ReplicaExternalLabelName is the external label that carries the Prometheus replica's
	// name; an empty string leaves the label out.
	// +optional
	ReplicaExternalLabelName *string `json:"replicaExternalLabelName,omitempty"`

	// Replicas of each Prometheus shard.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Shards splits the scrape targets over this many Prometheus StatefulSets.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Shards *int32 `json:"shards,omitempty"`

	// AdditionalVolumes added to the monitor pod.
	// +optional
	AdditionalVolumes []corev1.Volume `json:"additionalVolumes,omitempty"`

	// Timezone of the monitor's containers, for example UTC.
	// +optional
	Timezone string `json:"timezone,omitempty"`

	// EnableAlertRules loads the TiDB alert rules into Prometheus.
	// +optional
	EnableAlertRules bool `json:"enableAlertRules,omitempty"`

	// PreferIPv6 makes the monitor bind and address components over IPv6.
	// +optional
	PreferIPv6 bool `json:"preferIPv6,omitempty"`
}

// MonitorContainer holds the image and resources of one monitor container.
type MonitorContainer struct {
	corev1.ResourceRequirements `json:",inline"`

	// BaseImage is the image without tag; Version is the tag.
	// +optional
	BaseImage string `json:"baseImage,omitempty"`

	// Version (image tag) of the container.
	// +optional
	Version string `json:"version,omitempty"`

	// ImagePullPolicy of the container.
	// +optional
	// +kubebuilder:validation:Enum="";Always;Never;IfNotPresent
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
}

// PrometheusSpec describes the Prometheus container.
type PrometheusSpec struct {
	MonitorContainer `json:",inline"`

	// LogLevel of Prometheus.
	// +optional
	LogLevel string `json:"logLevel,omitempty"`

	// Service exposing Prometheus (port 9090 by default).
	// +optional
	Service ServiceSpec `json:"service,omitempty"`

	// ReserveDays of metrics to keep. Deprecated: use retentionTime.
	// +optional
	ReserveDays int `json:"reserveDays,omitempty"`

	// RetentionTime of metrics as a Prometheus duration (for example 15d); it wins over
	// reserveDays.
	// +optional
	RetentionTime *string `json:"retentionTime,omitempty"`

	// Ingress for Prometheus.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// Config customises the generated Prometheus configuration.
	// +optional
	Config *PrometheusConfiguration `json:"config,omitempty"`

	// DisableCompaction turns off local block compaction, as Thanos uploading requires.
	// +optional
	DisableCompaction bool `json:"disableCompaction,omitempty"`

	// RemoteWrite endpoints Prometheus forwards samples to.
	// +optional
	RemoteWrite []*RemoteWriteSpec `json:"remoteWrite,omitempty"`

	// AdditionalVolumeMounts added to the Prometheus container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`
}

// PrometheusConfiguration customises Prometheus beyond what the operator generates.
type PrometheusConfiguration struct {
	// ConfigMapRef names a ConfigMap holding a complete Prometheus configuration that is used
	// instead of the generated one.
	// +optional
	ConfigMapRef *MonitorConfigMapRef `json:"configMapRef,omitempty"`

	// CommandOptions are extra Prometheus command-line flags.
	// +optional
	CommandOptions []string `json:"commandOptions,omitempty"`

	// RuleConfigRef names a ConfigMap of extra alert rule files.
	// +optional
	RuleConfigRef *MonitorConfigMapRef `json:"ruleConfigRef,omitempty"`
}

// MonitorConfigMapRef points at a ConfigMap, by default in the monitor's namespace.
type MonitorConfigMapRef struct {
	// Name of the ConfigMap.
	// +optional
	Name string `json:"name,omitempty"`

	// Namespace of the ConfigMap; defaults to the monitor's.
	// +optional
	Namespace *string `json:"namespace,omitempty"`
}

// GrafanaSpec describes the Grafana container.
type GrafanaSpec struct {
	MonitorContainer `json:",inline"`

	// LogLevel of Grafana.
	// +optional
	LogLevel string `json:"logLevel,omitempty"`

	// Service exposing Grafana (port 3000 by default).
	// +optional
	Service ServiceSpec `json:"service,omitempty"`

	// Username of the Grafana admin. Deprecated: use usernameSecret.
	// +optional
	Username string `json:"username,omitempty"`

	// Password of the Grafana admin. Deprecated: use passwordSecret.
	// +optional
	Password string `json:"password,omitempty"`

	// UsernameSecret selects the Secret key holding the admin user name.
	// +optional
	UsernameSecret *corev1.SecretKeySelector `json:"usernameSecret,omitempty"`

	// PasswordSecret selects the Secret key holding the admin password.
	// +optional
	PasswordSecret *corev1.SecretKeySelector `json:"passwordSecret,omitempty"`

	// Envs are extra environment variables of Grafana (GF_* settings).
	// +optional
	Envs map[string]string `json:"envs,omitempty"`

	// Ingress for Grafana.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// AdditionalVolumeMounts added to the Grafana container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`
}

// ReloaderSpec describes the reloader container.
type ReloaderSpec struct {
	MonitorContainer `json:",inline"`

	// Service exposing the reloader (port 9089 by default).
	// +optional
	Service ServiceSpec `json:"service,omitempty"`
}

// PrometheusReloaderSpec describes the container that reloads Prometheus on configuration change.
type PrometheusReloaderSpec struct {
	MonitorContainer `json:",inline"`
}

// MonitorInitializerSpec describes the init container that renders configuration and dashboards.
type MonitorInitializerSpec struct {
	MonitorContainer `json:",inline"`

	// Envs are extra environment variables of the initializer.
	// +optional
	Envs map[string]string `json:"envs,omitempty"`
}

// DMMonitorSpec adds DMClusters to a monitor.
type DMMonitorSpec struct {
	// Clusters are the DMClusters to monitor (same shape as a TidbCluster reference).
	Clusters []TidbClusterRef `json:"clusters"`

	// Initializer renders the DM dashboards and rules.
	Initializer MonitorInitializerSpec `json:"initializer"`
}

// ThanosSpec describes the Thanos sidecar.
type ThanosSpec struct {
	MonitorContainer `json:",inline"`

	// ObjectStorageConfig selects the Secret key holding the Thanos object storage
	// configuration; without one the sidecar uploads nothing.
	// +optional
	ObjectStorageConfig *corev1.SecretKeySelector `json:"objectStorageConfig,omitempty"`

	// ObjectStorageConfigFile is a path to the object storage configuration; it wins over
	// objectStorageConfig.
	// +optional
	ObjectStorageConfigFile *string `json:"objectStorageConfigFile,omitempty"`

	// ListenLocal makes the sidecar listen on 127.0.0.1 only.
	// +optional
	ListenLocal bool `json:"listenLocal,omitempty"`

	// TracingConfig selects the Secret key holding the tracing configuration.
	// +optional
	TracingConfig *corev1.SecretKeySelector `json:"tracingConfig,omitempty"`

	// TracingConfigFile is a path to the tracing configuration; it wins over tracingConfig.
	// +optional
	TracingConfigFile *string `json:"tracingConfigFile,omitempty"`

	// GRPCServerTLSConfig configures TLS of the sidecar's gRPC server.
	// +optional
	GRPCServerTLSConfig *MonitorTLSConfig `json:"grpcServerTlsConfig,omitempty"`

	// LogLevel of the sidecar.
	// +optional
	LogLevel string `json:"logLevel,omitempty"`

	// LogFormat of the sidecar.
	// +optional
	LogFormat string `json:"logFormat,omitempty"`

	// MinTime limits the data the sidecar serves (RFC3339 or a duration such as -2h).
	// +optional
	MinTime string `json:"minTime,omitempty"`

	// RoutePrefix of the sidecar's HTTP endpoints.
	// +optional
	RoutePrefix string `json:"routePrefix,omitempty"`

	// AdditionalVolumeMounts added to the sidecar container.
	// +optional
	AdditionalVolumeMounts []corev1.VolumeMount `json:"additionalVolumeMounts,omitempty"`
}

// IngressSpec exposes a monitor Service through an Ingress.
type IngressSpec struct {
	// Hosts served by the Ingress.
	Hosts []string `json:"hosts"`

	// Annotations of the Ingress, for example for the ingress controller.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// TLS of the Ingress.
	// +optional
	TLS []networkingv1.IngressTLS `json:"tls,omitempty"`
}

// RemoteWriteSpec is one Prometheus remote-write endpoint (the Prometheus remote_write block).
type RemoteWriteSpec struct {
	// URL receiving the samples.
	URL string `json:"url"`

	// Name of the endpoint, unique among the endpoints.
	// +optional
	Name string `json:"name,omitempty"`

	// RemoteTimeout of a request: a number and a unit (s, m, h or d), for example 30s.
	// +optional
	// +kubebuilder:validation:Pattern=`^\d+[smhd]$`
	RemoteTimeout string `json:"remoteTimeout,omitempty"`

	// Headers added to each request.
	// +optional
	Headers map[string]string `json:"headers,omitempty"`

	// WriteRelabelConfigs filter and rewrite series before sending.
	// +optional
	WriteRelabelConfigs []RelabelConfig `json:"writeRelabelConfigs,omitempty"`

	// BasicAuth of the requests.
	// +optional
	BasicAuth *RemoteWriteBasicAuth `json:"basicAuth,omitempty"`

	// BearerToken of the requests.
	// +optional
	BearerToken string `json:"bearerToken,omitempty"`

	// BearerTokenFile holding the bearer token.
	// +optional
	BearerTokenFile string `json:"bearerTokenFile,omitempty"`

	// TLSConfig of the connection.
	// +optional
	TLSConfig *MonitorTLSConfig `json:"tlsConfig,omitempty"`

	// ProxyURL of an HTTP proxy.
	// +optional
	ProxyURL *string `json:"proxyUrl,omitempty"`

	// QueueConfig tunes the send queue.
	// +optional
	QueueConfig *RemoteWriteQueueConfig `json:"queueConfig,omitempty"`

	// MetadataConfig says whether and how often series metadata is sent.
	// +optional
	MetadataConfig *RemoteWriteMetadataConfig `json:"metadataConfig,omitempty"`
}

// RemoteWriteBasicAuth takes the basic-auth credentials from Secrets.
type RemoteWriteBasicAuth struct {
	// Username selects the Secret key holding the user name.
	// +optional
	Username *corev1.SecretKeySelector `json:"username,omitempty"`

	// Password selects the Secret key holding the password.
	// +optional
	Password *corev1.SecretKeySelector `json:"password,omitempty"`
}

// RemoteWriteQueueConfig tunes a remote-write queue. Durations are integers in nanoseconds, as
// v1.6 wrote them.
type RemoteWriteQueueConfig struct {
	// Capacity of samples buffered per shard.
	// +optional
	Capacity int `json:"capacity,omitempty"`

	// MinShards is the least number of concurrent senders.
	// +optional
	MinShards int `json:"minShards,omitempty"`

	// MaxShards is the greatest number of concurrent senders.
	// +optional
	MaxShards int `json:"maxShards,omitempty"`

	// MaxSamplesPerSend is the batch size.
	// +optional
	MaxSamplesPerSend int `json:"maxSamplesPerSend,omitempty"`

	// BatchSendDeadline is how long a partial batch waits, in nanoseconds.
	// +optional
	BatchSendDeadline time.Duration `json:"batchSendDeadline,omitempty"`

	// MaxRetries of a failed batch.
	// +optional
	MaxRetries int `json:"maxRetries,omitempty"`

	// MinBackoff before a retry, in nanoseconds.
	// +optional
	MinBackoff time.Duration `json:"minBackoff,omitempty"`

	// MaxBackoff before a retry, in nanoseconds.
	// +optional
	MaxBackoff time.Duration `json:"maxBackoff,omitempty"`
}

// RemoteWriteMetadataConfig says whether series metadata is sent.
type RemoteWriteMetadataConfig struct {
	// Send turns metadata sending on.
	// +optional
	Send bool `json:"send,omitempty"`

	// SendInterval between metadata sends, as a Prometheus duration.
	// +optional
	SendInterval string `json:"sendInterval,omitempty"`
}

// RelabelConfig is one Prometheus relabelling step.
type RelabelConfig struct {
	// SourceLabels whose values are joined with Separator and matched against Regex.
	// +optional
	SourceLabels []string `json:"sourceLabels,omitempty"`

	// Separator between the joined source label values.
	// +optional
	Separator string `json:"separator,omitempty"`

	// Regex matched against the joined value.
	// +optional
	Regex string `json:"regex,omitempty"`

	// Modulus for the hashmod action.
	// +optional
	Modulus uint64 `json:"modulus,omitempty"`

	// TargetLabel written by replace-like actions.
	// +optional
	TargetLabel string `json:"targetLabel,omitempty"`

	// Replacement value, which may reference regex groups.
	// +optional
	Replacement string `json:"replacement,omitempty"`

	// Action of the step (replace, keep, drop, hashmod, labelmap, labeldrop, labelkeep, ...).
	// +optional
	Action string `json:"action,omitempty"`
}

// SecretOrConfigMap selects a key of either a Secret or a ConfigMap.
type SecretOrConfigMap struct {
	// Secret key to use.
	// +optional
	Secret *corev1.SecretKeySelector `json:"secret,omitempty"`

	// ConfigMap key to use.
	// +optional
	ConfigMap *corev1.ConfigMapKeySelector `json:"configMap,omitempty"`
}

// MonitorSafeTLSConfig is TLS configuration taken from Secrets and ConfigMaps only.
type MonitorSafeTLSConfig struct {
	// CA certificate used to verify the server.
	// +optional
	CA SecretOrConfigMap `json:"ca,omitempty"`

	// Cert is the client certificate.
	// +optional
	Cert SecretOrConfigMap `json:"cert,omitempty"`

	// KeySecret selects the Secret key holding the client private key.
	// +optional
	KeySecret *corev1.SecretKeySelector `json:"keySecret,omitempty"`

	// ServerName used to verify the server's certificate.
	// +optional
	ServerName string `json:"serverName,omitempty"`

	// InsecureSkipVerify turns certificate verification off.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// MonitorTLSConfig is TLS configuration that may also name files inside the container.
type MonitorTLSConfig struct {
	MonitorSafeTLSConfig `json:",inline"`

	// CAFile is a path to the CA certificate.
	// +optional
	CAFile string `json:"caFile,omitempty"`

	// CertFile is a path to the client certificate.
	// +optional
	CertFile string `json:"certFile,omitempty"`

	// KeyFile is a path to the client private key.
	// +optional
	KeyFile string `json:"keyFile,omitempty"`
}

// TidbMonitorStatus is what the operator last observed of a monitor.
type TidbMonitorStatus struct {
	// DeploymentStorageStatus records the PersistentVolume of a monitor first deployed as a
	// Deployment, so the StatefulSet can reuse its data.
	// +optional
	DeploymentStorageStatus *DeploymentStorageStatus `json:"deploymentStorageStatus,omitempty"`

	// StatefulSet is the status of the monitor's StatefulSet.
	// +optional
	StatefulSet *StatefulSetStatus `json:"statefulSet,omitempty"`
}

// DeploymentStorageStatus names the volume of a legacy Deployment-based monitor.
type DeploymentStorageStatus struct {
	// PvName is the name of the PersistentVolume.
	// +optional
	PvName string `json:"pvName,omitempty"`
}

func init() { register(&TidbMonitor{}, &TidbMonitorList{}) }
