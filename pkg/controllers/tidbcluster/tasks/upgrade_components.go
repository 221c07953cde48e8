package tasks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/podaddr"
	"github.com/tidbops/tidb-operator/pkg/task"
	"github.com/tidbops/tidb-operator/pkg/tikvapi"
)

// Reasons of the UpgradeBlocked condition.
const (
	reasonUpgradePDUnreachable = "PDStatusNotSynced"
	reasonUpgradeNoTarget      = "NoLeaderTransferTarget"
	reasonUpgradeQuorum        = "PDQuorumNotHealthy"
	reasonUpgradeStoreDown     = "OtherStoreNotUp"
)

// pdUpgrade rolls PD members: upgraded members must be healthy in PD and answer
// /pd/api/v2/ready, and the leader hands over leadership before its pod restarts.
func (s *State) pdUpgrade() *upgradeSpec {
	tc := s.Cluster
	conds := &s.Status.PD.Conditions
	return &upgradeSpec{
		force: func() bool {
			// PD cannot be read, so nothing can be checked: v1.6 lets users (or a lone PD, which
			// has nobody to hand over to) replace every pod at once to recover.
			return !s.Status.PD.Synced && (tc.Annotations[label.ForceUpgradeAnnKey] == "true" ||
				(tc.PDStsDesiredReplicas() == 1 && len(s.Status.PD.PeerMembers) == 0))
		},
		healthy: func(ctx context.Context, ordinal int32, pod *corev1.Pod) (bool, string, error) {
			if !s.PDView.Reachable() {
				return false, "PD cannot be reached", nil
			}
			m, ok := s.pdMemberOf(pod.Name)
			if !ok {
				return false, "not a PD member yet", nil
			}
			if !m.Health {
				return false, "PD member " + m.Name + " is not healthy", nil
			}
			if m.ClientURL == "" {
				return true, "", nil
			}
			c, err := s.Deps.PD.ForURL(ctx, pdapi.TargetFor(tc), m.ClientURL)
			if err != nil {
				return false, "", fmt.Errorf("PD client for %s: %w", m.ClientURL, err)
			}
			if err := c.Ready(ctx); err != nil {
				return false, fmt.Sprintf("PD member %s is not ready: %v", m.Name, err), nil
			}
			return true, "", nil
		},
		prepare: func(ctx context.Context, live *appsv1.StatefulSet, ordinal int32, pod *corev1.Pod) (bool, task.Result) {
			if !s.PDView.Reachable() || !s.Status.PD.Synced {
				return false, blockUpgrade(s, conds, reasonUpgradePDUnreachable, "PD upgrade waits until PD can be reached and its status is in sync")
			}
			if tc.Annotations[label.PDCheckQuorumBeforeUpgradeAnnKey] == "true" && !pdStable(s.Status) {
				return false, blockUpgrade(s, conds, reasonUpgradeQuorum, "PD upgrade waits: fewer than a majority plus one of PD members are healthy (tidb.pingcap.com/pd-check-quorum-before-upgrade)")
			}
			name := fmt.Sprintf("%s-%d", live.Name, ordinal)
			m, ok := s.pdMemberOf(name)
			if !ok || s.Status.PD.Leader == nil || s.Status.PD.Leader.Name != m.Name || len(s.Status.PD.Members)+len(s.Status.PD.PeerMembers) < 2 {
				return true, task.Complete("")
			}
			members := map[int32]PDMemberRef{}
			for _, mm := range s.Status.PD.Members {
				if ord, ok := ordinalOf(podNameOfMember(mm.Name), live.Name); ok {
					members[ord] = PDMemberRef{Name: mm.Name, Healthy: mm.Health}
				}
			}
			var peers []PDMemberRef
			for _, p := range s.Status.PD.PeerMembers {
				peers = append(peers, PDMemberRef{Name: p.Name, Healthy: p.Health})
			}
			target := PDUpgradeTransferTarget(ordinal, members, peers)
			if target == "" {
				return false, blockUpgrade(s, conds, reasonUpgradeNoTarget, fmt.Sprintf("PD member %s leads and no other healthy member can take over before its restart", m.Name))
			}
			if err := s.PD.TransferLeader(ctx, target); err != nil {
				return false, task.Fail(fmt.Errorf("transfer PD leader from %s to %s: %w", m.Name, target, err))
			}
			s.event(corev1.EventTypeNormal, "PDLeaderTransferred", "Upgrade", fmt.Sprintf("transferred PD leadership from %s to %s before upgrading it", m.Name, target))
			return false, task.Retry(s.requeue(), "PD leader transferred, waiting for the new leader")
		},
	}
}

// pdMemberOf finds the PD member of a pod (named by the pod, or by its FQDN).
func (s *State) pdMemberOf(podName string) (v1alpha1.PDMember, bool) {
	for name, m := range s.Status.PD.Members {
		if name == podName || hasPrefixDot(name, podName) {
			return m, true
		}
	}
	return v1alpha1.PDMember{}, false
}

// podNameOfMember strips a member name's domain: members may be named by FQDN.
func podNameOfMember(name string) string {
	pod, _, _ := strings.Cut(name, ".")
	return pod
}

// ordinalOf parses "<set>-<ordinal>".
func ordinalOf(podName, setName string) (int32, bool) {
	rest, ok := strings.CutPrefix(podName, setName+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int32(n), true
}

// pdStable is v1.6's IsPDStable: more than a majority plus one of the PD members (with peers)
// are healthy, so one more restart keeps quorum with room to spare.
func pdStable(st *v1alpha1.TidbClusterStatus) bool {
	total, healthy := 0, 0
	for _, m := range st.PD.Members {
		total++
		if m.Health {
			healthy++
		}
	}
	for _, m := range st.PD.PeerMembers {
		total++
		if m.Health {
			healthy++
		}
	}
	return healthy > total/2+1
}

// tikvUpgrade rolls TiKV stores: before a pod restarts its Region leaders move to other stores
// (evict-leader scheduler), and the next pod waits until the restarted store is Up again, its
// scheduler removed and, for busy stores, enough leaders back.
func (s *State) tikvUpgrade(replicas int32) *upgradeSpec {
	tc := s.Cluster
	conds := &s.Status.TiKV.Conditions
	return &upgradeSpec{
		settle: s.endAbandonedEvictions,
		healthy: func(ctx context.Context, ordinal int32, pod *corev1.Pod) (bool, string, error) {
			if !s.PDView.Reachable() || !s.Status.TiKV.Synced {
				return false, "PD cannot be reached", nil
			}
			id, st, ok := s.storeOfPod(pod.Name)
			if !ok {
				// No store: the pod holds no data (or never registered); readiness is all.
				return true, "", nil
			}
			if st.State != v1alpha1.TiKVStateUp {
				return false, fmt.Sprintf("store %s is %s", st.ID, st.State), nil
			}
			endAt, ended := pod.Annotations[label.TiKVEvictLeaderEndAtAnnKey]
			if !ended {
				// The pod restarted on the new revision: let leaders come back.
				if err := s.PD.EndEvictLeader(ctx, id); err != nil {
					return false, "", fmt.Errorf("end leader eviction of store %d: %w", id, err)
				}
				endAt = time.Now().UTC().Format(time.RFC3339)
				if _, err := patchLabels(ctx, s.Client, pod, nil, map[string]string{label.TiKVEvictLeaderEndAtAnnKey: endAt}); err != nil {
					return false, "", err
				}
				s.event(corev1.EventTypeNormal, "EndEvictLeader", "Upgrade", fmt.Sprintf("removed the evict-leader scheduler of store %d on upgraded pod %s", id, pod.Name))
			}
			since := time.Duration(0)
			if t, err := time.Parse(time.RFC3339, endAt); err == nil {
				since = time.Since(t)
			}
			if !LeadersBack(LeadersBackInput{Before: st.LeaderCountBeforeUpgrade, Now: st.LeaderCount, Since: since, Timeout: tc.Spec.TiKV.WaitLeaderTransferBackTimeoutOrDefault()}) {
				return false, fmt.Sprintf("waiting for leaders to return to store %s (%d of %d before the upgrade)", st.ID, st.LeaderCount, *st.LeaderCountBeforeUpgrade), nil
			}
			if st.LeaderCountBeforeUpgrade != nil {
				cp := s.Status.TiKV.Stores[st.ID]
				cp.LeaderCountBeforeUpgrade = nil
				s.Status.TiKV.Stores[st.ID] = cp
			}
			return true, "", nil
		},
		prepare: func(ctx context.Context, live *appsv1.StatefulSet, ordinal int32, pod *corev1.Pod) (bool, task.Result) {
			// Everything below reads PD's view of the stores; without a fresh one nothing
			// restarts, not even a pod that seems to have no store (the list may be stale).
			if !s.PDView.Reachable() || !s.Status.TiKV.Synced {
				return false, blockUpgrade(s, conds, reasonUpgradePDUnreachable, "TiKV upgrade waits until PD can be reached: restarting a store needs PD to move its leaders and to report the others Up")
			}
			if replicas < 2 && len(s.Status.TiKV.PeerStores) == 0 {
				// A lone store has nowhere to move leaders to.
				return true, task.Complete("")
			}
			id, st, ok := s.storeOfPod(pod.Name)
			if !ok {
				return true, task.Complete("")
			}
			strict := tc.Annotations[label.TiKVCheckStoresUpBeforeUpgradeAnnKey] == "true"
			for _, other := range s.Status.TiKV.Stores {
				if other.ID == st.ID {
					continue
				}
				down := other.State == v1alpha1.TiKVStateDown || other.State == pdapi.StoreStateDisconnected
				if down || (strict && other.State != v1alpha1.TiKVStateUp) {
					return false, blockUpgrade(s, conds, reasonUpgradeStoreDown, fmt.Sprintf("TiKV upgrade of pod %s waits: store %s of pod %s is %s, and restarting a second store could make Regions lose their majority", pod.Name, other.ID, other.PodName, other.State))
				}
			}
			in := EvictLeadersInput{LeaderCount: -1, Timeout: tc.Spec.TiKV.EvictLeaderTimeoutOrDefault()}
			if v, ok := pod.Annotations[label.EvictLeaderBeginTimeAnnKey]; ok {
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					in.Evicting, in.EvictingFor = true, time.Since(t)
				}
			}
			if in.Evicting {
				// The eviction counts only while PD runs its scheduler: PD may have lost it
				// (leader change), or the annotation is left from an abandoned upgrade. Then
				// it starts over, and so does its timeout.
				have, err := s.PD.EvictLeaderSchedulersForStores(ctx, id)
				if err != nil {
					return false, task.Fail(fmt.Errorf("list evict-leader schedulers: %w", err))
				}
				if _, running := have[id]; !running {
					in.Evicting, in.EvictingFor = false, 0
				}
			}
			if in.Evicting {
				n, err := s.tikvLeaderCount(ctx, pod.Name)
				if err == nil {
					in.LeaderCount = n
				}
			}
			switch DecideEvictLeaders(in) {
			case EvictLeadersBegin:
				before := st.LeaderCount
				cp := s.Status.TiKV.Stores[st.ID]
				if cp.LeaderCountBeforeUpgrade == nil {
					cp.LeaderCountBeforeUpgrade = &before
				}
				s.Status.TiKV.Stores[st.ID] = cp
				if err := s.PD.BeginEvictLeader(ctx, id); err != nil {
					return false, task.Fail(fmt.Errorf("evict leaders from store %d of pod %s: %w", id, pod.Name, err))
				}
				now := time.Now().UTC().Format(time.RFC3339)
				if _, err := patchLabels(ctx, s.Client, pod, nil, map[string]string{label.EvictLeaderBeginTimeAnnKey: now}); err != nil {
					return false, task.Fail(err)
				}
				s.event(corev1.EventTypeNormal, "BeginEvictLeader", "Upgrade", fmt.Sprintf("moving %d leaders off store %d before upgrading pod %s", before, id, pod.Name))
				return false, task.Retry(s.requeue(), fmt.Sprintf("evicting leaders from store %d", id))
			case EvictLeadersWait:
				count := "an unknown number of"
				if in.LeaderCount >= 0 {
					count = strconv.Itoa(in.LeaderCount)
				}
				return false, task.Retry(s.requeue(), fmt.Sprintf("waiting for %s leaders to leave store %d of pod %s", count, id, pod.Name))
			}
			return true, task.Complete("")
		},
	}
}

// endAbandonedEvictions runs while TiKV is not upgrading and ends every leader eviction an
// upgrade left behind, which would otherwise keep a store from ever leading a Region again:
//   - on the round the upgrade ends (the last written phase is Upgrade), every evict-leader
//     scheduler of the cluster's stores, as v1.6 does: the StatefulSet controller may mark the
//     revision current before a reconcile has seen the last pod healthy and ended its eviction;
//   - stores that still record leaderCountBeforeUpgrade (the same case, should that round have
//     failed), and pods still marked evictLeaderBeginTime (an upgrade given up before their
//     restart: the template went back, or the strategy became OnDelete).
//
// A settled cluster carries none of these marks, so it costs no call.
func (s *State) endAbandonedEvictions(ctx context.Context, live *appsv1.StatefulSet) error {
	pods, err := s.componentPods(ctx, label.TiKVComponent, live.Name, replicasOf(live))
	if err != nil {
		return err
	}
	marked := false
	for _, pod := range pods {
		if pod != nil {
			if _, ok := pod.Annotations[label.EvictLeaderBeginTimeAnnKey]; ok {
				marked = true
			}
		}
	}
	recorded := false
	for _, st := range s.Status.TiKV.Stores {
		recorded = recorded || st.LeaderCountBeforeUpgrade != nil
	}
	ending := s.Cluster.Status.TiKV.Phase == v1alpha1.UpgradePhase
	if !marked && !recorded && !ending {
		return nil
	}
	if !s.PDView.Reachable() {
		// Ending them needs PD; the marks stay so that this runs again.
		return nil
	}
	ids := map[uint64]string{}
	for key, st := range s.Status.TiKV.Stores {
		if id, err := strconv.ParseUint(st.ID, 10, 64); err == nil {
			ids[id] = key
		}
	}
	var end []uint64
	// Without stores there is no scheduler to end: a cluster being created has phase Upgrade
	// while its StatefulSets come up, before any TiKV registered.
	if ending && len(ids) > 0 {
		all := make([]uint64, 0, len(ids))
		for id := range ids {
			all = append(all, id)
		}
		running, err := s.PD.EvictLeaderSchedulersForStores(ctx, all...)
		if errors.Is(err, pdapi.ErrNotBootstrapped) {
			// PD's normal answer before the first store bootstrapped: no scheduler can exist.
			running, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("list evict-leader schedulers after the upgrade: %w", err)
		}
		for id := range running {
			end = append(end, id)
		}
	}
	for id, key := range ids {
		if s.Status.TiKV.Stores[key].LeaderCountBeforeUpgrade != nil && !slices.Contains(end, id) {
			end = append(end, id)
		}
	}
	for _, pod := range pods {
		if pod == nil {
			continue
		}
		if _, ok := pod.Annotations[label.EvictLeaderBeginTimeAnnKey]; !ok {
			continue
		}
		if id, _, ok := s.storeOfPod(pod.Name); ok && !slices.Contains(end, id) {
			end = append(end, id)
		}
	}
	slices.Sort(end)
	for _, id := range end {
		if err := s.PD.EndEvictLeader(ctx, id); err != nil {
			return fmt.Errorf("end the leader eviction of store %d left by an upgrade: %w", id, err)
		}
		s.event(corev1.EventTypeNormal, "EndEvictLeader", "Upgrade", fmt.Sprintf("removed the evict-leader scheduler of store %d left by an upgrade", id))
	}
	for key, st := range s.Status.TiKV.Stores {
		if st.LeaderCountBeforeUpgrade != nil {
			st.LeaderCountBeforeUpgrade = nil
			s.Status.TiKV.Stores[key] = st
		}
	}
	for _, pod := range pods {
		if pod == nil {
			continue
		}
		if err := removeAnnotation(ctx, s.Client, pod, label.EvictLeaderBeginTimeAnnKey); err != nil {
			return err
		}
	}
	return nil
}

// storeOfPod finds the TiKV store of a pod in the status built from PD.
func (s *State) storeOfPod(podName string) (uint64, v1alpha1.TiKVStore, bool) {
	for _, st := range s.Status.TiKV.Stores {
		if st.PodName == podName {
			id, err := strconv.ParseUint(st.ID, 10, 64)
			if err != nil {
				continue
			}
			return id, st, true
		}
	}
	return 0, v1alpha1.TiKVStore{}, false
}

// tikvLeaderCount reads the leader count from the TiKV pod's metrics, as v1.6 does: PD learns it
// only from heartbeats, which lag.
func (s *State) tikvLeaderCount(ctx context.Context, podName string) (int, error) {
	tc := s.Cluster
	hc, err := s.Deps.PD.HTTPClient(ctx, tc.Namespace, tc.Name, tc.IsTLSClusterEnabled())
	if err != nil {
		return 0, fmt.Errorf("TiKV HTTP client: %w", err)
	}
	url := tikvapi.StatusURL(podaddr.Pod{Namespace: tc.Namespace, Cluster: tc.Name, Name: podName, ClusterDomain: tc.Spec.ClusterDomain, TLS: tc.IsTLSClusterEnabled()})
	n, err := tikvapi.New(url, hc).LeaderCount(ctx)
	if err != nil {
		return 0, fmt.Errorf("leader count of %s: %w", podName, err)
	}
	return n, nil
}

// tidbUpgrade rolls TiDB servers: the next pod restarts once the upgraded one answers /status.
func (s *State) tidbUpgrade() *upgradeSpec {
	return &upgradeSpec{
		healthy: func(ctx context.Context, _ int32, pod *corev1.Pod) (bool, string, error) {
			c, err := s.tidbHTTP(ctx, pod.Name)
			if err != nil {
				return false, "", err
			}
			if err := c.Health(ctx); err != nil {
				return false, fmt.Sprintf("TiDB status: %v", err), nil
			}
			return true, "", nil
		},
		prepare: func(context.Context, *appsv1.StatefulSet, int32, *corev1.Pod) (bool, task.Result) {
			// TiDB holds no data; its graceful shutdown is the pod's own (lifecycle hooks).
			return true, task.Complete("")
		},
	}
}
