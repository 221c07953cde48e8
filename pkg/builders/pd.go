package builders

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// configMapNameOf is the ConfigMap the pods mount: the one given, or the InPlace name.
func configMapNameOf(tc *v1alpha1.TidbCluster, component string, cm *corev1.ConfigMap) string {
	if cm != nil && cm.Name != "" {
		return cm.Name
	}
	return MemberName(tc.Name, component)
}

// PDStatefulSet is "<tc>-pd". Its pods run /usr/local/bin/pd_start_script.sh from the ConfigMap
// cm (nil means the InPlace name), keep their data in the claim "pd" mounted at /var/lib/pd, and
// carry the environment the start script reads.
func PDStatefulSet(tc *v1alpha1.TidbCluster, cm *corev1.ConfigMap, opts StatefulSetOptions) (*appsv1.StatefulSet, error) {
	pd := tc.Spec.PD
	if pd == nil {
		return nil, fmt.Errorf("spec.pd is not set")
	}
	s := settings(tc, &pd.ComponentSpec, label.PDComponent)
	cmName := configMapNameOf(tc, label.PDComponent, cm)

	annVol, annMount := annotationsVolume()
	mounts := []corev1.VolumeMount{
		annMount,
		{Name: "config", ReadOnly: true, MountPath: "/etc/pd"},
		{Name: "startup-script", ReadOnly: true, MountPath: scriptMountPath},
		{Name: label.PDComponent, MountPath: pdDataMountPath},
	}
	vols := append([]corev1.Volume{annVol}, configVolumes(cmName, "pd.toml", "pd_start_script.sh")...)
	if tc.IsTLSClusterEnabled() {
		mounts = append(mounts, corev1.VolumeMount{Name: "pd-tls", ReadOnly: true, MountPath: clusterTLSDir("pd")})
		vols = append(vols, secretVolume("pd-tls", ClusterTLSSecretName(tc.Name, label.PDComponent)))
		if pd.MountClusterClientSecret != nil && *pd.MountClusterClientSecret {
			mounts = append(mounts, corev1.VolumeMount{Name: clusterClientTLSVolume, ReadOnly: true, MountPath: clusterClientTLSMountPath})
			vols = append(vols, secretVolume(clusterClientTLSVolume, ClusterClientTLSSecretName(tc.Name)))
		}
	}
	if pdDashboardUsesTiDBClientTLS(tc) {
		secret := TiDBClientTLSSecretName(tc.Name)
		if pd.TLSClientSecretName != nil && *pd.TLSClientSecretName != "" {
			secret = *pd.TLSClientSecretName
		}
		mounts = append(mounts, corev1.VolumeMount{Name: tidbClientTLSVolume, ReadOnly: true, MountPath: tidbClientTLSMountPath})
		vols = append(vols, secretVolume(tidbClientTLSVolume, secret))
	}
	data, err := dataClaimTemplate(label.PDComponent, pd.Requests, pd.StorageClassName)
	if err != nil {
		return nil, err
	}
	extraClaims, extraMounts, err := storageVolumes(label.PDComponent, pd.StorageVolumes, pd.StorageClassName)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, extraMounts...)
	mounts = append(mounts, deepCopyMounts(pd.AdditionalVolumeMounts)...)

	env := []corev1.EnvVar{
		fieldEnv("NAMESPACE", "metadata.namespace"),
		{Name: "PEER_SERVICE_NAME", Value: PeerServiceName(tc.Name, label.PDComponent)},
		{Name: "SERVICE_NAME", Value: MemberName(tc.Name, label.PDComponent)},
		{Name: "SET_NAME", Value: MemberName(tc.Name, label.PDComponent)},
		{Name: "TZ", Value: tc.Timezone()},
	}
	if s.hostNetwork() {
		// On the host network the host name is the node's, not the pod's.
		env = append(env, fieldEnv("POD_NAME", "metadata.name"))
	}
	res := containerResources(pd.ResourceRequirements)
	main := corev1.Container{
		Name:            label.PDComponent,
		Image:           tc.PDImage(),
		ImagePullPolicy: s.imagePullPolicy(),
		Command:         []string{"/bin/sh", "/usr/local/bin/pd_start_script.sh"},
		Ports: []corev1.ContainerPort{
			{Name: "server", ContainerPort: PDPeerPort, Protocol: corev1.ProtocolTCP},
			{Name: "client", ContainerPort: PDClientPort, Protocol: corev1.ProtocolTCP},
		},
		Env:            appendEnv(env, pd.Env),
		EnvFrom:        cloneEnvFrom(pd.EnvFrom),
		VolumeMounts:   mounts,
		Resources:      res,
		ReadinessProbe: tcpReadinessProbe(pd.ReadinessProbe, PDClientPort),
	}
	spec := s.podSpec()
	spec.ServiceAccountName = s.serviceAccount(pd.ServiceAccount)
	if err := finishPodSpec(s, &spec, vols, []corev1.Container{main}, res); err != nil {
		return nil, err
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: podTemplateMeta(tc, s, PDClientPort), Spec: spec}
	return statefulSet(tc, s, tc.PDStsDesiredReplicas(), opts, tmpl, append([]corev1.PersistentVolumeClaim{data}, extraClaims...))
}

func cloneEnvFrom(in []corev1.EnvFromSource) []corev1.EnvFromSource {
	var out []corev1.EnvFromSource
	for _, e := range in {
		out = append(out, *e.DeepCopy())
	}
	return out
}
