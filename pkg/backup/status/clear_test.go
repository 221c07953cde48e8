package status

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestClearingProgressLetsANewRunStartFromZero(t *testing.T) {
	now := metav1.Now()
	bk := &v1alpha1.Backup{}
	SetBackupProgress("Full Backup", 63, now)(bk)
	if !ClearBackupProgress()(bk) || len(bk.Status.Progresses) != 0 {
		t.Fatalf("progress not cleared: %+v", bk.Status.Progresses)
	}
	if ClearBackupProgress()(bk) {
		t.Error("clearing no progress reported a change")
	}
	if !SetBackupProgress("Full Backup", 10, now)(bk) || bk.Status.Progresses[0].Progress != 10 {
		t.Errorf("the new run's 10%% was not recorded: %+v", bk.Status.Progresses)
	}

	rs := &v1alpha1.Restore{}
	SetRestoreProgress("Full Restore", 80, now)(rs)
	if !ClearRestoreProgress()(rs) || len(rs.Status.Progresses) != 0 || ClearRestoreProgress()(rs) {
		t.Errorf("restore progress not cleared once: %+v", rs.Status.Progresses)
	}
}
