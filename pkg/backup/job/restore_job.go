package job

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

const (
	kindRestore      = "Restore"
	restoreContainer = "restore"
)

// RestoreJobLabels are the labels of a Restore's Jobs and their Pods, v1.6's:
// app.kubernetes.io/name=restore, app.kubernetes.io/managed-by=restore-operator,
// app.kubernetes.io/component=restore and tidb.pingcap.com/restore=<name>. The Restore's own
// labels are not copied.
func RestoreJobLabels(rs *v1alpha1.Restore) map[string]string {
	return map[string]string{
		label.NameLabelKey:      label.RestoreName,
		label.ManagedByLabelKey: label.RestoreOperator,
		label.ComponentLabelKey: label.RestoreComponent,
		label.RestoreLabelKey:   rs.Name,
	}
}

// RestoreOptionsFor fills the restore flags for rs, as v1.6's operator did: the cluster's TiKV
// version (the default when unknown), the mode, the TLS switches, --pitrRestoredTs for PiTR, and
// for a volume-snapshot restore whose volumes are not made yet the preparation flags. The caller
// sets Abort for the prune run of spec.prune: afterFailed.
func RestoreOptionsFor(rs *v1alpha1.Restore, t Target) *RestoreOptions {
	o := NewRestoreOptions()
	o.Namespace, o.RestoreName = rs.Namespace, rs.Name
	if t.TiKVVersion != "" {
		o.TiKVVersion = t.TiKVVersion
	}
	if rs.Spec.Mode != "" {
		o.Mode = rs.Spec.Mode
	}
	o.TLSCluster = t.ClusterTLS
	// Only a Job that logs in to TiDB (spec.to) uses the client certificate, as in v1.6.
	if rs.Spec.To != nil && t.TiDBClientTLS {
		o.TLSClient, o.SkipClientCA = true, t.TiDBSkipClientCA
	}
	switch o.Mode {
	case v1alpha1.RestoreModePiTR:
		if rs.Spec.PitrRestoredTs != "" {
			o.PitrRestoredTS = rs.Spec.PitrRestoredTs
		}
	case v1alpha1.RestoreModeVolumeSnapshot:
		if !v1alpha1.IsRestoreVolumeComplete(rs) {
			o.Prepare = true
			o.TargetAZ = rs.Spec.VolumeAZ
			o.UseFSR = rs.Spec.WarmupStrategy == v1alpha1.RestoreWarmupStrategyFsr
		}
	}
	return o
}

// RestoreJob builds restore-<name> (rs.GetRestoreJobName()), the Job running
// `tidb-backup-manager restore` for rs with the flags o; nil options mean RestoreOptionsFor(rs, t).
// A PiTR restore also gets the environment and local volume of
// spec.pitrFullBackupStorageProvider: the backup-manager reads both storages with the Job's one
// environment, so two storages of one kind must share their credentials (different Secrets are
// refused). backoffLimit is spec.backoffLimit (0 by default).
func RestoreJob(rs *v1alpha1.Restore, t Target, s Settings, o *RestoreOptions) (*batchv1.Job, error) {
	name := rs.GetRestoreJobName()
	if o == nil {
		o = RestoreOptionsFor(rs, t)
	}
	job, err := restoreJob(rs.DeepCopy(), t, s, name, o)
	if err != nil {
		return nil, jobError(name, kindRestore, rs, err)
	}
	return job, nil
}

func restoreJob(rs *v1alpha1.Restore, t Target, s Settings, name string, o *RestoreOptions) (*batchv1.Job, error) {
	if rs.Spec.BR == nil {
		return nil, errNoBR
	}
	if o.Namespace != rs.Namespace || o.RestoreName != rs.Name {
		return nil, fmt.Errorf("the options are for Restore %s/%s", o.Namespace, o.RestoreName)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	image, err := brImage(rs.Spec.ToolImage, t)
	if err != nil {
		return nil, err
	}
	env, err := passwordEnv(rs.Spec.To, "spec.to")
	if err != nil {
		return nil, err
	}
	storage, err := storageEnv(rs.Spec.StorageProvider, rs.Spec.UseKMS, "spec")
	if err != nil {
		return nil, err
	}
	env = append(env, storage...)
	locals := []localStorage{{rs.Spec.Local, "spec.local"}}
	if o.Mode == v1alpha1.RestoreModePiTR {
		if env, err = pitrEnv(env, rs.Spec.StorageProvider, rs.Spec.PitrFullBackupStorageProvider, rs.Spec.UseKMS); err != nil {
			return nil, err
		}
		locals = append(locals, localStorage{rs.Spec.PitrFullBackupStorageProvider.Local, "spec.pitrFullBackupStorageProvider.local"})
	}
	env = append(env, baseEnv()...)
	vols, err := tlsVolumes(o.Common, o.TLSCluster, clusterName(t, rs.Spec.BR), rs.Spec.To, "spec.to")
	if err != nil {
		return nil, err
	}
	brBin := emptyDirVolume(brBinVolume, brBinDir)
	spec := podSpec{
		Resources:              rs.Spec.Resources,
		Env:                    rs.Spec.Env,
		Tolerations:            rs.Spec.Tolerations,
		Affinity:               rs.Spec.Affinity,
		SecurityContext:        rs.Spec.PodSecurityContext,
		PriorityClassName:      rs.Spec.PriorityClassName,
		ImagePullSecrets:       rs.Spec.ImagePullSecrets,
		ServiceAccount:         rs.GetServiceAccount(),
		AdditionalVolumes:      rs.Spec.AdditionalVolumes,
		AdditionalVolumeMounts: rs.Spec.AdditionalVolumeMounts,
		Locals:                 localsOf(locals...),
	}
	return build(s, jobParts{
		kind:         kindRestore,
		owner:        rs,
		name:         name,
		labels:       RestoreJobLabels(rs),
		container:    restoreContainer,
		args:         o.Args(),
		env:          env,
		volumes:      append(vols, brBin),
		inits:        []corev1.Container{copyInit(brInitContainer, image, "br", brBin, spec.Resources)},
		backoffLimit: rs.Spec.BackoffLimit,
		spec:         spec,
	})
}
