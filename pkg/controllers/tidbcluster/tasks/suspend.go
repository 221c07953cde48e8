package tasks

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// Suspend carries out spec.suspendAction.suspendStatefulSet (cluster-wide or per component):
// StatefulSets are deleted TiDB first, PD last, each once the ones before it are gone; their
// PVCs stay, so removing the action brings the same members and stores back. A suspended
// component's steps are skipped (Skipped reports it).
func Suspend(s *State) task.Task {
	return task.NameTaskFunc("Suspend", func(ctx context.Context) task.Result {
		tc := s.Cluster
		earlier, blocker := true, ""
		var notes []string
		for _, comp := range SuspendOrder {
			if !hasComponent(tc, comp) {
				continue
			}
			cs := s.componentStatus(comp)
			sts := &appsv1.StatefulSet{}
			err := s.Client.Get(ctx, client.ObjectKey{Namespace: tc.Namespace, Name: builders.MemberName(tc.Name, comp)}, sts)
			exists := err == nil
			if err != nil && !apierrors.IsNotFound(err) {
				return task.Fail(fmt.Errorf("get %s StatefulSet: %w", comp, err))
			}
			step := DecideSuspend(SuspendInput{Want: tc.SuspendStatefulSet(comp), Phase: *cs.phase, EarlierSuspended: earlier, StatefulSetExists: exists})
			switch step {
			case SuspendWait:
				why := "until it is Normal (it is " + string(*cs.phase) + ")"
				if blocker != "" && (*cs.phase == v1alpha1.NormalPhase || *cs.phase == "") {
					why = "for " + blocker + " to be suspended first"
				}
				notes = append(notes, fmt.Sprintf("%s waits %s", comp, why))
			case SuspendResume:
				*cs.phase = v1alpha1.NormalPhase
				s.skip(comp)
				s.event(corev1.EventTypeNormal, "ResumeComponent", "Resume", fmt.Sprintf("resuming %s: its StatefulSet is created again", comp))
				notes = append(notes, comp+" resumed")
			case SuspendDelete:
				*cs.phase = v1alpha1.SuspendPhase
				s.skip(comp)
				if sts.DeletionTimestamp == nil {
					// Foreground: the StatefulSet disappears only after its pods, so a later
					// component is suspended only once these pods are gone.
					if err := s.Client.Delete(ctx, sts, client.PropagationPolicy("Foreground")); err != nil && !apierrors.IsNotFound(err) {
						return task.Fail(fmt.Errorf("delete %s StatefulSet to suspend it: %w", comp, err))
					}
					s.event(corev1.EventTypeNormal, "SuspendComponent", "Suspend", fmt.Sprintf("suspending %s: deleted StatefulSet %s, its volumes stay", comp, sts.Name))
				}
				notes = append(notes, comp+" suspending")
			case SuspendDone:
				*cs.phase = v1alpha1.SuspendPhase
				s.skip(comp)
				cs.clear()
			}
			// A later component waits only for earlier ones that are being suspended and are
			// not gone yet; components nobody asked to suspend do not hold it back (v1.6).
			if earlier && BlocksLater(step) {
				earlier, blocker = false, comp
			}
		}
		return task.Complete(strings.Join(notes, "; "))
	})
}

// componentState points into the status of one component.
type componentState struct {
	phase *v1alpha1.MemberPhase
	// clear empties what the component reports while suspended.
	clear func()
}

func (s *State) componentStatus(comp string) componentState {
	st := s.Status
	switch comp {
	case "pd":
		return componentState{phase: &st.PD.Phase, clear: func() {
			st.PD.StatefulSet, st.PD.Synced, st.PD.Members, st.PD.Leader, st.PD.UnjoinedMembers = nil, false, nil, nil, nil
			// PD is gone on purpose: no reachability to report, and no false alarm when it
			// comes back and is not answering yet.
			common.RemoveComponentCondition(&st.PD.Conditions, common.ConditionPDReachable)
		}}
	case "tikv":
		return componentState{phase: &st.TiKV.Phase, clear: func() {
			st.TiKV.StatefulSet, st.TiKV.Synced, st.TiKV.Stores, st.TiKV.TombstoneStores = nil, false, nil, nil
		}}
	default:
		return componentState{phase: &st.TiDB.Phase, clear: func() {
			st.TiDB.StatefulSet, st.TiDB.Members = nil, nil
		}}
	}
}

// skip marks a component whose steps do not run in this reconcile.
func (s *State) skip(comp string) {
	if s.skipped == nil {
		s.skipped = map[string]bool{}
	}
	s.skipped[comp] = true
}

// Skipped reports whether the component is suspended (or resumes) in this reconcile.
func (s *State) Skipped(comp string) bool { return s.skipped[comp] }

// suspended reports whether the cluster's last status had the component suspended: then PD is
// not asked about it (also in the round that resumes it, when its pods are not back yet).
func suspended(tc *v1alpha1.TidbCluster, comp string) bool {
	switch comp {
	case "pd":
		return tc.Status.PD.Phase == v1alpha1.SuspendPhase
	case "tikv":
		return tc.Status.TiKV.Phase == v1alpha1.SuspendPhase
	}
	return tc.Status.TiDB.Phase == v1alpha1.SuspendPhase
}
