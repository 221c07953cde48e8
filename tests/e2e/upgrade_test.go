package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// upgradeTimeout bounds a rolling upgrade of the basic cluster (8 pods, one at a time).
const upgradeTimeout = 6 * time.Minute

// A new version rolls PD, then TiKV, then TiDB, one pod at a time from the highest ordinal. PD's
// leader hands over before its pod restarts; every TiKV store is emptied of leaders before its
// pod restarts and gets its scheduler removed after; the cluster ends Ready on the new version,
// with the StatefulSets' partitions back at their replica counts and no write in steady state.
func TestRollingUpgradeRestartsOnePodAtATimeInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 3, 3, 2))
	before := e.waitReady(tcName, readyTimeout)
	seq := e.lastSeq()
	w := e.watchPods(cluster.Shared(t))

	const newVersion = "v8.5.1"
	began := time.Now()
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.Version = newVersion })
	e.eventually("every component on "+newVersion+" and Ready", upgradeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		if tc.Status.ObservedGeneration != tc.Generation {
			return fmt.Errorf("status of generation %d, spec is %d", tc.Status.ObservedGeneration, tc.Generation)
		}
		for comp, img := range map[string]string{"pd": tc.Status.PD.Image, "tikv": tc.Status.TiKV.Image, "tidb": tc.Status.TiDB.Image} {
			if !strings.HasSuffix(img, ":"+newVersion) {
				return fmt.Errorf("%s image %q", comp, img)
			}
		}
		if err := isReady(tc); err != nil {
			return err
		}
		for _, set := range []string{pdSet, tikvSet, tidbSet} {
			sts, err := e.statefulSet(ctx, set)
			if err != nil {
				return err
			}
			if sts.Status.CurrentRevision != sts.Status.UpdateRevision || sts.Status.UpdatedReplicas != *sts.Spec.Replicas {
				return fmt.Errorf("%s: %d of %d pods updated, revision %s -> %s", set, sts.Status.UpdatedReplicas, *sts.Spec.Replicas, sts.Status.CurrentRevision, sts.Status.UpdateRevision)
			}
			if p := sts.Spec.UpdateStrategy.RollingUpdate.Partition; p == nil || *p != *sts.Spec.Replicas {
				return fmt.Errorf("%s: partition %s, want it back at %d", set, ptrString(p), *sts.Spec.Replicas)
			}
		}
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		return statusMatches(tc, st)
	})
	w.stop()
	t.Logf("upgraded in %s", time.Since(began).Round(time.Second))

	// One pod at a time, PD → TiKV → TiDB, highest ordinal first.
	want := []string{pdSet + "-2", pdSet + "-1", pdSet + "-0", tikvSet + "-2", tikvSet + "-1", tikvSet + "-0", tidbSet + "-1", tidbSet + "-0"}
	if got := w.deletedOrder(); !slices.Equal(got, want) {
		t.Errorf("pods restarted in the order %v, want %v", got, want)
	}
	for comp, n := range w.maxDown() {
		if n > 1 {
			t.Errorf("%d %s pods were unavailable at the same time, want at most 1", n, comp)
		}
	}
	for _, name := range want[3:6] {
		if _, ok := w.lastAnnotations(name)[label.EvictLeaderBeginTimeAnnKey]; !ok {
			t.Errorf("TiKV pod %s restarted without leader eviction having begun (no %s annotation)", name, label.EvictLeaderBeginTimeAnnKey)
		}
	}

	ctx, cancel := e.ctx()
	defer cancel()
	calls, err := e.calls(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	// Each store: an evict-leader scheduler added before its pod restarted, removed after.
	for id, store := range before.Status.TiKV.Stores {
		added, removed := uint64(0), uint64(0)
		for _, c := range matchingCalls(calls, "POST", "/pd/api/v1/schedulers") {
			var body struct {
				Name    string `json:"name"`
				StoreID uint64 `json:"store_id"`
			}
			if json.Unmarshal([]byte(c.Body), &body) == nil && body.Name == "evict-leader-scheduler" && strconv.FormatUint(body.StoreID, 10) == id && added == 0 {
				added = c.Seq
			}
		}
		for _, c := range matchingCalls(calls, "DELETE", "/pd/api/v1/schedulers/evict-leader-scheduler-"+id) {
			removed = c.Seq
		}
		if added == 0 || removed == 0 || removed < added {
			t.Errorf("store %s (pod %s): evict-leader scheduler added at call %d, removed at call %d", id, store.PodName, added, removed)
		}
	}
	// PD's leader handed over before its own restart, to the highest upgraded member above it
	// (or, for the highest ordinal, the lowest below).
	transfers := matchingCalls(calls, "POST", "/pd/api/v1/leader/transfer/")
	if before.Status.PD.Leader == nil {
		t.Fatal("no PD leader in status before the upgrade")
	}
	leader := before.Status.PD.Leader.Name
	wantTarget := pdSet + "-2"
	if leader == pdSet+"-2" {
		wantTarget = pdSet + "-0"
	}
	if len(transfers) == 0 {
		t.Errorf("no PD leader transfer during the upgrade: leader %s restarted while leading", leader)
	} else if got := strings.TrimPrefix(transfers[0].Path, "/pd/api/v1/leader/transfer/"); got != wantTarget {
		t.Errorf("PD leadership of %s went to %s, want %s", leader, got, wantTarget)
	}
	st, err := e.sim.Cluster(ctx, e.ns, tcName)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Schedulers {
		if strings.HasPrefix(s, "evict-leader-scheduler") {
			t.Errorf("scheduler %s left behind after the upgrade", s)
		}
	}
	e.waitEvent(tcName, corev1.EventTypeNormal, "upgrading tikv pod "+tikvSet+"-0")

	e.quiet()
	e.api.reset()
	window := 2*resync + time.Second
	time.Sleep(window)
	if _, writes := e.api.snapshot(); len(writes) > 0 {
		t.Errorf("after the upgrade the operator made %d writes in %s, want none: %s", len(writes), window, strings.Join(writes, ", "))
	}
}

// podWatch follows the scenario's pods during an upgrade.
type podWatch struct {
	w  watch.Interface
	mu sync.Mutex
	// ready: present and Ready, by pod name; expected: the pods that existed at the start.
	ready    map[string]bool
	expected map[string]string // pod → component
	down     map[string]int
	order    []string
	seen     map[string]bool
	ann      map[string]map[string]string
	done     chan struct{}
}

// watchPods starts following the pods of this namespace from now on.
func (e *env) watchPods(cl *cluster.Cluster) *podWatch {
	e.t.Helper()
	c, err := client.NewWithWatch(cl.Config(), client.Options{Scheme: testScheme()})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := e.ctx()
	defer cancel()
	list := &corev1.PodList{}
	if err := c.List(ctx, list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	pw := &podWatch{ready: map[string]bool{}, expected: map[string]string{}, down: map[string]int{}, seen: map[string]bool{},
		ann: map[string]map[string]string{}, done: make(chan struct{})}
	for i := range list.Items {
		p := &list.Items[i]
		if comp := p.Labels[label.ComponentLabelKey]; comp == "pd" || comp == "tikv" || comp == "tidb" {
			pw.expected[p.Name] = comp
			pw.ready[p.Name] = podReady(p)
		}
	}
	w, err := c.Watch(context.Background(), &corev1.PodList{}, client.InNamespace(e.ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
	if err != nil {
		e.t.Fatal(err)
	}
	pw.w = w
	go pw.run()
	e.t.Cleanup(pw.stop)
	return pw
}

func (pw *podWatch) run() {
	defer close(pw.done)
	for ev := range pw.w.ResultChan() {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		pw.mu.Lock()
		if _, tracked := pw.expected[pod.Name]; tracked {
			gone := ev.Type == watch.Deleted || pod.DeletionTimestamp != nil
			if gone && !pw.seen[pod.Name] {
				pw.seen[pod.Name] = true
				pw.order = append(pw.order, pod.Name)
			}
			if gone {
				pw.ann[pod.Name] = pod.Annotations
			}
			pw.ready[pod.Name] = !gone && podReady(pod)
			downBy := map[string]int{}
			for name, comp := range pw.expected {
				if !pw.ready[name] {
					downBy[comp]++
				}
			}
			for comp, n := range downBy {
				pw.down[comp] = max(pw.down[comp], n)
			}
		}
		pw.mu.Unlock()
	}
}

func (pw *podWatch) stop() {
	pw.w.Stop()
	<-pw.done
}

// deletedOrder lists the pods in the order their first deletion was seen.
func (pw *podWatch) deletedOrder() []string {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return slices.Clone(pw.order)
}

// maxDown is the most pods of each component seen unavailable at once.
func (pw *podWatch) maxDown() map[string]int {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	out := map[string]int{}
	for k, v := range pw.down {
		out[k] = v
	}
	return out
}

// lastAnnotations are the annotations a pod had when it was deleted.
func (pw *podWatch) lastAnnotations(name string) map[string]string {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.ann[name]
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// While PD cannot be read, a TiKV upgrade restarts no pod: whether the other stores are Up and
// where the leaders are is unknown. A condition says why; once PD answers, the upgrade runs.
func TestTiKVUpgradeWaitsWhilePDIsUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 3, 1))
	e.waitReady(tcName, readyTimeout)
	w := e.watchPods(cluster.Shared(t))

	ctx := t.Context()
	fault, err := e.sim.AddFault(ctx, simapi.Fault{Kind: simapi.FaultUnreachable, Namespace: e.ns, Cluster: tcName, Component: simapi.ComponentPD})
	if err != nil {
		t.Fatalf("make PD unreachable: %v", err)
	}
	t.Cleanup(func() { _ = e.sim.RemoveFault(context.Background(), fault.ID) })
	e.eventually("status says PD cannot be reached", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		if c := componentCondition(tc.Status.PD.Conditions, common.ConditionPDReachable); c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("PD conditions %+v", tc.Status.PD.Conditions)
		}
		return nil
	})

	const newVersion = "v8.5.1"
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { v := newVersion; tc.Spec.TiKV.Version = &v })
	e.eventually("a condition explains why the TiKV upgrade waits", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		c := componentCondition(tc.Status.TiKV.Conditions, common.ConditionUpgradeBlocked)
		if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "PD can be reached") {
			return fmt.Errorf("TiKV conditions %+v", tc.Status.TiKV.Conditions)
		}
		if tc.Status.TiKV.Phase != v1alpha1.UpgradePhase {
			return fmt.Errorf("TiKV phase %s, want Upgrade", tc.Status.TiKV.Phase)
		}
		return nil
	})
	e.waitEvent(tcName, corev1.EventTypeWarning, "TiKV upgrade waits until PD can be reached")
	e.consistently("no TiKV pod restarted while PD is unreachable", 2*resync, func(ctx context.Context) error {
		if got := w.deletedOrder(); len(got) > 0 {
			return fmt.Errorf("pods restarted: %v", got)
		}
		return nil
	})

	if err := e.sim.RemoveFault(ctx, fault.ID); err != nil {
		t.Fatalf("let PD answer again: %v", err)
	}
	e.eventually("TiKV on "+newVersion+" and Ready", upgradeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(tc.Status.TiKV.Image, ":"+newVersion) {
			return fmt.Errorf("TiKV image %q", tc.Status.TiKV.Image)
		}
		if c := componentCondition(tc.Status.TiKV.Conditions, common.ConditionUpgradeBlocked); c != nil {
			return fmt.Errorf("still %s: %s", c.Type, c.Message)
		}
		return isReady(tc)
	})
	w.stop()
	if got, want := w.deletedOrder(), []string{tikvSet + "-2", tikvSet + "-1", tikvSet + "-0"}; !slices.Equal(got, want) {
		t.Errorf("pods restarted in the order %v, want %v", got, want)
	}
	if n := w.maxDown()["tikv"]; n > 1 {
		t.Errorf("%d TiKV pods were unavailable at once", n)
	}
}

// An upgrade given up while a store's leaders are being evicted (the version goes back) leaves
// nothing behind: the store's evict-leader scheduler is removed, so it leads Regions again, and
// no pod restarted.
func TestAbandonedTiKVUpgradeEndsItsLeaderEviction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 3, 1))
	e.waitReady(tcName, readyTimeout)
	w := e.watchPods(cluster.Shared(t))
	ctx := t.Context()

	// The last store's leaders never leave, so the upgrade stays at its first eviction.
	store := e.simStore(tikvSet + "-2")
	stuck := true
	if err := e.sim.PatchStore(ctx, e.ns, tcName, store.ID, simapi.StorePatch{EvictionStuck: &stuck}); err != nil {
		t.Fatal(err)
	}
	scheduler := "evict-leader-scheduler-" + strconv.FormatUint(store.ID, 10)
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { v := "v8.5.1"; tc.Spec.TiKV.Version = &v })
	e.eventually("leader eviction begun on "+tikvSet+"-2", changeTimeout, func(ctx context.Context) error {
		pod := &corev1.Pod{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: tikvSet + "-2"}, pod); err != nil {
			return err
		}
		if _, ok := pod.Annotations[label.EvictLeaderBeginTimeAnnKey]; !ok {
			return fmt.Errorf("no %s annotation yet", label.EvictLeaderBeginTimeAnnKey)
		}
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		if !slices.Contains(st.Schedulers, scheduler) {
			return fmt.Errorf("schedulers %v", st.Schedulers)
		}
		return nil
	})

	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Version = nil })
	e.eventually("the eviction ended and the annotation removed", changeTimeout, func(ctx context.Context) error {
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		if slices.Contains(st.Schedulers, scheduler) {
			return fmt.Errorf("%s still runs", scheduler)
		}
		pod := &corev1.Pod{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: tikvSet + "-2"}, pod); err != nil {
			return err
		}
		if v, ok := pod.Annotations[label.EvictLeaderBeginTimeAnnKey]; ok {
			return fmt.Errorf("annotation %s=%s still on the pod", label.EvictLeaderBeginTimeAnnKey, v)
		}
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		for id, s := range tc.Status.TiKV.Stores {
			if s.LeaderCountBeforeUpgrade != nil {
				return fmt.Errorf("store %s still records leaderCountBeforeUpgrade %d", id, *s.LeaderCountBeforeUpgrade)
			}
		}
		return isReady(tc)
	})
	w.stop()
	if got := w.deletedOrder(); len(got) > 0 {
		t.Errorf("pods restarted for an upgrade that was given up: %v", got)
	}
}
