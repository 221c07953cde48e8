package job

import (
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

const (
	kindBackup = "Backup"
	// backupContainer and cleanContainer name the main containers.
	backupContainer = "backup"
	cleanContainer  = "clean"
)

// errNoBR refuses a Backup or Restore without spec.br before a Job is made: the br init
// container would fail on a Dumpling or Lightning image, and the backup-manager only runs BR.
var errNoBR = errors.New("spec.br is not set: Dumpling exports and Lightning imports are not supported, only BR; set spec.br.cluster to the TidbCluster")

// BackupJobLabels are the labels of a Backup's backup Jobs (backup-<name>,
// backup-<name>-<log subcommand>, backup-<name>-init, stop-<name>) and of their Pods, v1.6's:
// app.kubernetes.io/name=backup, app.kubernetes.io/managed-by=backup-operator,
// app.kubernetes.io/component=backup and tidb.pingcap.com/backup=<name>. The Backup's own labels
// are not copied, so a selector built from these finds exactly the Backup's Jobs (v1.6's Jobs
// too, which also carry app.kubernetes.io/instance).
func BackupJobLabels(bk *v1alpha1.Backup) map[string]string {
	return backupLabels(bk.Name, label.BackupComponent)
}

// CleanJobLabels are the labels of a Backup's clean-<name> Job: BackupJobLabels with
// app.kubernetes.io/component=clean.
func CleanJobLabels(bk *v1alpha1.Backup) map[string]string {
	return backupLabels(bk.Name, label.CleanComponent)
}

func backupLabels(name, component string) map[string]string {
	return map[string]string{
		label.NameLabelKey:      label.BackupName,
		label.ManagedByLabelKey: label.BackupOperator,
		label.ComponentLabelKey: component,
		label.BackupLabelKey:    name,
	}
}

// BackupOptionsFor fills the backup flags for bk, as v1.6's operator did: the cluster's TiKV
// version (the default when unknown), the mode, the TLS switches, and for a log backup the
// subcommand sub with its point in time (--commit-ts for log-start, --truncate-until for
// log-truncate). An empty sub means the one v1alpha1.ParseLogBackupSubcommand derives from the
// spec and status; sub is ignored outside log mode. The caller sets what the spec cannot say,
// such as Initialize for a volume-snapshot backup's initialize Job.
func BackupOptionsFor(bk *v1alpha1.Backup, t Target, sub v1alpha1.LogSubCommandType) *BackupOptions {
	o := NewBackupOptions()
	o.Namespace, o.BackupName = bk.Namespace, bk.Name
	if t.TiKVVersion != "" {
		o.TiKVVersion = t.TiKVVersion
	}
	if bk.Spec.Mode != "" {
		o.Mode = bk.Spec.Mode
	}
	o.TLSCluster = t.ClusterTLS
	// Only a Job that logs in to TiDB (spec.from) uses the client certificate, as in v1.6.
	if bk.Spec.From != nil && t.TiDBClientTLS {
		o.TLSClient, o.SkipClientCA = true, t.TiDBSkipClientCA
	}
	if o.Mode == v1alpha1.BackupModeLog {
		if sub == "" {
			sub = v1alpha1.ParseLogBackupSubcommand(bk)
		}
		o.Subcommand = sub
		switch sub {
		case v1alpha1.LogStartCommand:
			if bk.Spec.CommitTs != "" {
				o.CommitTS = bk.Spec.CommitTs
			}
		case v1alpha1.LogTruncateCommand:
			if bk.Spec.LogTruncateUntil != "" {
				o.TruncateUntil = bk.Spec.LogTruncateUntil
			}
		}
	}
	return o
}

// BackupJob builds a Job running `tidb-backup-manager backup` for bk with the flags o. The caller
// chooses the name, since one Backup has several backup Jobs: bk.GetBackupJobName() for the
// backup itself or a log subcommand, bk.GetStopLogBackupJobName() (stop-<name>, with
// BackupOptionsFor(bk, t, v1alpha1.LogStopCommand)) to stop a log backup before the Backup is
// deleted, bk.GetVolumeBackupInitializeJobName() for a volume-snapshot's initialize phase. An
// empty name means bk.GetBackupJobName(); nil options mean BackupOptionsFor(bk, t, "").
//
// It refuses options for another Backup and options the backup-manager would refuse
// (Validate), so a Job that is made can run.
func BackupJob(bk *v1alpha1.Backup, t Target, s Settings, name string, o *BackupOptions) (*batchv1.Job, error) {
	if name == "" {
		name = bk.GetBackupJobName()
	}
	if o == nil {
		o = BackupOptionsFor(bk, t, "")
	}
	job, err := backupJob(bk.DeepCopy(), t, s, name, o)
	if err != nil {
		return nil, jobError(name, kindBackup, bk, err)
	}
	return job, nil
}

func backupJob(bk *v1alpha1.Backup, t Target, s Settings, name string, o *BackupOptions) (*batchv1.Job, error) {
	if bk.Spec.BR == nil {
		return nil, errNoBR
	}
	if o.Namespace != bk.Namespace || o.BackupName != bk.Name {
		return nil, fmt.Errorf("the options are for Backup %s/%s", o.Namespace, o.BackupName)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	image, err := brImage(bk.Spec.ToolImage, t)
	if err != nil {
		return nil, err
	}
	env, err := passwordEnv(bk.Spec.From, "spec.from")
	if err != nil {
		return nil, err
	}
	storage, err := storageEnv(bk.Spec.StorageProvider, bk.Spec.UseKMS, "spec")
	if err != nil {
		return nil, err
	}
	env = append(append(env, storage...), baseEnv()...)
	vols, err := tlsVolumes(o.Common, o.TLSCluster, clusterName(t, bk.Spec.BR), bk.Spec.From, "spec.from")
	if err != nil {
		return nil, err
	}
	brBin := emptyDirVolume(brBinVolume, brBinDir)
	spec := backupPodSpec(bk)
	return build(s, jobParts{
		kind:      kindBackup,
		owner:     bk,
		name:      name,
		labels:    BackupJobLabels(bk),
		container: backupContainer,
		args:      o.Args(),
		env:       env,
		volumes:   append(vols, brBin),
		inits:     []corev1.Container{copyInit(brInitContainer, image, "br", brBin, spec.Resources)},
		spec:      spec,
	})
}

// CleanJob builds clean-<name>, the Job running `tidb-backup-manager clean` to delete bk's data
// once the Backup is being deleted. It needs neither BR nor the cluster (which may be gone by
// then), only the storage: its credentials and, for local storage, the volume.
func CleanJob(bk *v1alpha1.Backup, s Settings) (*batchv1.Job, error) {
	name := bk.GetCleanJobName()
	job, err := cleanJob(bk.DeepCopy(), s, name)
	if err != nil {
		return nil, jobError(name, kindBackup, bk, err)
	}
	return job, nil
}

func cleanJob(bk *v1alpha1.Backup, s Settings, name string) (*batchv1.Job, error) {
	o := &CleanOptions{Namespace: bk.Namespace, BackupName: bk.Name}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	env, err := storageEnv(bk.Spec.StorageProvider, bk.Spec.UseKMS, "spec")
	if err != nil {
		return nil, err
	}
	// v1.6's clean pod left out the resources, security context, priority class and extra
	// volumes; they are kept here so that Pod Security admission, quotas and custom CA bundles
	// treat it like the backup pod it cleans up after.
	return build(s, jobParts{
		kind:      kindBackup,
		owner:     bk,
		name:      name,
		labels:    CleanJobLabels(bk),
		container: cleanContainer,
		args:      o.Args(),
		env:       append(env, baseEnv()...),
		spec:      backupPodSpec(bk),
	})
}

func backupPodSpec(bk *v1alpha1.Backup) podSpec {
	s := &bk.Spec
	return podSpec{
		Resources:              s.Resources,
		Env:                    s.Env,
		Tolerations:            s.Tolerations,
		Affinity:               s.Affinity,
		SecurityContext:        s.PodSecurityContext,
		PriorityClassName:      s.PriorityClassName,
		ImagePullSecrets:       s.ImagePullSecrets,
		ServiceAccount:         bk.GetServiceAccount(),
		AdditionalVolumes:      s.AdditionalVolumes,
		AdditionalVolumeMounts: s.AdditionalVolumeMounts,
		Locals:                 localsOf(localStorage{s.Local, "spec.local"}),
	}
}
