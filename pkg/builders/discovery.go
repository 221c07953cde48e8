package builders

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func discoveryMeta(tc *v1alpha1.TidbCluster) metav1.ObjectMeta {
	return objectMeta(tc, DiscoveryName(tc.Name), ComponentLabels(tc, label.DiscoveryComponent).Labels())
}

// DiscoveryServiceAccount is the identity of the discovery pod.
func DiscoveryServiceAccount(tc *v1alpha1.TidbCluster) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: discoveryMeta(tc),
	}
}

// DiscoveryRole lets discovery read its own TidbCluster (to know the desired PD replicas), and
// nothing else. v1.6 also granted the namespace's Secrets, but our discovery receives PD's
// client certificate as a mounted volume and never reads Secrets; and the operator could only
// grant that rule while holding list/watch on every Secret of the cluster itself.
func DiscoveryRole(tc *v1alpha1.TidbCluster) *rbacv1.Role {
	return &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: discoveryMeta(tc),
		Rules: []rbacv1.PolicyRule{
			{
				APIGroups:     []string{v1alpha1.SchemeGroupVersion.Group},
				Resources:     []string{"tidbclusters"},
				ResourceNames: []string{tc.Name},
				Verbs:         []string{"get"},
			},
		},
	}
}

// DiscoveryRoleBinding binds DiscoveryRole to DiscoveryServiceAccount.
func DiscoveryRoleBinding(tc *v1alpha1.TidbCluster) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: discoveryMeta(tc),
		// No namespace on the subject, as v1.6 writes it: in a RoleBinding a ServiceAccount
		// subject without one is the binding's namespace, and a taken-over binding then needs
		// no update.
		Subjects: []rbacv1.Subject{{
			Kind: rbacv1.ServiceAccountKind,
			Name: DiscoveryName(tc.Name),
		}},
		RoleRef: rbacv1.RoleRef{
			APIGroup: rbacv1.GroupName,
			Kind:     "Role",
			Name:     DiscoveryName(tc.Name),
		},
	}
}

// DiscoveryService is "<tc>-discovery": port discovery 10261 (the /new and /verify API the PD
// start script calls) and proxy 10262 (PD dashboard proxy).
func DiscoveryService(tc *v1alpha1.TidbCluster) *corev1.Service {
	meta := discoveryMeta(tc)
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{
				tcpPort("discovery", DiscoveryPort),
				tcpPort("proxy", DiscoveryProxyPort),
			},
			Selector: ComponentLabels(tc, label.DiscoveryComponent).Labels(),
		},
	}
}

// DiscoveryDeployment is "<tc>-discovery": one pod running /usr/local/bin/tidb-discovery from
// image (the operator's own image) with MY_POD_NAMESPACE, TC_NAME and TZ, and with tlsCluster on
// the PD cluster certificate at /var/lib/pd-tls and TC_TLS_ENABLED=true.
func DiscoveryDeployment(tc *v1alpha1.TidbCluster, image string) *appsv1.Deployment {
	d := tc.Spec.Discovery
	if d == nil {
		d = &v1alpha1.DiscoverySpec{}
	}
	s := settings(tc, &d.ComponentSpec, label.DiscoveryComponent)
	sel := ComponentLabels(tc, label.DiscoveryComponent)
	env := []corev1.EnvVar{
		fieldEnv("MY_POD_NAMESPACE", "metadata.namespace"),
		{Name: "TC_NAME", Value: tc.Name},
		{Name: "TZ", Value: tc.Timezone()},
	}
	var mounts []corev1.VolumeMount
	var vols []corev1.Volume
	if tc.IsTLSClusterEnabled() {
		env = append(env, corev1.EnvVar{Name: "TC_TLS_ENABLED", Value: "true"})
		mounts = append(mounts, corev1.VolumeMount{Name: "pd-tls", ReadOnly: true, MountPath: clusterTLSDir("pd")})
		vols = append(vols, secretVolume("pd-tls", ClusterTLSSecretName(tc.Name, label.PDComponent)))
	}
	mounts = append(mounts, deepCopyMounts(d.AdditionalVolumeMounts)...)
	main := corev1.Container{
		Name:            discoveryContainer,
		Image:           image,
		ImagePullPolicy: s.imagePullPolicy(),
		Command:         []string{discoveryCommand},
		Ports: []corev1.ContainerPort{
			{Name: "discovery", ContainerPort: DiscoveryPort, Protocol: corev1.ProtocolTCP},
			{Name: "proxy", ContainerPort: DiscoveryProxyPort, Protocol: corev1.ProtocolTCP},
		},
		Env:          appendEnv(env, d.Env),
		EnvFrom:      cloneEnvFrom(d.EnvFrom),
		VolumeMounts: mounts,
		Resources:    containerResources(d.ResourceRequirements),
	}
	if d.LivenessProbe != nil {
		main.LivenessProbe = &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intOrString(DiscoveryPort)}},
		}
		applyProbeTiming(main.LivenessProbe, d.LivenessProbe)
	}
	spec := s.podSpec()
	spec.ServiceAccountName = DiscoveryName(tc.Name)
	spec.Volumes = append(vols, deepCopyVolumes(d.AdditionalVolumes)...)
	// additionalContainers go through the same strategic merge as the components'. Both sides are
	// typed containers, which always encode to JSON the merge accepts, so the error branch is
	// unreachable in practice; it keeps the unpatched container rather than dropping the pod.
	if merged, err := MergePatchContainers([]corev1.Container{main}, d.AdditionalContainers); err == nil {
		spec.Containers = merged
	} else {
		spec.Containers = []corev1.Container{main}
	}
	for _, c := range d.InitContainers {
		spec.InitContainers = append(spec.InitContainers, *c.DeepCopy())
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: discoveryMeta(tc),
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: sel.Copy().Labels()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      mergeMaps(s.labels(), sel),
					Annotations: s.annotations(),
				},
				Spec: spec,
			},
		},
	}
}
