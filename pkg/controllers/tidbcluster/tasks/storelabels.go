package tasks

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// labelStepTimeout bounds the label steps, which must never hold up the StatefulSet steps after
// them (a Node read waits for its informer, which never syncs without permission to list Nodes).
const labelStepTimeout = 10 * time.Second

// Node labels that stand for PD's customary location labels when a node has no label of that
// exact name (v1.6's mapping; PD label keys cannot contain "/").
var nodeLabelFallbacks = map[string][]string{
	"host":   {corev1.LabelHostname},
	"zone":   {corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone},
	"region": {corev1.LabelTopologyRegion, corev1.LabelFailureDomainBetaRegion},
}

// StoreLabelsFromNode picks, for each key, the node's label of that name or its customary
// Kubernetes equivalent; keys the node has no value for are left out.
func StoreLabelsFromNode(keys []string, node map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := node[k]; ok {
			out[k] = v
			continue
		}
		for _, alt := range nodeLabelFallbacks[k] {
			if v, ok := node[alt]; ok {
				out[k] = v
				break
			}
		}
	}
	return out
}

// StoreLabelsMatch reports whether the store already carries every wanted label with the
// wanted value (labels set by other means are left alone, as in v1.6).
func StoreLabelsMatch(want map[string]string, have []pdapi.StoreLabel) bool {
	for k, v := range want {
		if !slices.Contains(have, pdapi.StoreLabel{Key: k, Value: v}) {
			return false
		}
	}
	return true
}

// TiKVStoreLabels copies the topology of each TiKV pod's node into its store's labels in PD,
// for the keys PD places replicas by (replication.location-labels) and spec.tikv.storeLabels,
// so that PD keeps a Region's replicas in different zones and hosts. It needs to read Nodes
// (cluster scope or -cluster-permission-node); a failure is an event, never a blocked reconcile.
func TiKVStoreLabels(s *State) task.Task {
	return task.NameTaskFunc("TiKVStoreLabels", func(ctx context.Context) task.Result {
		ctx, cancel := context.WithTimeout(ctx, labelStepTimeout)
		defer cancel()
		tc := s.Cluster
		if !s.ReadNodes || !s.PDView.Reachable() || s.PDView.Stores == nil {
			return task.Complete("")
		}
		keys, err := s.LocationLabels.get(ctx, client.ObjectKeyFromObject(tc), s.PD)
		if err != nil {
			return task.Complete("cannot read PD's location-labels: " + err.Error())
		}
		for _, k := range tc.Spec.TiKV.StoreLabels {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return task.Complete("")
		}
		set := 0
		for _, info := range s.PDView.Stores.Stores {
			if info == nil || info.Store == nil || info.Store.IsTiFlash() || info.Store.StateName != pdapi.StoreStateUp ||
				!pdapi.BelongsTo(info.Store.Address, label.TiKVComponent, tc.Namespace, tc.Name, tc.Spec.ClusterDomain) {
				continue
			}
			nodeLabels, err := s.nodeLabelsOfPod(ctx, info.Store.PodName())
			if err != nil {
				s.event(corev1.EventTypeWarning, "FailedSetStoreLabels", "SetStoreLabels", fmt.Sprintf("read the node of pod %s: %v", info.Store.PodName(), err))
				return task.Complete("cannot read nodes")
			}
			if nodeLabels == nil {
				continue
			}
			want := StoreLabelsFromNode(keys, nodeLabels)
			if len(want) == 0 || StoreLabelsMatch(want, info.Store.Labels) {
				continue
			}
			id := info.Store.ID
			if err := s.PD.SetStoreLabels(ctx, id, want); err != nil {
				s.event(corev1.EventTypeWarning, "FailedSetStoreLabels", "SetStoreLabels", fmt.Sprintf("set labels %v on store %d of pod %s: %v", want, id, info.Store.PodName(), err))
				continue
			}
			set++
			s.event(corev1.EventTypeNormal, "SetStoreLabels", "SetStoreLabels", fmt.Sprintf("labelled store %d of pod %s with its node's topology %v", id, info.Store.PodName(), want))
		}
		if set > 0 {
			return task.Complete("labelled " + strconv.Itoa(set) + " stores")
		}
		return task.Complete("")
	})
}

// nodeLabelsOfPod returns the labels of the node a pod runs on; nil when the pod or its node
// is not there (yet).
func (s *State) nodeLabelsOfPod(ctx context.Context, podName string) (map[string]string, error) {
	pod, err := s.podByName(ctx, podName)
	if err != nil || pod == nil {
		return nil, err
	}
	return s.nodeLabels(ctx, pod)
}

// podByName reads a pod of the cluster's namespace from the cache; nil when there is none.
func (s *State) podByName(ctx context.Context, name string) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	if err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.Cluster.Namespace, Name: name}, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get pod %s: %w", name, err)
	}
	return pod, nil
}

// nodeLabels returns the labels of the pod's node; nil before it is scheduled or when the node
// is gone. Nodes are read as metadata only, so the cache holds no node status.
func (s *State) nodeLabels(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
	if pod.Spec.NodeName == "" {
		return nil, nil
	}
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
	if err := s.Client.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get node %s: %w", pod.Spec.NodeName, err)
	}
	return node.Labels, nil
}

// LocationLabelCache remembers each cluster's replication.location-labels for a while: they
// change rarely, and asking PD on every reconcile would add a call per round for nothing.
type LocationLabelCache struct {
	TTL time.Duration
	mu  sync.Mutex
	m   map[types.NamespacedName]locationLabels
}

type locationLabels struct {
	keys    []string
	fetched time.Time
}

// get returns the cached labels of a cluster, asking pd when they are older than TTL. A nil
// cache asks every time.
func (c *LocationLabelCache) get(ctx context.Context, key types.NamespacedName, pd pdapi.Client) ([]string, error) {
	if c != nil {
		c.mu.Lock()
		e, ok := c.m[key]
		c.mu.Unlock()
		if ok && time.Since(e.fetched) < c.TTL {
			return slices.Clone(e.keys), nil
		}
	}
	cfg, err := pd.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("read PD config: %w", err)
	}
	keys := []string(cfg.Replication.LocationLabels)
	if c != nil {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[types.NamespacedName]locationLabels{}
		}
		c.m[key] = locationLabels{keys: slices.Clone(keys), fetched: time.Now()}
		c.mu.Unlock()
	}
	return keys, nil
}

// ForgetCluster drops what the controller remembers about a cluster being deleted.
func ForgetCluster(s *State) task.Task {
	return task.NameTaskFunc("ForgetCluster", func(context.Context) task.Result {
		s.Forget(client.ObjectKeyFromObject(s.Cluster))
		return task.Complete("")
	})
}

// Forget drops what the long-lived caches hold about a cluster; the controller calls it when
// the cluster is deleted or no longer found.
func (d *Deps) Forget(key types.NamespacedName) {
	d.LocationLabels.forget(key)
	d.SentLabels.forget(key)
}

// forget drops a cluster's entry.
func (c *LocationLabelCache) forget(key types.NamespacedName) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}
