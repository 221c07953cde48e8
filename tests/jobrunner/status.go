package jobrunner

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Container state reasons, as the kubelet and container runtimes report them.
const (
	reasonCompleted    = "Completed"
	reasonError        = "Error"
	reasonStartError   = "StartError"
	reasonConfigError  = "CreateContainerConfigError"
	reasonPodCompleted = "PodCompleted"
	reasonNotReady     = "ContainersNotReady"
)

// exitStartFailed is the exit code runtimes report for a container whose process could not be
// started.
const exitStartFailed = 128

// ending is how one run of the main container ended.
type ending struct {
	code     int32
	reason   string
	message  string
	started  time.Time
	finished time.Time
}

// statusFor returns the status entry of container c, starting from what is there (kwok's entry,
// which may carry IDs) or a fresh one.
func statusFor(pod *corev1.Pod, c *corev1.Container) corev1.ContainerStatus {
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name == c.Name {
			return *st.DeepCopy()
		}
	}
	return corev1.ContainerStatus{Name: c.Name, Image: c.Image}
}

// setContainerStatuses replaces the container statuses with one entry per container of the
// spec, in spec order, each built by f from its current entry.
func setContainerStatuses(pod *corev1.Pod, f func(i int, st *corev1.ContainerStatus)) {
	out := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for i := range pod.Spec.Containers {
		st := statusFor(pod, &pod.Spec.Containers[i])
		f(i, &st)
		out = append(out, st)
	}
	pod.Status.ContainerStatuses = out
}

// setCondition sets a pod condition, keeping its transition time when the status stays.
func setCondition(pod *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = metav1.NewTime(now)
		}
		c.Status, c.Reason, c.Message = status, reason, message
		return
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
		Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.NewTime(now),
	})
}

// setTerminated writes what the kubelet reports once a pod with restartPolicy Never (or a
// successful OnFailure pod) is done: phase Succeeded when the main container exited 0 and
// Failed otherwise, the main container terminated with its exit code and times, and the pod no
// longer ready. Other containers of the spec never ran here; they are reported as completed,
// as kwok reported them running.
func setTerminated(pod *corev1.Pod, e ending, restarts int32, now time.Time) {
	setContainerStatuses(pod, func(i int, st *corev1.ContainerStatus) {
		st.Ready = false
		st.Started = ptr.To(false)
		if i == 0 {
			st.RestartCount = restarts
			st.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode:    e.code,
				Reason:      e.reason,
				Message:     e.message,
				StartedAt:   metav1.NewTime(e.started),
				FinishedAt:  metav1.NewTime(e.finished),
				ContainerID: st.ContainerID,
			}}
			return
		}
		if st.State.Terminated == nil {
			started := e.started
			if st.State.Running != nil {
				started = st.State.Running.StartedAt.Time
			}
			st.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: reasonCompleted, StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(e.finished),
			}}
		}
	})
	pod.Status.Phase = corev1.PodFailed
	if e.code == 0 {
		pod.Status.Phase = corev1.PodSucceeded
	}
	setCondition(pod, corev1.PodReady, corev1.ConditionFalse, reasonPodCompleted, "", now)
	setCondition(pod, corev1.ContainersReady, corev1.ConditionFalse, reasonPodCompleted, "", now)
}

// setRestarted writes what the kubelet reports when it has restarted a failed container of an
// OnFailure pod: the previous run as the last state, one more restart, running again.
func setRestarted(pod *corev1.Pod, previous ending, restarts int32, started time.Time) {
	setContainerStatuses(pod, func(i int, st *corev1.ContainerStatus) {
		if i != 0 {
			return
		}
		st.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode:    previous.code,
			Reason:      previous.reason,
			Message:     previous.message,
			StartedAt:   metav1.NewTime(previous.started),
			FinishedAt:  metav1.NewTime(previous.finished),
			ContainerID: st.ContainerID,
		}}
		st.RestartCount = restarts
		st.Ready = true
		st.Started = ptr.To(true)
		st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}
	})
}

// setWaiting writes what the kubelet reports while it cannot create the main container (a
// missing Secret or key): the container waiting with the reason and the kubelet's message, the
// pod not ready. The kubelet would leave such a pod Pending; kwok has already made it Running,
// and the phase stays Running here, because kwok's stages take over every Pending pod again and
// would report the container as started.
func setWaiting(pod *corev1.Pod, reason, message string, now time.Time) {
	name := pod.Spec.Containers[0].Name
	setContainerStatuses(pod, func(i int, st *corev1.ContainerStatus) {
		if i != 0 {
			return
		}
		st.Ready = false
		st.Started = ptr.To(false)
		st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
	})
	msg := fmt.Sprintf("containers with unready status: [%s]", name)
	setCondition(pod, corev1.PodReady, corev1.ConditionFalse, reasonNotReady, msg, now)
	setCondition(pod, corev1.ContainersReady, corev1.ConditionFalse, reasonNotReady, msg, now)
}

// waitingReason is the main container's waiting reason and message, if it is waiting.
func waitingReason(pod *corev1.Pod) (string, string) {
	if len(pod.Spec.Containers) == 0 {
		return "", ""
	}
	name := pod.Spec.Containers[0].Name
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name == name && st.State.Waiting != nil {
			return st.State.Waiting.Reason, st.State.Waiting.Message
		}
	}
	return "", ""
}
