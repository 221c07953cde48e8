package status

import (
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// CompactFields are the CompactBackup status fields a transaction may set besides the state;
// empty ones are left as they are.
type CompactFields struct {
	// Progress is tikv-ctl's latest progress, as text for people.
	Progress string
	// Message says why the state was reached, typically the error of a failure.
	Message string
	// EndTs is the TSO the compaction has covered up to.
	EndTs string
}

// SetCompactState sets status.state to state (unless it is empty, for a progress-only report)
// and the non-empty fields of f, as v1.6's compact status updater did. v1.6 also dropped
// progress reports arriving within 3s of the previous one; that throttling belongs to whoever
// produces the reports (brlog.Throttle), so that a transaction stays a plain edit.
func SetCompactState(state v1alpha1.CompactState, f CompactFields) func(*v1alpha1.CompactBackup) bool {
	return func(cb *v1alpha1.CompactBackup) bool {
		st := &cb.Status
		return anyTrue([]bool{
			setString(&st.State, state),
			setString(&st.Progress, f.Progress),
			setString(&st.Message, f.Message),
			setString(&st.EndTs, f.EndTs),
		})
	}
}
