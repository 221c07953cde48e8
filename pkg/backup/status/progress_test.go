package status

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestProgress(t *testing.T) {
	p := func(step string, percent float64, at metav1.Time) v1alpha1.Progress {
		return v1alpha1.Progress{Step: step, Progress: percent, LastTransitionTime: at}
	}
	cases := map[string]struct {
		// before are the progresses the transaction finds.
		before []v1alpha1.Progress
		// step and percent are reported at t2.
		step    string
		percent float64
		// want are the progresses after it; wantChanged what it reports.
		want        []v1alpha1.Progress
		wantChanged bool
	}{
		"the first report of a step adds it": {
			step: "Full Backup", percent: 3,
			want:        []v1alpha1.Progress{p("Full Backup", 3, t2)},
			wantChanged: true,
		},
		"a higher percent moves the step forwards with the new time": {
			before: []v1alpha1.Progress{p("Full Backup", 3, t1)},
			step:   "Full Backup", percent: 45.5,
			want:        []v1alpha1.Progress{p("Full Backup", 45.5, t2)},
			wantChanged: true,
		},
		"the same percent again is no change, whatever the time": {
			before: []v1alpha1.Progress{p("Full Backup", 45.5, t1)},
			step:   "Full Backup", percent: 45.5,
			want: []v1alpha1.Progress{p("Full Backup", 45.5, t1)},
		},
		"a lower percent is no change, progress never goes back": {
			before: []v1alpha1.Progress{p("Full Backup", 45.5, t1)},
			step:   "Full Backup", percent: 10,
			want: []v1alpha1.Progress{p("Full Backup", 45.5, t1)},
		},
		"a new step completes the step before it": {
			before: []v1alpha1.Progress{p("Full Backup", 99, t1)},
			step:   "Checksum", percent: 1,
			want:        []v1alpha1.Progress{p("Full Backup", 100, t2), p("Checksum", 1, t2)},
			wantChanged: true,
		},
		"a new step after a finished one leaves that one as it was": {
			before: []v1alpha1.Progress{p("Full Backup", 100, t1)},
			step:   "Checksum", percent: 1,
			want:        []v1alpha1.Progress{p("Full Backup", 100, t1), p("Checksum", 1, t2)},
			wantChanged: true,
		},
		"a report for an earlier step completes nothing else": {
			before: []v1alpha1.Progress{p("Full Backup", 50, t0), p("Checksum", 10, t1)},
			step:   "Full Backup", percent: 60,
			want:        []v1alpha1.Progress{p("Full Backup", 60, t2), p("Checksum", 10, t1)},
			wantChanged: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bk := &v1alpha1.Backup{Status: v1alpha1.BackupStatus{Progresses: clone(tc.before)}}
			if got := SetBackupProgress(tc.step, tc.percent, t2)(bk); got != tc.wantChanged {
				t.Errorf("backup: changed = %v, want %v", got, tc.wantChanged)
			}
			if !equality.Semantic.DeepEqual(bk.Status.Progresses, tc.want) {
				t.Errorf("backup: progresses =\n%s\nwant\n%s", dump(bk.Status.Progresses), dump(tc.want))
			}
			rs := &v1alpha1.Restore{Status: v1alpha1.RestoreStatus{Progresses: clone(tc.before)}}
			if got := SetRestoreProgress(tc.step, tc.percent, t2)(rs); got != tc.wantChanged {
				t.Errorf("restore: changed = %v, want %v", got, tc.wantChanged)
			}
			if !equality.Semantic.DeepEqual(rs.Status.Progresses, tc.want) {
				t.Errorf("restore: progresses =\n%s\nwant\n%s", dump(rs.Status.Progresses), dump(tc.want))
			}
		})
	}
}

func clone(ps []v1alpha1.Progress) []v1alpha1.Progress {
	if ps == nil {
		return nil
	}
	return append([]v1alpha1.Progress(nil), ps...)
}

func TestSetRestoreCondition(t *testing.T) {
	rcond := func(t v1alpha1.RestoreConditionType) v1alpha1.RestoreCondition {
		return v1alpha1.RestoreCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: t0}
	}
	cases := map[string]struct {
		// before is the status the transaction finds.
		before v1alpha1.RestoreStatus
		// cond and fields are the transaction's arguments.
		cond   v1alpha1.RestoreCondition
		fields RestoreFields
		// want is the status after it; wantChanged what it reports.
		want        v1alpha1.RestoreStatus
		wantChanged bool
	}{
		"Complete with its fields becomes the phase": {
			before: v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreRunning, Conditions: []v1alpha1.RestoreCondition{rcond(v1alpha1.RestoreRunning)}},
			cond:   rcond(v1alpha1.RestoreComplete),
			fields: RestoreFields{CommitTs: "400", TimeStarted: &t0, TimeCompleted: &t1, TimeTaken: "55s"},
			want: v1alpha1.RestoreStatus{
				CommitTs: "400", TimeStarted: t0, TimeCompleted: t1, TimeTaken: "55s",
				Phase: v1alpha1.RestoreComplete, Conditions: []v1alpha1.RestoreCondition{rcond(v1alpha1.RestoreRunning), rcond(v1alpha1.RestoreComplete)},
			},
			wantChanged: true,
		},
		"the condition and fields already there are no change": {
			before: v1alpha1.RestoreStatus{CommitTs: "400", Phase: v1alpha1.RestoreComplete, Conditions: []v1alpha1.RestoreCondition{rcond(v1alpha1.RestoreComplete)}},
			cond:   v1alpha1.RestoreCondition{Type: v1alpha1.RestoreComplete, Status: corev1.ConditionTrue},
			fields: RestoreFields{CommitTs: "400"},
			want:   v1alpha1.RestoreStatus{CommitTs: "400", Phase: v1alpha1.RestoreComplete, Conditions: []v1alpha1.RestoreCondition{rcond(v1alpha1.RestoreComplete)}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rs := &v1alpha1.Restore{Status: *tc.before.DeepCopy()}
			if got := SetRestoreCondition(tc.cond, tc.fields)(rs); got != tc.wantChanged {
				t.Errorf("changed = %v, want %v", got, tc.wantChanged)
			}
			if !equality.Semantic.DeepEqual(rs.Status, tc.want) {
				t.Errorf("status =\n%s\nwant\n%s", dump(rs.Status), dump(tc.want))
			}
		})
	}
}

func TestSetRestoreFieldsLeavesConditionsAlone(t *testing.T) {
	rs := &v1alpha1.Restore{Status: v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreRunning}}
	if !SetRestoreFields(RestoreFields{CommitTs: "9"})(rs) {
		t.Fatal("changed = false, want true")
	}
	if rs.Status.CommitTs != "9" || rs.Status.Phase != v1alpha1.RestoreRunning || rs.Status.Conditions != nil {
		t.Errorf("status = %+v, want only commitTs set", rs.Status)
	}
}

func TestSetCompactState(t *testing.T) {
	cases := map[string]struct {
		// before is the status the transaction finds.
		before v1alpha1.CompactStatus
		// state and fields are the transaction's arguments.
		state  v1alpha1.CompactState
		fields CompactFields
		// want is the status after it; wantChanged what it reports.
		want        v1alpha1.CompactStatus
		wantChanged bool
	}{
		"a new state is written": {
			before:      v1alpha1.CompactStatus{State: v1alpha1.CompactStateScheduled},
			state:       v1alpha1.CompactStatePrepare,
			want:        v1alpha1.CompactStatus{State: v1alpha1.CompactStatePrepare},
			wantChanged: true,
		},
		"a progress report without a state keeps the state": {
			before:      v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning},
			fields:      CompactFields{Progress: "[READ_META(1/2),COMPACT_WORK(10/100)]"},
			want:        v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning, Progress: "[READ_META(1/2),COMPACT_WORK(10/100)]"},
			wantChanged: true,
		},
		"a failure brings its message and leaves the progress": {
			before:      v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning, Progress: "p"},
			state:       v1alpha1.CompactStateFailed,
			fields:      CompactFields{Message: "tikv-ctl exited with code 1"},
			want:        v1alpha1.CompactStatus{State: v1alpha1.CompactStateFailed, Progress: "p", Message: "tikv-ctl exited with code 1"},
			wantChanged: true,
		},
		"completion records how far the compaction got": {
			before:      v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning},
			state:       v1alpha1.CompactStateComplete,
			fields:      CompactFields{EndTs: "450"},
			want:        v1alpha1.CompactStatus{State: v1alpha1.CompactStateComplete, EndTs: "450"},
			wantChanged: true,
		},
		"the same report again is no change": {
			before: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning, Progress: "p"},
			state:  v1alpha1.CompactStateRunning,
			fields: CompactFields{Progress: "p"},
			want:   v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning, Progress: "p"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cb := &v1alpha1.CompactBackup{Status: tc.before}
			if got := SetCompactState(tc.state, tc.fields)(cb); got != tc.wantChanged {
				t.Errorf("changed = %v, want %v", got, tc.wantChanged)
			}
			if !equality.Semantic.DeepEqual(cb.Status, tc.want) {
				t.Errorf("status = %+v, want %+v", cb.Status, tc.want)
			}
		})
	}
}
