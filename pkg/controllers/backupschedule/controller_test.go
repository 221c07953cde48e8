package backupschedule

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob/backupjobtest"
	"github.com/tidbops/tidb-operator/pkg/controllers/common"
)

func updateEvent(o, n client.Object) event.UpdateEvent {
	return event.UpdateEvent{ObjectOld: o, ObjectNew: n}
}

// harness is a fake API server with a fake clock, counting every write by verb and kind. It is
// not a backupjobtest.World on purpose: the schedule runs no Jobs and has no stale-cache tests,
// while its decisions read what the API server fills in on creation (creationTimestamp, UIDs)
// and its tests fail a number of status writes rather than those of a kind.
type harness struct {
	t   *testing.T
	c   client.Client
	r   *Reconciler
	rec *events.FakeRecorder
	now time.Time
	// writes counts "create Backup", "delete Backup", "patch Backup", "status BackupSchedule", ...
	writes map[string]int
	// deleted lists the names deleted, in order.
	deleted []string
	// failStatus makes that many status writes fail; failCreate fails creations of that kind.
	failStatus int
	failCreate string
	uids       int
}

var errInjected = errors.New("injected failure")

func kindOf(obj client.Object) string {
	return reflect.TypeOf(obj).Elem().Name()
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	h := &harness{t: t, now: t0, writes: map[string]int{}, rec: events.NewFakeRecorder(100)}
	funcs := interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			h.writes["create "+kindOf(obj)]++
			if h.failCreate == kindOf(obj) {
				return errInjected
			}
			// What the API server fills in.
			if ts := obj.GetCreationTimestamp(); ts.IsZero() {
				obj.SetCreationTimestamp(metav1.NewTime(h.now))
			}
			if obj.GetUID() == "" {
				h.uids++
				obj.SetUID(types.UID(fmt.Sprintf("uid-%d", h.uids)))
			}
			return c.Create(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			h.writes["delete "+kindOf(obj)]++
			h.deleted = append(h.deleted, obj.GetName())
			return c.Delete(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			h.writes["update "+kindOf(obj)]++
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			h.writes["patch "+kindOf(obj)]++
			return c.Patch(ctx, obj, p, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if _, ok := obj.(*v1alpha1.BackupSchedule); ok {
				h.writes["status "+kindOf(obj)]++
				if h.failStatus > 0 {
					h.failStatus--
					return errInjected
				}
			}
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	}
	h.c = fake.NewClientBuilder().WithScheme(backupjobtest.Scheme(t)).
		WithStatusSubresource(&v1alpha1.BackupSchedule{}, &v1alpha1.Backup{}, &v1alpha1.CompactBackup{}).
		WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
	h.r = NewReconciler(h.c, common.DirectReads(h.c, h.c), h.rec, Options{Now: func() time.Time { return h.now }})
	return h
}

func (h *harness) reconcile(name string) (ctrl.Result, error) {
	h.t.Helper()
	return h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}})
}

// mustReconcile reconciles and fails the test on an error.
func (h *harness) mustReconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.reconcile(name)
	if err != nil {
		h.t.Fatalf("reconcile %s: %v", name, err)
	}
	return res
}

func (h *harness) schedule(name string) *v1alpha1.BackupSchedule {
	h.t.Helper()
	bs := &v1alpha1.BackupSchedule{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, bs); err != nil {
		h.t.Fatal(err)
	}
	return bs
}

// backups lists the snapshot Backups of a schedule by name.
func (h *harness) backups(schedule string) []string {
	h.t.Helper()
	list := &v1alpha1.BackupList{}
	if err := h.c.List(context.Background(), list, client.InNamespace("ns"), client.MatchingLabels{label.BackupScheduleLabelKey: schedule}); err != nil {
		h.t.Fatal(err)
	}
	var n []string
	for _, bk := range list.Items {
		if bk.Spec.Mode != v1alpha1.BackupModeLog {
			n = append(n, bk.Name)
		}
	}
	sort.Strings(n)
	return n
}

func (h *harness) backup(name string) *v1alpha1.Backup {
	h.t.Helper()
	bk := &v1alpha1.Backup{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, bk); err != nil {
		h.t.Fatal(err)
	}
	return bk
}

// setPhase makes a Backup reach phase, as the Backup controller and backup-manager would.
func (h *harness) setPhase(name string, phase v1alpha1.BackupConditionType, commitTs string) {
	h.t.Helper()
	bk := h.backup(name)
	bk.Status.Phase, bk.Status.Conditions, bk.Status.CommitTs = phase, cond(phase), commitTs
	if err := h.c.Status().Update(context.Background(), bk); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) events() []string { return backupjobtest.DrainEvents(h.rec) }

func (h *harness) resetWrites() {
	h.writes = map[string]int{}
	h.deleted = nil
}

func (h *harness) totalWrites() int {
	n := 0
	for _, v := range h.writes {
		n += v
	}
	return n
}

func at(hour, minute int) time.Time { return time.Date(2024, 1, 1, hour, minute, 0, 0, time.UTC) }

func TestOneBackupPerDueTick(t *testing.T) {
	h := newHarness(t, newSchedule("bs"))
	// Created at 00:30; nothing is due before 01:00.
	res := h.mustReconcile("bs")
	if got := h.backups("bs"); len(got) != 0 {
		t.Fatalf("Backups before the first tick: %v", got)
	}
	if res.RequeueAfter != h.r.Options.Resync {
		t.Errorf("30 minutes to the tick, later than the resync: requeue %v", res.RequeueAfter)
	}
	if cond := meta.FindStatusCondition(h.schedule("bs").Status.Conditions, ConditionScheduleValid); cond == nil || cond.Status != metav1.ConditionTrue {
		t.Errorf("ScheduleValid %+v", cond)
	}
	var want []string
	for hour := 1; hour <= 5; hour++ {
		h.now = at(hour, 0).Add(3 * time.Second)
		for range 3 {
			h.mustReconcile("bs")
		}
		name := "bs-" + at(hour, 0).Format(v1alpha1.BackupScheduleTimeFormat)
		want = append(want, name)
		if got := h.backups("bs"); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("at %v: Backups %v, want %v", h.now, got, want)
		}
		bs := h.schedule("bs")
		if bs.Status.LastBackup != name || !bs.Status.LastBackupTime.Time.Equal(at(hour, 0)) {
			t.Fatalf("status %s %v", bs.Status.LastBackup, bs.Status.LastBackupTime)
		}
		h.setPhase(name, v1alpha1.BackupComplete, tsoStr(at(hour, 0)))
	}
	bk := h.backup(want[0])
	if bk.Labels[label.BackupScheduleLabelKey] != "bs" || !metav1.IsControlledBy(bk, h.schedule("bs")) {
		t.Errorf("labels %v owners %v", bk.Labels, bk.OwnerReferences)
	}

	// Close to the next tick the reconcile asks to come back at it.
	h.now = at(5, 58)
	if res := h.mustReconcile("bs"); res.RequeueAfter != 2*time.Minute {
		t.Errorf("requeue %v, want 2m (the next tick)", res.RequeueAfter)
	}
}

func TestMissedTicksAfterAnOutageRunOnce(t *testing.T) {
	bs := newSchedule("bs")
	bs.Status.LastBackup, bs.Status.LastBackupTime = "bs-2024-01-01t01-00-00", &metav1.Time{Time: at(1, 0)}
	last := snap("bs", at(1, 0), v1alpha1.BackupComplete)
	last.Name = bs.Status.LastBackup
	h := newHarness(t, bs, &last)
	// Ten ticks pass while the operator is down.
	h.now = at(11, 20)
	h.mustReconcile("bs")
	h.mustReconcile("bs")
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t01-00-00,bs-2024-01-01t11-00-00" {
		t.Fatalf("Backups %v, want the old one and one for the latest tick", got)
	}
	if h.writes["create Backup"] != 1 {
		t.Errorf("%d creations, want 1", h.writes["create Backup"])
	}
	if got := h.schedule("bs").Status.LastBackupTime; !got.Time.Equal(at(11, 0)) {
		t.Errorf("lastBackupTime %v", got)
	}
}

func TestBlockedByOwnRunningBackup(t *testing.T) {
	h := newHarness(t, newSchedule("bs"))
	h.now = at(1, 0)
	h.mustReconcile("bs")
	h.setPhase("bs-2024-01-01t01-00-00", v1alpha1.BackupRunning, "")
	// The 02:00 tick comes while the 01:00 Backup runs.
	h.now = at(2, 0)
	h.mustReconcile("bs")
	h.mustReconcile("bs")
	if got := h.backups("bs"); len(got) != 1 {
		t.Fatalf("Backups %v: a tick must wait for the running Backup", got)
	}
	// 03:00 passes too; at 03:10 the Backup finishes: the latest due tick runs once, late.
	h.now = at(3, 10)
	h.mustReconcile("bs")
	if got := h.backups("bs"); len(got) != 1 {
		t.Fatalf("Backups %v", got)
	}
	h.setPhase("bs-2024-01-01t01-00-00", v1alpha1.BackupFailed, "")
	h.mustReconcile("bs")
	h.mustReconcile("bs")
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t01-00-00,bs-2024-01-01t03-00-00" {
		t.Fatalf("Backups %v, want one Backup for the 03:00 tick", got)
	}
}

func TestBlockedByTheGroup(t *testing.T) {
	a, b := newSchedule("a"), newSchedule("b")
	a.Labels = map[string]string{label.BackupScheduleGroupLabelKey: "g"}
	b.Labels = map[string]string{label.BackupScheduleGroupLabelKey: "g"}
	c := newSchedule("c") // not in the group
	h := newHarness(t, a, b, c)
	h.now = at(1, 0)
	h.mustReconcile("a")
	aBk := "a-2024-01-01t01-00-00"
	if bk := h.backup(aBk); bk.Labels[label.BackupScheduleGroupLabelKey] != "g" {
		t.Fatalf("the group label reaches the Backup: %v", bk.Labels)
	}
	h.mustReconcile("b")
	h.mustReconcile("c")
	if got := h.backups("b"); len(got) != 0 {
		t.Fatalf("b created %v while a's Backup of the group runs", got)
	}
	if got := h.backups("c"); len(got) != 1 {
		t.Fatalf("c is not in the group and must not wait: %v", got)
	}
	// a's Backup finishing wakes b.
	reqs := backupToSchedules(h.c)(context.Background(), h.backup(aBk))
	var woken []string
	for _, r := range reqs {
		woken = append(woken, r.Name)
	}
	sort.Strings(woken)
	if strings.Join(woken, ",") != "a,b" {
		t.Errorf("a's Backup wakes %v, want a and b", woken)
	}
	h.setPhase(aBk, v1alpha1.BackupComplete, tsoStr(at(1, 0)))
	h.now = at(1, 20)
	h.mustReconcile("b")
	if got := h.backups("b"); strings.Join(got, ",") != "b-2024-01-01t01-00-00" {
		t.Fatalf("b's Backups %v", got)
	}
}

// existingBackups are n Complete Backups of bs, one per hour from 01:00, oldest first.
func existingBackups(bs string, n int) []client.Object {
	var objs []client.Object
	for i := 1; i <= n; i++ {
		bk := snap(bs, at(i, 0), v1alpha1.BackupComplete)
		objs = append(objs, &bk)
	}
	return objs
}

func TestPauseStopsCreationButGCRuns(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.Pause = true
	bs.Spec.MaxBackups = ptr.To[int32](1)
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b"}}}
	h := newHarness(t, append(existingBackups("bs", 3), bs)...)
	h.now = at(5, 0)
	h.mustReconcile("bs")
	if h.writes["create Backup"] != 0 {
		t.Fatalf("a paused schedule created %d Backups", h.writes["create Backup"])
	}
	if got := strings.Join(h.deleted, ","); got != "bs-2024-01-01t01-00-00,bs-2024-01-01t02-00-00" {
		t.Fatalf("deleted %s, want the two oldest", got)
	}
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t03-00-00" {
		t.Fatalf("left %v", got)
	}
	// Unpaused, it goes on with the latest due tick and its log backup.
	bs = h.schedule("bs")
	bs.Spec.Pause = false
	if err := h.c.Update(context.Background(), bs); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile("bs")
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t03-00-00,bs-2024-01-01t05-00-00" {
		t.Fatalf("after resuming: %v", got)
	}
	if h.schedule("bs").Status.LogBackup != "log-bs" {
		t.Error("the log backup is created once the schedule resumes")
	}
}

func TestGCDeletesTheOldestBeyondMaxBackups(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.MaxBackups = ptr.To[int32](2)
	bs.Status.LastBackup, bs.Status.LastBackupTime = "bs-2024-01-01t04-00-00", &metav1.Time{Time: at(4, 0)}
	objs := existingBackups("bs", 4)
	// A running Backup is neither counted nor deleted.
	running := snap("bs", at(0, 45), v1alpha1.BackupRunning)
	// Another schedule's Backups are not this schedule's business.
	objs = append(objs, bs, &running, &[]v1alpha1.Backup{snap("other", at(1, 0), v1alpha1.BackupComplete)}[0])
	h := newHarness(t, objs...)
	h.now = at(4, 10)
	h.mustReconcile("bs")
	if got := strings.Join(h.deleted, ","); got != "bs-2024-01-01t01-00-00,bs-2024-01-01t02-00-00" {
		t.Fatalf("deleted %s", got)
	}
	if h.writes["delete Backup"] != 2 {
		t.Errorf("%d deletions, want 2 through the API", h.writes["delete Backup"])
	}
	ev := strings.Join(h.events(), "\n")
	if !strings.Contains(ev, ReasonBackupDeleted) || !strings.Contains(ev, "cleanPolicy Retain") {
		t.Errorf("events %s", ev)
	}
	h.resetWrites()
	h.mustReconcile("bs")
	if h.totalWrites() != 0 {
		t.Errorf("steady state wrote %v", h.writes)
	}
}

func TestInvalidScheduleSetsTheConditionOnce(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.Schedule = "61 * * * *"
	h := newHarness(t, bs)
	h.now = at(5, 0)
	for range 3 {
		res, err := h.reconcile("bs")
		if err != nil {
			t.Fatalf("an invalid schedule is not an error (no crash loop): %v", err)
		}
		if res.RequeueAfter != h.r.Options.Resync {
			t.Errorf("requeue %v, want only the resync", res.RequeueAfter)
		}
	}
	if h.writes["status BackupSchedule"] != 1 || h.writes["create Backup"] != 0 {
		t.Errorf("writes %v, want one status write and no Backup", h.writes)
	}
	c := meta.FindStatusCondition(h.schedule("bs").Status.Conditions, ConditionScheduleValid)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != ReasonInvalidSchedule || !strings.Contains(c.Message, "spec.schedule") || !strings.Contains(c.Message, "61") {
		t.Fatalf("condition %+v", c)
	}
	ev := h.events()
	if len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning "+ReasonInvalidSchedule) {
		t.Fatalf("events %v, want one Warning", ev)
	}
	// Another mistake: a new message, one more event.
	bs = h.schedule("bs")
	bs.Spec.Schedule = "0 25 * * *"
	if err := h.c.Update(context.Background(), bs); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile("bs")
	h.mustReconcile("bs")
	if ev := h.events(); len(ev) != 1 || !strings.Contains(ev[0], "0 25 * * *") {
		t.Fatalf("events %v, want one Warning for the new message", ev)
	}
	// Fixed: valid again, one Normal event, and the latest due tick runs.
	bs = h.schedule("bs")
	bs.Spec.Schedule = "0 * * * *"
	bs.Generation = 2
	if err := h.c.Update(context.Background(), bs); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile("bs")
	c = meta.FindStatusCondition(h.schedule("bs").Status.Conditions, ConditionScheduleValid)
	if c.Status != metav1.ConditionTrue {
		t.Fatalf("condition %+v", c)
	}
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t05-00-00" {
		t.Fatalf("Backups %v", got)
	}
	ev = h.events()
	if len(ev) != 2 || !strings.HasPrefix(ev[0], "Normal "+ReasonValid) {
		t.Errorf("events %v", ev)
	}
}

func TestLogBackupCreatedOnce(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.BackupTemplate = nil
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{BR: &v1alpha1.BRConfig{Cluster: "basic"},
		StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "pitr"}}}
	h := newHarness(t, bs)
	h.now = at(0, 40)
	for range 3 {
		h.mustReconcile("bs")
	}
	if h.writes["create Backup"] != 1 {
		t.Fatalf("%d creations, want 1", h.writes["create Backup"])
	}
	logBk := h.backup("log-bs")
	if logBk.Spec.Mode != v1alpha1.BackupModeLog || logBk.Spec.S3.Prefix != "pitr/log-2024-01-01t00-40-00" {
		t.Errorf("log backup mode %q prefix %q", logBk.Spec.Mode, logBk.Spec.S3.Prefix)
	}
	st := h.schedule("bs").Status
	if st.LogBackup != "log-bs" || !timeEq(st.LogBackupStartTs, at(0, 40)) {
		t.Errorf("status %+v", st)
	}
	// Deleted by someone: not created again (v1.6).
	if err := h.c.Delete(context.Background(), logBk); err != nil {
		t.Fatal(err)
	}
	h.now = at(3, 0)
	h.mustReconcile("bs")
	if h.writes["create Backup"] != 1 {
		t.Error("a deleted log backup must not be created again")
	}
}

func TestLostStatusWriteDoesNotDuplicate(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "pitr"}}}
	h := newHarness(t, bs)
	h.now = at(1, 0)
	h.failStatus = 1
	if _, err := h.reconcile("bs"); !errors.Is(err, errInjected) {
		t.Fatalf("the failed status write must be reported, got %v", err)
	}
	if h.writes["create Backup"] != 2 {
		t.Fatalf("writes %v: the log backup and the 01:00 Backup", h.writes)
	}
	// The Backup finishes before the status is written; the next reconciles record both
	// objects instead of creating them again.
	h.setPhase("bs-2024-01-01t01-00-00", v1alpha1.BackupComplete, tsoStr(at(1, 0)))
	h.now = at(1, 5)
	h.mustReconcile("bs")
	h.mustReconcile("bs")
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t01-00-00" {
		t.Fatalf("Backups %v", got)
	}
	st := h.schedule("bs").Status
	if st.LogBackup != "log-bs" || !timeEq(st.LogBackupStartTs, at(1, 0)) || st.LastBackup != "bs-2024-01-01t01-00-00" {
		t.Fatalf("status %+v", st)
	}
	if h.writes["create Backup"] != 3 {
		// The snapshot is tried once more (AlreadyExists, then recorded); the log backup
		// is found in the cache and recorded without a creation.
		t.Errorf("creations %d", h.writes["create Backup"])
	}
}

func TestCreateFailureIsRetried(t *testing.T) {
	h := newHarness(t, newSchedule("bs"))
	h.now = at(1, 0)
	h.failCreate = "Backup"
	if _, err := h.reconcile("bs"); !errors.Is(err, errInjected) {
		t.Fatalf("error %v", err)
	}
	if h.writes["status BackupSchedule"] != 1 {
		// The ScheduleValid condition is still written; no lastBackup.
		t.Errorf("writes %v", h.writes)
	}
	if h.schedule("bs").Status.LastBackup != "" {
		t.Fatal("a Backup that was not created must not be recorded")
	}
	h.failCreate = ""
	h.mustReconcile("bs")
	if got := h.backups("bs"); len(got) != 1 {
		t.Fatalf("Backups %v", got)
	}
}

func TestSteadyStateMakesNoWrites(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.MaxBackups = ptr.To[int32](3)
	h := newHarness(t, bs)
	h.now = at(1, 0)
	h.mustReconcile("bs")
	h.setPhase("bs-2024-01-01t01-00-00", v1alpha1.BackupComplete, tsoStr(at(1, 0)))
	h.mustReconcile("bs")
	h.resetWrites()
	h.now = at(1, 30)
	for range 3 {
		h.mustReconcile("bs")
	}
	if h.totalWrites() != 0 {
		t.Fatalf("steady state wrote %v", h.writes)
	}
}

func TestDumplingJobIsDeletedBeforeTheNextBackup(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.BackupTemplate.BR = nil
	bs.Status.LastBackup, bs.Status.LastBackupTime = "bs-2024-01-01t01-00-00", &metav1.Time{Time: at(1, 0)}
	last := snap("bs", at(1, 0), v1alpha1.BackupComplete)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "backup-" + last.Name, UID: "job-uid",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "pingcap.com/v1alpha1", Kind: "Backup", Name: last.Name, UID: last.UID, Controller: ptr.To(true)}}},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	h := newHarness(t, bs, &last, job)
	h.now = at(2, 0)
	h.mustReconcile("bs")
	if h.writes["delete Job"] != 1 || h.writes["create Backup"] != 1 {
		t.Fatalf("writes %v", h.writes)
	}
	if err := h.c.Get(context.Background(), client.ObjectKeyFromObject(job), &batchv1.Job{}); !apierrors.IsNotFound(err) {
		t.Errorf("the previous Dumpling Job is still there: %v", err)
	}
}

func TestCompaction(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.BackupTemplate = nil
	storage := v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "pitr"}}
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{BR: &v1alpha1.BRConfig{Cluster: "basic"}, StorageProvider: storage}
	bs.Spec.CompactBackupTemplate = &v1alpha1.CompactSpec{BR: &v1alpha1.BRConfig{Cluster: "basic"}, StorageProvider: storage}
	bs.Spec.CompactInterval = ptr.To("1h")
	h := newHarness(t, bs)
	h.now = at(0, 30)
	h.mustReconcile("bs")
	// The log backup starts.
	h.setPhase("log-bs", v1alpha1.BackupRunning, tsoStr(at(0, 30)))
	h.mustReconcile("bs")
	if h.writes["create CompactBackup"] != 0 {
		t.Fatal("the first compaction waits an interval after the log backup started")
	}
	h.now = at(1, 31)
	res := h.mustReconcile("bs")
	cbs := &v1alpha1.CompactBackupList{}
	if err := h.c.List(context.Background(), cbs, client.InNamespace("ns")); err != nil {
		t.Fatal(err)
	}
	if len(cbs.Items) != 1 {
		t.Fatalf("%d CompactBackups", len(cbs.Items))
	}
	cb := cbs.Items[0]
	if cb.Name != "compact-bs-2024-01-01t01-31-00" || cb.Spec.StartTs != tsoStr(at(0, 30)) || cb.Spec.EndTs != tsoStr(at(1, 31)) ||
		cb.Spec.S3.Prefix != "pitr/log-2024-01-01t00-30-00" {
		t.Fatalf("CompactBackup %s %s..%s prefix %s", cb.Name, cb.Spec.StartTs, cb.Spec.EndTs, cb.Spec.S3.Prefix)
	}
	st := h.schedule("bs").Status
	if st.LastCompact != cb.Name || !timeEq(st.LastCompactExecutionTs, at(1, 31)) || st.LastCompactProgress != nil {
		t.Fatalf("status %+v", st)
	}
	if res.RequeueAfter != h.r.Options.Resync {
		t.Errorf("requeue %v", res.RequeueAfter)
	}
	// It completes; an interval later the next window starts where it ended.
	cb.Status.State = v1alpha1.CompactStateComplete
	if err := h.c.Status().Update(context.Background(), &cb); err != nil {
		t.Fatal(err)
	}
	h.now = at(2, 0)
	h.mustReconcile("bs")
	if st := h.schedule("bs").Status; !timeEq(st.LastCompactProgress, at(1, 31)) {
		t.Fatalf("progress %v", st.LastCompactProgress)
	}
	if h.writes["create CompactBackup"] != 1 {
		t.Fatal("not due before the interval passed")
	}
	h.now = at(2, 31)
	h.mustReconcile("bs")
	next := &v1alpha1.CompactBackup{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "compact-bs-2024-01-01t02-31-00"}, next); err != nil {
		t.Fatal(err)
	}
	if next.Spec.StartTs != tsoStr(at(1, 31)) {
		t.Errorf("next window starts at %s", next.Spec.StartTs)
	}
	// The finished first one goes at the next collection.
	h.mustReconcile("bs")
	if !strings.Contains(strings.Join(h.deleted, ","), cb.Name) {
		t.Errorf("deleted %v, want the finished CompactBackup that is not the last", h.deleted)
	}
}

func TestTruncateWithLogBackup(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.MaxReservedTime = ptr.To("24h")
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{}
	bs.Status.LogBackup, bs.Status.LogBackupStartTs = "log-bs", &metav1.Time{Time: t0}
	now := t0.Add(50 * time.Hour)
	bs.Status.LastBackup, bs.Status.LastBackupTime = "x", &metav1.Time{Time: now.Add(-10 * time.Minute)}
	logBk := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "log-bs", Labels: map[string]string{label.BackupScheduleLabelKey: "bs"}},
		Spec:   v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog},
		Status: v1alpha1.BackupStatus{Phase: v1alpha1.BackupRunning, CommitTs: tsoStr(t0), LogCheckpointTs: tsoStr(now)}}
	b1, b2, b3 := snap("bs", t0.Add(time.Hour), v1alpha1.BackupComplete), snap("bs", t0.Add(25*time.Hour), v1alpha1.BackupComplete), snap("bs", t0.Add(49*time.Hour), v1alpha1.BackupComplete)
	h := newHarness(t, bs, logBk, &b1, &b2, &b3)
	h.now = now
	h.mustReconcile("bs")
	if got := strings.Join(h.deleted, ","); got != b1.Name {
		t.Fatalf("deleted %s, want only %s (b2 is the base of restores inside the window)", got, b1.Name)
	}
	if got := h.backup("log-bs").Spec.LogTruncateUntil; got != b2.Status.CommitTs {
		t.Fatalf("logTruncateUntil %q, want b2's commitTs %s", got, b2.Status.CommitTs)
	}
	h.resetWrites()
	h.mustReconcile("bs")
	if h.totalWrites() != 0 {
		t.Fatalf("a second collection wrote %v", h.writes)
	}
}

func TestForeignLogBackupDoesNotStopSnapshots(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{}
	foreign := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "log-bs"}, Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog}}
	h := newHarness(t, bs, foreign)
	h.now = at(1, 0)
	h.mustReconcile("bs")
	if got := h.backups("bs"); strings.Join(got, ",") != "bs-2024-01-01t01-00-00" {
		t.Fatalf("Backups %v", got)
	}
	if h.schedule("bs").Status.LogBackup != "" {
		t.Error("a log-bs the schedule does not own must not be taken for its log backup")
	}
	if ev := strings.Join(h.events(), "\n"); !strings.Contains(ev, "Warning "+ReasonNameConflict) {
		t.Errorf("events %s", ev)
	}
	if h.backup("log-bs").Spec.LogTruncateUntil != "" || h.writes["delete Backup"] != 0 {
		t.Error("the foreign Backup must not be touched")
	}
}
