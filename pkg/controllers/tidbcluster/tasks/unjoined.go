package tasks

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

// refreshUnjoinedPD fills status.pd.unjoinedMembers: PD pods that PD does not list as members
// (a pod that has not joined yet, or whose member was removed), with the UIDs of their claims,
// as v1.6 reports them. It is left as it was while PD's member list is not fresh.
func (s *State) refreshUnjoinedPD(ctx context.Context, sts *appsv1.StatefulSet) error {
	if !s.PDView.Reachable() || !s.Status.PD.Synced {
		return nil
	}
	if sts == nil || sts.Spec.Replicas == nil {
		s.Status.PD.UnjoinedMembers = nil
		return nil
	}
	pods, err := s.componentPods(ctx, label.PDComponent, sts.Name, *sts.Spec.Replicas)
	if err != nil {
		return err
	}
	var out map[string]v1alpha1.UnjoinedMember
	for ord, pod := range pods {
		if pod == nil {
			continue
		}
		if _, member := s.pdMemberOf(pod.Name); member {
			continue
		}
		u := v1alpha1.UnjoinedMember{PodName: pod.Name, CreatedAt: common.Now()}
		if old, ok := s.Cluster.Status.PD.UnjoinedMembers[pod.Name]; ok {
			u.CreatedAt = old.CreatedAt
		}
		claims, err := s.claimUIDs(ctx, sts, int32(ord))
		if err != nil {
			return err
		}
		u.PVCUIDSet = claims
		if out == nil {
			out = map[string]v1alpha1.UnjoinedMember{}
		}
		out[pod.Name] = u
	}
	s.Status.PD.UnjoinedMembers = out
	return nil
}
