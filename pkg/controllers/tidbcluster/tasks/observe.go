package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// ObservePD asks PD for members, the leader, the cluster ID (once) and the stores, and folds the
// answers into the in-memory status. When PD cannot be reached or answers errors, status keeps
// what was last seen, status.pd.synced and status.tikv.synced turn false, and the PDReachable
// condition says why; the step itself completes, because status must still be written and
// nothing later depends on PD answering except the steps that check PDView themselves.
func ObservePD(s *State) task.Task {
	return task.NameTaskFunc("ObservePD", func(ctx context.Context) task.Result {
		tc := s.Cluster
		if !tc.HasPDSource() {
			return task.Complete("no PD to ask")
		}
		if suspended(tc, "pd") {
			// Its pods are gone on purpose; asking would only report it unreachable.
			return task.Complete("PD is suspended")
		}
		if s.PD == nil {
			c, err := s.Deps.PD.ForCluster(ctx, pdapi.TargetFor(tc))
			if err != nil {
				return task.Fail(fmt.Errorf("PD client: %w", err))
			}
			s.PD = c
		}
		view := readPD(ctx, s.PD, tc.Status.ClusterID == "")
		s.PDView = view.PDView
		if view.clusterID != 0 {
			s.Status.ClusterID = strconv.FormatUint(view.clusterID, 10)
		}
		wasReachable := pdWasReachable(tc)
		if !view.Reachable() {
			s.Status.PD.Synced = false
			s.Status.TiKV.Synced = false
			// The condition names the kind of failure, not the error text: the text differs on
			// every attempt (ports, timings) and would make each reconcile write status.
			msg := fmt.Sprintf("PD at %s cannot be read (%s), status shows what was last seen", s.PD.URL(), pdFailureKind(view.Err))
			common.SetComponentCondition(&s.Status.PD.Conditions, common.ConditionPDReachable, false, common.ReasonPDUnreachable, msg, tc.Generation)
			if wasReachable {
				s.event(corev1.EventTypeWarning, common.ReasonPDUnreachable, "ReadPD", fmt.Sprintf("%s: %v", msg, view.Err))
			}
			return task.Complete("PD unreachable")
		}
		common.SetComponentCondition(&s.Status.PD.Conditions, common.ConditionPDReachable, true, common.ReasonPDReachable, "PD answers", tc.Generation)
		if tc.HasLocalPD() {
			applyPDMembers(tc, s.Status, view.PDView)
		}
		if tc.Spec.TiKV != nil && !suspended(tc, "tikv") {
			applyStores(tc, s.Status, view.PDView)
		}
		return task.Complete("")
	})
}

func pdWasReachable(tc *v1alpha1.TidbCluster) bool {
	for _, c := range tc.Status.PD.Conditions {
		if c.Type == common.ConditionPDReachable {
			return c.Status == "True"
		}
	}
	return false
}

type pdReadResult struct {
	*PDView
	clusterID uint64
}

// readPD makes the calls status needs: health, leader, stores, tombstones, and the cluster ID
// only while it is unknown (it never changes).
func readPD(ctx context.Context, pd pdapi.Reader, needClusterID bool) pdReadResult {
	out := pdReadResult{PDView: &PDView{}}
	health, err := pd.Health(ctx)
	if err != nil {
		out.Err = fmt.Errorf("read PD health: %w", err)
		return out
	}
	out.Health = health
	leader, err := pd.Leader(ctx)
	if err != nil {
		out.Err = fmt.Errorf("read PD leader: %w", err)
		return out
	}
	out.Leader = leader
	if needClusterID {
		cl, err := pd.Cluster(ctx)
		if err != nil {
			out.Err = fmt.Errorf("read PD cluster: %w", err)
			return out
		}
		out.clusterID = cl.ID
	}
	stores, err := pd.Stores(ctx)
	if err != nil {
		out.StoresErr = err
		if !errors.Is(err, pdapi.ErrNotBootstrapped) {
			out.Err = fmt.Errorf("read PD stores: %w", err)
		}
		return out
	}
	out.Stores = stores
	tomb, err := pd.TombstoneStores(ctx)
	if err != nil {
		out.StoresErr = err
		out.Err = fmt.Errorf("read PD tombstone stores: %w", err)
		return out
	}
	out.Tombstones = tomb
	return out
}

// applyPDMembers rebuilds status.pd members, peer members and leader from PD's health list,
// keeping each member's lastTransitionTime unless its health changed.
func applyPDMembers(tc *v1alpha1.TidbCluster, st *v1alpha1.TidbClusterStatus, v *PDView) {
	now := common.Now()
	members := map[string]v1alpha1.PDMember{}
	peers := map[string]v1alpha1.PDMember{}
	for _, h := range v.Health {
		m := v1alpha1.PDMember{Name: h.Name, ID: strconv.FormatUint(h.MemberID, 10), ClientURL: h.ClientURL(), Health: h.Health, LastTransitionTime: now}
		target := peers
		if pdapi.BelongsTo(m.ClientURL, "pd", tc.Namespace, tc.Name, tc.Spec.ClusterDomain) {
			target = members
		}
		if old, ok := previousMember(tc, m.Name); ok && old.Health == m.Health {
			m.LastTransitionTime = old.LastTransitionTime
		}
		target[m.Name] = m
	}
	st.PD.Members, st.PD.PeerMembers = members, peers
	st.PD.Synced = true
	st.PD.Leader = nil
	if v.Leader != nil {
		if m, ok := members[v.Leader.Name]; ok {
			st.PD.Leader = &m
		} else if m, ok := peers[v.Leader.Name]; ok {
			st.PD.Leader = &m
		}
	}
}

func previousMember(tc *v1alpha1.TidbCluster, name string) (v1alpha1.PDMember, bool) {
	if m, ok := tc.Status.PD.Members[name]; ok {
		return m, true
	}
	m, ok := tc.Status.PD.PeerMembers[name]
	return m, ok
}

// applyStores rebuilds status.tikv stores, peer stores and tombstones from PD's lists.
func applyStores(tc *v1alpha1.TidbCluster, st *v1alpha1.TidbClusterStatus, v *PDView) {
	if errors.Is(v.StoresErr, pdapi.ErrNotBootstrapped) {
		st.TiKV.Synced = true
		st.TiKV.BootStrapped = false
		return
	}
	if v.Stores == nil {
		return
	}
	now := common.Now()
	stores := map[string]v1alpha1.TiKVStore{}
	peers := map[string]v1alpha1.TiKVStore{}
	tombs := map[string]v1alpha1.TiKVStore{}
	convert := func(info *pdapi.StoreInfo, prev map[string]v1alpha1.TiKVStore) (v1alpha1.TiKVStore, bool) {
		if info == nil || info.Store == nil || info.Store.IsTiFlash() {
			return v1alpha1.TiKVStore{}, false
		}
		id := strconv.FormatUint(info.Store.ID, 10)
		s := v1alpha1.TiKVStore{ID: id, PodName: info.Store.PodName(), IP: info.Store.Host(), State: info.Store.StateName, LastTransitionTime: now}
		if info.Status != nil {
			s.LeaderCount = int32(info.Status.LeaderCount)
		}
		if old, ok := prev[id]; ok {
			s.LeaderCountBeforeUpgrade = old.LeaderCountBeforeUpgrade
			if old.State == s.State {
				s.LastTransitionTime = old.LastTransitionTime
			}
		}
		return s, true
	}
	for _, info := range v.Stores.Stores {
		if info == nil || info.Store == nil {
			continue
		}
		if pdapi.BelongsTo(info.Store.Address, "tikv", tc.Namespace, tc.Name, tc.Spec.ClusterDomain) {
			if s, ok := convert(info, tc.Status.TiKV.Stores); ok {
				stores[s.ID] = s
			}
		} else if s, ok := convert(info, tc.Status.TiKV.PeerStores); ok {
			peers[s.ID] = s
		}
	}
	if v.Tombstones != nil {
		for _, info := range v.Tombstones.Stores {
			if info == nil || info.Store == nil || !pdapi.BelongsTo(info.Store.Address, "tikv", tc.Namespace, tc.Name, tc.Spec.ClusterDomain) {
				continue
			}
			if s, ok := convert(info, tc.Status.TiKV.TombstoneStores); ok {
				tombs[s.ID] = s
			}
		}
	}
	st.TiKV.Stores, st.TiKV.PeerStores, st.TiKV.TombstoneStores = stores, peers, tombs
	st.TiKV.Synced = true
	st.TiKV.BootStrapped = true
}

// RetryWhilePDUnreachable asks for an earlier reconcile than the resync while PD cannot be
// read, so that status and any scale-in held back catch up soon after PD returns.
func RetryWhilePDUnreachable(s *State) task.Task {
	return task.NameTaskFunc("RetryWhilePDUnreachable", func(context.Context) task.Result {
		if s.PDView != nil && !s.PDView.Reachable() {
			return task.Retry(s.requeue(), "PD unreachable")
		}
		return task.Complete("")
	})
}

// pdFailureKind classifies why PD could not be read in words that stay the same from one
// attempt to the next.
func pdFailureKind(err error) string {
	var httpErr *pdapi.HTTPError
	var netErr net.Error
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &httpErr):
		return fmt.Sprintf("it answered HTTP %d", httpErr.Code)
	case errors.As(err, &dnsErr):
		return "its address does not resolve"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "the request timed out"
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was refused or reset"
	default:
		return "the request failed"
	}
}
