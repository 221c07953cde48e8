package tasks

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// FailoverConfig is the operator's -auto-failover and failover periods.
type FailoverConfig struct {
	// Enabled is -auto-failover.
	Enabled bool
	// TiKVPeriod and TiDBPeriod are -tikv-failover-period and -tidb-failover-period.
	TiKVPeriod, TiDBPeriod time.Duration
}

// Failover adds a TiKV or TiDB pod in place of one that has been down for longer than the
// failover period (-auto-failover, v1.6's failover for these two components), by recording it
// in status.tikv.failureStores or status.tidb.failureMembers: the StatefulSet's desired replicas
// count the records, so the next round scales out. Nothing is deleted — not the failed store,
// not its pod or volumes. TiKV records go when the user asks for recovery (recoverFailover or
// failover.recoverByUID) and the original stores are Up; TiDB records go when the servers are
// healthy again. PD failover (which deletes a member and its volumes) is not done.
func Failover(s *State) task.Task {
	return task.NameTaskFunc("Failover", func(ctx context.Context) task.Result {
		tc := s.Cluster
		var notes []string
		if tc.Spec.TiKV != nil && !s.Skipped(label.TiKVComponent) && s.Status.TiKV.Phase != v1alpha1.SuspendPhase &&
			s.PDView.Reachable() && s.Status.TiKV.Synced {
			n, err := s.tikvFailover(ctx)
			if err != nil {
				return task.Fail(err)
			}
			notes = append(notes, n...)
		}
		if tc.Spec.TiDB != nil && !s.Skipped(label.TiDBComponent) && s.Status.TiDB.Phase != v1alpha1.SuspendPhase {
			n, err := s.tidbFailover(ctx)
			if err != nil {
				return task.Fail(err)
			}
			notes = append(notes, n...)
		}
		if len(notes) == 0 {
			return task.Complete("")
		}
		return task.Complete(fmt.Sprint(notes))
	})
}

func (s *State) tikvFailover(ctx context.Context) ([]string, error) {
	tc := s.Cluster
	st := &s.Status.TiKV
	setName := builders.MemberName(tc.Name, label.TiKVComponent)
	desired := tc.TiKVStsDesiredReplicas()
	sts := s.StatefulSets[label.TiKVComponent]
	now := time.Now()
	in := TiKVFailoverInput{
		Max:            MaxFailover(tc.Spec.TiKV.MaxFailoverCount),
		Period:         s.AutoFailover.TiKVPeriod,
		AllPodsStarted: sts != nil && sts.Status.Replicas == desired && replicasOf(sts) == desired,
		Recorded:       map[string]bool{},
		Recover: tc.Spec.TiKV.RecoverFailover || (tc.Spec.TiKV.Failover != nil && tc.Spec.TiKV.Failover.RecoverByUID != "" &&
			tc.Spec.TiKV.Failover.RecoverByUID == string(st.FailoverUID)),
		OriginalUp: true,
	}
	for _, f := range st.FailureStores {
		in.Recorded[f.PodName] = true
	}
	up := map[int32]bool{}
	for _, store := range st.Stores {
		ord, ok := ordinalOf(store.PodName, setName)
		if !ok {
			continue
		}
		fs := FailoverStore{ID: store.ID, PodName: store.PodName, Ordinal: ord, Desired: ord < desired,
			Down: store.State == v1alpha1.TiKVStateDown}
		if fs.Down {
			fs.DownFor = now.Sub(store.LastTransitionTime.Time)
		}
		if store.State == v1alpha1.TiKVStateUp {
			up[ord] = true
		}
		in.Stores = append(in.Stores, fs)
	}
	in.AllStoresUp = true
	for ord := range desired {
		if !up[ord] {
			in.AllStoresUp = false
		}
	}
	if in.AllStoresUp && len(in.Recorded) > 0 && in.Recover {
		pods, err := s.componentPods(ctx, label.TiKVComponent, setName, tc.Spec.TiKV.Replicas)
		if err != nil {
			return nil, err
		}
		for ord, pod := range pods {
			if pod == nil || !podReady(pod) || !up[int32(ord)] {
				in.OriginalUp = false
			}
		}
	}
	d := DecideTiKVFailover(in)
	var notes []string
	if d.Clear {
		st.FailureStores, st.FailoverUID = nil, ""
		s.event(corev1.EventTypeNormal, "RecoverFailover", "Failover", fmt.Sprintf("TiKV stores are Up again: the %d pods auto-failover added are scaled in", len(in.Recorded)))
		notes = append(notes, "tikv failover recovered")
	}
	for _, f := range d.Add {
		if st.FailoverUID == "" {
			st.FailoverUID = uuid.NewUUID()
		}
		claims, err := s.claimUIDs(ctx, sts, f.Ordinal)
		if err != nil {
			return nil, err
		}
		if st.FailureStores == nil {
			st.FailureStores = map[string]v1alpha1.TiKVFailureStore{}
		}
		st.FailureStores[f.ID] = v1alpha1.TiKVFailureStore{PodName: f.PodName, StoreID: f.ID, PVCUIDSet: claims, CreatedAt: common.Now()}
		s.event(corev1.EventTypeWarning, "Unhealthy", "Failover", fmt.Sprintf("store %s of pod %s has been Down for over %s: a TiKV pod is added in its place (auto-failover, the store is kept)", f.ID, f.PodName, in.Period))
		notes = append(notes, "tikv failover for store "+f.ID)
	}
	for _, f := range d.Capped {
		s.Log.Info("TiKV store down but maxFailoverCount reached; no pod added", "store", f.ID, "pod", f.PodName, "maxFailoverCount", in.Max)
	}
	return notes, nil
}

func (s *State) tidbFailover(ctx context.Context) ([]string, error) {
	tc := s.Cluster
	st := &s.Status.TiDB
	now := time.Now()
	in := TiDBFailoverInput{
		Max:             MaxFailover(tc.Spec.TiDB.MaxFailoverCount),
		Period:          s.AutoFailover.TiDBPeriod,
		Recorded:        map[string]bool{},
		OriginalHealthy: true,
	}
	for name := range st.FailureMembers {
		in.Recorded[name] = true
	}
	setName := builders.MemberName(tc.Name, label.TiDBComponent)
	for ord := range tc.Spec.TiDB.Replicas {
		if m, ok := st.Members[fmt.Sprintf("%s-%d", setName, ord)]; !ok || !m.Health {
			in.OriginalHealthy = false
		}
	}
	for name, m := range st.Members {
		fm := FailoverMember{PodName: name, Healthy: m.Health}
		if !m.Health {
			fm.UnhealthyFor = now.Sub(m.LastTransitionTime.Time)
			if fm.UnhealthyFor > in.Period && !in.Recorded[name] {
				// Only then is the pod worth reading.
				pod, err := s.podByName(ctx, name)
				if err != nil {
					return nil, err
				}
				fm.Scheduled = pod != nil && podScheduled(pod)
			}
		}
		in.Members = append(in.Members, fm)
	}
	d := DecideTiDBFailover(in)
	var notes []string
	if d.Clear {
		st.FailureMembers = nil
		s.event(corev1.EventTypeNormal, "RecoverFailover", "Failover", fmt.Sprintf("TiDB servers are healthy again: the %d pods auto-failover added are scaled in", len(in.Recorded)))
		return []string{"tidb failover recovered"}, nil
	}
	for _, name := range d.Drop {
		delete(st.FailureMembers, name)
		notes = append(notes, "tidb "+name+" recovered")
	}
	for _, name := range d.Add {
		if st.FailureMembers == nil {
			st.FailureMembers = map[string]v1alpha1.TiDBFailureMember{}
		}
		st.FailureMembers[name] = v1alpha1.TiDBFailureMember{PodName: name, CreatedAt: common.Now()}
		s.event(corev1.EventTypeWarning, "Unhealthy", "Failover", fmt.Sprintf("TiDB %s has been unhealthy for over %s: a TiDB pod is added in its place (auto-failover)", name, in.Period))
		notes = append(notes, "tidb failover for "+name)
	}
	if d.Capped {
		s.Log.Info("TiDB server unhealthy but maxFailoverCount reached; no pod added", "maxFailoverCount", in.Max)
	}
	return notes, nil
}

// claimUIDs are the UIDs of one ordinal's claims (nil when it has none), recorded with a failure
// or an unjoined member so that a later step can tell those claims from new ones.
func (s *State) claimUIDs(ctx context.Context, sts *appsv1.StatefulSet, ordinal int32) (map[types.UID]v1alpha1.EmptyStruct, error) {
	if sts == nil {
		return nil, nil
	}
	var out map[types.UID]v1alpha1.EmptyStruct
	for _, name := range ordinalPVCNames(sts, ordinal) {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := s.Client.Get(ctx, client.ObjectKey{Namespace: sts.Namespace, Name: name}, pvc); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("get claim %s: %w", name, err)
		}
		if out == nil {
			out = map[types.UID]v1alpha1.EmptyStruct{}
		}
		out[pvc.UID] = v1alpha1.EmptyStruct{}
	}
	return out, nil
}

func podReady(pod *corev1.Pod) bool {
	c := podReadyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

func podScheduled(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
