package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// tcName is the name of every scenario's cluster (examples/basic); namespaces keep them apart.
const tcName = "basic"

// Names of the cluster's children, as v1.6 names them.
const (
	pdSet         = tcName + "-pd"
	tikvSet       = tcName + "-tikv"
	tidbSet       = tcName + "-tidb"
	pdService     = tcName + "-pd"
	tikvPeerSvc   = tcName + "-tikv-peer"
	discoveryName = tcName + "-discovery"
)

// The basic example comes up Ready, its status says what the simulated PD and TiDB say, its pods
// carry the IDs PD gave them, and once settled the operator leaves the API server alone.
func TestBasicClusterBecomesReadyInLineWithPDAndThenMakesNoWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	began := time.Now()
	e.create(loadExample(t, "../../examples/basic/tidb-cluster.yaml"))
	tc := e.waitReady(tcName, readyTimeout)
	verbs, writes := e.api.snapshot()
	t.Logf("Ready after %s; API requests until then by verb %v; writes %v", time.Since(began).Round(time.Second), verbs, writeSummary(writes))

	if n := len(tc.Status.PD.Members); n != 3 {
		t.Errorf("status lists %d PD members, want 3", n)
	}
	if n := len(tc.Status.TiKV.Stores); n != 3 {
		t.Errorf("status lists %d TiKV stores, want 3", n)
	}
	for id, s := range tc.Status.TiKV.Stores {
		if s.State != v1alpha1.TiKVStateUp {
			t.Errorf("store %s is %s, want Up", id, s.State)
		}
	}
	if n := len(tc.Status.TiDB.Members); n != 2 {
		t.Errorf("status lists %d TiDB members, want 2", n)
	}
	if len(tc.Status.PD.UnjoinedMembers) != 0 {
		t.Errorf("status lists unjoined PD pods %v in a Ready cluster", sortedKeys(tc.Status.PD.UnjoinedMembers))
	}
	if !tc.Status.PD.Synced || !tc.Status.TiKV.Synced {
		t.Errorf("status not marked synced: pd %v, tikv %v", tc.Status.PD.Synced, tc.Status.TiKV.Synced)
	}
	e.eventually("pods labelled with the IDs PD gave them", changeTimeout, func(ctx context.Context) error {
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		return e.podLabelsMatch(ctx, tcName, st)
	})

	e.eventually("volumes labelled and kept on claim deletion (pvReclaimPolicy Retain)", changeTimeout, func(ctx context.Context) error {
		return e.volumesMatch(ctx, tc)
	})

	e.quiet()
	e.api.reset()
	window := 3*resync + time.Second
	time.Sleep(window)
	verbs, writes = e.api.snapshot()
	t.Logf("steady state, %s: API requests by verb %v", window, verbs)
	if len(writes) > 0 {
		t.Errorf("a steady cluster made %d API writes in %s, want none: %s", len(writes), window, strings.Join(writes, ", "))
	}
	// Nothing drifted while the operator stayed quiet.
	e.waitReady(tcName, changeTimeout)
}

// Each component scales out and back in; removals go through PD first.
func TestScaleOutAndInOfEachComponent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	began := time.Now()
	step := func(what string) {
		t.Logf("%s (at %s)", what, time.Since(began).Round(time.Second))
	}
	e.create(basicCluster(t, 3, 3, 2))
	e.waitReady(tcName, readyTimeout)

	step("TiKV 3 -> 4 -> 3")
	removed := e.scaleTiKVOutAndIn()
	step("PD 3 -> 5 -> 3, the leaving leader hands over first")
	e.scalePDOutAndIn()
	step("TiDB 2 -> 3 -> 2")
	e.scaleTiDBOutAndIn()
	step("TiKV 3 -> 4 again: the claims the earlier scale-in kept go first")
	e.scaleTiKVOverDeferredClaims(removed)
	step("done")
}

// scaleTiKVOutAndIn adds a fourth store, then removes it again. Its tombstone is held back for a
// while so that the test can see the StatefulSet keep the pod until PD is done with the store.
// It returns the removed store.
func (e *env) scaleTiKVOutAndIn() simapi.Store {
	t := e.t
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = 4 })
	e.waitReplicas(tikvSet, 4)
	tc := e.waitReady(tcName, changeTimeout)
	if n := len(tc.Status.TiKV.Stores); n != 4 {
		t.Fatalf("after scale-out status lists %d stores, want 4", n)
	}
	leaving := tikvSet + "-3"
	store := e.simStore(leaving)
	if store.StateName != v1alpha1.TiKVStateUp {
		t.Fatalf("new store %d of %s is %s, want Up", store.ID, leaving, store.StateName)
	}

	e.patchStore(store.ID, simapi.StorePatch{TombstoneStuck: ptr(true)})
	seq := e.lastSeq()
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = 3 })
	deletePath := "/pd/api/v1/store/" + strconv.FormatUint(store.ID, 10)
	e.eventually("the operator asks PD to delete store "+strconv.FormatUint(store.ID, 10), changeTimeout, func(ctx context.Context) error {
		calls, err := e.calls(ctx, seq)
		if err != nil {
			return err
		}
		if len(matchingCalls(calls, "DELETE", deletePath)) == 0 {
			return fmt.Errorf("no DELETE %s among %d calls", deletePath, len(calls))
		}
		return nil
	})
	e.consistently("the StatefulSet keeps the pod while its store is Offline", 2*resync, func(ctx context.Context) error {
		n, err := e.replicas(ctx, tikvSet)
		if err != nil {
			return err
		}
		s, err := e.simStoreCtx(ctx, leaving)
		if err != nil {
			return err
		}
		if s.StateName != v1alpha1.TiKVStateOffline {
			return fmt.Errorf("store %d is %s, want Offline while its tombstone is held back", s.ID, s.StateName)
		}
		if n != 4 {
			return fmt.Errorf("StatefulSet shrank to %d while store %d is still Offline", n, s.ID)
		}
		return nil
	})

	e.patchStore(store.ID, simapi.StorePatch{TombstoneStuck: ptr(false)})
	e.eventually("store tombstoned, then the StatefulSet shrinks", changeTimeout, func(ctx context.Context) error {
		n, err := e.replicas(ctx, tikvSet)
		if err != nil {
			return err
		}
		// Read after the StatefulSet: a shrunk set with a store still not tombstoned now means
		// it shrank before the tombstone.
		st, err := e.sim.Cluster(ctx, e.ns, tcName)
		if err != nil {
			return err
		}
		state := storeState(st, store.ID)
		if n < 4 && state != v1alpha1.TiKVStateTombstone {
			t.Fatalf("StatefulSet shrank to %d while store %d was %s", n, store.ID, state)
		}
		if n != 3 {
			return fmt.Errorf("StatefulSet at %d, store %d %s", n, store.ID, state)
		}
		return nil
	})
	e.waitReplicas(tikvSet, 3)
	tc = e.waitReady(tcName, changeTimeout)
	if _, ok := tc.Status.TiKV.TombstoneStores[strconv.FormatUint(store.ID, 10)]; !ok {
		t.Errorf("status.tikv.tombstoneStores %v lacks store %d", sortedKeys(tc.Status.TiKV.TombstoneStores), store.ID)
	}
	e.expectDeferredPVCs(leaving)
	return store
}

// scaleTiKVOverDeferredClaims scales TiKV out onto the ordinal whose store was removed: the
// claims kept by the scale-in must be replaced by empty ones, so that the new pod registers a
// new store instead of reviving the tombstone's data.
func (e *env) scaleTiKVOverDeferredClaims(removed simapi.Store) {
	t := e.t
	// The steps below outlast one call's timeout; the test's own deadline bounds them.
	ctx := t.Context()
	old := map[string]types.UID{}
	list := &corev1.PersistentVolumeClaimList{}
	if err := e.c.List(ctx, list, client.InNamespace(e.ns)); err != nil {
		t.Fatal(err)
	}
	for _, pvc := range list.Items {
		if strings.HasSuffix(pvc.Name, "-"+removed.Pod) {
			old[pvc.Name] = pvc.UID
		}
	}
	if len(old) == 0 {
		t.Fatalf("no claims of %s left to replace", removed.Pod)
	}
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = 4 })
	e.waitReplicas(tikvSet, 4)
	tc := e.waitReady(tcName, changeTimeout)
	for name, uid := range old {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, pvc); err != nil {
			t.Errorf("claim %s of the new pod: %v", name, err)
			continue
		}
		if pvc.UID == uid {
			t.Errorf("claim %s is still the one the scale-in kept", name)
		}
		if _, ok := pvc.Annotations[label.PVCDeferDeletingAnnKey]; ok {
			t.Errorf("new claim %s carries %s", name, label.PVCDeferDeletingAnnKey)
		}
	}
	s := e.simStore(removed.Pod)
	if s.ID == removed.ID || s.StateName != v1alpha1.TiKVStateUp {
		t.Errorf("%s runs store %d (%s), want a new Up store in place of tombstone %d", removed.Pod, s.ID, s.StateName, removed.ID)
	}
	if _, ok := tc.Status.TiKV.Stores[strconv.FormatUint(s.ID, 10)]; !ok {
		t.Errorf("status lists stores %v, not the new store %d", sortedKeys(tc.Status.TiKV.Stores), s.ID)
	}
}

// expectDeferredPVCs checks that the claims of a removed pod are kept and marked for deferred
// deletion.
func (e *env) expectDeferredPVCs(pod string) {
	e.t.Helper()
	e.eventually("the claims of "+pod+" kept and marked "+label.PVCDeferDeletingAnnKey, changeTimeout, func(ctx context.Context) error {
		list := &corev1.PersistentVolumeClaimList{}
		if err := e.c.List(ctx, list, client.InNamespace(e.ns)); err != nil {
			return err
		}
		found := 0
		for _, pvc := range list.Items {
			if !strings.HasSuffix(pvc.Name, "-"+pod) {
				continue
			}
			found++
			if !pvc.DeletionTimestamp.IsZero() {
				return fmt.Errorf("PVC %s is being deleted", pvc.Name)
			}
			if _, ok := pvc.Annotations[label.PVCDeferDeletingAnnKey]; !ok {
				return fmt.Errorf("PVC %s lacks %s (annotations %v)", pvc.Name, label.PVCDeferDeletingAnnKey, pvc.Annotations)
			}
		}
		if found == 0 {
			return fmt.Errorf("no PVC of %s left", pod)
		}
		return nil
	})
}

// scalePDOutAndIn grows PD to five members, makes the highest one the leader, and shrinks PD
// back to three: the operator must move leadership away before it removes that member, and
// remove members one at a time from the highest ordinal.
func (e *env) scalePDOutAndIn() {
	t := e.t
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Replicas = 5 })
	e.waitReplicas(pdSet, 5)
	tc := e.waitReady(tcName, changeTimeout)
	if n := len(tc.Status.PD.Members); n != 5 {
		t.Fatalf("after scale-out status lists %d PD members, want 5", n)
	}
	st := e.simCluster()
	leaving := map[string]uint64{}
	for _, name := range []string{pdSet + "-4", pdSet + "-3"} {
		m, ok := st.MemberByName(name)
		if !ok {
			t.Fatalf("PD member %s unknown to the simulator", name)
		}
		leaving[name] = m.ID
	}

	// What PD itself would do on request: hand leadership to the member that leaves first.
	key := model.ClusterKey{Namespace: e.ns, Name: tcName}
	if err := simulator.Model().Cluster(key, func(c *model.Cluster) error { return c.TransferLeader(pdSet + "-4") }); err != nil {
		t.Fatalf("make %s-4 the PD leader: %v", pdSet, err)
	}
	e.eventually("status shows the new PD leader", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		if tc.Status.PD.Leader == nil || tc.Status.PD.Leader.Name != pdSet+"-4" {
			return fmt.Errorf("leader in status %+v", tc.Status.PD.Leader)
		}
		return nil
	})

	seq := e.lastSeq()
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Replicas = 3 })
	e.waitReplicas(pdSet, 3)
	e.waitReady(tcName, changeTimeout)

	ctx, cancel := e.ctx()
	defer cancel()
	calls, err := e.calls(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	var transfer, del4, del3 *simapi.Call
	for i := range calls {
		c := &calls[i]
		switch {
		case c.Method == "POST" && strings.HasPrefix(c.Path, "/pd/api/v1/leader/transfer/") && transfer == nil:
			transfer = c
		case c.Method == "DELETE" && deletesMember(c.Path, pdSet+"-4", leaving[pdSet+"-4"]) && del4 == nil:
			del4 = c
		case c.Method == "DELETE" && deletesMember(c.Path, pdSet+"-3", leaving[pdSet+"-3"]) && del3 == nil:
			del3 = c
		}
	}
	switch {
	case transfer == nil:
		t.Errorf("no PD leader transfer call although the leaving member %s-4 led", pdSet)
	case del4 == nil:
		t.Errorf("no DELETE of PD member %s-4", pdSet)
	case transfer.Seq > del4.Seq:
		t.Errorf("PD member %s-4 deleted (call %d) before leadership moved (call %d)", pdSet, del4.Seq, transfer.Seq)
	case transfer.Status != 200:
		t.Errorf("leader transfer %s answered %d", transfer.Path, transfer.Status)
	}
	switch {
	case del3 == nil:
		t.Errorf("no DELETE of PD member %s-3", pdSet)
	case del4 != nil && del3.Seq < del4.Seq:
		t.Errorf("PD member %s-3 deleted before %s-4: members must go from the highest ordinal", pdSet, pdSet)
	}
	if transfer != nil && strings.HasSuffix(transfer.Path, "/"+pdSet+"-3") {
		t.Errorf("leadership went to %s, which leaves next", transfer.Path)
	}
	st = e.simCluster()
	if got := memberNames(st.Members); len(got) != 3 {
		t.Errorf("simulator members after scale-in %v, want 3", got)
	}
	if st.Leader == pdSet+"-4" || st.Leader == pdSet+"-3" || st.Leader == "" {
		t.Errorf("PD leader after scale-in is %q", st.Leader)
	}
	e.expectDeferredPVCs(pdSet + "-4")
}

// deletesMember tells whether a DELETE path removes the named PD member, by name or by ID.
func deletesMember(path, name string, id uint64) bool {
	return path == "/pd/api/v1/members/name/"+name || path == "/pd/api/v1/members/id/"+strconv.FormatUint(id, 10)
}

func (e *env) scaleTiDBOutAndIn() {
	t := e.t
	for _, n := range []int32{3, 2} {
		e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiDB.Replicas = n })
		e.waitReplicas(tidbSet, n)
		tc := e.waitReady(tcName, changeTimeout)
		if got := len(tc.Status.TiDB.Members); got != int(n) {
			t.Fatalf("status lists TiDB members %v, want %d", sortedKeys(tc.Status.TiDB.Members), n)
		}
	}
}

// Removing a store that PD needs to keep max-replicas copies is refused, loudly, and nothing
// is asked of PD.
func TestTiKVScaleInBelowMaxReplicasIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 3, 1))
	e.waitReady(tcName, readyTimeout)
	if st := e.simCluster(); st.Config.MaxReplicas != 3 {
		t.Fatalf("simulated PD has max-replicas %d, the scenario needs 3", st.Config.MaxReplicas)
	}

	seq := e.lastSeq()
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = 2 })
	e.eventually("a TiKV condition explains the refusal", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		c := componentCondition(tc.Status.TiKV.Conditions, common.ConditionScaleInBlocked)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != common.ReasonTooFewStores {
			return fmt.Errorf("TiKV conditions %+v", tc.Status.TiKV.Conditions)
		}
		if !strings.Contains(c.Message, "max-replicas") {
			return fmt.Errorf("condition message %q does not mention max-replicas", c.Message)
		}
		return nil
	})
	e.waitEvent(tcName, corev1.EventTypeWarning, "max-replicas")
	e.consistently("no store deleted, no pod removed", 2*resync, func(ctx context.Context) error {
		if err := e.hasReplicas(ctx, tikvSet, 3); err != nil {
			return err
		}
		return e.noStoreDeleted(ctx, seq, 3)
	})
}

// noStoreDeleted checks that no DELETE store call was made since seq and that the simulator
// still has want Up TiKV stores.
func (e *env) noStoreDeleted(ctx context.Context, seq uint64, want int) error {
	calls, err := e.calls(ctx, seq)
	if err != nil {
		return err
	}
	if dels := matchingCalls(calls, "DELETE", "/pd/api/v1/store/"); len(dels) > 0 {
		return fmt.Errorf("the operator called DELETE %s", dels[0].Path)
	}
	st, err := e.sim.Cluster(ctx, e.ns, tcName)
	if err != nil {
		return err
	}
	up := 0
	for _, s := range st.Stores {
		if s.StateName == v1alpha1.TiKVStateUp {
			up++
		}
	}
	if up != want {
		return fmt.Errorf("%d Up stores in the simulator, want %d", up, want)
	}
	return nil
}

// Scaling PD to zero while TiKV and TiDB need it is refused: by the API if it validates that,
// otherwise by the operator with a condition and an event.
func TestPDToZeroIsRefusedWhileOtherComponentsNeedIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 1, 1))
	e.waitReady(tcName, readyTimeout)

	seq := e.lastSeq()
	err := e.update(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Replicas = 0 })
	if err != nil {
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "PD") {
			t.Fatalf("scaling PD to 0 failed for another reason than validation: %v", err)
		}
		t.Logf("the API refuses it: %v", err)
		return
	}
	e.eventually("a PD condition explains the refusal", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		c := componentCondition(tc.Status.PD.Conditions, common.ConditionScaleInBlocked)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != common.ReasonOtherComponentsNeedPD {
			return fmt.Errorf("PD conditions %+v", tc.Status.PD.Conditions)
		}
		return nil
	})
	e.waitEvent(tcName, corev1.EventTypeWarning, "PD to 0")
	e.consistently("PD keeps its member and its pod", 2*resync, func(ctx context.Context) error {
		if err := e.hasReplicas(ctx, pdSet, 1); err != nil {
			return err
		}
		calls, err := e.calls(ctx, seq)
		if err != nil {
			return err
		}
		if dels := matchingCalls(calls, "DELETE", "/pd/api/v1/members/"); len(dels) > 0 {
			return fmt.Errorf("the operator called DELETE %s", dels[0].Path)
		}
		return nil
	})
}

// A paused cluster keeps its StatefulSets as they are but still reports what PD says; resuming
// applies what changed meanwhile.
func TestPausedClusterChangesNothingButStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 1, 1))
	e.waitReady(tcName, readyTimeout)
	store := e.simStore(tikvSet + "-0")
	// Whatever led to Ready is done before the pause, so every write counted below is the
	// paused operator's.
	e.quiet()

	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.Paused = true })
	// Every version of the cluster the operator can read from now on is paused, so the replica
	// change below can never be acted on.
	e.api.reset()
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas, tc.Spec.TiDB.Replicas = 2, 2 })
	e.patchStore(store.ID, simapi.StorePatch{ForceDown: ptr(true)})
	e.eventually("status follows PD while paused", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		if s := tc.Status.TiKV.Stores[strconv.FormatUint(store.ID, 10)]; s.State != v1alpha1.TiKVStateDown {
			return fmt.Errorf("store %d in status is %q, the simulator says Down", store.ID, s.State)
		}
		return nil
	})
	e.consistently("paused StatefulSets keep their replicas", 2*resync, func(ctx context.Context) error {
		for _, name := range []string{tikvSet, tidbSet} {
			if err := e.hasReplicas(ctx, name, 1); err != nil {
				return err
			}
		}
		return nil
	})
	_, writes := e.api.snapshot()
	for _, w := range writes {
		if !strings.HasSuffix(w, "/status") && !strings.Contains(w, "/events") {
			t.Errorf("paused operator wrote %s; only status and events may change", w)
		}
	}

	e.patchStore(store.ID, simapi.StorePatch{ForceDown: ptr(false)})
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.Paused = false })
	e.waitReplicas(tikvSet, 2)
	e.waitReplicas(tidbSet, 2)
	e.waitReady(tcName, changeTimeout)
}

// Every child object the operator owns comes back after someone deletes it.
func TestDeletedChildObjectsAreRecreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 1, 1))
	e.waitReady(tcName, readyTimeout)

	ctx, cancel := e.ctx()
	defer cancel()
	// The PD ConfigMap's name carries a hash of its content (configUpdateStrategy
	// RollingUpdate); take the one the PD pods mount.
	pdSts, err := e.statefulSet(ctx, pdSet)
	if err != nil || pdSts == nil {
		t.Fatalf("PD StatefulSet: %v", err)
	}
	pdConfig := ""
	for _, v := range pdSts.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && strings.HasPrefix(v.ConfigMap.Name, pdSet) {
			pdConfig = v.ConfigMap.Name
		}
	}
	if pdConfig == "" {
		t.Fatalf("the PD pods mount no ConfigMap of the cluster: %+v", pdSts.Spec.Template.Spec.Volumes)
	}
	children := []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: pdService}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: tikvPeerSvc}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: pdConfig}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: tidbSet}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: discoveryName}},
	}
	uids := map[string]types.UID{}
	for _, obj := range children {
		obj.SetNamespace(e.ns)
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatalf("get %T %s: %v", obj, obj.GetName(), err)
		}
		uids[kindName(obj)] = obj.GetUID()
		if err := e.c.Delete(ctx, obj); err != nil {
			t.Fatalf("delete %s: %v", kindName(obj), err)
		}
	}
	for _, obj := range children {
		e.eventually(kindName(obj)+" recreated", changeTimeout, func(ctx context.Context) error {
			if err := e.c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			if obj.GetUID() == uids[kindName(obj)] {
				return errors.New("still the deleted object")
			}
			if !obj.GetDeletionTimestamp().IsZero() {
				return errors.New("being deleted")
			}
			return nil
		})
	}
	e.waitReplicas(tidbSet, 1)
	e.waitReady(tcName, changeTimeout)
}

func kindName(obj client.Object) string {
	return fmt.Sprintf("%T %s", obj, obj.GetName())
}

// While PD cannot be reached the operator removes no store, says why, and finishes the
// scale-in once PD answers again.
func TestPDUnreachableDuringTiKVScaleInDeletesNoStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(basicCluster(t, 1, 4, 1))
	e.waitReady(tcName, readyTimeout)
	leaving := e.simStore(tikvSet + "-3")

	// The steps below outlast one call's timeout; the test's own deadline bounds them.
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
		c := componentCondition(tc.Status.PD.Conditions, common.ConditionPDReachable)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != common.ReasonPDUnreachable {
			return fmt.Errorf("PD conditions %+v", tc.Status.PD.Conditions)
		}
		if tc.Status.PD.Synced || tc.Status.TiKV.Synced {
			return fmt.Errorf("status still marked synced: pd %v tikv %v", tc.Status.PD.Synced, tc.Status.TiKV.Synced)
		}
		return nil
	})

	seq := e.lastSeq()
	e.mustUpdate(tcName, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiKV.Replicas = 3 })
	e.eventually("a condition explains why the scale-in waits", changeTimeout, func(ctx context.Context) error {
		tc, err := e.get(ctx, tcName)
		if err != nil {
			return err
		}
		c := componentCondition(tc.Status.TiKV.Conditions, common.ConditionScaleInBlocked)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != common.ReasonPDNotSynced {
			return fmt.Errorf("TiKV conditions %+v", tc.Status.TiKV.Conditions)
		}
		if r := readyCondition(tc); r == nil || r.Status == corev1.ConditionTrue || !strings.Contains(r.Message, "stale") {
			return fmt.Errorf("Ready condition %+v does not say status is stale", r)
		}
		return nil
	})
	e.api.reset()
	window := 2 * resync
	e.consistently("no store deleted while PD is unreachable", window, func(ctx context.Context) error {
		if err := e.hasReplicas(ctx, tikvSet, 4); err != nil {
			return err
		}
		return e.noStoreDeleted(ctx, seq, 4)
	})
	// Nothing changes while PD stays away, so status should not either: an operator that
	// rewrites it on every reconcile (and is woken by its own write) loads the API server
	// for as long as the outage lasts.
	_, writes := e.api.snapshot()
	if n := writeSummary(writes)["PUT tidbclusters/status"]; n > 2 {
		t.Errorf("the operator wrote status %d times in %s while PD stayed unreachable and nothing else changed; want at most 2", n, window)
	}

	if err := e.sim.RemoveFault(ctx, fault.ID); err != nil {
		t.Fatalf("let PD answer again: %v", err)
	}
	e.waitReplicas(tikvSet, 3)
	tc := e.waitReady(tcName, changeTimeout)
	if _, ok := tc.Status.TiKV.TombstoneStores[strconv.FormatUint(leaving.ID, 10)]; !ok {
		t.Errorf("store %d of the removed pod is not a tombstone in status (%v)", leaving.ID, sortedKeys(tc.Status.TiKV.TombstoneStores))
	}
	if c := componentCondition(tc.Status.PD.Conditions, common.ConditionPDReachable); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("PDReachable after PD returned: %+v", c)
	}
	calls, err := e.calls(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(matchingCalls(calls, "DELETE", "/pd/api/v1/store/"+strconv.FormatUint(leaving.ID, 10))) == 0 {
		t.Errorf("the scale-in completed without DELETE of store %d", leaving.ID)
	}
}

// simCluster is the simulator's view of the scenario's cluster.
func (e *env) simCluster() simapi.ClusterState {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	st, err := e.sim.Cluster(ctx, e.ns, tcName)
	if err != nil {
		e.t.Fatalf("simulator state: %v", err)
	}
	return st
}

// simStore is the current store of a TiKV pod in the simulator.
func (e *env) simStore(pod string) simapi.Store {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	s, err := e.simStoreCtx(ctx, pod)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) simStoreCtx(ctx context.Context, pod string) (simapi.Store, error) {
	st, err := e.sim.Cluster(ctx, e.ns, tcName)
	if err != nil {
		return simapi.Store{}, err
	}
	s, ok := st.StoreByPod(pod)
	if !ok {
		return simapi.Store{}, fmt.Errorf("pod %s has no store in the simulator", pod)
	}
	return s, nil
}

func storeState(st simapi.ClusterState, id uint64) string {
	for _, s := range st.Stores {
		if s.ID == id {
			return s.StateName
		}
	}
	return ""
}

func (e *env) patchStore(id uint64, p simapi.StorePatch) {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	if err := e.sim.PatchStore(ctx, e.ns, tcName, id, p); err != nil {
		e.t.Fatalf("patch simulated store %d: %v", id, err)
	}
}

func ptr[T any](v T) *T { return &v }

// volumesMatch checks every volume bound to a PD or TiKV claim of the cluster: reclaim policy
// spec.pvReclaimPolicy (Retain in examples/basic, where the StorageClass says Delete), the
// claim's identity labels, the namespace label and the pod-name annotation.
func (e *env) volumesMatch(ctx context.Context, tc *v1alpha1.TidbCluster) error {
	claims := &corev1.PersistentVolumeClaimList{}
	if err := e.c.List(ctx, claims, client.InNamespace(e.ns), client.MatchingLabels{label.InstanceLabelKey: tc.Name}); err != nil {
		return err
	}
	n := 0
	for _, pvc := range claims.Items {
		if pvc.Spec.VolumeName == "" {
			return fmt.Errorf("claim %s not bound", pvc.Name)
		}
		pv := &corev1.PersistentVolume{}
		if err := e.c.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv); err != nil {
			return err
		}
		if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
			return fmt.Errorf("volume %s of %s has reclaim policy %s", pv.Name, pvc.Name, pv.Spec.PersistentVolumeReclaimPolicy)
		}
		for _, k := range []string{label.ClusterIDLabelKey, label.ComponentLabelKey, label.InstanceLabelKey, label.PodNameLabelKey} {
			if pv.Labels[k] == "" || pv.Labels[k] != pvc.Labels[k] {
				return fmt.Errorf("volume %s label %s=%q, claim %s has %q", pv.Name, k, pv.Labels[k], pvc.Name, pvc.Labels[k])
			}
		}
		if pv.Labels[label.NamespaceLabelKey] != e.ns || pv.Annotations[label.PodNameLabelKey] == "" {
			return fmt.Errorf("volume %s labels %v annotations %v", pv.Name, pv.Labels, pv.Annotations)
		}
		n++
	}
	if n != 6 {
		return fmt.Errorf("%d claims of the cluster, want 6 (3 PD, 3 TiKV)", n)
	}
	return nil
}
