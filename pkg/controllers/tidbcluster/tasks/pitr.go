package tasks

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// While a PiTR Restore into a cluster is unfinished, TiKV's configuration disables GC
// (gc.ratio-threshold = -1): BR also sets it online, but a TiKV that restarts during the log
// restore would otherwise come back with GC on and could collect versions the restore still
// writes. This is v1.6's applyPiTRConfigOverride.

// ReasonPiTRRestoreOverlay is the reason of the event that says the TiKV configuration changed
// because a PiTR Restore started or finished.
const ReasonPiTRRestoreOverlay = "PiTRRestoreOverlay"

// RestoreTargetIndex is the cache index of Restores by the TidbCluster they restore into
// ("namespace/name", see RestoreTargetIndexValue).
const RestoreTargetIndex = "tidbcluster.restoreTarget"

// RestoreTarget is the TidbCluster a BR Restore restores into: spec.br.cluster in
// spec.br.clusterNamespace, or in the Restore's namespace when that is empty. ok is false for
// a Restore without spec.br (a Lightning import) or without a cluster name.
func RestoreTarget(rs *v1alpha1.Restore) (target types.NamespacedName, ok bool) {
	if rs.Spec.BR == nil || rs.Spec.BR.Cluster == "" {
		return types.NamespacedName{}, false
	}
	ns := rs.Spec.BR.ClusterNamespace
	if ns == "" {
		ns = rs.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: rs.Spec.BR.Cluster}, true
}

// RestoreTargetIndexValue is the RestoreTargetIndex extractor: the target's "namespace/name".
func RestoreTargetIndexValue(obj client.Object) []string {
	rs, ok := obj.(*v1alpha1.Restore)
	if !ok {
		return nil
	}
	t, ok := RestoreTarget(rs)
	if !ok {
		return nil
	}
	return []string{t.String()}
}

// HoldsPiTROverlay reports whether rs keeps its target's TiKV at gc.ratio-threshold = -1: a BR
// restore in pitr mode that has not finished (no Complete, Failed or Invalid condition that is
// True) and is not being deleted. A failed restore that will be retried is Failed only once
// the retries are exhausted, so it holds the overlay until then.
func HoldsPiTROverlay(rs *v1alpha1.Restore) bool {
	if rs.Spec.Mode != v1alpha1.RestoreModePiTR || rs.Spec.BR == nil {
		return false
	}
	if !rs.DeletionTimestamp.IsZero() {
		return false
	}
	return !v1alpha1.IsRestoreComplete(rs) && !v1alpha1.IsRestoreFailed(rs) && !v1alpha1.IsRestoreInvalid(rs)
}

// DecidePiTROverlay returns the Restores ("namespace/name", sorted) that hold the PiTR overlay
// on the TiKV configuration of cluster; the overlay is on when there is any.
func DecidePiTROverlay(cluster types.NamespacedName, restores []v1alpha1.Restore) []string {
	var out []string
	for i := range restores {
		rs := &restores[i]
		if t, ok := RestoreTarget(rs); !ok || t != cluster || !HoldsPiTROverlay(rs) {
			continue
		}
		out = append(out, client.ObjectKeyFromObject(rs).String())
	}
	sort.Strings(out)
	return out
}

// PiTROverlayChange is what a new TiKV ConfigMap changes about the PiTR overlay, compared with
// the one TiKV runs with.
type PiTROverlayChange int

const (
	// PiTROverlayUnchanged: nothing to report.
	PiTROverlayUnchanged PiTROverlayChange = iota
	// PiTROverlayAdded: GC gets disabled for a PiTR Restore.
	PiTROverlayAdded
	// PiTROverlayRemoved: no PiTR Restore holds the overlay any more, and the user's
	// configuration does not disable GC itself.
	PiTROverlayRemoved
)

// PiTROverlayChangeInput is what DecidePiTROverlayChange compares.
type PiTROverlayChangeInput struct {
	// On: a PiTR Restore holds the overlay now.
	On bool
	// InUseDisablesGC: the configuration TiKV runs with (the ConfigMap its StatefulSet
	// mounts) has gc.ratio-threshold = -1. False before the StatefulSet exists.
	InUseDisablesGC bool
	// DesiredDisablesGC: the configuration rendered now has gc.ratio-threshold = -1.
	DesiredDisablesGC bool
}

// DecidePiTROverlayChange says whether the TiKV configuration TiKV gets now differs from the
// one it runs with because of the PiTR overlay. A user who sets gc.ratio-threshold = -1 in
// spec.tikv.config sees no change when a Restore comes or goes, since the file stays the same.
func DecidePiTROverlayChange(in PiTROverlayChangeInput) PiTROverlayChange {
	switch {
	case in.On && !in.InUseDisablesGC:
		return PiTROverlayAdded
	case !in.On && in.InUseDisablesGC && !in.DesiredDisablesGC:
		return PiTROverlayRemoved
	}
	return PiTROverlayUnchanged
}

// ObservePiTRRestores finds, in the manager's cache, the PiTR Restores that hold the overlay on
// this cluster's TiKV configuration, for TiKVConfigMap.
func ObservePiTRRestores(s *State) task.Task {
	return task.NameTaskFunc("ObservePiTRRestores", func(ctx context.Context) task.Result {
		key := client.ObjectKeyFromObject(s.Cluster)
		list := &v1alpha1.RestoreList{}
		if err := s.Client.List(ctx, list, client.MatchingFields{RestoreTargetIndex: key.String()}); err != nil {
			// Not knowing is not "no Restore": dropping the overlay could let GC run during a
			// restore (and roll TiKV twice), so TiKV's config waits.
			return task.Fail(fmt.Errorf("list Restores into %s: %w", key, err))
		}
		s.pitrRestores = DecidePiTROverlay(key, list.Items)
		return task.Complete("")
	})
}

// TiKVConfigMap applies "<tc>-tikv[-hash]", with gc.ratio-threshold = -1 while a PiTR Restore
// holds it (ObservePiTRRestores). When that changes the configuration TiKV runs with, an event
// PiTRRestoreOverlay says so once the new configuration is in use: now with InPlace (the
// ConfigMap TiKV mounts was updated), after the StatefulSet step with RollingUpdate (the
// StatefulSet mounts the new ConfigMap, and the TiKV pods roll through the upgrade step).
func TiKVConfigMap(s *State) task.Task {
	return task.NameTaskFunc("TiKVConfigMap", func(ctx context.Context) task.Result {
		on := len(s.pitrRestores) > 0
		p := s.plan(label.TiKVComponent)
		if p == nil || p.desired.cm == nil {
			return task.Fail(fmt.Errorf("the tikv rollout was not planned"))
		}
		if p.keep() {
			// The live template stays, with the ConfigMap it mounts; a change of the overlay is
			// a change of the inputs, which PlanRollout never keeps.
			s.tikvConfigMap = p.liveConfig
			return task.Complete("")
		}
		cm := p.desired.cm
		// Read before the write: with InPlace the ConfigMap in use is the one being updated.
		inUseName, inUse, known := s.tikvConfigInUse(ctx)
		outcome, r := applyConfigMap(ctx, s, cm, &s.tikvConfigMap)
		if r.Status() != task.StatusComplete {
			return r
		}
		s.tikvOverlayNote = ""
		if !known {
			return r
		}
		change := DecidePiTROverlayChange(PiTROverlayChangeInput{
			On:                on,
			InUseDisablesGC:   builders.HasPiTRRestoreOverlay(inUse),
			DesiredDisablesGC: builders.HasPiTRRestoreOverlay(cm),
		})
		if change == PiTROverlayUnchanged {
			return r
		}
		note := pitrOverlayNote(change, s.pitrRestores, cm.Name)
		switch inUseName {
		case cm.Name:
			if outcome != common.Unchanged {
				s.event(corev1.EventTypeNormal, ReasonPiTRRestoreOverlay, "UpdateConfig", note+"; TiKV reads it when it restarts (configUpdateStrategy InPlace)")
			}
		case "":
			s.tikvOverlayNote = note + "; TiKV starts with it"
		default:
			s.tikvOverlayNote = note + "; the TiKV pods restart one at a time to apply it"
		}
		return r
	})
}

// tikvConfigInUse returns the ConfigMap the live TiKV StatefulSet mounts and its name, from the
// cache. Without a StatefulSet, or when that ConfigMap is gone, it returns no ConfigMap (TiKV
// runs with nothing); known is false when either read failed.
func (s *State) tikvConfigInUse(ctx context.Context) (name string, cm *corev1.ConfigMap, known bool) {
	ns := s.Cluster.Namespace
	sts := &appsv1.StatefulSet{}
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: builders.MemberName(s.Cluster.Name, label.TiKVComponent)}, sts)
	if apierrors.IsNotFound(err) {
		return "", nil, true
	}
	if err != nil {
		s.Log.V(1).Info("cannot tell which TiKV ConfigMap is in use", "error", err.Error())
		return "", nil, false
	}
	name = builders.ConfigMapInUse(sts)
	if name == "" {
		return "", nil, true
	}
	cm = &corev1.ConfigMap{}
	err = s.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return name, nil, true
	}
	if err != nil {
		s.Log.V(1).Info("cannot read the TiKV ConfigMap in use", "configmap", name, "error", err.Error())
		return name, nil, false
	}
	return name, cm, true
}

// reportTiKVConfigInUse emits the pending PiTRRestoreOverlay event once this reconcile wrote a
// TiKV StatefulSet that mounts the new ConfigMap.
func (s *State) reportTiKVConfigInUse(wrote bool) {
	if s.tikvOverlayNote == "" || !wrote || s.tikvConfigMap == nil {
		return
	}
	if builders.ConfigMapInUse(s.StatefulSets[label.TiKVComponent]) != s.tikvConfigMap.Name {
		return
	}
	s.event(corev1.EventTypeNormal, ReasonPiTRRestoreOverlay, "UpdateConfig", s.tikvOverlayNote)
	s.tikvOverlayNote = ""
}

func pitrOverlayNote(change PiTROverlayChange, restores []string, cmName string) string {
	if change == PiTROverlayAdded {
		what := "PiTR Restore " + restores[0] + " is"
		if len(restores) > 1 {
			what = "PiTR Restores " + strings.Join(restores, ", ") + " are"
		}
		return fmt.Sprintf("TiKV configuration %s sets gc.ratio-threshold = -1 (GC off) while %s unfinished", cmName, what)
	}
	return fmt.Sprintf("TiKV configuration %s is the user's again (gc.ratio-threshold no longer -1): no unfinished PiTR Restore targets the cluster", cmName)
}
