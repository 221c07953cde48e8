package tasks

import (
	"context"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/builders"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// SyncMetaLabels copies what PD says about each pod onto the pod and its claims, as v1.6 does:
// tidb.pingcap.com/cluster-id on all of them, member-id on PD pods, store-id on TiKV pods, and
// tidb.pingcap.com/pod-name (label and annotation) on the claims. Objects are patched only when a
// value differs, so a steady state writes nothing.
func SyncMetaLabels(s *State) task.Task {
	return task.NameTaskFunc("SyncMetaLabels", func(ctx context.Context) task.Result {
		tc := s.Cluster
		pods := &corev1.PodList{}
		sel := label.New().Instance(builders.InstanceName(tc)).Labels()
		if err := s.Client.List(ctx, pods, client.InNamespace(tc.Namespace), client.MatchingLabels(sel)); err != nil {
			return task.Fail(fmt.Errorf("list pods: %w", err))
		}
		patched := 0
		for i := range pods.Items {
			pod := &pods.Items[i]
			want := podMetaLabels(tc, s.Status, pod)
			if len(want) == 0 {
				continue
			}
			if n, err := patchLabels(ctx, s.Client, pod, want, nil); err != nil {
				return task.Fail(err)
			} else {
				patched += n
			}
			for _, v := range pod.Spec.Volumes {
				if v.PersistentVolumeClaim == nil {
					continue
				}
				pvc := &corev1.PersistentVolumeClaim{}
				err := s.Client.Get(ctx, client.ObjectKey{Namespace: pod.Namespace, Name: v.PersistentVolumeClaim.ClaimName}, pvc)
				if apierrors.IsNotFound(err) {
					continue
				}
				if err != nil {
					return task.Fail(fmt.Errorf("get PVC %s: %w", v.PersistentVolumeClaim.ClaimName, err))
				}
				pvcWant := make(map[string]string, len(want)+1)
				for k, val := range want {
					pvcWant[k] = val
				}
				pvcWant[label.PodNameLabelKey] = pod.Name
				n, err := patchLabels(ctx, s.Client, pvc, pvcWant, map[string]string{label.PodNameLabelKey: pod.Name})
				if err != nil {
					return task.Fail(err)
				}
				patched += n
				if s.ReadPVs {
					n, err := s.syncPV(ctx, pvc, pvcWant)
					if err != nil {
						return task.Fail(err)
					}
					patched += n
				}
			}
		}
		if patched == 0 {
			return task.Complete("")
		}
		return task.Complete(fmt.Sprintf("labelled %d objects", patched))
	})
}

// syncPV gives the volume bound to a claim of the cluster what v1.6's meta and reclaim-policy
// managers give it: the claim's identity labels (cluster, component, cluster-id, member-id or
// store-id, pod name) plus app.kubernetes.io/namespace, the pod-name annotation, and
// spec.pvReclaimPolicy (default Retain) as its reclaim policy — so that deleting a claim (a
// later scale-out reusing the ordinal, or a person) does not delete the data with a
// StorageClass whose policy is Delete. One patch, only when something differs.
func (s *State) syncPV(ctx context.Context, pvc *corev1.PersistentVolumeClaim, identity map[string]string) (int, error) {
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return 0, nil
	}
	pv := &corev1.PersistentVolume{}
	if err := s.Client.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("get volume %s of claim %s: %w", pvc.Spec.VolumeName, pvc.Name, err)
	}
	want := maps.Clone(identity)
	for _, k := range []string{label.NameLabelKey, label.ManagedByLabelKey, label.InstanceLabelKey, label.ComponentLabelKey} {
		if v, ok := pvc.Labels[k]; ok {
			want[k] = v
		}
	}
	want[label.NamespaceLabelKey] = pvc.Namespace
	newLabels, lchanged := mergeStrings(pv.Labels, want)
	newAnn, achanged := mergeStrings(pv.Annotations, map[string]string{label.PodNameLabelKey: identity[label.PodNameLabelKey]})
	policy := corev1.PersistentVolumeReclaimPolicy(s.Cluster.PVReclaimPolicy())
	pchanged := pv.Spec.PersistentVolumeReclaimPolicy != policy
	if !lchanged && !achanged && !pchanged {
		return 0, nil
	}
	patch := client.MergeFrom(pv.DeepCopy())
	pv.Labels, pv.Annotations, pv.Spec.PersistentVolumeReclaimPolicy = newLabels, newAnn, policy
	if err := s.Client.Patch(ctx, pv, patch, client.FieldOwner(common.FieldManager)); err != nil {
		return 0, fmt.Errorf("label volume %s and set its reclaim policy: %w", pv.Name, err)
	}
	return 1, nil
}

// podMetaLabels are the labels a pod should carry according to status.
func podMetaLabels(tc *v1alpha1.TidbCluster, st *v1alpha1.TidbClusterStatus, pod *corev1.Pod) map[string]string {
	want := map[string]string{}
	if st.ClusterID != "" {
		want[label.ClusterIDLabelKey] = st.ClusterID
	}
	switch pod.Labels[label.ComponentLabelKey] {
	case label.PDComponent:
		for name, m := range st.PD.Members {
			if name == pod.Name || strings.HasPrefix(name, pod.Name+".") {
				want[label.MemberIDLabelKey] = m.ID
			}
		}
	case label.TiKVComponent:
		for _, store := range st.TiKV.Stores {
			if store.PodName == pod.Name {
				want[label.StoreIDLabelKey] = store.ID
			}
		}
	case label.TiDBComponent:
	default:
		return nil
	}
	return want
}

// patchLabels merges labels and annotations into obj with a merge patch, when anything differs.
func patchLabels(ctx context.Context, c client.Client, obj client.Object, labels, annotations map[string]string) (int, error) {
	newLabels, lchanged := mergeStrings(obj.GetLabels(), labels)
	newAnn, achanged := mergeStrings(obj.GetAnnotations(), annotations)
	if !lchanged && !achanged {
		return 0, nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	obj.SetLabels(newLabels)
	obj.SetAnnotations(newAnn)
	if err := c.Patch(ctx, obj, patch, client.FieldOwner(common.FieldManager)); err != nil {
		return 0, fmt.Errorf("label %s: %w", obj.GetName(), err)
	}
	return 1, nil
}

// removeAnnotation deletes one annotation from obj with a merge patch; nothing is written when
// it is absent.
func removeAnnotation(ctx context.Context, c client.Client, obj client.Object, key string) error {
	if _, ok := obj.GetAnnotations()[key]; !ok {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	ann := maps.Clone(obj.GetAnnotations())
	delete(ann, key)
	obj.SetAnnotations(ann)
	if err := c.Patch(ctx, obj, patch, client.FieldOwner(common.FieldManager)); err != nil {
		return fmt.Errorf("remove annotation %s from %s: %w", key, obj.GetName(), err)
	}
	return nil
}

func mergeStrings(cur, want map[string]string) (map[string]string, bool) {
	changed := false
	for k, v := range want {
		if old, ok := cur[k]; ok && old == v {
			continue
		}
		if !changed {
			cp := make(map[string]string, len(cur)+len(want))
			for ck, cv := range cur {
				cp[ck] = cv
			}
			cur = cp
			changed = true
		}
		cur[k] = v
	}
	return cur, changed
}
