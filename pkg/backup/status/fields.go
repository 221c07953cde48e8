package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// The field structs (BackupFields, RestoreFields, CompactFields) say which status fields a
// transaction sets. A field is left alone when it is "unset": an empty string, or a nil pointer
// for times and numbers. Numbers are pointers because zero is a real value (an empty backup has
// size 0); times are pointers so that "leave it" cannot be confused with a time. No transaction
// clears a field, as in v1.6.

// setString sets *dst to v unless v is unset or already there, and reports whether it did.
func setString[S ~string](dst *S, v S) bool {
	if v == "" || *dst == v {
		return false
	}
	*dst = v
	return true
}

// setInt64 sets *dst to *v unless v is nil or the value is already there.
func setInt64(dst *int64, v *int64) bool {
	if v == nil || *dst == *v {
		return false
	}
	*dst = *v
	return true
}

// setTime sets *dst to *v unless v is nil or the time is already there. Times are compared and
// stored at whole seconds, the precision the API keeps, so that writing the same time again
// after a round trip through the API server is recognised as no change.
func setTime(dst *metav1.Time, v *metav1.Time) bool {
	if v == nil {
		return false
	}
	t := v.Rfc3339Copy()
	if dst.Equal(&t) {
		return false
	}
	*dst = t
	return true
}

// upsertProgress records that step reached percent at now, with v1.6's rules: a new step is
// appended, and the step before it, which must have ended, is completed to 100%; a known step
// only moves forwards, so a lower or equal percent is no change (BR's reports may repeat, and a
// report delayed by the throttle must not move the bar back). LastTransitionTime changes only
// with the percent, so repeating a report makes no write.
func upsertProgress(ps []v1alpha1.Progress, step string, percent float64, now metav1.Time) ([]v1alpha1.Progress, bool) {
	now = now.Rfc3339Copy()
	for i := range ps {
		if ps[i].Step != step {
			continue
		}
		if percent <= ps[i].Progress {
			return ps, false
		}
		ps[i].Progress = percent
		ps[i].LastTransitionTime = now
		return ps, true
	}
	if n := len(ps); n > 0 && ps[n-1].Progress < 100 {
		ps[n-1].Progress = 100
		ps[n-1].LastTransitionTime = now
	}
	return append(ps, v1alpha1.Progress{Step: step, Progress: percent, LastTransitionTime: now}), true
}
