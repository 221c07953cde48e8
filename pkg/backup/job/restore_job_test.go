package job_test

import (
	"reflect"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

// restoreOpts are the restore flags of the fixtures, changed by mutate.
func restoreOpts(mutate func(*job.RestoreOptions)) *job.RestoreOptions {
	o := job.NewRestoreOptions()
	o.Namespace, o.RestoreName, o.TiKVVersion = "tidb", "demo", "v8.5.0"
	if mutate != nil {
		mutate(o)
	}
	return o
}

// pitr is a PiTR restore of the log backup on S3, starting from the snapshot on GCS.
func pitr(rs *v1alpha1.Restore) {
	rs.Spec.Mode = v1alpha1.RestoreModePiTR
	rs.Spec.PitrRestoredTs = "2024-06-01 00:00:00"
	rs.Spec.S3.Prefix = "basic/log"
	rs.Spec.PitrFullBackupStorageProvider = gcsStorage()
}

func restoreCases() map[string]jobCase {
	withTiDB := func(rs *v1alpha1.Restore) {
		rs.Spec.To = &v1alpha1.TiDBAccessConfig{Host: "basic-tidb", SecretName: "tidb-secret"}
	}
	pitrOpts := restoreOpts(func(o *job.RestoreOptions) {
		o.Mode, o.PitrRestoredTS = v1alpha1.RestoreModePiTR, "2024-06-01 00:00:00"
	})
	return map[string]jobCase{
		"a snapshot restore from S3, logging in to TiDB": {
			golden: "restore-snapshot",
			build: func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(withTiDB), target, settings, nil)
			},
			opts: restoreOpts(nil),
		},
		"a PiTR restore from a log on S3 and a snapshot on GCS": {
			golden: "restore-pitr",
			build: func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(pitr), target, settings, nil)
			},
			opts: pitrOpts,
		},
		"a PiTR restore with both backups on one S3 Secret": {
			build: func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(pitr, func(rs *v1alpha1.Restore) {
					rs.Spec.PitrFullBackupStorageProvider = s3Storage()
				}), target, settings, nil)
			},
			opts: pitrOpts,
		},
		"a PiTR restore from two local volumes": {
			build: func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) {
					rs.Spec.Mode, rs.Spec.PitrRestoredTs = v1alpha1.RestoreModePiTR, "2024-06-01 00:00:00"
					rs.Spec.StorageProvider = localStorage()
					full := localStorage()
					full.Local.Volume.Name, full.Local.VolumeMount.Name, full.Local.VolumeMount.MountPath = "snapshots", "snapshots", "/snapshots"
					rs.Spec.PitrFullBackupStorageProvider = full
				}), target, settings, nil)
			},
			opts: pitrOpts,
		},
		"a PiTR restore without a snapshot": {
			build: func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) {
					rs.Spec.Mode, rs.Spec.PitrRestoredTs, rs.Spec.LogRestoreStartTs = v1alpha1.RestoreModePiTR, "2024-06-01 00:00:00", "449000000000000000"
				}), target, settings, nil)
			},
			opts: pitrOpts,
		},
		"a restore into a TLS cluster with the client certificate named": {
			golden: "restore-tls",
			build: func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(withTiDB, func(rs *v1alpha1.Restore) {
					rs.Spec.To.TLSClientSecretName = ptr.To("my-client-cert")
				}), tlsTarget, settings, nil)
			},
			opts: restoreOpts(func(o *job.RestoreOptions) { o.TLSCluster, o.TLSClient, o.SkipClientCA = true, true, true }),
		},
		"aborting a failed restore": {
			build: func() (*batchv1.Job, error) {
				rs := newRestore(func(rs *v1alpha1.Restore) { rs.Spec.Prune = v1alpha1.PruneTypeAfterFailed })
				o := job.RestoreOptionsFor(rs, target)
				o.Abort = true
				return job.RestoreJob(rs, target, settings, o)
			},
			opts: restoreOpts(func(o *job.RestoreOptions) { o.Abort = true }),
		},
	}
}

func TestRestoreLabels(t *testing.T) {
	want := map[string]string{
		"app.kubernetes.io/name":       "restore",
		"app.kubernetes.io/managed-by": "restore-operator",
		"app.kubernetes.io/component":  "restore",
		"tidb.pingcap.com/restore":     "demo",
	}
	if got := job.RestoreJobLabels(newRestore()); !reflect.DeepEqual(got, want) {
		t.Errorf("RestoreJobLabels = %v, want %v", got, want)
	}
}

func TestRestoreJobSpec(t *testing.T) {
	j, err := job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) { rs.Spec.BackoffLimit = 2 }), target, settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	if j.Name != "restore-demo" || *j.Spec.BackoffLimit != 2 {
		t.Fatalf("name %s, backoffLimit %d: want restore-demo and spec.backoffLimit", j.Name, *j.Spec.BackoffLimit)
	}
}

// TestPiTRStorages shows what a PiTR restore's pod gets for its second storage.
func TestPiTRStorages(t *testing.T) {
	cases := restoreCases()
	envNames := func(c jobCase) []string {
		var names []string
		for _, e := range mustBuild(t, c).Spec.Template.Spec.Containers[0].Env {
			names = append(names, e.Name)
		}
		return names
	}
	t.Run("one Secret for two S3 storages appears once", func(t *testing.T) {
		got := envNames(cases["a PiTR restore with both backups on one S3 Secret"])
		want := []string{"S3_PROVIDER", "AWS_REGION", "AWS_ACL", "AWS_STORAGE_CLASS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BR_LOG_TO_TERM"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("env %v, want %v", got, want)
		}
	})
	t.Run("the full backup's volume is mounted too", func(t *testing.T) {
		pod := mustBuild(t, cases["a PiTR restore from two local volumes"]).Spec.Template.Spec
		if !hasMount(pod.Containers[0], "nfs", "/nfs") || !hasMount(pod.Containers[0], "snapshots", "/snapshots") {
			t.Fatalf("mounts %+v, want the log's and the snapshot's volumes", pod.Containers[0].VolumeMounts)
		}
	})
	t.Run("one volume for both backups is mounted once", func(t *testing.T) {
		j, err := job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) {
			rs.Spec.Mode = v1alpha1.RestoreModePiTR
			rs.Spec.StorageProvider = localStorage()
			rs.Spec.PitrFullBackupStorageProvider = localStorage()
			rs.Spec.PitrFullBackupStorageProvider.Local.Prefix = "basic/snapshot"
		}), target, settings, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(j.Spec.Template.Spec.Volumes); n != 2 { // br-bin and nfs
			t.Fatalf("volumes %+v, want br-bin and nfs once", j.Spec.Template.Spec.Volumes)
		}
	})
	t.Run("a snapshot restore ignores the full-backup storage", func(t *testing.T) {
		j, err := job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) { rs.Spec.PitrFullBackupStorageProvider = gcsStorage() }), target, settings, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range j.Spec.Template.Spec.Containers[0].Env {
			if strings.HasPrefix(e.Name, "GCS_") {
				t.Fatalf("a snapshot restore got %s", e.Name)
			}
		}
	})
	t.Run("two S3 Secrets are refused", func(t *testing.T) {
		_, err := job.RestoreJob(newRestore(pitr, func(rs *v1alpha1.Restore) {
			rs.Spec.PitrFullBackupStorageProvider = s3Storage()
			rs.Spec.PitrFullBackupStorageProvider.S3.SecretName = "other-secret"
		}), target, settings, nil)
		want := `spec.s3.secretName "s3-secret" and spec.pitrFullBackupStorageProvider.s3.secretName "other-secret" differ`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want it to contain %q", err, want)
		}
	})
	t.Run("the full backup's GCS needs its project", func(t *testing.T) {
		_, err := job.RestoreJob(newRestore(pitr, func(rs *v1alpha1.Restore) {
			rs.Spec.PitrFullBackupStorageProvider.Gcs.ProjectID = ""
		}), target, settings, nil)
		if err == nil || !strings.Contains(err.Error(), "spec.pitrFullBackupStorageProvider.gcs.projectId is empty") {
			t.Fatalf("error %v, want it to name spec.pitrFullBackupStorageProvider.gcs.projectId", err)
		}
	})
}

func TestRestoreOptionsFor(t *testing.T) {
	cases := map[string]struct {
		rs   *v1alpha1.Restore
		t    job.Target
		want *job.RestoreOptions
	}{
		"a snapshot":                   {newRestore(), target, restoreOpts(nil)},
		"client TLS only with a login": {newRestore(), tlsTarget, restoreOpts(func(o *job.RestoreOptions) { o.TLSCluster = true })},
		"a PiTR restore without a point keeps the default": {newRestore(func(rs *v1alpha1.Restore) { rs.Spec.Mode = v1alpha1.RestoreModePiTR }), target,
			restoreOpts(func(o *job.RestoreOptions) { o.Mode = v1alpha1.RestoreModePiTR })},
		"volumes still to be made": {newRestore(func(rs *v1alpha1.Restore) {
			rs.Spec.Mode, rs.Spec.VolumeAZ, rs.Spec.WarmupStrategy = v1alpha1.RestoreModeVolumeSnapshot, "us-west-2a", v1alpha1.RestoreWarmupStrategyFsr
		}), target, restoreOpts(func(o *job.RestoreOptions) {
			o.Mode, o.Prepare, o.TargetAZ, o.UseFSR = v1alpha1.RestoreModeVolumeSnapshot, true, "us-west-2a", true
		})},
		"volumes made": {newRestore(func(rs *v1alpha1.Restore) {
			rs.Spec.Mode = v1alpha1.RestoreModeVolumeSnapshot
			rs.Status.Conditions = []v1alpha1.RestoreCondition{{Type: v1alpha1.RestoreVolumeComplete, Status: corev1.ConditionTrue}}
		}), target, restoreOpts(func(o *job.RestoreOptions) { o.Mode = v1alpha1.RestoreModeVolumeSnapshot })},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := job.RestoreOptionsFor(c.rs, c.t); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("RestoreOptionsFor = %+v\nwant               %+v", got, c.want)
			}
		})
	}
}
