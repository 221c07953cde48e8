package tasks

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/imagever"
	"github.com/tidbops/tidb-operator/pkg/podaddr"
	"github.com/tidbops/tidb-operator/pkg/task"
	"github.com/tidbops/tidb-operator/pkg/tidbapi"
)

// zoneKeys are the location-label names that mean "zone": TiDB uses its zone label to prefer
// replicas in its own zone (closest reads), so v1.6 labels TiDB only when PD places by zone.
var zoneKeys = []string{"zone", corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone}

// TiDBServerLabels gives each healthy TiDB server (v6.3.0 and later) the location labels of its
// node plus "zone" through POST :10080/labels, as v1.6 does when PD's location-labels include a
// zone. TiDB keeps these labels in memory only, so they are sent again after every restart of the
// container; in between, nothing is sent (the sent labels are remembered per pod instance).
func TiDBServerLabels(s *State) task.Task {
	return task.NameTaskFunc("TiDBServerLabels", func(ctx context.Context) task.Result {
		ctx, cancel := context.WithTimeout(ctx, labelStepTimeout)
		defer cancel()
		tc := s.Cluster
		if !s.ReadNodes || !s.PDView.Reachable() || !imagever.AtLeast(tc.TiDBImage(), 6, 3) {
			return task.Complete("")
		}
		keys, err := s.LocationLabels.get(ctx, client.ObjectKeyFromObject(tc), s.PD)
		if err != nil {
			return task.Complete("cannot read PD's location-labels: " + err.Error())
		}
		if !slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(zoneKeys, k) }) {
			return task.Complete("")
		}
		if !slices.Contains(keys, "zone") {
			keys = append(keys, "zone")
		}
		set := 0
		for name, m := range s.Status.TiDB.Members {
			if !m.Health {
				continue
			}
			pod, err := s.podByName(ctx, name)
			if err == nil && pod == nil {
				continue
			}
			var nodeLabels map[string]string
			if err == nil {
				nodeLabels, err = s.nodeLabels(ctx, pod)
			}
			if err != nil {
				s.event(corev1.EventTypeWarning, "FailedSetTiDBLabels", "SetServerLabels", fmt.Sprintf("read the node of TiDB %s: %v", name, err))
				return task.Complete("cannot read nodes")
			}
			want := StoreLabelsFromNode(keys, nodeLabels)
			if len(want) == 0 {
				continue
			}
			key := serverLabelsKey(pod, want)
			if s.SentLabels.has(client.ObjectKeyFromObject(tc), name, key) {
				continue
			}
			srv, err := s.tidbHTTP(ctx, name)
			if err == nil {
				err = srv.SetServerLabels(ctx, want)
			}
			if err != nil {
				s.event(corev1.EventTypeWarning, "FailedSetTiDBLabels", "SetServerLabels", fmt.Sprintf("set labels %v on TiDB %s: %v", want, name, err))
				continue
			}
			s.SentLabels.put(client.ObjectKeyFromObject(tc), name, key)
			set++
		}
		if set > 0 {
			return task.Complete("labelled " + strconv.Itoa(set) + " TiDB servers")
		}
		return task.Complete("")
	})
}

// tidbHTTP is a client for one TiDB pod's status port.
func (s *State) tidbHTTP(ctx context.Context, podName string) (tidbapi.Client, error) {
	tc := s.Cluster
	hc, err := s.Deps.PD.HTTPClient(ctx, tc.Namespace, tc.Name, tc.IsTLSClusterEnabled())
	if err != nil {
		return nil, fmt.Errorf("TiDB HTTP client: %w", err)
	}
	return tidbapi.New(tidbapi.StatusURL(podaddr.Pod{Namespace: tc.Namespace, Cluster: tc.Name, Name: podName,
		ClusterDomain: tc.Spec.ClusterDomain, TLS: tc.IsTLSClusterEnabled()}), hc), nil
}

// serverLabelsKey identifies what was sent to one run of a TiDB container: the pod instance, the
// container's restart count (a restarted TiDB has forgotten its labels) and the labels.
func serverLabelsKey(pod *corev1.Pod, labels map[string]string) string {
	restarts := int32(0)
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == label.TiDBComponent {
			restarts = cs.RestartCount
		}
	}
	keys := slices.Collect(maps.Keys(labels))
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(string(pod.UID) + "/" + strconv.Itoa(int(restarts)))
	for _, k := range keys {
		b.WriteString(";" + k + "=" + labels[k])
	}
	return b.String()
}

// SentLabels remembers, per cluster and TiDB pod name, what was last sent to the pod (see
// serverLabelsKey). It holds one entry per TiDB pod name; a deleted cluster's go in ForgetCluster.
type SentLabels struct {
	mu sync.Mutex
	m  map[types.NamespacedName]map[string]string
}

func (l *SentLabels) has(cluster types.NamespacedName, pod, key string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[cluster][pod] == key
}

func (l *SentLabels) put(cluster types.NamespacedName, pod, key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[types.NamespacedName]map[string]string{}
	}
	if l.m[cluster] == nil {
		l.m[cluster] = map[string]string{}
	}
	l.m[cluster][pod] = key
}

func (l *SentLabels) forget(cluster types.NamespacedName) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, cluster)
}
