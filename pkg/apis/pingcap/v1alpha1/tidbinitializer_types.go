package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TidbInitializer runs a one-off Job against a TidbCluster's TiDB: it sets the root password,
// lets root log in from permitHost and runs the user's initial SQL.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ti,categories=pingcap
type TidbInitializer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	// Spec says which cluster to initialise and how.
	Spec TidbInitializerSpec `json:"spec"`

	// Status mirrors the initialising Job.
	// +optional
	Status TidbInitializerStatus `json:"status,omitempty"`
}

// TidbInitializerList is a list of TidbInitializers.
//
// +kubebuilder:object:root=true
type TidbInitializerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`

	Items []TidbInitializer `json:"items"`
}

// TidbInitializerSpec describes the initialisation Job.
type TidbInitializerSpec struct {
	// Image of the Job's container; it needs Python and a MySQL client library, for example
	// tnir/mysqlclient.
	Image string `json:"image"`

	// Cluster whose TiDB is initialised.
	Cluster TidbClusterRef `json:"cluster"`

	// ImagePullPolicy of the Job's container.
	// +optional
	// +kubebuilder:validation:Enum=Always;Never;IfNotPresent
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets of the Job's pod.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// PermitHost is the host root may log in from ('%' when empty); set it to keep root off the
	// open network.
	// +optional
	PermitHost *string `json:"permitHost,omitempty"`

	// InitSQL is SQL run once the password is set.
	// +optional
	InitSQL *string `json:"initSql,omitempty"`

	// InitSQLConfigMap names a ConfigMap whose key init-sql holds the SQL to run; it replaces
	// InitSQL.
	// +optional
	InitSQLConfigMap *string `json:"initSqlConfigMap,omitempty"`

	// PasswordSecret names a Secret whose key root holds the root password to set (and whose
	// other keys create further users with those passwords).
	// +optional
	PasswordSecret *string `json:"passwordSecret,omitempty"`

	// Resources of the Job's container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Timezone of the Job's container, for example UTC.
	// +optional
	Timezone string `json:"timezone,omitempty"`

	// TLSClientSecretName names the Secret with the client certificate used when TiDB requires
	// TLS from MySQL clients.
	// +optional
	TLSClientSecretName *string `json:"tlsClientSecretName,omitempty"`

	// NodeSelector of the Job's pod.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations of the Job's pod.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// PodSecurityContext of the Job's pod.
	// +optional
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
}

// InitializePhase is how far an initialisation has got.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed
type InitializePhase string

const (
	// InitializePhasePending means the Job has not started (TiDB may not be ready yet).
	InitializePhasePending InitializePhase = "Pending"
	// InitializePhaseRunning means the Job's pod is running.
	InitializePhaseRunning InitializePhase = "Running"
	// InitializePhaseCompleted means the Job succeeded; it is never run again.
	InitializePhaseCompleted InitializePhase = "Completed"
	// InitializePhaseFailed means the Job gave up.
	InitializePhaseFailed InitializePhase = "Failed"
)

// TidbInitializerStatus is the Job's own status plus a summary phase.
type TidbInitializerStatus struct {
	batchv1.JobStatus `json:",inline"`

	// Phase summarises the Job status.
	// +optional
	Phase InitializePhase `json:"phase,omitempty"`
}

func init() { register(&TidbInitializer{}, &TidbInitializerList{}) }
