package predicates

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
)

// DefaultLockStaleAfter is how long a pod may hold its component's scheduling lock without
// being placed before its siblings stop waiting for it. A pod stuck for other reasons (no
// resources anywhere, an unbound volume) would otherwise block the whole component forever.
const DefaultLockStaleAfter = 5 * time.Minute

// LockInput is what the scheduling-lock rule looks at.
type LockInput struct {
	// Component is "pd" or "tikv".
	Component string
	// Pod is the pod being placed.
	Pod string
	// Claims are the component's PVCs.
	Claims []corev1.PersistentVolumeClaim
	// Pods are the component's pods.
	Pods []corev1.Pod
	// Now is the current time and StaleAfter the age at which a lock is released regardless.
	Now        time.Time
	StaleAfter time.Duration
}

// LockDecision is the outcome of the scheduling-lock rule.
type LockDecision struct {
	// Claim is the pod's own data PVC, which takes the lock; "" when the pod has none, and then
	// it can wait for others but holds nothing itself.
	Claim string
	// ClaimBound reports whether Claim is Bound.
	ClaimBound bool
	// Holds is true when Claim already carries the lock.
	Holds bool
	// HeldBy is the pod the current pod must wait for; "" when it may go ahead.
	HeldBy string
	// Since is when HeldBy took the lock, if known.
	Since time.Time
	// Release lists the other PVCs whose lock annotation is finished or stale, to be removed
	// once the current pod takes the lock, each with the reason.
	Release map[string]string
}

// Lock decides whether a pod may be placed now. v1.6 places a component's pods one at a time:
// the pod being placed marks its data PVC with tidb.pingcap.com/pod-scheduling, and a sibling
// that finds the mark on another PVC whose pod is not yet placed waits. That closes the gap
// between a filter decision and kube-scheduler's asynchronous bind, during which a second pod
// would not see the first in the counts. A mark is finished once its pod is bound and its PVC
// Bound, and stale when its PVC is being deleted or deferred for deletion, its pod is gone or
// terminating, or it is older than StaleAfter.
func Lock(in *LockInput) LockDecision {
	d := LockDecision{Claim: "", Release: map[string]string{}}
	own := ClaimName(in.Component, in.Pod)
	pods := make(map[string]*corev1.Pod, len(in.Pods))
	for i := range in.Pods {
		pods[in.Pods[i].Name] = &in.Pods[i]
	}
	type holder struct {
		pod   string
		since time.Time
	}
	var blocking []holder
	for i := range in.Claims {
		pvc := &in.Claims[i]
		if pvc.Name == own {
			d.Claim, d.ClaimBound = own, pvc.Status.Phase == corev1.ClaimBound
			_, d.Holds = pvc.Annotations[label.PodSchedulingAnnKey]
			continue
		}
		value, ok := pvc.Annotations[label.PodSchedulingAnnKey]
		if !ok {
			continue
		}
		podName := pvc.Labels[label.PodNameLabelKey]
		if podName == "" {
			podName = strings.TrimPrefix(pvc.Name, in.Component+"-")
		}
		since, _ := time.Parse(time.RFC3339, value)
		p := pods[podName]
		switch _, deferred := pvc.Annotations[label.PVCDeferDeletingAnnKey]; {
		case deferred:
			d.Release[pvc.Name] = "the claim is deferred for deletion"
		case pvc.DeletionTimestamp != nil:
			d.Release[pvc.Name] = "the claim is being deleted"
		case p == nil:
			d.Release[pvc.Name] = fmt.Sprintf("pod %s no longer exists", podName)
		case p.DeletionTimestamp != nil:
			d.Release[pvc.Name] = fmt.Sprintf("pod %s is terminating", podName)
		case p.Spec.NodeName != "" && pvc.Status.Phase == corev1.ClaimBound:
			d.Release[pvc.Name] = fmt.Sprintf("pod %s is placed on %s", podName, p.Spec.NodeName)
		case in.StaleAfter > 0 && !since.IsZero() && in.Now.Sub(since) > in.StaleAfter:
			d.Release[pvc.Name] = fmt.Sprintf("pod %s held it for %s without being placed", podName, in.Now.Sub(since).Round(time.Second))
		default:
			blocking = append(blocking, holder{podName, since})
		}
	}
	if len(blocking) > 0 {
		// With several marks (left by an older version or a crash between two writes), wait
		// for the oldest, so the answer is stable from one call to the next.
		sort.Slice(blocking, func(i, j int) bool {
			if !blocking[i].since.Equal(blocking[j].since) {
				return blocking[i].since.Before(blocking[j].since)
			}
			return blocking[i].pod < blocking[j].pod
		})
		d.HeldBy, d.Since = blocking[0].pod, blocking[0].since
	}
	return d
}

// Message explains a decision that makes the pod wait.
func (d *LockDecision) Message(component, pod string) string {
	if d.HeldBy == "" {
		return ""
	}
	since := ""
	if !d.Since.IsZero() {
		since = " since " + d.Since.UTC().Format(time.RFC3339)
	}
	// "waiting for Pod ... scheduling" is v1.6's wording.
	return fmt.Sprintf("%s: waiting for Pod %s scheduling: %s pods are placed one at a time and it holds the lock%s; %s goes next",
		RuleLock, d.HeldBy, component, since, pod)
}
