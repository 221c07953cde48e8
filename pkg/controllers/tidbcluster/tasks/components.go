package tasks

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// Discovery applies the discovery ServiceAccount, Role, RoleBinding, Service and Deployment
// that PD pods ask how to start (bootstrap or join).
func Discovery(s *State) task.Task {
	return applyTask(s, "Discovery", func() ([]client.Object, error) {
		tc := s.Cluster
		role := builders.DiscoveryRole(tc)
		if p := s.plan(label.DiscoveryComponent); p.keep() {
			// A kept discovery pod may be v1.6's, whose Role also grants Secrets; nothing it
			// may use is taken away until its template is this operator's.
			if err := s.keepLiveRules(role); err != nil {
				return nil, err
			}
		}
		return []client.Object{
			builders.DiscoveryServiceAccount(tc),
			role,
			builders.DiscoveryRoleBinding(tc),
			builders.DiscoveryService(tc),
		}, nil
	})
}

// keepLiveRules adds to role the rules its live copy has and it lacks.
func (s *State) keepLiveRules(role *rbacv1.Role) error {
	live := &rbacv1.Role{}
	err := s.Client.Get(context.Background(), client.ObjectKeyFromObject(role), live)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get Role %s: %w", role.Name, err)
	}
	for _, r := range live.Rules {
		if !slices.ContainsFunc(role.Rules, func(o rbacv1.PolicyRule) bool { return apiequality.Semantic.DeepEqual(o, r) }) {
			role.Rules = append(role.Rules, r)
		}
	}
	return nil
}

// DiscoveryDeployment applies the discovery Deployment as PlanRollout decided: the rendering,
// or the live spec kept with only the operator's records added.
func DiscoveryDeployment(s *State) task.Task {
	return task.NameTaskFunc("DiscoveryDeployment", func(ctx context.Context) task.Result {
		p := s.plan(label.DiscoveryComponent)
		if p == nil || p.desired.deploy == nil {
			return task.Fail(fmt.Errorf("the discovery rollout was not planned"))
		}
		d := s.finishDeployment(p.desired.deploy)
		_, outcome, err := applyChild(ctx, s, d)
		if err != nil {
			return failOrRetry(err)
		}
		if outcome == common.Unchanged {
			return task.Complete("")
		}
		return task.Complete(string(outcome) + " " + d.Name)
	})
}

// PDServices applies "<tc>-pd" and the headless "<tc>-pd-peer".
func PDServices(s *State) task.Task {
	return applyTask(s, "PDServices", func() ([]client.Object, error) {
		return []client.Object{builders.PDService(s.Cluster), builders.PDPeerService(s.Cluster)}, nil
	})
}

// TiKVServices applies the headless "<tc>-tikv-peer".
func TiKVServices(s *State) task.Task {
	return applyTask(s, "TiKVServices", func() ([]client.Object, error) {
		return []client.Object{builders.TiKVPeerService(s.Cluster)}, nil
	})
}

// TiDBServices applies "<tc>-tidb-peer" and, when spec.tidb.service is set, "<tc>-tidb".
func TiDBServices(s *State) task.Task {
	return applyTask(s, "TiDBServices", func() ([]client.Object, error) {
		objs := []client.Object{builders.TiDBPeerService(s.Cluster)}
		if svc := builders.TiDBService(s.Cluster); svc != nil {
			objs = append(objs, svc)
		}
		return objs, nil
	})
}

// configMapTask applies the component's ConfigMap PlanRollout rendered and remembers the live
// one for the StatefulSet step, whose pods mount it by name. While the live template is kept,
// the ConfigMap it mounts is left as it is (it may be another operator's) and nothing is
// written.
func configMapTask(s *State, name, component string, into **corev1.ConfigMap) task.Task {
	return task.NameTaskFunc(name, func(ctx context.Context) task.Result {
		p := s.plan(component)
		if p == nil || p.desired.cm == nil {
			return task.Fail(fmt.Errorf("the %s rollout was not planned", component))
		}
		if p.keep() {
			*into = p.liveConfig
			return task.Complete("")
		}
		_, r := applyConfigMap(ctx, s, p.desired.cm, into)
		if r.Status() == task.StatusComplete && p.liveConfig != nil && p.liveConfig.Name != p.desired.cm.Name {
			// Said once, when the template written next stops mounting it: the previous
			// ConfigMap (v1.6's after a takeover) is never deleted; it is the user's to remove.
			s.Log.Info("leaving the previous ConfigMap in place; the new template no longer mounts it", "configmap", p.liveConfig.Name, "component", component)
		}
		return r
	})
}

// applyConfigMap applies a component's ConfigMap and remembers the live one in into.
func applyConfigMap(ctx context.Context, s *State, cm *corev1.ConfigMap, into **corev1.ConfigMap) (common.Outcome, task.Result) {
	obj, outcome, err := applyChild(ctx, s, cm)
	if err != nil {
		return outcome, failOrRetry(err)
	}
	*into = obj.(*corev1.ConfigMap)
	if outcome == common.Unchanged {
		return outcome, task.Complete("")
	}
	return outcome, task.Complete(string(outcome) + " " + cm.Name)
}

// PDConfigMap applies "<tc>-pd[-hash]".
func PDConfigMap(s *State) task.Task {
	return configMapTask(s, "PDConfigMap", label.PDComponent, &s.pdConfigMap)
}

// TiDBConfigMap applies "<tc>-tidb[-hash]".
func TiDBConfigMap(s *State) task.Task {
	return configMapTask(s, "TiDBConfigMap", label.TiDBComponent, &s.tidbConfigMap)
}

// PDStatefulSet creates or updates "<tc>-pd", scaling out one member at a time and in one
// member at a time through PD (leader transfer, member removal).
func PDStatefulSet(s *State) task.Task {
	return task.NameTaskFunc("PDStatefulSet", func(ctx context.Context) task.Result {
		tc := s.Cluster
		return syncStatefulSet(ctx, s, statefulSetSpec{
			component: label.PDComponent,
			name:      builders.MemberName(tc.Name, label.PDComponent),
			build: func(o builders.StatefulSetOptions) (*appsv1.StatefulSet, error) {
				sts, err := builders.PDStatefulSet(tc, s.pdConfigMap, o)
				if err != nil {
					return nil, err
				}
				return s.finishStatefulSet(label.PDComponent, sts), nil
			},
			target:     tc.PDStsDesiredReplicas(),
			outStep:    1,
			inStep:     1,
			scaleIn:    s.pdScaleIn,
			conditions: &s.Status.PD.Conditions,
			upgrade:    s.pdUpgrade(),
		})
	})
}

// pdScaleIn prepares the removal of PD pod <set>-<ordinal>.
func (s *State) pdScaleIn(ctx context.Context, live *appsv1.StatefulSet, ordinal int32) (bool, task.Result) {
	tc := s.Cluster
	podName := fmt.Sprintf("%s-%d", live.Name, ordinal)
	in := PDScaleInInput{
		Current:         replicasOf(live),
		Desired:         tc.PDStsDesiredReplicas(),
		PDReachable:     s.PDView.Reachable(),
		Synced:          s.Status.PD.Synced,
		OtherComponents: tc.NeedsPD(),
		SetName:         live.Name,
		Members:         map[string]bool{},
	}
	leaving := ""
	for name, m := range s.Status.PD.Members {
		in.Members[name] = m.Health
		if name == podName || hasPrefixDot(name, podName) {
			leaving = name
		}
	}
	if leaving == "" {
		leaving = podName
	}
	in.Leaving = leaving
	if s.Status.PD.Leader != nil {
		in.Leader = s.Status.PD.Leader.Name
	}
	d := DecidePDScaleIn(in)
	switch d.Action {
	case PDScaleInRefuse:
		return false, blockScaleIn(s, &s.Status.PD.Conditions, d.Reason, d.Message)
	case PDScaleInTransferLeader:
		if err := s.PD.TransferLeader(ctx, d.Target); err != nil {
			return false, task.Fail(fmt.Errorf("transfer PD leader from %s to %s: %w", leaving, d.Target, err))
		}
		s.event(corev1.EventTypeNormal, "PDLeaderTransferred", "ScaleIn", fmt.Sprintf("transferred PD leadership from %s to %s before removing it", leaving, d.Target))
		return false, task.Retry(s.requeue(), "PD leader transferred, waiting for the new leader")
	case PDScaleInDeleteMember:
		if err := s.PD.DeleteMember(ctx, leaving); err != nil {
			return false, task.Fail(fmt.Errorf("delete PD member %s: %w", leaving, err))
		}
		s.event(corev1.EventTypeNormal, "PDMemberDeleted", "ScaleIn", fmt.Sprintf("deleted PD member %s", leaving))
		delete(s.Status.PD.Members, leaving)
		return true, task.Complete("")
	default:
		return true, task.Complete("")
	}
}

func hasPrefixDot(name, pod string) bool {
	return strings.HasPrefix(name, pod+".")
}

// readyReplicas is the ready pod count of a component's StatefulSet, 0 before it exists.
func (s *State) readyReplicas(component string) int32 {
	if sts := s.StatefulSets[component]; sts != nil {
		return sts.Status.ReadyReplicas
	}
	return 0
}

// WaitForPDAvailable stops the reconcile until a majority of PD members is healthy.
func WaitForPDAvailable(s *State) task.Task {
	return task.NameTaskFunc("WaitForPDAvailable", func(context.Context) task.Result {
		ready := s.readyReplicas(label.PDComponent)
		if !PDAvailable(s.clusterWithStatus(), ready) {
			return task.Wait(fmt.Sprintf("PD is not available yet (%d ready pods, %d members known)", ready, len(s.Status.PD.Members)))
		}
		return task.Complete("")
	})
}

// TiKVStatefulSet creates or updates "<tc>-tikv"; scale-in deletes the highest ordinal's
// store and waits for it to become a tombstone.
func TiKVStatefulSet(s *State) task.Task {
	return task.NameTaskFunc("TiKVStatefulSet", func(ctx context.Context) task.Result {
		tc := s.Cluster
		s.removingStores = 0
		return syncStatefulSet(ctx, s, statefulSetSpec{
			component: label.TiKVComponent,
			name:      builders.MemberName(tc.Name, label.TiKVComponent),
			build: func(o builders.StatefulSetOptions) (*appsv1.StatefulSet, error) {
				sts, err := builders.TiKVStatefulSet(tc, s.tikvConfigMap, o)
				if err != nil {
					return nil, err
				}
				return s.finishStatefulSet(label.TiKVComponent, sts), nil
			},
			target:     tc.TiKVStsDesiredReplicas(),
			outStep:    Parallelism(tc.Spec.TiKV.ScalePolicy.ScaleOutParallelism),
			inStep:     Parallelism(tc.Spec.TiKV.ScalePolicy.ScaleInParallelism),
			scaleIn:    s.tikvScaleIn,
			conditions: &s.Status.TiKV.Conditions,
			upgrade:    s.tikvUpgrade(tc.TiKVStsDesiredReplicas()),
			// A new ConfigMap (RollingUpdate) is in use once the StatefulSet mounts it.
			applied: func(o common.Outcome) { s.reportTiKVConfigInUse(o != common.Unchanged) },
		})
	})
}

// tikvScaleIn prepares the removal of TiKV pod <set>-<ordinal>.
func (s *State) tikvScaleIn(ctx context.Context, live *appsv1.StatefulSet, ordinal int32) (bool, task.Result) {
	podName := fmt.Sprintf("%s-%d", live.Name, ordinal)
	// Before bootstrap (PD reachable, no store list) no pod holds data and pods go at once.
	in := StoreScaleInInput{PDReachable: s.PDView.Reachable()}
	var storeID uint64
	if in.PDReachable && s.PDView.Stores != nil {
		for _, info := range s.PDView.Stores.Stores {
			if info == nil || info.Store == nil || info.Store.IsTiFlash() {
				continue
			}
			if info.Store.StateName == pdapi.StoreStateUp {
				in.UpStores++
			}
			if pdapi.BelongsTo(info.Store.Address, label.TiKVComponent, live.Namespace, s.Cluster.Name, s.Cluster.Spec.ClusterDomain) && info.Store.PodName() == podName {
				in.StoreState, storeID = info.Store.StateName, info.Store.ID
				if info.Status != nil {
					in.LeaderCount = info.Status.LeaderCount
				}
			}
		}
		for _, st := range s.Status.TiKV.TombstoneStores {
			if st.PodName == podName {
				in.Tombstone = true
			}
		}
		in.UpStores -= s.removingStores
		if in.StoreState == pdapi.StoreStateUp || in.StoreState == pdapi.StoreStateDown {
			cfg, err := s.PD.Config(ctx)
			if err != nil {
				return false, blockScaleIn(s, &s.Status.TiKV.Conditions, common.ReasonPDNotSynced, fmt.Sprintf("TiKV scale-in waits: cannot read PD's max-replicas: %v", err))
			}
			in.MaxReplicas = int(*cfg.Replication.MaxReplicas)
		}
	}
	if in.StoreState == pdapi.StoreStateUp && in.LeaderCount > 0 {
		started, err := s.scaleInStartedAt(ctx, live.Namespace, podName)
		if err != nil {
			return false, task.Fail(err)
		}
		if !started.IsZero() {
			in.Evicting, in.EvictingFor = true, time.Since(started)
		}
	}
	d := DecideStoreScaleIn(in)
	switch d.Action {
	case StoreScaleInRefuse:
		return false, blockScaleIn(s, &s.Status.TiKV.Conditions, d.Reason, d.Message)
	case StoreScaleInEvictLeaders:
		if err := s.PD.BeginEvictLeader(ctx, storeID); err != nil {
			return false, task.Fail(fmt.Errorf("evict leaders from store %d of pod %s: %w", storeID, podName, err))
		}
		s.removingStores++
		return false, task.Retry(s.requeue(), fmt.Sprintf("moving %d leaders off store %d before removing it", in.LeaderCount, storeID))
	case StoreScaleInDeleteStore:
		if err := s.PD.DeleteStore(ctx, storeID); err != nil {
			return false, task.Fail(fmt.Errorf("delete TiKV store %d of pod %s: %w", storeID, podName, err))
		}
		s.removingStores++
		s.event(corev1.EventTypeNormal, "TiKVStoreDeleted", "ScaleIn", fmt.Sprintf("asked PD to remove store %d of pod %s; the pod goes once the store is a tombstone", storeID, podName))
		return false, task.Retry(s.requeue(), "waiting for store "+strconv.FormatUint(storeID, 10)+" to become a tombstone")
	case StoreScaleInWaitTombstone:
		s.removingStores++
		return false, task.Retry(s.requeue(), "waiting for store "+strconv.FormatUint(storeID, 10)+" to become a tombstone")
	default:
		// The store is gone; so must be the scheduler that moved its leaders away.
		for id, st := range s.Status.TiKV.TombstoneStores {
			if st.PodName != podName {
				continue
			}
			n, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				continue
			}
			if err := s.PD.EndEvictLeader(ctx, n); err != nil {
				return false, task.Fail(fmt.Errorf("end leader eviction of removed store %d: %w", n, err))
			}
		}
		return true, task.Complete("")
	}
}

// scaleInStartedAt returns when the scale-in of a TiKV pod began, recording now in the pod
// annotation tidb.pingcap.com/scale-in-time on the first call (as v1.6 does, so the leader
// eviction timeout survives operator restarts). It returns the zero time when the pod does not
// exist, which skips the eviction.
func (s *State) scaleInStartedAt(ctx context.Context, namespace, podName string) (time.Time, error) {
	pod := &corev1.Pod{}
	if err := s.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: podName}, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("get pod %s: %w", podName, err)
	}
	if v, ok := pod.Annotations[label.ScaleInTimeAnnKey]; ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := patchLabels(ctx, s.Client, pod, nil, map[string]string{label.ScaleInTimeAnnKey: now.Format(time.RFC3339)}); err != nil {
		return time.Time{}, err
	}
	return now, nil
}

// WaitForTiKVAvailable stops the reconcile until a TiKV store is Up and a TiKV pod is ready.
func WaitForTiKVAvailable(s *State) task.Task {
	return task.NameTaskFunc("WaitForTiKVAvailable", func(context.Context) task.Result {
		ready := s.readyReplicas(label.TiKVComponent)
		if !TiKVAvailable(s.clusterWithStatus(), ready) {
			return task.Wait(fmt.Sprintf("TiKV is not available yet (%d ready pods, %d stores known)", ready, len(s.Status.TiKV.Stores)))
		}
		return task.Complete("")
	})
}

// TiDBStatefulSet creates or updates "<tc>-tidb"; TiDB keeps no data, so pods go without
// preparation.
func TiDBStatefulSet(s *State) task.Task {
	return task.NameTaskFunc("TiDBStatefulSet", func(ctx context.Context) task.Result {
		tc := s.Cluster
		return syncStatefulSet(ctx, s, statefulSetSpec{
			component: label.TiDBComponent,
			name:      builders.MemberName(tc.Name, label.TiDBComponent),
			build: func(o builders.StatefulSetOptions) (*appsv1.StatefulSet, error) {
				sts, err := builders.TiDBStatefulSet(tc, s.tidbConfigMap, o)
				if err != nil {
					return nil, err
				}
				return s.finishStatefulSet(label.TiDBComponent, sts), nil
			},
			target:     tc.TiDBStsDesiredReplicas(),
			outStep:    Parallelism(tc.Spec.TiDB.ScalePolicy.ScaleOutParallelism),
			inStep:     Parallelism(tc.Spec.TiDB.ScalePolicy.ScaleInParallelism),
			conditions: &s.Status.TiDB.Conditions,
			upgrade:    s.tidbUpgrade(),
		})
	})
}
