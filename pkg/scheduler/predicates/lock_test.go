package predicates

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
)

var lockNow = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// claim builds PD's data PVC of a pod; lockedAgo < 0 leaves the lock annotation off.
func claim(podName string, bound bool, lockedAgo time.Duration, opts ...func(*corev1.PersistentVolumeClaim)) corev1.PersistentVolumeClaim {
	c := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{
		Name:        "pd-" + podName,
		Labels:      map[string]string{label.PodNameLabelKey: podName},
		Annotations: map[string]string{},
	}}
	if bound {
		c.Status.Phase = corev1.ClaimBound
	} else {
		c.Status.Phase = corev1.ClaimPending
	}
	if lockedAgo >= 0 {
		c.Annotations[label.PodSchedulingAnnKey] = lockNow.Add(-lockedAgo).Format(time.RFC3339)
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func TestLock(t *testing.T) {
	terminating := func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: lockNow} }
	withPod := func(name, node string, opts ...func(*corev1.Pod)) corev1.Pod {
		p := pod(name, node)
		for _, o := range opts {
			o(&p)
		}
		return p
	}
	cases := map[string]struct {
		claims      []corev1.PersistentVolumeClaim // the component's PVCs
		pods        []corev1.Pod                   // the component's pods
		wantHeldBy  string                         // pod to wait for
		wantHolds   bool                           // the pod's own claim has the lock
		wantClaim   string                         // the pod's own claim
		wantRelease map[string]string              // claim -> substring of the reason
	}{
		"nobody holds the lock": {
			claims:    []corev1.PersistentVolumeClaim{claim("basic-pd-0", true, -1), claim("basic-pd-1", false, -1)},
			pods:      []corev1.Pod{pod("basic-pd-0", "n1"), pod("basic-pd-1", "")},
			wantClaim: "pd-basic-pd-1", wantRelease: map[string]string{},
		},
		"the pod already holds the lock": {
			claims:    []corev1.PersistentVolumeClaim{claim("basic-pd-1", false, time.Minute)},
			pods:      []corev1.Pod{pod("basic-pd-1", "")},
			wantClaim: "pd-basic-pd-1", wantHolds: true, wantRelease: map[string]string{},
		},
		"a sibling that is not placed yet holds the lock": {
			claims:     []corev1.PersistentVolumeClaim{claim("basic-pd-0", true, time.Minute), claim("basic-pd-1", false, -1)},
			pods:       []corev1.Pod{pod("basic-pd-0", ""), pod("basic-pd-1", "")},
			wantHeldBy: "basic-pd-0", wantClaim: "pd-basic-pd-1", wantRelease: map[string]string{},
		},
		"a sibling placed but with its claim still pending holds the lock": {
			claims:     []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute), claim("basic-pd-1", false, -1)},
			pods:       []corev1.Pod{pod("basic-pd-0", "n1"), pod("basic-pd-1", "")},
			wantHeldBy: "basic-pd-0", wantClaim: "pd-basic-pd-1", wantRelease: map[string]string{},
		},
		"a placed sibling with a bound claim is done": {
			claims:      []corev1.PersistentVolumeClaim{claim("basic-pd-0", true, time.Minute), claim("basic-pd-1", false, -1)},
			pods:        []corev1.Pod{pod("basic-pd-0", "n1"), pod("basic-pd-1", "")},
			wantClaim:   "pd-basic-pd-1",
			wantRelease: map[string]string{"pd-basic-pd-0": "pod basic-pd-0 is placed on n1"},
		},
		"a lock whose pod is gone is stale": {
			claims:      []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute), claim("basic-pd-1", false, -1)},
			pods:        []corev1.Pod{pod("basic-pd-1", "")},
			wantClaim:   "pd-basic-pd-1",
			wantRelease: map[string]string{"pd-basic-pd-0": "pod basic-pd-0 no longer exists"},
		},
		"a lock whose pod is terminating is stale": {
			claims:      []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute)},
			pods:        []corev1.Pod{withPod("basic-pd-0", "", terminating)},
			wantRelease: map[string]string{"pd-basic-pd-0": "is terminating"},
		},
		"a lock on a claim deferred for deletion is stale": {
			claims: []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute, func(c *corev1.PersistentVolumeClaim) {
				c.Annotations[label.PVCDeferDeletingAnnKey] = "2026-11-26T00:00:00Z"
			})},
			pods:        []corev1.Pod{pod("basic-pd-0", "")},
			wantRelease: map[string]string{"pd-basic-pd-0": "deferred for deletion"},
		},
		"a lock on a claim being deleted is stale": {
			claims: []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute, func(c *corev1.PersistentVolumeClaim) {
				c.DeletionTimestamp = &metav1.Time{Time: lockNow}
			})},
			pods:        []corev1.Pod{pod("basic-pd-0", "")},
			wantRelease: map[string]string{"pd-basic-pd-0": "being deleted"},
		},
		"a lock held longer than the stale age is released": {
			claims:      []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, 6*time.Minute)},
			pods:        []corev1.Pod{pod("basic-pd-0", "")},
			wantRelease: map[string]string{"pd-basic-pd-0": "held it for 6m0s without being placed"},
		},
		"a lock with an unreadable time never goes stale by age": {
			claims: []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, 0, func(c *corev1.PersistentVolumeClaim) {
				c.Annotations[label.PodSchedulingAnnKey] = "yesterday"
			})},
			pods:        []corev1.Pod{pod("basic-pd-0", "")},
			wantHeldBy:  "basic-pd-0",
			wantRelease: map[string]string{},
		},
		"a pod without a claim still waits for a holder": {
			claims:      []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute)},
			pods:        []corev1.Pod{pod("basic-pd-0", ""), pod("basic-pd-1", "")},
			wantHeldBy:  "basic-pd-0",
			wantRelease: map[string]string{},
		},
		"with several holders the oldest is waited for": {
			claims: []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute), claim("basic-pd-2", false, 2*time.Minute),
				claim("basic-pd-1", false, -1)},
			pods:       []corev1.Pod{pod("basic-pd-0", ""), pod("basic-pd-1", ""), pod("basic-pd-2", "")},
			wantHeldBy: "basic-pd-2", wantClaim: "pd-basic-pd-1", wantRelease: map[string]string{},
		},
		"a claim without the pod-name label names its pod by its own name": {
			claims: []corev1.PersistentVolumeClaim{claim("basic-pd-0", false, time.Minute, func(c *corev1.PersistentVolumeClaim) {
				delete(c.Labels, label.PodNameLabelKey)
			})},
			pods:       []corev1.Pod{pod("basic-pd-0", "")},
			wantHeldBy: "basic-pd-0", wantRelease: map[string]string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := Lock(&LockInput{Component: "pd", Pod: "basic-pd-1", Claims: tc.claims, Pods: tc.pods, Now: lockNow, StaleAfter: DefaultLockStaleAfter})
			if d.HeldBy != tc.wantHeldBy || d.Holds != tc.wantHolds || d.Claim != tc.wantClaim {
				t.Fatalf("decision = %+v, want heldBy %q holds %v claim %q", d, tc.wantHeldBy, tc.wantHolds, tc.wantClaim)
			}
			if len(d.Release) != len(tc.wantRelease) {
				t.Fatalf("release = %v, want %v", d.Release, tc.wantRelease)
			}
			for c, why := range tc.wantRelease {
				if !strings.Contains(d.Release[c], why) {
					t.Fatalf("release[%s] = %q, want it to contain %q", c, d.Release[c], why)
				}
			}
			msg := d.Message("pd", "basic-pd-1")
			if (msg != "") != (tc.wantHeldBy != "") {
				t.Fatalf("message %q for holder %q", msg, tc.wantHeldBy)
			}
			if tc.wantHeldBy != "" && !strings.Contains(msg, "waiting for Pod "+tc.wantHeldBy+" scheduling") {
				t.Fatalf("message %q", msg)
			}
		})
	}
}
