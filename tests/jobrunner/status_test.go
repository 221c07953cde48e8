package jobrunner

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// runningPod is a Job pod as kwok leaves it once Running: scheduled, initialised, ready, its
// containers running.
func runningPod(kwokStart time.Time) *corev1.Pod {
	at := metav1.NewTime(kwokStart)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "backup-b-x7k"},
		Spec: corev1.PodSpec{
			NodeName:      "node-1",
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "backup", Image: "pingcap/tidb-backup-manager:v1"}, {Name: "sidecar", Image: "busybox"}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at},
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: at},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: at},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: at},
			},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "sidecar", Image: "busybox", Ready: true, Started: ptr.To(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at}}},
				{Name: "backup", Image: "pingcap/tidb-backup-manager:v1", ImageID: "kwok-image", Ready: true, Started: ptr.To(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at}}},
			},
		},
	}
}

func condition(pod *corev1.Pod, typ corev1.PodConditionType) corev1.PodCondition {
	for _, c := range pod.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return corev1.PodCondition{}
}

func TestSetTerminated(t *testing.T) {
	kwokStart := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	started, finished, now := kwokStart.Add(time.Second), kwokStart.Add(5*time.Second), kwokStart.Add(6*time.Second)
	for _, tc := range []struct {
		code   int32
		reason string
		phase  corev1.PodPhase
	}{
		{0, reasonCompleted, corev1.PodSucceeded},
		{3, reasonError, corev1.PodFailed},
	} {
		pod := runningPod(kwokStart)
		setTerminated(pod, ending{code: tc.code, reason: tc.reason, message: "m", started: started, finished: finished}, 0, now)
		if pod.Status.Phase != tc.phase {
			t.Errorf("exit %d: phase %s, want %s", tc.code, pod.Status.Phase, tc.phase)
		}
		// Spec order, whatever order kwok wrote them in.
		if got := []string{pod.Status.ContainerStatuses[0].Name, pod.Status.ContainerStatuses[1].Name}; !reflect.DeepEqual(got, []string{"backup", "sidecar"}) {
			t.Fatalf("container statuses in order %v", got)
		}
		main := pod.Status.ContainerStatuses[0]
		want := &corev1.ContainerStateTerminated{ExitCode: tc.code, Reason: tc.reason, Message: "m", StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(finished)}
		if !reflect.DeepEqual(main.State.Terminated, want) || main.State.Running != nil {
			t.Errorf("exit %d: main state %+v, want terminated %+v", tc.code, main.State, want)
		}
		if main.Ready || main.Started == nil || *main.Started || main.ImageID != "kwok-image" {
			t.Errorf("exit %d: main status %+v: want not ready, not started, image ID kept", tc.code, main)
		}
		side := pod.Status.ContainerStatuses[1]
		if side.State.Terminated == nil || side.State.Terminated.ExitCode != 0 || !side.State.Terminated.StartedAt.Time.Equal(kwokStart) {
			t.Errorf("exit %d: sidecar state %+v, want completed since kwok started it", tc.code, side.State)
		}
		for _, typ := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
			c := condition(pod, typ)
			if c.Status != corev1.ConditionFalse || c.Reason != reasonPodCompleted || !c.LastTransitionTime.Time.Equal(now) {
				t.Errorf("exit %d: %s = %+v, want False, PodCompleted, changed now", tc.code, typ, c)
			}
		}
		if c := condition(pod, corev1.PodInitialized); c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(kwokStart) {
			t.Errorf("exit %d: Initialized changed: %+v", tc.code, c)
		}
	}
}

func TestSetWaitingKeepsThePhase(t *testing.T) {
	kwokStart := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	pod := runningPod(kwokStart)
	setWaiting(pod, reasonConfigError, "couldn't find key password in Secret ns/creds", kwokStart.Add(time.Second))
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running", pod.Status.Phase)
	}
	if reason, msg := waitingReason(pod); reason != reasonConfigError || !strings.Contains(msg, "password") {
		t.Errorf("waiting %q %q", reason, msg)
	}
	if c := condition(pod, corev1.PodReady); c.Status != corev1.ConditionFalse || c.Reason != reasonNotReady || !strings.Contains(c.Message, "[backup]") {
		t.Errorf("Ready = %+v", c)
	}
	if side := pod.Status.ContainerStatuses[1]; side.Name != "sidecar" || side.State.Running == nil {
		t.Errorf("sidecar status changed: %+v", side)
	}
}

func TestSetRestarted(t *testing.T) {
	kwokStart := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	pod := runningPod(kwokStart)
	prev := ending{code: 1, reason: reasonError, started: kwokStart, finished: kwokStart.Add(time.Second)}
	again := kwokStart.Add(3 * time.Second)
	setRestarted(pod, prev, 1, again)
	main := pod.Status.ContainerStatuses[0]
	if main.RestartCount != 1 || main.State.Running == nil || !main.State.Running.StartedAt.Time.Equal(again) {
		t.Errorf("main status %+v, want running again since %s with one restart", main, again)
	}
	if last := main.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 || last.Reason != reasonError {
		t.Errorf("last state %+v, want the failed run", main.LastTerminationState)
	}
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s", pod.Status.Phase)
	}
}

func TestImageMatches(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		match     bool
	}{
		{"pingcap/tidb-backup-manager:v1.6.0", "pingcap/tidb-backup-manager:v1.6.0", true},
		{"pingcap/tidb-backup-manager:v1.6.0", "pingcap/tidb-backup-manager:v1.6.1", false},
		{"pingcap/tidb-backup-manager", "pingcap/tidb-backup-manager:v1.6.1", true},
		{"pingcap/tidb-backup-manager", "pingcap/tidb-backup-manager@sha256:abc", true},
		{"pingcap/tidb-backup-manager", "pingcap/tidb-backup-manager", true},
		{"pingcap/tidb-backup-manager", "pingcap/tidb-backup-manager-debug:v1", false},
		{"localhost:5000/tidb-backup-manager", "localhost:5000/tidb-backup-manager:dev", true},
		{"localhost:5000/tidb-backup-manager", "localhost:5001/tidb-backup-manager:dev", false},
		{"pingcap/tidb-backup-manager", "pingcap/br:v8", false},
	} {
		if got := imageMatches(tc.want, tc.got); got != tc.match {
			t.Errorf("imageMatches(%q, %q) = %v, want %v", tc.want, tc.got, got, tc.match)
		}
	}
}

func TestCommandArgs(t *testing.T) {
	lookup := func(n string) (string, bool) {
		if n == "NS" {
			return "prod", true
		}
		return "", false
	}
	for _, tc := range []struct {
		command, args []string
		want          []string
		wantErr       bool
	}{
		{args: []string{"backup", "--namespace=$(NS)"}, want: []string{"backup", "--namespace=prod"}},
		{command: []string{"/tidb-backup-manager"}, args: []string{"clean"}, want: []string{"clean"}},
		{command: []string{"tidb-backup-manager", "restore"}, args: []string{"--restoreName=r"}, want: []string{"restore", "--restoreName=r"}},
		{command: []string{"/bin/sh", "-c"}, args: []string{"sleep 1"}, wantErr: true},
	} {
		got, err := commandArgs(&corev1.Container{Name: "c", Command: tc.command, Args: tc.args}, lookup)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%v %v: no error", tc.command, tc.args)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v %v: got %v, %v; want %v", tc.command, tc.args, got, err, tc.want)
		}
	}
}

func TestDeletionGrace(t *testing.T) {
	pod := &corev1.Pod{}
	if got := deletionGrace(pod); got != 30*time.Second {
		t.Errorf("default grace %s", got)
	}
	pod.Spec.TerminationGracePeriodSeconds = ptr.To(int64(5))
	if got := deletionGrace(pod); got != 5*time.Second {
		t.Errorf("pod's grace %s", got)
	}
	pod.DeletionGracePeriodSeconds = ptr.To(int64(0))
	if got := deletionGrace(pod); got != minimumGrace {
		t.Errorf("grace of a forced deletion %s, want the minimum", got)
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for i := int32(1); i <= 6; i++ {
		got = append(got, backoff(i))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logTail(path, 80, 1<<20), "\n"); got != 79 {
		t.Errorf("80 lines joined by %d newlines, want 79", got)
	}
	if got := logTail(path, 80, 20); len(got) > 20 {
		t.Errorf("tail of %d bytes, want at most 20", len(got))
	}
	if got := logTail(filepath.Join(t.TempDir(), "none"), 80, 100); got != "" {
		t.Errorf("tail of a missing file %q", got)
	}
}
