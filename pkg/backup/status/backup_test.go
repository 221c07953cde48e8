package status

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

var (
	t0 = metav1.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 = metav1.Date(2025, 1, 2, 3, 5, 0, 0, time.UTC)
	t2 = metav1.Date(2025, 1, 2, 3, 6, 0, 0, time.UTC)
)

// cond is a condition that changed at t0, so that expectations need no clock.
func cond(t v1alpha1.BackupConditionType, s corev1.ConditionStatus) v1alpha1.BackupCondition {
	return v1alpha1.BackupCondition{Type: t, Status: s, LastTransitionTime: t0}
}

// logCond is cond about a run of a log backup subcommand.
func logCond(cmd v1alpha1.LogSubCommandType, t v1alpha1.BackupConditionType) v1alpha1.BackupCondition {
	c := cond(t, corev1.ConditionTrue)
	c.Command = cmd
	return c
}

func condTypes(cs []v1alpha1.BackupCondition) string {
	ts := make([]string, 0, len(cs))
	for _, c := range cs {
		ts = append(ts, string(c.Type))
	}
	return strings.Join(ts, ",")
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestSetBackupCondition(t *testing.T) {
	cases := map[string]struct {
		// before is the status the transaction finds.
		before v1alpha1.BackupStatus
		// cond and fields are the transaction's arguments.
		cond   v1alpha1.BackupCondition
		fields BackupFields
		// want is the status after it; wantChanged what it reports.
		want        v1alpha1.BackupStatus
		wantChanged bool
	}{
		"a new condition is added and becomes the phase": {
			before:      v1alpha1.BackupStatus{Phase: v1alpha1.BackupScheduled, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupScheduled, corev1.ConditionTrue)}},
			cond:        cond(v1alpha1.BackupPrepare, corev1.ConditionTrue),
			fields:      BackupFields{BackupPath: "s3://b/p"},
			want:        v1alpha1.BackupStatus{BackupPath: "s3://b/p", Phase: v1alpha1.BackupPrepare, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupScheduled, corev1.ConditionTrue), cond(v1alpha1.BackupPrepare, corev1.ConditionTrue)}},
			wantChanged: true,
		},
		"Restart is recorded but never becomes the phase": {
			before:      v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
			cond:        cond(v1alpha1.BackupRestart, corev1.ConditionTrue),
			want:        v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue), cond(v1alpha1.BackupRestart, corev1.ConditionTrue)}},
			wantChanged: true,
		},
		"Clean=False makes the phase Clean": {
			before:      v1alpha1.BackupStatus{Phase: v1alpha1.BackupComplete, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupComplete, corev1.ConditionTrue)}},
			cond:        cond(v1alpha1.BackupClean, corev1.ConditionFalse),
			want:        v1alpha1.BackupStatus{Phase: v1alpha1.BackupClean, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupComplete, corev1.ConditionTrue), cond(v1alpha1.BackupClean, corev1.ConditionFalse)}},
			wantChanged: true,
		},
		"the condition that is already there, without a transition time, is no change": {
			before: v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
			cond:   v1alpha1.BackupCondition{Type: v1alpha1.BackupRunning, Status: corev1.ConditionTrue},
			want:   v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
		},
		"a condition of an earlier type is replaced in place and becomes the phase again": {
			before: v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupFailed, corev1.ConditionFalse), cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
			cond:   v1alpha1.BackupCondition{Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: "BackupDataToRemoteFailed", LastTransitionTime: t1},
			want: v1alpha1.BackupStatus{Phase: v1alpha1.BackupFailed, Conditions: []v1alpha1.BackupCondition{
				{Type: v1alpha1.BackupFailed, Status: corev1.ConditionTrue, Reason: "BackupDataToRemoteFailed", LastTransitionTime: t1},
				cond(v1alpha1.BackupRunning, corev1.ConditionTrue),
			}},
			wantChanged: true,
		},
		"set fields are written and unset ones left alone": {
			before: v1alpha1.BackupStatus{BackupPath: "s3://b/p", LogCheckpointTs: "7", Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
			cond:   cond(v1alpha1.BackupComplete, corev1.ConditionTrue),
			fields: BackupFields{CommitTs: "100", TimeStarted: &t0, TimeCompleted: &t1, TimeTaken: "55s", BackupSize: ptr.To[int64](2048), BackupSizeReadable: "2.0 kB"},
			want: v1alpha1.BackupStatus{
				BackupPath: "s3://b/p", LogCheckpointTs: "7", CommitTs: "100", TimeStarted: t0, TimeCompleted: t1, TimeTaken: "55s", BackupSize: 2048, BackupSizeReadable: "2.0 kB",
				Phase: v1alpha1.BackupComplete, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue), cond(v1alpha1.BackupComplete, corev1.ConditionTrue)},
			},
			wantChanged: true,
		},
		"a size of zero is written, because only a nil size is unset": {
			before:      v1alpha1.BackupStatus{BackupSize: 5, Phase: v1alpha1.BackupComplete, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupComplete, corev1.ConditionTrue)}},
			cond:        cond(v1alpha1.BackupComplete, corev1.ConditionTrue),
			fields:      BackupFields{BackupSize: ptr.To[int64](0)},
			want:        v1alpha1.BackupStatus{Phase: v1alpha1.BackupComplete, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupComplete, corev1.ConditionTrue)}},
			wantChanged: true,
		},
		"a time that differs only below a second from the stored one is no change": {
			before: v1alpha1.BackupStatus{TimeStarted: t0, Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
			cond:   cond(v1alpha1.BackupRunning, corev1.ConditionTrue),
			fields: BackupFields{TimeStarted: &metav1.Time{Time: t0.Add(300 * time.Millisecond)}},
			want:   v1alpha1.BackupStatus{TimeStarted: t0, Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
		},
		"logTruncatingUntil without a command has nowhere to go": {
			before: v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
			cond:   cond(v1alpha1.BackupRunning, corev1.ConditionTrue),
			fields: BackupFields{LogTruncatingUntil: "5"},
			want:   v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupRunning, corev1.ConditionTrue)}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bk := &v1alpha1.Backup{Status: *tc.before.DeepCopy()}
			changed := SetBackupCondition(tc.cond, tc.fields)(bk)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if !equality.Semantic.DeepEqual(bk.Status, tc.want) {
				t.Errorf("status =\n%s\nwant\n%s", dump(bk.Status), dump(tc.want))
			}
		})
	}
}

func TestSetBackupConditionStampsANewConditionWithTheCurrentTime(t *testing.T) {
	bk := &v1alpha1.Backup{}
	before := time.Now().Add(-time.Second)
	SetBackupCondition(v1alpha1.BackupCondition{Type: v1alpha1.BackupRunning, Status: corev1.ConditionTrue}, BackupFields{})(bk)
	if got := bk.Status.Conditions[0].LastTransitionTime; got.Time.Before(before) {
		t.Errorf("lastTransitionTime = %v, want about now", got)
	}
}

// running is a log backup's status once log-start has run to Running.
func running() v1alpha1.BackupStatus {
	return v1alpha1.BackupStatus{
		BackupPath: "s3://b/log",
		Phase:      v1alpha1.BackupRunning,
		Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupScheduled, corev1.ConditionTrue), cond(v1alpha1.BackupPrepare, corev1.ConditionTrue), cond(v1alpha1.BackupRunning, corev1.ConditionTrue)},
		LogSubCommandStatuses: map[v1alpha1.LogSubCommandType]v1alpha1.LogSubCommandStatus{
			v1alpha1.LogStartCommand: {
				Command:    v1alpha1.LogStartCommand,
				Phase:      v1alpha1.BackupRunning,
				Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupPrepare, corev1.ConditionTrue), cond(v1alpha1.BackupRunning, corev1.ConditionTrue)},
			},
		},
	}
}

// with returns st with more subcommand statuses and changes made by edit.
func with(st v1alpha1.BackupStatus, edit func(*v1alpha1.BackupStatus)) v1alpha1.BackupStatus {
	st = *st.DeepCopy()
	edit(&st)
	return st
}

func TestSetBackupConditionForLogBackupSubcommands(t *testing.T) {
	trueConds := func(ts ...v1alpha1.BackupConditionType) []v1alpha1.BackupCondition {
		var cs []v1alpha1.BackupCondition
		for _, t := range ts {
			cs = append(cs, cond(t, corev1.ConditionTrue))
		}
		return cs
	}
	cases := map[string]struct {
		// before is the status the transaction finds.
		before v1alpha1.BackupStatus
		// cond (with a command) and fields are the transaction's arguments.
		cond   v1alpha1.BackupCondition
		fields BackupFields
		// want is the status after it.
		want v1alpha1.BackupStatus
	}{
		"log-start Prepare goes to the subcommand and to the whole backup": {
			before: v1alpha1.BackupStatus{Phase: v1alpha1.BackupScheduled, Conditions: trueConds(v1alpha1.BackupScheduled)},
			cond:   logCond(v1alpha1.LogStartCommand, v1alpha1.BackupPrepare),
			want: v1alpha1.BackupStatus{
				Phase: v1alpha1.BackupPrepare, Conditions: trueConds(v1alpha1.BackupScheduled, v1alpha1.BackupPrepare),
				LogSubCommandStatuses: map[v1alpha1.LogSubCommandType]v1alpha1.LogSubCommandStatus{
					v1alpha1.LogStartCommand: {Command: v1alpha1.LogStartCommand, Phase: v1alpha1.BackupPrepare, Conditions: trueConds(v1alpha1.BackupPrepare)},
				},
			},
		},
		"log-start Complete keeps the whole backup Running and records commitTs but not the end time": {
			before: running(),
			cond:   logCond(v1alpha1.LogStartCommand, v1alpha1.BackupComplete),
			fields: BackupFields{CommitTs: "400", TimeStarted: &t0, TimeCompleted: &t1, TimeTaken: "55s"},
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.CommitTs = "400"
				st.TimeStarted = t0
				st.LogSubCommandStatuses[v1alpha1.LogStartCommand] = v1alpha1.LogSubCommandStatus{
					Command: v1alpha1.LogStartCommand, TimeStarted: t0, TimeCompleted: t1, Phase: v1alpha1.BackupComplete,
					Conditions: trueConds(v1alpha1.BackupPrepare, v1alpha1.BackupRunning, v1alpha1.BackupComplete),
				}
			}),
		},
		"log-start Failed makes the whole backup Failed": {
			before: v1alpha1.BackupStatus{Phase: v1alpha1.BackupPrepare, Conditions: trueConds(v1alpha1.BackupPrepare)},
			cond:   logCond(v1alpha1.LogStartCommand, v1alpha1.BackupFailed),
			want: v1alpha1.BackupStatus{
				Phase: v1alpha1.BackupFailed, Conditions: trueConds(v1alpha1.BackupPrepare, v1alpha1.BackupFailed),
				LogSubCommandStatuses: map[v1alpha1.LogSubCommandType]v1alpha1.LogSubCommandStatus{
					v1alpha1.LogStartCommand: {Command: v1alpha1.LogStartCommand, Phase: v1alpha1.BackupFailed, Conditions: trueConds(v1alpha1.BackupFailed)},
				},
			},
		},
		"log-stop Running concerns the run only, the task is still running": {
			before: running(),
			cond:   logCond(v1alpha1.LogStopCommand, v1alpha1.BackupRunning),
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.LogSubCommandStatuses[v1alpha1.LogStopCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogStopCommand, Phase: v1alpha1.BackupRunning, Conditions: trueConds(v1alpha1.BackupRunning)}
			}),
		},
		"log-stop Complete makes the whole backup Stopped with the stop's end time": {
			before: running(),
			cond:   logCond(v1alpha1.LogStopCommand, v1alpha1.BackupComplete),
			fields: BackupFields{TimeStarted: &t1, TimeCompleted: &t2, TimeTaken: "1m0s"},
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.Phase = v1alpha1.BackupStopped
				st.TimeCompleted = t2
				st.Conditions = append(st.Conditions, cond(v1alpha1.BackupStopped, corev1.ConditionTrue))
				st.LogSubCommandStatuses[v1alpha1.LogStopCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogStopCommand, TimeStarted: t1, TimeCompleted: t2, Phase: v1alpha1.BackupComplete, Conditions: trueConds(v1alpha1.BackupComplete)}
			}),
		},
		"log-pause Complete makes the whole backup Paused": {
			before: running(),
			cond:   logCond(v1alpha1.LogPauseCommand, v1alpha1.BackupComplete),
			fields: BackupFields{TimeStarted: &t1, TimeCompleted: &t2},
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.Phase = v1alpha1.BackupPaused
				st.Conditions = append(st.Conditions, cond(v1alpha1.BackupPaused, corev1.ConditionTrue))
				st.LogSubCommandStatuses[v1alpha1.LogPauseCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogPauseCommand, TimeStarted: t1, TimeCompleted: t2, Phase: v1alpha1.BackupComplete, Conditions: trueConds(v1alpha1.BackupComplete)}
			}),
		},
		"a failed log-pause leaves the task running": {
			before: running(),
			cond:   logCond(v1alpha1.LogPauseCommand, v1alpha1.BackupFailed),
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.LogSubCommandStatuses[v1alpha1.LogPauseCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogPauseCommand, Phase: v1alpha1.BackupFailed, Conditions: trueConds(v1alpha1.BackupFailed)}
			}),
		},
		"log-resume Complete makes a paused backup Running again": {
			before: with(running(), func(st *v1alpha1.BackupStatus) {
				st.Phase = v1alpha1.BackupPaused
				st.Conditions = append(st.Conditions, cond(v1alpha1.BackupPaused, corev1.ConditionTrue))
			}),
			cond: logCond(v1alpha1.LogResumeCommand, v1alpha1.BackupComplete),
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.Conditions = append(st.Conditions, cond(v1alpha1.BackupPaused, corev1.ConditionTrue))
				st.LogSubCommandStatuses[v1alpha1.LogResumeCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogResumeCommand, Phase: v1alpha1.BackupComplete, Conditions: trueConds(v1alpha1.BackupComplete)}
			}),
		},
		"log-truncate Running records the truncation point for the subcommand only": {
			before: running(),
			cond:   logCond(v1alpha1.LogTruncateCommand, v1alpha1.BackupRunning),
			fields: BackupFields{LogTruncatingUntil: "500", TimeStarted: &t1},
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.LogSubCommandStatuses[v1alpha1.LogTruncateCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogTruncateCommand, TimeStarted: t1, LogTruncatingUntil: "500", Phase: v1alpha1.BackupRunning, Conditions: trueConds(v1alpha1.BackupRunning)}
			}),
		},
		"log-truncate Complete records logSuccessTruncateUntil, not the phase nor its times": {
			before: running(),
			cond:   logCond(v1alpha1.LogTruncateCommand, v1alpha1.BackupComplete),
			fields: BackupFields{LogSuccessTruncateUntil: "500", TimeStarted: &t1, TimeCompleted: &t2},
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.LogSuccessTruncateUntil = "500"
				st.LogSubCommandStatuses[v1alpha1.LogTruncateCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogTruncateCommand, TimeStarted: t1, TimeCompleted: t2, Phase: v1alpha1.BackupComplete, Conditions: trueConds(v1alpha1.BackupComplete)}
			}),
		},
		"a Restart of a subcommand is recorded but does not become its phase": {
			before: running(),
			cond:   logCond(v1alpha1.LogStartCommand, v1alpha1.BackupRestart),
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.Conditions = append(st.Conditions, cond(v1alpha1.BackupRestart, corev1.ConditionTrue))
				sub := st.LogSubCommandStatuses[v1alpha1.LogStartCommand]
				sub.Conditions = append(sub.Conditions, cond(v1alpha1.BackupRestart, corev1.ConditionTrue))
				st.LogSubCommandStatuses[v1alpha1.LogStartCommand] = sub
			}),
		},
		"an unknown subcommand is recorded for itself only": {
			before: running(),
			cond:   logCond(v1alpha1.LogUnknownCommand, v1alpha1.BackupFailed),
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.LogSubCommandStatuses[v1alpha1.LogUnknownCommand] = v1alpha1.LogSubCommandStatus{Command: v1alpha1.LogUnknownCommand, Phase: v1alpha1.BackupFailed, Conditions: trueConds(v1alpha1.BackupFailed)}
			}),
		},
		"a condition without a command on a log backup goes to the whole backup only": {
			before: running(),
			cond:   cond(v1alpha1.BackupClean, corev1.ConditionFalse),
			want: with(running(), func(st *v1alpha1.BackupStatus) {
				st.Phase = v1alpha1.BackupClean
				st.Conditions = append(st.Conditions, cond(v1alpha1.BackupClean, corev1.ConditionFalse))
			}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bk := &v1alpha1.Backup{Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog}, Status: *tc.before.DeepCopy()}
			tx := SetBackupCondition(tc.cond, tc.fields)
			if !tx(bk) {
				t.Error("changed = false, want true")
			}
			if !equality.Semantic.DeepEqual(bk.Status, tc.want) {
				t.Errorf("status =\n%s\nwant\n%s", dump(bk.Status), dump(tc.want))
			}
			if tx(bk) {
				t.Error("applying the same transaction again reported a change")
			}
		})
	}
}

// The phases written here are what v1alpha1's helpers read to pick the next subcommand.
func TestLogBackupPhasesDriveTheNextSubcommand(t *testing.T) {
	bk := &v1alpha1.Backup{Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog, LogSubcommand: v1alpha1.LogPauseCommand}, Status: running()}
	bk.Status.CommitTs = "400"
	if got := v1alpha1.ParseLogBackupSubcommand(bk); got != v1alpha1.LogPauseCommand {
		t.Fatalf("subcommand = %q before the pause, want log-pause", got)
	}
	SetBackupCondition(logCond(v1alpha1.LogPauseCommand, v1alpha1.BackupComplete), BackupFields{})(bk)
	if !v1alpha1.IsLogBackupAlreadyPaused(bk) || !v1alpha1.IsBackupComplete(bk) {
		t.Errorf("after log-pause Complete: paused = %v, complete = %v; want both", v1alpha1.IsLogBackupAlreadyPaused(bk), v1alpha1.IsBackupComplete(bk))
	}
	bk.Spec.LogSubcommand = v1alpha1.LogStartCommand
	if got := v1alpha1.ParseLogBackupSubcommand(bk); got != v1alpha1.LogResumeCommand {
		t.Errorf("subcommand asked to start a paused task = %q, want log-resume", got)
	}
	bk.Spec.LogSubcommand = v1alpha1.LogStopCommand
	SetBackupCondition(logCond(v1alpha1.LogStopCommand, v1alpha1.BackupComplete), BackupFields{})(bk)
	if !v1alpha1.IsLogBackupAlreadyStop(bk) || !v1alpha1.IsBackupComplete(bk) {
		t.Errorf("after log-stop Complete: stopped = %v, complete = %v; want both", v1alpha1.IsLogBackupAlreadyStop(bk), v1alpha1.IsBackupComplete(bk))
	}
}

func TestSetBackupFieldsLeavesConditionsAlone(t *testing.T) {
	bk := &v1alpha1.Backup{Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog}, Status: running()}
	if !SetBackupFields(BackupFields{LogCheckpointTs: "450", LogTruncatingUntil: "9"})(bk) {
		t.Fatal("changed = false, want true")
	}
	want := with(running(), func(st *v1alpha1.BackupStatus) { st.LogCheckpointTs = "450" })
	if !equality.Semantic.DeepEqual(bk.Status, want) {
		t.Errorf("status =\n%s\nwant\n%s", dump(bk.Status), dump(want))
	}
}
