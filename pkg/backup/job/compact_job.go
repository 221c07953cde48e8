package job

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

const (
	kindCompactBackup = "CompactBackup"
	compactContainer  = "compact"
	// compactComponent is app.kubernetes.io/component of compaction Jobs.
	compactComponent = "compact"
)

// CompactJobLabels are the labels of a CompactBackup's Job and its Pod:
// app.kubernetes.io/name=backup and app.kubernetes.io/managed-by=backup-operator like every
// backup Job, app.kubernetes.io/component=compact and app.kubernetes.io/instance=<name>.
//
// v1.6 labelled them as backup Jobs (component=backup, tidb.pingcap.com/backup=<name>) with
// instance=Compact-Backup, so a selector for the Jobs of a Backup also found the compaction Job of
// a CompactBackup of the same name, and every compaction Job had the same instance. Here the
// component tells compaction apart and the instance names the CompactBackup. A v1.6 compaction
// Job does not match these labels; find it by name (it is named like the CompactBackup).
func CompactJobLabels(cb *v1alpha1.CompactBackup) map[string]string {
	return map[string]string{
		label.NameLabelKey:      label.BackupName,
		label.ManagedByLabelKey: label.BackupOperator,
		label.ComponentLabelKey: compactComponent,
		label.InstanceLabelKey:  cb.Name,
	}
}

// CompactJob builds the Job running `tidb-backup-manager compact` for cb, named like cb as in
// v1.6. Two init containers copy br (from spec.toolImage, else pingcap/br at the TiKV version)
// and tikv-ctl (from spec.tikvImage, else the cluster's TiKV image) into emptyDirs. Compaction
// reads only the storage, never PD or TiDB, so no TLS certificate is mounted.
func CompactJob(cb *v1alpha1.CompactBackup, t Target, s Settings) (*batchv1.Job, error) {
	name := cb.Name
	job, err := compactJob(cb.DeepCopy(), t, s, name)
	if err != nil {
		return nil, jobError(name, kindCompactBackup, cb, err)
	}
	return job, nil
}

func compactJob(cb *v1alpha1.CompactBackup, t Target, s Settings, name string) (*batchv1.Job, error) {
	o := &CompactOptions{Namespace: cb.Namespace, ResourceName: cb.Name}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	brImg, err := brImage(cb.Spec.ToolImage, t)
	if err != nil {
		return nil, err
	}
	kvImg := cb.Spec.TikvImage
	if kvImg == "" {
		kvImg = t.TiKVImage
	}
	if kvImg == "" {
		return nil, fmt.Errorf("%w: spec.tikvImage is empty and the TiKV image of TidbCluster %s is unknown: set spec.tikvImage to the cluster's TiKV image, such as pingcap/tikv:v8.5.0",
			ErrNoTiKVImage, targetRef(t))
	}
	env, err := storageEnv(cb.Spec.StorageProvider, cb.Spec.UseKMS, "spec")
	if err != nil {
		return nil, err
	}
	brBin := emptyDirVolume(brBinVolume, brBinDir)
	kvBin := emptyDirVolume(kvctlBinVolume, kvctlBinDir)
	spec := podSpec{
		Resources:              cb.Spec.Resources,
		Env:                    cb.Spec.Env,
		Tolerations:            cb.Spec.Tolerations,
		Affinity:               cb.Spec.Affinity,
		SecurityContext:        cb.Spec.PodSecurityContext,
		PriorityClassName:      cb.Spec.PriorityClassName,
		ImagePullSecrets:       cb.Spec.ImagePullSecrets,
		ServiceAccount:         cb.GetServiceAccount(),
		AdditionalVolumes:      cb.Spec.AdditionalVolumes,
		AdditionalVolumeMounts: cb.Spec.AdditionalVolumeMounts,
		Locals:                 localsOf(localStorage{cb.Spec.Local, "spec.local"}),
	}
	return build(s, jobParts{
		kind:      kindCompactBackup,
		owner:     cb,
		name:      name,
		labels:    CompactJobLabels(cb),
		container: compactContainer,
		args:      o.Args(),
		env:       append(env, baseEnv()...),
		volumes:   []volumeAndMount{brBin, kvBin},
		inits: []corev1.Container{
			copyInit(brInitContainer, brImg, "br", brBin, spec.Resources),
			copyInit(kvctlInitContainer, kvImg, "tikv-ctl", kvBin, spec.Resources),
		},
		spec: spec,
	})
}
