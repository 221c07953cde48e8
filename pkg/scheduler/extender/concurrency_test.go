package extender

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
)

// slowClient delays TidbCluster reads and records how many overlap.
type slowClient struct {
	client.Client
	hold        time.Duration
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

func (s *slowClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(interface{ PDStsDesiredReplicas() int32 }); ok {
		n := s.inFlight.Add(1)
		for m := s.maxInFlight.Load(); n > m && !s.maxInFlight.CompareAndSwap(m, n); m = s.maxInFlight.Load() {
		}
		time.Sleep(s.hold)
		s.inFlight.Add(-1)
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

func filterBody(t *testing.T, p *corev1.Pod, nodes []corev1.Node) string {
	b, err := json.Marshal(extenderv1.ExtenderArgs{Pod: p, Nodes: &corev1.NodeList{Items: nodes}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConcurrentFiltersOfOneComponentPlaceOnePodAtATime(t *testing.T) {
	nodes := zoneNodes(3, 2)
	for round := 0; round < 5; round++ {
		objs := []client.Object{tidbCluster("basic", 5, 3, 2)}
		var pods []*corev1.Pod
		for i := 0; i < 5; i++ {
			p := componentPod("basic", "pd", i, "")
			pods = append(pods, p)
			objs = append(objs, p, claimOf(p, true))
		}
		ext, c, _ := newTestExtender(t, objs...)

		var wg sync.WaitGroup
		placed := make([]bool, len(pods))
		for i, p := range pods {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, out := serve(t, ext, server.PathFilter, filterBody(t, p, nodes))
				if code != http.StatusOK {
					t.Errorf("%s: %d %s", p.Name, code, out)
					return
				}
				var res extenderv1.ExtenderFilterResult
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Error(err)
					return
				}
				placed[i] = len(res.Nodes.Items) > 0
			}()
		}
		wg.Wait()
		winners := 0
		for _, ok := range placed {
			if ok {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d of 5 concurrent PD pods were offered nodes, want exactly 1", round, winners)
		}
		var claims corev1.PersistentVolumeClaimList
		if err := c.List(context.Background(), &claims); err != nil {
			t.Fatal(err)
		}
		locks := 0
		for _, cl := range claims.Items {
			if _, ok := cl.Annotations[label.PodSchedulingAnnKey]; ok {
				locks++
			}
		}
		if locks != 1 {
			t.Fatalf("round %d: %d claims carry the scheduling lock", round, locks)
		}
	}
}

func TestFiltersOfDifferentClustersRunInParallel(t *testing.T) {
	nodes := zoneNodes(3, 2)
	var objs []client.Object
	var pods []*corev1.Pod
	for i := 0; i < 8; i++ {
		name := fmt.Sprintf("c%d", i)
		objs = append(objs, tidbCluster(name, 3, 3, 2))
		for _, comp := range []string{"pd", "tikv"} {
			p := componentPod(name, comp, 0, "")
			pods = append(pods, p)
			objs = append(objs, p, claimOf(p, true))
		}
	}
	ext, c, _ := newTestExtender(t, objs...)
	slow := &slowClient{Client: c, hold: 30 * time.Millisecond}
	ext.cfg.Client = slow

	var wg sync.WaitGroup
	for _, p := range pods {
		for _, path := range []string{server.PathFilter, server.PathPrioritize} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, out := serve(t, ext, path, filterBody(t, p, nodes))
				if code != http.StatusOK || !strings.Contains(out, "zone-a-0") {
					t.Errorf("%s %s: %d %s", path, p.Name, code, out)
				}
			}()
		}
	}
	wg.Wait()
	if m := slow.maxInFlight.Load(); m < 4 {
		t.Fatalf("at most %d requests read their cluster at once; requests of different clusters must not wait for each other", m)
	}
}
