package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// RestoreFields are the Restore status fields a transaction may set besides conditions and
// phase; unset fields (empty strings, nil pointers) are left as they are.
type RestoreFields struct {
	CommitTs      string
	TimeStarted   *metav1.Time
	TimeCompleted *metav1.Time
	TimeTaken     string
}

// SetRestoreCondition records cond through v1alpha1.UpdateRestoreCondition (one condition per
// type, the phase becomes cond's type) and sets the set fields of f.
func SetRestoreCondition(cond v1alpha1.RestoreCondition, f RestoreFields) func(*v1alpha1.Restore) bool {
	return func(rs *v1alpha1.Restore) bool {
		changed := applyRestoreFields(&rs.Status, f)
		if v1alpha1.UpdateRestoreCondition(&rs.Status, &cond) {
			changed = true
		}
		return changed
	}
}

// SetRestoreFields sets the set fields of f without touching conditions or phase.
func SetRestoreFields(f RestoreFields) func(*v1alpha1.Restore) bool {
	return func(rs *v1alpha1.Restore) bool {
		return applyRestoreFields(&rs.Status, f)
	}
}

// SetRestoreProgress records that step reached percent at now in status.progresses, with the
// same rules as SetBackupProgress.
func SetRestoreProgress(step string, percent float64, now metav1.Time) func(*v1alpha1.Restore) bool {
	return func(rs *v1alpha1.Restore) bool {
		ps, changed := upsertProgress(rs.Status.Progresses, step, percent, now)
		rs.Status.Progresses = ps
		return changed
	}
}

func applyRestoreFields(st *v1alpha1.RestoreStatus, f RestoreFields) bool {
	return anyTrue([]bool{
		setString(&st.CommitTs, f.CommitTs),
		setTime(&st.TimeStarted, f.TimeStarted),
		setTime(&st.TimeCompleted, f.TimeCompleted),
		setString(&st.TimeTaken, f.TimeTaken),
	})
}

// ClearRestoreProgress removes the progress of an earlier run, as ClearBackupProgress does.
func ClearRestoreProgress() func(*v1alpha1.Restore) bool {
	return func(rs *v1alpha1.Restore) bool {
		if len(rs.Status.Progresses) == 0 {
			return false
		}
		rs.Status.Progresses = nil
		return true
	}
}
