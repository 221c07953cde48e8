package tasks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
	"github.com/tidbops/tidb-operator/pkg/tidbapi"
)

// ComputeStatus fills in the parts of status that do not come from PD: StatefulSet status,
// images, phases, TiDB member health, and the Ready condition. It runs whatever happened before
// (paused, waiting, failed), so status never stops being refreshed.
func ComputeStatus(s *State) task.Task {
	return task.NameTaskFunc("ComputeStatus", func(ctx context.Context) task.Result {
		tc := s.Cluster
		st := s.Status
		for _, comp := range []string{label.PDComponent, label.TiKVComponent, label.TiDBComponent} {
			if s.StatefulSets[comp] != nil || !hasComponent(tc, comp) {
				continue
			}
			sts := &appsv1.StatefulSet{}
			err := s.Client.Get(ctx, client.ObjectKey{Namespace: tc.Namespace, Name: builders.MemberName(tc.Name, comp)}, sts)
			if err == nil {
				s.StatefulSets[comp] = sts
			} else if !apierrors.IsNotFound(err) {
				return task.Fail(fmt.Errorf("get %s StatefulSet: %w", comp, err))
			}
		}

		pdSts, tikvSts, tidbSts := s.StatefulSets[label.PDComponent], s.StatefulSets[label.TiKVComponent], s.StatefulSets[label.TiDBComponent]
		// A suspended component keeps the Suspend phase the Suspend step gave it.
		keep := func(comp string, phase v1alpha1.MemberPhase) bool {
			return s.Skipped(comp) && phase == v1alpha1.SuspendPhase
		}
		if tc.Spec.PD != nil {
			st.PD.StatefulSet, st.PD.Image = stsStatus(pdSts, label.PDComponent)
			if !keep(label.PDComponent, st.PD.Phase) {
				st.PD.Phase = DecidePhase(tc.PDStsDesiredReplicas(), stsFacts(pdSts), false)
			}
			if err := s.refreshUnjoinedPD(ctx, pdSts); err != nil {
				// The rest of status matters more; this field keeps its last value.
				s.Log.Error(err, "refresh status.pd.unjoinedMembers")
			}
		}
		if tc.Spec.TiKV != nil {
			st.TiKV.StatefulSet, st.TiKV.Image = stsStatus(tikvSts, label.TiKVComponent)
			if !keep(label.TiKVComponent, st.TiKV.Phase) {
				st.TiKV.Phase = DecidePhase(tc.TiKVStsDesiredReplicas(), stsFacts(tikvSts), st.PD.Phase.IsUpgradingOrScaling())
			}
		}
		if tc.Spec.TiDB != nil {
			st.TiDB.StatefulSet, st.TiDB.Image = stsStatus(tidbSts, label.TiDBComponent)
			blocked := st.PD.Phase.IsUpgradingOrScaling() || st.TiKV.Phase.IsUpgradingOrScaling()
			if !keep(label.TiDBComponent, st.TiDB.Phase) {
				st.TiDB.Phase = DecidePhase(tc.TiDBStsDesiredReplicas(), stsFacts(tidbSts), blocked)
			}
			if err := s.refreshTiDBMembers(ctx, tidbSts); err != nil {
				return task.Fail(err)
			}
		}

		ready := DecideReady(ReadyInput{
			StatefulSetsUpToDate: upToDate(pdSts) && upToDate(tikvSts) && upToDate(tidbSts),
			HasPD:                tc.Spec.PD != nil, HasTiKV: tc.Spec.TiKV != nil, HasTiDB: tc.Spec.TiDB != nil,
			PDDesired: tc.PDStsDesiredReplicas(), TiKVDesired: tc.TiKVStsDesiredReplicas(), TiDBDesired: tc.TiDBStsDesiredReplicas(),
			Status: st,
		})
		msg := ready.Message
		if s.PDView != nil && !s.PDView.Reachable() {
			// Everything PD reported is as last seen; say so where people look first.
			msg += "; PD cannot be reached, PD and TiKV status is stale"
		}
		st.Conditions = common.SetTidbClusterCondition(st.Conditions, common.ReadyCondition(ready.Ready, ready.Reason, msg), common.Now())
		s.reportPendingRollouts()
		st.ObservedGeneration = tc.Generation
		return task.Complete("")
	})
}

func hasComponent(tc *v1alpha1.TidbCluster, comp string) bool {
	switch comp {
	case label.PDComponent:
		return tc.Spec.PD != nil
	case label.TiKVComponent:
		return tc.Spec.TiKV != nil
	case label.TiDBComponent:
		return tc.Spec.TiDB != nil
	}
	return false
}

// stsStatus copies the StatefulSet status and the image of the component's main container.
func stsStatus(sts *appsv1.StatefulSet, container string) (*v1alpha1.StatefulSetStatus, string) {
	if sts == nil {
		return nil, ""
	}
	ss := v1alpha1.StatefulSetStatus(sts.Status)
	image := ""
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == container {
			image = c.Image
		}
	}
	return &ss, image
}

func stsFacts(sts *appsv1.StatefulSet) StatefulSetFacts {
	if sts == nil {
		return StatefulSetFacts{}
	}
	f := StatefulSetFacts{Exists: true, SpecReplicas: 1}
	if sts.Spec.Replicas != nil {
		f.SpecReplicas = *sts.Spec.Replicas
	}
	f.Upgrading = sts.Status.CurrentRevision != sts.Status.UpdateRevision || sts.Generation > sts.Status.ObservedGeneration
	return f
}

func upToDate(sts *appsv1.StatefulSet) bool {
	return sts == nil || sts.Status.CurrentRevision == sts.Status.UpdateRevision
}

// refreshTiDBMembers asks each desired TiDB pod for GET :10080/status, in parallel; a pod that
// does not answer below 400 is unhealthy. lastTransitionTime moves only when health flips.
func (s *State) refreshTiDBMembers(ctx context.Context, sts *appsv1.StatefulSet) error {
	tc := s.Cluster
	if sts == nil {
		s.Status.TiDB.Members = nil
		return nil
	}
	hc, err := s.Deps.PD.HTTPClient(ctx, tc.Namespace, tc.Name, tc.IsTLSClusterEnabled())
	if err != nil {
		return fmt.Errorf("TiDB HTTP client: %w", err)
	}
	n := tc.TiDBStsDesiredReplicas()
	members := make(map[string]v1alpha1.TiDBMember, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	now := common.Now()
	for i := int32(0); i < n; i++ {
		name := fmt.Sprintf("%s-%d", sts.Name, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := tidbapi.StatusURL(tidbapi.Pod{Namespace: tc.Namespace, Cluster: tc.Name, Name: name, ClusterDomain: tc.Spec.ClusterDomain, TLS: tc.IsTLSClusterEnabled()})
			healthy := tidbapi.New(url, hc).Health(ctx) == nil
			m := v1alpha1.TiDBMember{Name: name, Health: healthy, LastTransitionTime: now}
			if old, ok := tc.Status.TiDB.Members[name]; ok && old.Health == healthy {
				m.LastTransitionTime = old.LastTransitionTime
			}
			pod := &corev1.Pod{}
			if err := s.Client.Get(ctx, client.ObjectKey{Namespace: tc.Namespace, Name: name}, pod); err == nil {
				m.NodeName = pod.Spec.NodeName
			}
			mu.Lock()
			members[name] = m
			mu.Unlock()
		}()
	}
	wg.Wait()
	s.Status.TiDB.Members = members
	return nil
}

// WriteStatus persists the computed status, once, if it differs from the stored one.
func WriteStatus(s *State) task.Task {
	return task.NameTaskFunc("WriteStatus", func(ctx context.Context) task.Result {
		wrote, err := common.WriteTidbClusterStatus(ctx, s.Client, s.Cluster, s.Status)
		if errors.Is(err, common.ErrStatusConflict) {
			// Recompute from a fresh copy rather than force a status derived from an old one.
			return task.Retry(time.Second, "the TidbCluster changed meanwhile; status is recomputed")
		}
		if err != nil {
			return task.Fail(err)
		}
		if wrote {
			return task.Complete("written")
		}
		return task.Complete("")
	})
}
