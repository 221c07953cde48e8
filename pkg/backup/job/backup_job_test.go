package job_test

import (
	"reflect"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

// backupOpts are the backup flags of the fixtures, changed by mutate.
func backupOpts(name string, mutate func(*job.BackupOptions)) *job.BackupOptions {
	o := job.NewBackupOptions()
	o.Namespace, o.BackupName, o.TiKVVersion = "tidb", name, "v8.5.0"
	if mutate != nil {
		mutate(o)
	}
	return o
}

// logBackup is the log backup "log" of the basic cluster.
func logBackup(mutate ...func(*v1alpha1.Backup)) *v1alpha1.Backup {
	return newBackup(append([]func(*v1alpha1.Backup){func(bk *v1alpha1.Backup) {
		bk.Name = "log"
		bk.Spec.Mode = v1alpha1.BackupModeLog
		bk.Spec.CommitTs = "449000000000000000"
	}}, mutate...)...)
}

func backupCases() map[string]jobCase {
	withPodFields := func(bk *v1alpha1.Backup) {
		f := allPodFields()
		s := &bk.Spec
		s.Resources, s.Env, s.Tolerations, s.Affinity = f.resources, f.env, f.tolerations, f.affinity
		s.PodSecurityContext, s.PriorityClassName, s.ImagePullSecrets, s.ServiceAccount = f.security, f.priority, f.pullSecrets, f.account
		s.AdditionalVolumes, s.AdditionalVolumeMounts = f.volumes, f.mounts
	}
	withTiDB := func(bk *v1alpha1.Backup) {
		bk.Spec.From = &v1alpha1.TiDBAccessConfig{Host: "basic-tidb", Port: 4000, User: "root", SecretName: "tidb-secret"}
	}
	return map[string]jobCase{
		"a snapshot to S3 with a Secret and every pod field": {
			golden: "backup-snapshot-s3",
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(withPodFields), target, settings, "", nil)
			},
			opts:    backupOpts("demo", nil),
			specEnv: []string{"TZ"},
		},
		"a snapshot to GCS": {
			golden: "backup-snapshot-gcs",
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.StorageProvider = gcsStorage() }), target, settings, "", nil)
			},
			opts: backupOpts("demo", nil),
		},
		"a snapshot to Azure Blob with the account and credentials in a Secret": {
			golden: "backup-snapshot-azblob",
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.StorageProvider = azblobStorage() }), target, settings, "", nil)
			},
			opts: backupOpts("demo", nil),
		},
		"a snapshot to Azure Blob with a SAS token": {
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Spec.StorageProvider = v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{
						Container: "backups", StorageAccount: "acct", AccessTier: "Hot", SasToken: sasToken, SecretName: "azblob-secret"}}
				}), target, settings, "", nil)
			},
			opts: backupOpts("demo", nil),
		},
		"a snapshot to a local volume": {
			golden: "backup-snapshot-local",
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.StorageProvider = localStorage() }), target, settings, "", nil)
			},
			opts: backupOpts("demo", nil),
		},
		"a snapshot to MinIO": {
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Spec.StorageProvider = v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{
						Provider: v1alpha1.S3StorageProviderTypeMinio, Endpoint: "http://minio.minio:9000", Bucket: "backups", SecretName: "minio"}}
				}), target, settings, "", nil)
			},
			opts: backupOpts("demo", nil),
		},
		"a snapshot to S3 decrypted with KMS": {
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.UseKMS = true }), target, settings, "", nil)
			},
			opts: backupOpts("demo", nil),
		},
		"a snapshot of a TLS cluster, logging in to TiDB": {
			golden: "backup-snapshot-tls",
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(withTiDB), tlsTarget, settings, "", nil)
			},
			opts: backupOpts("demo", func(o *job.BackupOptions) { o.TLSCluster, o.TLSClient, o.SkipClientCA = true, true, true }),
		},
		"a snapshot of a TLS cluster with the client certificate named": {
			build: func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(withTiDB, func(bk *v1alpha1.Backup) {
					bk.Spec.From.TLSClientSecretName = ptr.To("my-client-cert")
				}), tlsTarget, settings, "", nil)
			},
			opts: backupOpts("demo", func(o *job.BackupOptions) { o.TLSCluster, o.TLSClient, o.SkipClientCA = true, true, true }),
		},
		"a log backup starting": {
			golden: "backup-log-start",
			build: func() (*batchv1.Job, error) {
				bk := logBackup()
				return job.BackupJob(bk, target, settings, bk.GetBackupJobName(), nil)
			},
			opts: backupOpts("log", func(o *job.BackupOptions) {
				o.Mode, o.Subcommand, o.CommitTS = v1alpha1.BackupModeLog, v1alpha1.LogStartCommand, "449000000000000000"
			}),
		},
		"a log backup stopped before its Backup is deleted": {
			golden: "backup-log-stop",
			build: func() (*batchv1.Job, error) {
				bk := logBackup()
				return job.BackupJob(bk, target, settings, bk.GetStopLogBackupJobName(), job.BackupOptionsFor(bk, target, v1alpha1.LogStopCommand))
			},
			opts: backupOpts("log", func(o *job.BackupOptions) { o.Mode, o.Subcommand = v1alpha1.BackupModeLog, v1alpha1.LogStopCommand }),
		},
		"a log backup truncated": {
			build: func() (*batchv1.Job, error) {
				bk := logBackup(func(bk *v1alpha1.Backup) { bk.Spec.LogTruncateUntil = "2024-06-01 00:00:00" })
				return job.BackupJob(bk, target, settings, bk.Name, job.BackupOptionsFor(bk, target, v1alpha1.LogTruncateCommand))
			},
			opts: backupOpts("log", func(o *job.BackupOptions) {
				o.Mode, o.Subcommand, o.TruncateUntil = v1alpha1.BackupModeLog, v1alpha1.LogTruncateCommand, "2024-06-01 00:00:00"
			}),
		},
		"the clean Job": {
			golden: "backup-clean",
			build: func() (*batchv1.Job, error) {
				return job.CleanJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.CleanPolicy = v1alpha1.CleanPolicyTypeDelete }), settings)
			},
			opts: &job.CleanOptions{Namespace: "tidb", BackupName: "demo"},
		},
		"the clean Job of a local backup": {
			build: func() (*batchv1.Job, error) {
				return job.CleanJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.StorageProvider = localStorage() }), settings)
			},
			opts: &job.CleanOptions{Namespace: "tidb", BackupName: "demo"},
		},
	}
}

// sasToken stands for a secret the spec holds; it must not reach a Job.
const sasToken = "sv=2024-01-01&sig=c2VjcmV0LXNpZ25hdHVyZQ"

func TestSASTokenStaysOutOfTheJob(t *testing.T) {
	c := backupCases()["a snapshot to Azure Blob with a SAS token"]
	j := mustBuild(t, c)
	out, err := yaml.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "sig=") || strings.Contains(string(out), "c2VjcmV0") {
		t.Fatalf("the SAS token reached the Job:\n%s", out)
	}
	want := []corev1.EnvVar{
		{Name: "AZURE_ACCESS_TIER", Value: "Hot"},
		{Name: "AZURE_STORAGE_ACCOUNT", Value: "acct"},
		{Name: "BR_LOG_TO_TERM", Value: "1"},
	}
	if got := j.Spec.Template.Spec.Containers[0].Env; !reflect.DeepEqual(got, want) {
		t.Fatalf("env = %+v\nwant  %+v (with a SAS token v1.6 read nothing from the Secret)", got, want)
	}
}

func TestBackupLabels(t *testing.T) {
	bk := newBackup()
	want := map[string]string{
		"app.kubernetes.io/name":       "backup",
		"app.kubernetes.io/managed-by": "backup-operator",
		"app.kubernetes.io/component":  "backup",
		"tidb.pingcap.com/backup":      "demo",
	}
	if got := job.BackupJobLabels(bk); !reflect.DeepEqual(got, want) {
		t.Errorf("BackupJobLabels = %v, want %v", got, want)
	}
	want["app.kubernetes.io/component"] = "clean"
	if got := job.CleanJobLabels(bk); !reflect.DeepEqual(got, want) {
		t.Errorf("CleanJobLabels = %v, want %v", got, want)
	}
	cases := backupCases()
	for _, name := range sortedNames(cases) {
		j := mustBuild(t, cases[name])
		if j.Labels["tidb.pingcap.com/backup"] == "" || j.Labels["app.kubernetes.io/managed-by"] != "backup-operator" {
			t.Errorf("%s: labels %v", name, j.Labels)
		}
	}
}

func TestBackupJobNames(t *testing.T) {
	cases := map[string]struct {
		build func() (*batchv1.Job, error)
		want  string
	}{
		"a snapshot's default name": {func() (*batchv1.Job, error) { return job.BackupJob(newBackup(), target, settings, "", nil) }, "backup-demo"},
		"a log subcommand's default name": {func() (*batchv1.Job, error) {
			return job.BackupJob(logBackup(), target, settings, "", nil)
		}, "backup-log-log-start"},
		"the stop Job": {func() (*batchv1.Job, error) {
			bk := logBackup()
			return job.BackupJob(bk, target, settings, bk.GetStopLogBackupJobName(), job.BackupOptionsFor(bk, target, v1alpha1.LogStopCommand))
		}, "stop-log"},
		"the clean Job": {func() (*batchv1.Job, error) { return job.CleanJob(newBackup(), settings) }, "clean-demo"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			j, err := c.build()
			if err != nil {
				t.Fatal(err)
			}
			if j.Name != c.want {
				t.Fatalf("name = %q, want %q", j.Name, c.want)
			}
		})
	}
}

func TestBackupOptionsFor(t *testing.T) {
	paused := logBackup(func(bk *v1alpha1.Backup) {
		bk.Spec.LogSubcommand = v1alpha1.LogStartCommand
		bk.Status.Phase = v1alpha1.BackupPaused
	})
	cases := map[string]struct {
		bk   *v1alpha1.Backup
		t    job.Target
		sub  v1alpha1.LogSubCommandType
		want *job.BackupOptions
	}{
		"a snapshot: an explicit subcommand is ignored": {newBackup(), target, v1alpha1.LogStopCommand, backupOpts("demo", nil)},
		"an unknown TiKV version keeps the default": {newBackup(), job.Target{Name: "basic"}, "",
			backupOpts("demo", func(o *job.BackupOptions) { o.TiKVVersion = job.DefaultTiKVVersion })},
		"client TLS only with a TiDB login": {newBackup(), tlsTarget, "",
			backupOpts("demo", func(o *job.BackupOptions) { o.TLSCluster = true })},
		"a log backup resumes a paused task": {paused, target, "",
			backupOpts("log", func(o *job.BackupOptions) { o.Mode, o.Subcommand = v1alpha1.BackupModeLog, v1alpha1.LogResumeCommand })},
		"volume snapshots": {newBackup(func(bk *v1alpha1.Backup) { bk.Spec.Mode = v1alpha1.BackupModeVolumeSnapshot }), target, "",
			backupOpts("demo", func(o *job.BackupOptions) { o.Mode = v1alpha1.BackupModeVolumeSnapshot })},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := job.BackupOptionsFor(c.bk, c.t, c.sub); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("BackupOptionsFor = %+v\nwant              %+v", got, c.want)
			}
		})
	}
}

// TestSpecEnvOverrides shows spec.env replaces generated variables where they stand and adds the
// others after them, in order.
func TestSpecEnvOverrides(t *testing.T) {
	bk := newBackup(func(bk *v1alpha1.Backup) {
		bk.Spec.Env = []corev1.EnvVar{
			{Name: "EXTRA", Value: "1"},
			{Name: "AWS_REGION", Value: "eu-central-1"},
			{Name: "AWS_ACCESS_KEY_ID", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "other"}, Key: "id"}}},
			{Name: "BR_LOG_TO_TERM", Value: "0"},
			{Name: "EXTRA", Value: "2"},
		}
	})
	j, err := job.BackupJob(bk, target, settings, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range j.Spec.Template.Spec.Containers[0].Env {
		v := e.Value
		if e.ValueFrom != nil {
			v = "<" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key + ">"
		}
		got = append(got, e.Name+"="+v)
	}
	want := []string{
		"S3_PROVIDER=aws",
		"AWS_REGION=eu-central-1",
		"AWS_ACL=private",
		"AWS_STORAGE_CLASS=STANDARD_IA",
		"AWS_ACCESS_KEY_ID=<other/id>",
		"AWS_SECRET_ACCESS_KEY=<s3-secret/secret_key>",
		"BR_LOG_TO_TERM=0",
		"EXTRA=2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("env =\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
}
