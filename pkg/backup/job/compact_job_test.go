package job_test

import (
	"reflect"
	"testing"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
)

func compactCases() map[string]jobCase {
	opts := &job.CompactOptions{Namespace: "tidb", ResourceName: "compact-demo"}
	return map[string]jobCase{
		"a compaction of a log backup on S3": {
			golden: "compact",
			build: func() (*batchv1.Job, error) {
				return job.CompactJob(newCompact(func(cb *v1alpha1.CompactBackup) {
					cb.Spec.ToolImage = "example.com/pingcap/br" // tagged with the TiKV version
				}), target, settings)
			},
			opts: opts,
		},
		"a compaction of a TLS cluster with its own tikv-ctl image": {
			build: func() (*batchv1.Job, error) {
				return job.CompactJob(newCompact(func(cb *v1alpha1.CompactBackup) {
					cb.Spec.TikvImage = "example.com/pingcap/tikv:v8.5.0"
				}), tlsTarget, settings)
			},
			opts: opts,
		},
	}
}

func TestCompactLabels(t *testing.T) {
	want := map[string]string{
		"app.kubernetes.io/name":       "backup",
		"app.kubernetes.io/managed-by": "backup-operator",
		"app.kubernetes.io/component":  "compact",
		"app.kubernetes.io/instance":   "compact-demo",
	}
	if got := job.CompactJobLabels(newCompact()); !reflect.DeepEqual(got, want) {
		t.Errorf("CompactJobLabels = %v, want %v", got, want)
	}
}

func TestCompactJob(t *testing.T) {
	cases := compactCases()
	t.Run("named like the CompactBackup, with the cluster's tikv-ctl", func(t *testing.T) {
		j := mustBuild(t, cases["a compaction of a log backup on S3"])
		pod := j.Spec.Template.Spec
		if j.Name != "compact-demo" || *j.Spec.BackoffLimit != 0 {
			t.Fatalf("name %s, backoffLimit %d", j.Name, *j.Spec.BackoffLimit)
		}
		if len(pod.InitContainers) != 2 || pod.InitContainers[0].Image != "example.com/pingcap/br:v8.5.0" || pod.InitContainers[1].Image != target.TiKVImage {
			t.Fatalf("init containers %+v", pod.InitContainers)
		}
	})
	t.Run("spec.tikvImage wins and no certificate is mounted", func(t *testing.T) {
		pod := mustBuild(t, cases["a compaction of a TLS cluster with its own tikv-ctl image"]).Spec.Template.Spec
		if pod.InitContainers[1].Image != "example.com/pingcap/tikv:v8.5.0" {
			t.Fatalf("tikv-ctl image %s", pod.InitContainers[1].Image)
		}
		if len(pod.Volumes) != 2 {
			t.Fatalf("volumes %+v, want only br-bin and tikv-ctl-bin", pod.Volumes)
		}
	})
}
