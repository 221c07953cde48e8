package builders

import (
	"fmt"
	"path"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/imagever"
)

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// TiKVCapacity is the --capacity TiKV gets (through the CAPACITY variable): the storage *limit*
// in "<n>GB" or "<n>MB" (TiKV reads those units as binary), or "0" (use the whole disk) without a
// limit, as in v1.6.
func TiKVCapacity(limits corev1.ResourceList) string {
	q, ok := limits[corev1.ResourceStorage]
	if !ok {
		return "0"
	}
	n, ok := q.AsInt64()
	if !ok {
		return "0"
	}
	if n%gib == 0 {
		return fmt.Sprintf("%dGB", n/gib)
	}
	return fmt.Sprintf("%dMB", n/mib)
}

// TiKVStatefulSet is "<tc>-tikv": tikv_start_script.sh from cm, data claim "tikv" at
// /var/lib/tikv, port server 20160 (and status 20180 when enableNamedStatusPort).
func TiKVStatefulSet(tc *v1alpha1.TidbCluster, cm *corev1.ConfigMap, opts StatefulSetOptions) (*appsv1.StatefulSet, error) {
	kv := tc.Spec.TiKV
	if kv == nil {
		return nil, fmt.Errorf("spec.tikv is not set")
	}
	s := settings(tc, &kv.ComponentSpec, label.TiKVComponent)
	cmName := configMapNameOf(tc, label.TiKVComponent, cm)

	annVol, annMount := annotationsVolume()
	dataMount := corev1.VolumeMount{Name: label.TiKVComponent, MountPath: tikvDataMountPath}
	// v1.6 puts TiKV's additional mounts before the TLS and storage-volume mounts (unlike PD and
	// TiDB); the order is part of the pod template, so it is kept.
	mounts := []corev1.VolumeMount{
		annMount,
		dataMount,
		{Name: "config", ReadOnly: true, MountPath: "/etc/tikv"},
		{Name: "startup-script", ReadOnly: true, MountPath: scriptMountPath},
	}
	mounts = append(mounts, deepCopyMounts(kv.AdditionalVolumeMounts)...)
	vols := append([]corev1.Volume{annVol}, configVolumes(cmName, "tikv.toml", "tikv_start_script.sh")...)
	if tc.IsTLSClusterEnabled() {
		mounts = append(mounts, corev1.VolumeMount{Name: "tikv-tls", ReadOnly: true, MountPath: clusterTLSDir("tikv")})
		vols = append(vols, secretVolume("tikv-tls", ClusterTLSSecretName(tc.Name, label.TiKVComponent)))
		if kv.MountClusterClientSecret != nil && *kv.MountClusterClientSecret {
			mounts = append(mounts, corev1.VolumeMount{Name: clusterClientTLSVolume, ReadOnly: true, MountPath: clusterClientTLSMountPath})
			vols = append(vols, secretVolume(clusterClientTLSVolume, ClusterClientTLSSecretName(tc.Name)))
		}
	}
	data, err := dataClaimTemplate(label.TiKVComponent, kv.Requests, kv.StorageClassName)
	if err != nil {
		return nil, err
	}
	extraClaims, extraMounts, err := storageVolumes(label.TiKVComponent, kv.StorageVolumes, kv.StorageClassName)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, extraMounts...)

	// Optional tailers print the RocksDB and Raft engine logs on their own stdout. As in v1.6 they
	// come before the tikv container.
	var containers []corev1.Container
	for _, tl := range []struct {
		on         *bool
		container  string
		volumeName string
		file, old  string
	}{
		{kv.SeparateRocksDBLog, "rocksdblog", kv.RocksDBLogVolumeName, "rocksdb.info", "db/LOG"},
		{kv.SeparateRaftLog, "raftlog", kv.RaftLogVolumeName, "raftdb.info", "raft/LOG"},
	} {
		if tl.on == nil || !*tl.on {
			continue
		}
		m, err := tikvLogMount(kv, tl.volumeName, dataMount, extraMounts)
		if err != nil {
			return nil, err
		}
		file := tl.file
		if tikvBefore5(tc.TiKVImage()) {
			file = tl.old
		}
		file = path.Join(m.MountPath, file)
		var res corev1.ResourceRequirements
		if kv.LogTailer != nil {
			res = containerResources(kv.LogTailer.ResourceRequirements)
		}
		containers = append(containers, corev1.Container{
			Name:            tl.container,
			Image:           tc.HelperImage(),
			ImagePullPolicy: tc.HelperImagePullPolicy(),
			Command:         []string{"sh", "-c", fmt.Sprintf("touch %[1]s; tail -n0 -F %[1]s;", file)},
			VolumeMounts:    []corev1.VolumeMount{m},
			Resources:       res,
		})
	}

	env := []corev1.EnvVar{
		fieldEnv("NAMESPACE", "metadata.namespace"),
		{Name: "CLUSTER_NAME", Value: tc.Name},
		{Name: "HEADLESS_SERVICE_NAME", Value: PeerServiceName(tc.Name, label.TiKVComponent)},
		{Name: "CAPACITY", Value: TiKVCapacity(kv.Limits)},
		{Name: "TZ", Value: tc.Timezone()},
	}
	if s.hostNetwork() {
		env = append(env, fieldEnv("POD_NAME", "metadata.name"))
	}
	ports := []corev1.ContainerPort{{Name: "server", ContainerPort: TiKVServerPort, Protocol: corev1.ProtocolTCP}}
	if kv.EnableNamedStatusPort {
		ports = append(ports, corev1.ContainerPort{Name: "status", ContainerPort: TiKVStatusPort, Protocol: corev1.ProtocolTCP})
	}
	res := containerResources(kv.ResourceRequirements)
	privileged := kv.Privileged != nil && *kv.Privileged
	main := corev1.Container{
		Name:            label.TiKVComponent,
		Image:           tc.TiKVImage(),
		ImagePullPolicy: s.imagePullPolicy(),
		Command:         []string{"/bin/sh", "/usr/local/bin/tikv_start_script.sh"},
		SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
		Ports:           ports,
		Env:             appendEnv(env, kv.Env),
		EnvFrom:         cloneEnvFrom(kv.EnvFrom),
		VolumeMounts:    mounts,
		Resources:       res,
		ReadinessProbe:  tcpReadinessProbe(kv.ReadinessProbe, TiKVServerPort),
	}
	spec := s.podSpec()
	spec.ServiceAccountName = s.serviceAccount(kv.ServiceAccount)
	if err := finishPodSpec(s, &spec, vols, append(containers, main), res); err != nil {
		return nil, err
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: podTemplateMeta(tc, s, TiKVStatusPort), Spec: spec}
	return statefulSet(tc, s, tc.TiKVStsDesiredReplicas(), opts, tmpl, append([]corev1.PersistentVolumeClaim{data}, extraClaims...))
}

// tikvLogMount is where a separated TiKV log lives: the data volume by default, else the named
// storage volume (claim tikv-<name>) or additional volume mount.
func tikvLogMount(kv *v1alpha1.TiKVSpec, name string, data corev1.VolumeMount, storage []corev1.VolumeMount) (corev1.VolumeMount, error) {
	if name == "" {
		return data, nil
	}
	for _, m := range storage {
		if m.Name == label.TiKVComponent+"-"+name {
			return m, nil
		}
	}
	for _, m := range kv.AdditionalVolumeMounts {
		if m.Name == name {
			return m, nil
		}
	}
	return corev1.VolumeMount{}, fmt.Errorf("TiKV log volume %q names neither a mounted storage volume nor an additional volume mount", name)
}

// tikvBefore5 reports whether the TiKV image is older than 5.0, which kept its engine logs at
// db/LOG and raft/LOG. Tags that are not versions count as recent.
func tikvBefore5(image string) bool {
	return !imagever.AtLeast(image, 5, 0)
}
