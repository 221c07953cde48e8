package builders

import (
	"fmt"
	"path"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// tidbBinlogEnabled is spec.tidb.binlogEnabled, defaulting to whether Pump exists.
func tidbBinlogEnabled(tc *v1alpha1.TidbCluster) bool {
	if b := tc.Spec.TiDB.BinlogEnabled; b != nil {
		return *b
	}
	return tc.Spec.Pump != nil
}

// slowLogMount finds where the slow-query log lives and the file TiDB writes it to. Without
// spec.tidb.slowLogVolumeName it is an emptyDir "slowlog" at /var/log/tidb (the returned volume is
// then non-nil) and the file /var/log/tidb/slowlog. Otherwise it is the storage volume of that name
// (claim tidb-<name>) or the additional volume mount of that name; v1.6 then names the file after
// the volume (<mountPath>/<name>), which is kept because SLOW_LOG_FILE is part of the pod template.
func slowLogMount(db *v1alpha1.TiDBSpec, storage []corev1.VolumeMount) (*corev1.Volume, corev1.VolumeMount, string, error) {
	name := db.SlowLogVolumeName
	if name == "" {
		return &corev1.Volume{Name: slowLogVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			corev1.VolumeMount{Name: slowLogVolume, MountPath: slowLogDir}, path.Join(slowLogDir, slowLogFileName), nil
	}
	for _, m := range storage {
		if m.Name == label.TiDBComponent+"-"+name {
			return nil, m, path.Join(m.MountPath, name), nil
		}
	}
	for _, m := range db.AdditionalVolumeMounts {
		if m.Name == name {
			return nil, *m.DeepCopy(), path.Join(m.MountPath, name), nil
		}
	}
	return nil, corev1.VolumeMount{}, "", fmt.Errorf("spec.tidb.slowLogVolumeName %q names neither a mounted storage volume nor an additional volume mount", name)
}

// tidbReadinessProbe: TCP on 4000 by default; with readinessProbe.type "command", curl on the
// status port (with the cluster certificate when tlsCluster is on). TiDB always has one.
func tidbReadinessProbe(tc *v1alpha1.TidbCluster) *corev1.Probe {
	p := tc.Spec.TiDB.ReadinessProbe
	handler := corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intOrString(TiDBServerPort)}}
	if p != nil && p.Type != nil && *p.Type == v1alpha1.CommandProbeType {
		cmd := []string{"curl", fmt.Sprintf("%s://127.0.0.1:%d/status", scheme(tc), TiDBStatusPort), "--fail", "--silent"}
		if tc.IsTLSClusterEnabled() {
			dir := clusterTLSDir("tidb")
			cmd = append(cmd, "--cacert", path.Join(dir, tlsCAKey), "--cert", path.Join(dir, tlsCertKey), "--key", path.Join(dir, tlsKeyKey))
		}
		handler = corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}
	}
	probe := &corev1.Probe{ProbeHandler: handler, InitialDelaySeconds: 10}
	applyProbeTiming(probe, p)
	return probe
}

// TiDBStatefulSet is "<tc>-tidb": tidb_start_script.sh from cm, ports server 4000 and status
// 10080, and by default a "slowlog" sidecar that tails the slow-query log to its stdout.
func TiDBStatefulSet(tc *v1alpha1.TidbCluster, cm *corev1.ConfigMap, opts StatefulSetOptions) (*appsv1.StatefulSet, error) {
	db := tc.Spec.TiDB
	if db == nil {
		return nil, fmt.Errorf("spec.tidb is not set")
	}
	s := settings(tc, &db.ComponentSpec, label.TiDBComponent)
	cmName := configMapNameOf(tc, label.TiDBComponent, cm)

	// Order of mounts, volumes and containers follows v1.6, since it is part of the pod template.
	annVol, annMount := annotationsVolume()
	mounts := []corev1.VolumeMount{
		annMount,
		{Name: "config", ReadOnly: true, MountPath: "/etc/tidb"},
		{Name: "startup-script", ReadOnly: true, MountPath: scriptMountPath},
	}
	vols := append([]corev1.Volume{annVol}, configVolumes(cmName, "tidb.toml", "tidb_start_script.sh")...)
	if tc.IsTLSClusterEnabled() {
		mounts = append(mounts, corev1.VolumeMount{Name: "tidb-tls", ReadOnly: true, MountPath: clusterTLSDir("tidb")})
		vols = append(vols, secretVolume("tidb-tls", ClusterTLSSecretName(tc.Name, label.TiDBComponent)))
	}
	if tc.IsTiDBTLSClientEnabled() {
		mounts = append(mounts, corev1.VolumeMount{Name: tidbServerTLSVolume, ReadOnly: true, MountPath: tidbServerTLSMountPath})
		vols = append(vols, secretVolume(tidbServerTLSVolume, TiDBServerTLSSecretName(tc.Name)))
	}
	if db.TokenBasedAuthEnabled != nil && *db.TokenBasedAuthEnabled {
		mounts = append(mounts, corev1.VolumeMount{Name: tidbAuthTokenVolume, ReadOnly: true, MountPath: tidbAuthTokenMountPath})
		vols = append(vols, secretVolume(tidbAuthTokenVolume, TiDBAuthTokenJWKSSecretName(tc.Name)))
	}

	extraClaims, extraMounts, err := storageVolumes(label.TiDBComponent, db.StorageVolumes, db.StorageClassName)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, extraMounts...)
	mounts = append(mounts, deepCopyMounts(db.AdditionalVolumeMounts)...)

	// The slow-log tailer comes before the tidb container, as in v1.6.
	var containers []corev1.Container
	slowLogFile := ""
	if db.ShouldSeparateSlowLog() {
		vol, m, file, err := slowLogMount(db, extraMounts)
		if err != nil {
			return nil, err
		}
		if vol != nil {
			vols = append(vols, *vol)
			mounts = append(mounts, m)
		}
		slowLogFile = file
		var res corev1.ResourceRequirements
		if db.SlowLogTailer != nil {
			res = containerResources(db.SlowLogTailer.ResourceRequirements)
		}
		containers = append(containers, corev1.Container{
			Name:            slowLogContainer,
			Image:           tc.HelperImage(),
			ImagePullPolicy: tc.HelperImagePullPolicy(),
			Command:         []string{"sh", "-c", fmt.Sprintf("touch %[1]s; tail -n0 -F %[1]s;", slowLogFile)},
			VolumeMounts:    []corev1.VolumeMount{m},
			Resources:       res,
		})
	}

	env := []corev1.EnvVar{
		{Name: "CLUSTER_NAME", Value: tc.Name},
		{Name: "TZ", Value: tc.Timezone()},
		{Name: "BINLOG_ENABLED", Value: strconv.FormatBool(tidbBinlogEnabled(tc))},
		{Name: "SLOW_LOG_FILE", Value: slowLogFile},
		fieldEnv("POD_NAME", "metadata.name"),
		fieldEnv("NAMESPACE", "metadata.namespace"),
		{Name: "HEADLESS_SERVICE_NAME", Value: PeerServiceName(tc.Name, label.TiDBComponent)},
	}
	res := containerResources(db.ResourceRequirements)
	main := corev1.Container{
		Name:            label.TiDBComponent,
		Image:           tc.TiDBImage(),
		ImagePullPolicy: s.imagePullPolicy(),
		Command:         []string{"/bin/sh", "/usr/local/bin/tidb_start_script.sh"},
		Ports: []corev1.ContainerPort{
			{Name: "server", ContainerPort: TiDBServerPort, Protocol: corev1.ProtocolTCP},
			{Name: "status", ContainerPort: TiDBStatusPort, Protocol: corev1.ProtocolTCP},
		},
		Env:            appendEnv(env, db.Env),
		EnvFrom:        cloneEnvFrom(db.EnvFrom),
		VolumeMounts:   mounts,
		Resources:      res,
		ReadinessProbe: tidbReadinessProbe(tc),
		Lifecycle:      db.Lifecycle.DeepCopy(),
	}
	spec := s.podSpec()
	spec.ServiceAccountName = s.serviceAccount(db.ServiceAccount)
	if err := finishPodSpec(s, &spec, vols, append(containers, main), res); err != nil {
		return nil, err
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: podTemplateMeta(tc, s, TiDBStatusPort), Spec: spec}
	return statefulSet(tc, s, tc.TiDBStsDesiredReplicas(), opts, tmpl, extraClaims)
}
