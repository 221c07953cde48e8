package backupjob

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Phase is what a Job amounts to for the object it works for.
type Phase string

const (
	// Absent: there is no Job of that name.
	Absent Phase = "Absent"
	// Running: the Job exists and has not finished (its pod may still be pending).
	Running Phase = "Running"
	// Succeeded: the Job completed.
	Succeeded Phase = "Succeeded"
	// Failed: the Job failed; with backoffLimit 0 that is the first failed pod.
	Failed Phase = "Failed"
)

// Outcome is an observed Job.
type Outcome struct {
	Phase Phase
	// Reason and Message of the Job's Failed condition (for example BackoffLimitExceeded,
	// DeadlineExceeded), for the custom resource's condition and events.
	Reason, Message string
	// FinishedAt is when the Job completed or failed; zero while it runs.
	FinishedAt metav1.Time
}

// Observe reads a Job's outcome from its conditions. A nil Job is Absent. The terminal
// conditions are Complete and Failed; the interim SuccessCriteriaMet and FailureTarget
// (kube-controller-manager sets them before it has removed the pods' tracking finalizers)
// already decide the outcome, so the controller does not wait for the clean-up to act.
func Observe(job *batchv1.Job) Outcome {
	if job == nil {
		return Outcome{Phase: Absent}
	}
	var out *Outcome
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete, batchv1.JobSuccessCriteriaMet:
			return Outcome{Phase: Succeeded, FinishedAt: finishedAt(job, c)}
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			if out == nil || c.Type == batchv1.JobFailed {
				out = &Outcome{Phase: Failed, Reason: c.Reason, Message: c.Message, FinishedAt: finishedAt(job, c)}
			}
		}
	}
	if out != nil {
		if out.Reason == "" {
			out.Reason = "JobFailed"
		}
		if out.Message == "" {
			out.Message = fmt.Sprintf("Job %s failed", job.Name)
		}
		return *out
	}
	return Outcome{Phase: Running}
}

// finishedAt prefers the Job's completion time, then the condition's transition time.
func finishedAt(job *batchv1.Job, c batchv1.JobCondition) metav1.Time {
	if job.Status.CompletionTime != nil {
		return *job.Status.CompletionTime
	}
	return c.LastTransitionTime
}

// ErrForeignJob says a Job of the wanted name exists but is not controlled by the object the
// caller works for. The controller must not run, delete or wait on someone else's Job; it
// reports the conflict so the user can rename or remove one of them.
var ErrForeignJob = errors.New("the Job belongs to another object")

// Get reads the Job named name in namespace through c. A missing Job is (nil, nil). A Job not
// controlled by owner is returned together with an error matching ErrForeignJob.
func Get(ctx context.Context, c client.Reader, owner metav1.Object, namespace, name string) (*batchv1.Job, error) {
	job := &batchv1.Job{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, job); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get Job %s/%s: %w", namespace, name, err)
	}
	if err := checkOwner(job, owner); err != nil {
		return job, err
	}
	return job, nil
}

func checkOwner(job *batchv1.Job, owner metav1.Object) error {
	ref := metav1.GetControllerOf(job)
	if ref == nil || ref.UID != owner.GetUID() {
		by := "nothing"
		if ref != nil {
			by = fmt.Sprintf("%s %s", ref.Kind, ref.Name)
		}
		return fmt.Errorf("the Job %s/%s is controlled by %s, not by %s: %w", job.Namespace, job.Name, by, owner.GetName(), ErrForeignJob)
	}
	return nil
}

// Ensure creates desired unless a Job of its name exists, and returns the live Job and whether
// this call created it. An existing Job is never updated: a Job's pod template is immutable
// once running, and the backup family decides to replace a Job only through Delete after
// observing it finished. desired must carry its controller owner reference (the builders set
// it); an existing Job controlled by anything else is an ErrForeignJob.
//
// c should read from the informer cache: a Job created by an earlier reconcile that the cache
// has not seen yet makes Create answer AlreadyExists, which is treated as "exists" after a
// direct read through c (the cache catches up within the reconcile's retry).
func Ensure(ctx context.Context, c client.Client, desired *batchv1.Job) (*batchv1.Job, bool, error) {
	owner := metav1.GetControllerOfNoCopy(desired)
	if owner == nil {
		return nil, false, fmt.Errorf("create Job %s/%s: the Job has no controller owner reference", desired.Namespace, desired.Name)
	}
	ownerMeta := &metav1.ObjectMeta{Name: owner.Name, UID: owner.UID}
	live, err := Get(ctx, c, ownerMeta, desired.Namespace, desired.Name)
	if err != nil || live != nil {
		return live, false, err
	}
	job := desired.DeepCopy()
	if err := c.Create(ctx, job); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, false, fmt.Errorf("create Job %s/%s: it exists but is not in the cache yet: %w", desired.Namespace, desired.Name, err)
		}
		return nil, false, fmt.Errorf("create Job %s/%s: %w", desired.Namespace, desired.Name, err)
	}
	return job, true, nil
}

// Delete removes a Job and, in the background, its pods. The UID precondition makes sure the
// Job deleted is the one observed: if it was replaced in between, nothing is deleted and the
// caller observes again. A Job already gone is not an error.
func Delete(ctx context.Context, c client.Client, job *batchv1.Job) error {
	err := c.Delete(ctx, job,
		client.PropagationPolicy(metav1.DeletePropagationBackground),
		client.Preconditions{UID: &job.UID})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		// The precondition failed: another Job of that name exists now.
		return nil
	}
	return fmt.Errorf("delete Job %s/%s: %w", job.Namespace, job.Name, err)
}

// Active reports whether any of the Jobs is still running.
func Active(jobs []batchv1.Job) (string, bool) {
	for i := range jobs {
		if Observe(&jobs[i]).Phase == Running {
			return jobs[i].Name, true
		}
	}
	return "", false
}
