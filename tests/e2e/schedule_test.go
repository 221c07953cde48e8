package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/jobrunner"
)

// A schedule ticking every minute with maxBackups 2 creates one Backup per tick, never two
// running at once, keeps the newest two (deleting older ones through their cleanPolicy),
// starts its log backup once, and creates nothing while paused.
func TestBackupScheduleKeepsTheNewestAndPauses(t *testing.T) {
	t.Parallel()
	be := newBackupEnv(t)
	be.createCluster()
	snapshot := be.snapshotBackup("", "schedule", func(bk *v1alpha1.Backup) { bk.Spec.CleanPolicy = v1alpha1.CleanPolicyTypeDelete }).Spec
	logTemplate := v1alpha1.BackupSpec{
		Mode:            v1alpha1.BackupModeLog,
		StorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage("schedule-log")},
		BR:              &v1alpha1.BRConfig{Cluster: "basic"},
		ToolImage:       "pingcap/br:v8.5.0",
	}
	two := int32(2)
	be.createObject(&v1alpha1.BackupSchedule{
		ObjectMeta: metav1.ObjectMeta{Name: "minutely"},
		Spec: v1alpha1.BackupScheduleSpec{
			Schedule:          "*/1 * * * *",
			MaxBackups:        &two,
			BackupTemplate:    &snapshot,
			LogBackupTemplate: &logTemplate,
		},
	})

	// Three ticks: the first Backup is garbage-collected once the third completed.
	seen := map[string]bool{}
	be.eventually("three scheduled Backups, the oldest deleted", 5*time.Minute, func(ctx context.Context) error {
		names, err := be.scheduled(ctx, "minutely")
		if err != nil {
			return err
		}
		for _, n := range names {
			seen[n] = true
		}
		if len(seen) < 3 {
			return fmt.Errorf("created so far: %v", sortedKeys(seen))
		}
		if len(names) > 2 {
			return fmt.Errorf("%d Backups kept: %v", len(names), names)
		}
		return nil
	})
	if runs := be.runsOf("backup-log-minutely-log-start"); len(runs) != 1 {
		t.Fatalf("log backup started %d times: %v", len(runs), runs)
	}
	if err := noOverlap(be.runsWithPrefix("backup-minutely-")); err != nil {
		t.Fatal(err)
	}
	// The deleted Backup's data went with it (cleanPolicy Delete) before it was gone.
	oldest := sortedKeys(seen)[0]
	be.waitGone(&v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: oldest}}, backupTimeout)
	if runs := be.runsOf("clean-" + oldest); len(runs) != 1 || runs[0].ExitCode != 0 {
		t.Fatalf("clean of %s: %v", oldest, runs)
	}

	// Paused: no new Backup over more than a tick.
	ctx, cancel := be.ctx()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		bs := &v1alpha1.BackupSchedule{}
		if err := be.c.Get(ctx, objKey(be.ns, "minutely"), bs); err != nil {
			return err
		}
		bs.Spec.Pause = true
		return be.c.Update(ctx, bs)
	})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	// A tick may have been due in the instant before the pause took effect.
	time.Sleep(5 * time.Second)
	ctx, cancel = be.ctx()
	before, err := be.scheduled(ctx, "minutely")
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	be.consistently("no Backup while paused", 70*time.Second, func(ctx context.Context) error {
		now, err := be.scheduled(ctx, "minutely")
		if err != nil {
			return err
		}
		for _, n := range now {
			if !contains(before, n) {
				return fmt.Errorf("created %s while paused", n)
			}
		}
		return nil
	})
}

// scheduled lists the snapshot Backups of a schedule (not its log backup), oldest first.
func (be *backupEnv) scheduled(ctx context.Context, schedule string) ([]string, error) {
	list := &v1alpha1.BackupList{}
	if err := be.c.List(ctx, list, client.InNamespace(be.ns), client.MatchingLabels{label.BackupScheduleLabelKey: schedule}); err != nil {
		return nil, err
	}
	var names []string
	for _, bk := range list.Items {
		if bk.Spec.Mode == v1alpha1.BackupModeLog || !bk.DeletionTimestamp.IsZero() {
			continue
		}
		names = append(names, bk.Name)
	}
	sort.Strings(names)
	return names, nil
}

// runsWithPrefix lists the runner's runs of Jobs whose name starts with prefix.
func (be *backupEnv) runsWithPrefix(prefix string) []jobrunner.Run {
	var out []jobrunner.Run
	for _, r := range be.runner.Runs() {
		if strings.HasPrefix(r.Job, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
