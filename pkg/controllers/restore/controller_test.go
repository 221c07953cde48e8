package restore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

var errBoom = errors.New("the API server is unwell")

// serverError is what an injected call fails with.
func serverError() error { return errBoom }

func containerArgs(j *batchv1.Job) []string {
	return j.Spec.Template.Spec.Containers[0].Args
}

func TestCreatesTheJobOnceAndThenWritesNothing(t *testing.T) {
	h := newHarness(t, basicCluster(), snapshotRestore())

	res, n := h.mustReconcile()
	j := h.Job("restore-rt")
	if j == nil {
		t.Fatal("no Job restore-rt")
	}
	if !slices.Contains(containerArgs(j), "--restoreName=rt") || containerArgs(j)[0] != "restore" {
		t.Fatalf("unexpected arguments %v", containerArgs(j))
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != "uid-rt" {
		t.Fatalf("the Job is not controlled by the Restore: %v", j.OwnerReferences)
	}
	rs := h.restore()
	if c := condition(rs, v1alpha1.RestoreScheduled); c == nil || c.Status != corev1.ConditionTrue || rs.Status.Phase != v1alpha1.RestoreScheduled {
		t.Fatalf("Scheduled not recorded: %+v", rs.Status)
	}
	if n != 2 {
		t.Fatalf("the first reconcile made %d writes, want 2 (the Job, the status)", n)
	}
	if res.RequeueAfter != DefaultResync {
		t.Fatalf("result %+v, want a resync while the Job runs", res)
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Normal JobCreated") {
		t.Fatalf("events %v, want one Normal JobCreated", evs)
	}

	for i := 0; i < 3; i++ {
		if _, n := h.mustReconcile(); n != 0 {
			t.Fatalf("steady-state reconcile %d made %d writes", i, n)
		}
	}
	if h.JobCount() != 1 {
		t.Fatalf("%d Jobs, want 1", h.JobCount())
	}
	if evs := h.DrainEvents(); len(evs) != 0 {
		t.Fatalf("steady state emitted events %v", evs)
	}

	// The backup-manager runs and completes: the controller only watches.
	h.managerWrites(v1alpha1.RestoreRunning, "", "")
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("a running restore made %d writes", n)
	}
	h.managerWrites(v1alpha1.RestoreComplete, "", "")
	h.FinishJob("restore-rt", batchv1.JobComplete, "", "")
	res, n = h.mustReconcile()
	if n != 0 || res != (ctrl.Result{}) {
		t.Fatalf("a complete restore made %d writes and asked for %+v, want nothing", n, res)
	}
}

func TestInvalidForAMissingClusterNamesTheFieldAndRecoversWhenItAppears(t *testing.T) {
	h := newHarness(t, snapshotRestore())

	res, n := h.mustReconcile()
	rs := h.restore()
	c := condition(rs, v1alpha1.RestoreInvalid)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != ReasonClusterNotFound || !strings.Contains(c.Message, "spec.br.cluster") {
		t.Fatalf("Invalid condition %+v, want ClusterNotFound naming spec.br.cluster", c)
	}
	if rs.Status.Phase != v1alpha1.RestoreInvalid {
		t.Fatalf("phase %q", rs.Status.Phase)
	}
	if h.JobCount() != 0 || n != 1 {
		t.Fatalf("%d Jobs and %d writes, want no Job and one status write", h.JobCount(), n)
	}
	if res != (ctrl.Result{}) {
		t.Fatalf("an invalid Restore asked for %+v, want no requeue", res)
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Warning ClusterNotFound") {
		t.Fatalf("events %v, want one Warning", evs)
	}

	// Nothing changed: no write, no second event.
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("an unchanged invalid Restore made %d writes", n)
	}
	if evs := h.DrainEvents(); len(evs) != 0 {
		t.Fatalf("an unchanged invalid Restore emitted %v", evs)
	}

	// The cluster is created: its creation maps to the waiting Restore, which now runs.
	tc := basicCluster()
	if err := h.Store.Create(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	reqs := h.r.waitingFor(context.Background(), tc)
	if len(reqs) != 1 || reqs[0].NamespacedName != restoreKey {
		t.Fatalf("waitingFor = %v, want the Restore", reqs)
	}
	if other := h.r.waitingFor(context.Background(), &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}}); len(other) != 0 {
		t.Fatalf("another cluster maps to %v", other)
	}
	h.mustReconcile()
	rs = h.restore()
	if c := condition(rs, v1alpha1.RestoreInvalid); c == nil || c.Status != corev1.ConditionFalse {
		t.Fatalf("Invalid not cleared: %+v", c)
	}
	if rs.Status.Phase != v1alpha1.RestoreScheduled || h.Job("restore-rt") == nil {
		t.Fatalf("phase %q, Job %v: want Scheduled and the Job", rs.Status.Phase, h.Job("restore-rt") != nil)
	}
	if reqs := h.r.waitingFor(context.Background(), tc); len(reqs) != 0 {
		t.Fatalf("a scheduled Restore still waits: %v", reqs)
	}
}

func TestInvalidSpecs(t *testing.T) {
	cases := map[string]struct {
		edit       func(*v1alpha1.Restore)
		wantReason string
		wantText   string
	}{
		"a Lightning import": {
			edit: func(rs *v1alpha1.Restore) { rs.Spec.BR = nil }, wantReason: ReasonNotSupported, wantText: "spec.br",
		},
		"a volume-snapshot restore": {
			edit: func(rs *v1alpha1.Restore) { rs.Spec.Mode = v1alpha1.RestoreModeVolumeSnapshot }, wantReason: ReasonNotSupported, wantText: "not supported yet",
		},
		"a BR image the builder cannot tell": {
			// A cluster without a version: no TiKV tag to pick pingcap/br by.
			edit: func(rs *v1alpha1.Restore) { rs.Spec.BR.Cluster = "unversioned" }, wantReason: ReasonInvalidSpec, wantText: "spec.toolImage",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rs := snapshotRestore()
			c.edit(rs)
			unversioned := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unversioned"}, Spec: v1alpha1.TidbClusterSpec{TiKV: &v1alpha1.TiKVSpec{}}}
			unversioned.Spec.TiKV.Image = "registry:5000/tikv"
			h := newHarness(t, basicCluster(), unversioned, rs)
			res, n := h.mustReconcile()
			got := condition(h.restore(), v1alpha1.RestoreInvalid)
			if got == nil || got.Reason != c.wantReason || !strings.Contains(got.Message, c.wantText) {
				t.Fatalf("Invalid %+v, want %s mentioning %q", got, c.wantReason, c.wantText)
			}
			if n != 1 || h.JobCount() != 0 || res != (ctrl.Result{}) {
				t.Fatalf("%d writes, %d Jobs, result %+v", n, h.JobCount(), res)
			}
		})
	}
}

func TestAFixedSpecRunsWithoutAnyOtherEvent(t *testing.T) {
	rs := snapshotRestore()
	rs.Spec.S3.Bucket, rs.Spec.S3.Prefix = "", ""
	h := newHarness(t, basicCluster(), rs)
	h.mustReconcile()
	if c := condition(h.restore(), v1alpha1.RestoreInvalid); c == nil || !strings.Contains(c.Message, "spec.s3.bucket") {
		t.Fatalf("Invalid %+v, want it to name spec.s3.bucket", c)
	}
	fixed := h.restore()
	fixed.Spec.S3.Bucket = "backups"
	if err := h.Store.Update(context.Background(), fixed); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	if got := h.restore(); got.Status.Phase != v1alpha1.RestoreScheduled || h.Job("restore-rt") == nil {
		t.Fatalf("a fixed Restore did not start: phase %q", got.Status.Phase)
	}
}

func TestAFailedJobIsRecordedOnce(t *testing.T) {
	h := newHarness(t, basicCluster(), snapshotRestore())
	h.mustReconcile()
	h.DrainEvents()
	h.managerWrites(v1alpha1.RestoreRunning, "", "")
	// The pod was killed: the backup-manager never recorded a result.
	h.FinishJob("restore-rt", batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline")

	_, n := h.mustReconcile()
	rs := h.restore()
	c := condition(rs, v1alpha1.RestoreFailed)
	if c == nil || c.Reason != "DeadlineExceeded" || !strings.Contains(c.Message, "restore-rt") {
		t.Fatalf("Failed %+v, want the Job's reason", c)
	}
	if n != 1 || rs.Status.Phase != v1alpha1.RestoreFailed {
		t.Fatalf("%d writes, phase %q", n, rs.Status.Phase)
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Warning DeadlineExceeded") {
		t.Fatalf("events %v, want one Warning", evs)
	}
	res, n := h.mustReconcile()
	if n != 0 || res != (ctrl.Result{}) || len(h.DrainEvents()) != 0 {
		t.Fatalf("a failed restore made %d writes, asked for %+v", n, res)
	}
}

func TestWhatTheBackupManagerRecordedWinsOverAStaleCache(t *testing.T) {
	cases := map[string]struct {
		manager v1alpha1.RestoreConditionType
		job     batchv1.JobConditionType
	}{
		"the backup-manager recorded Failed with BR's error before its Job failed": {manager: v1alpha1.RestoreFailed, job: batchv1.JobFailed},
		"the backup-manager recorded Complete before its Job succeeded":            {manager: v1alpha1.RestoreComplete, job: batchv1.JobComplete},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, basicCluster(), snapshotRestore())
			h.mustReconcile()
			h.managerWrites(v1alpha1.RestoreRunning, "", "")
			h.Stale = h.restore() // the cache stops here
			h.managerWrites(c.manager, "RestoreDataFromRemoteFailed", "br restore: connection refused")
			h.FinishJob("restore-rt", c.job, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
			h.DrainEvents()

			if _, n := h.mustReconcile(); n != 0 {
				t.Fatalf("%d writes over the backup-manager's result", n)
			}
			got := condition(h.restore(), c.manager)
			if got == nil || got.Reason != "RestoreDataFromRemoteFailed" {
				t.Fatalf("the backup-manager's condition was changed: %+v", got)
			}
			if evs := h.DrainEvents(); len(evs) != 0 {
				t.Fatalf("events %v", evs)
			}
		})
	}
}

func TestASucceededJobWithoutAResultIsFailed(t *testing.T) {
	h := newHarness(t, basicCluster(), snapshotRestore())
	h.mustReconcile()
	h.FinishJob("restore-rt", batchv1.JobComplete, "", "")
	h.mustReconcile()
	if c := condition(h.restore(), v1alpha1.RestoreFailed); c == nil || c.Reason != ReasonResultMissing {
		t.Fatalf("Failed %+v, want %s", c, ReasonResultMissing)
	}
}

func TestALostJobIsConfirmedAndNeverRerun(t *testing.T) {
	h := newHarness(t, basicCluster(), snapshotRestore())
	h.mustReconcile()

	// The cache has not seen the Job yet: nothing is concluded, nothing is created.
	h.HideJobs = true
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("a Job missing from the cache only caused %d writes", n)
	}
	if condition(h.restore(), v1alpha1.RestoreFailed) != nil || h.JobCount() != 1 {
		t.Fatal("a Job missing from the cache was taken for lost")
	}
	h.HideJobs = false

	// Really gone (deleted by hand): Failed, and no second Job.
	if err := h.Store.Delete(context.Background(), h.Job("restore-rt")); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	if c := condition(h.restore(), v1alpha1.RestoreFailed); c == nil || c.Reason != ReasonJobNotFound {
		t.Fatalf("Failed %+v, want %s", c, ReasonJobNotFound)
	}
	h.mustReconcile()
	if h.JobCount() != 0 {
		t.Fatal("a lost restore was run again")
	}
}

func TestInjectedErrorsFailTheStepWithoutPartialDamage(t *testing.T) {
	t.Run("creating the Job fails: no Scheduled without a Job", func(t *testing.T) {
		h := newHarness(t, basicCluster(), snapshotRestore())
		h.Fail["create Job"] = serverError()
		if _, _, err := h.reconcile(); !errors.Is(err, errBoom) {
			t.Fatalf("error %v, want the injected one", err)
		}
		if rs := h.restore(); len(rs.Status.Conditions) != 0 || h.JobCount() != 0 {
			t.Fatalf("status %+v after a failed create", rs.Status)
		}
		delete(h.Fail, "create Job")
		h.mustReconcile()
		if h.restore().Status.Phase != v1alpha1.RestoreScheduled {
			t.Fatal("the retry did not schedule the restore")
		}
	})
	t.Run("recording Scheduled fails: the next reconcile records it without a second Job", func(t *testing.T) {
		h := newHarness(t, basicCluster(), snapshotRestore())
		h.Fail["status Restore"] = serverError()
		if _, _, err := h.reconcile(); !errors.Is(err, errBoom) {
			t.Fatalf("error %v, want the injected one", err)
		}
		if h.JobCount() != 1 || len(h.restore().Status.Conditions) != 0 {
			t.Fatal("want the Job and no status")
		}
		h.DrainEvents()
		delete(h.Fail, "status Restore")
		_, n := h.mustReconcile()
		if n != 1 || h.restore().Status.Phase != v1alpha1.RestoreScheduled || h.JobCount() != 1 {
			t.Fatalf("%d writes, phase %q, %d Jobs", n, h.restore().Status.Phase, h.JobCount())
		}
	})
	t.Run("reading the cluster fails: neither Invalid nor a Job", func(t *testing.T) {
		h := newHarness(t, basicCluster(), snapshotRestore())
		h.Fail["get TidbCluster"] = serverError()
		if _, n, err := h.reconcile(); !errors.Is(err, errBoom) || n != 0 {
			t.Fatalf("error %v and %d writes", err, n)
		}
		if len(h.restore().Status.Conditions) != 0 || h.JobCount() != 0 {
			t.Fatal("an API error was taken for a verdict")
		}
	})
	t.Run("reading the Job fails: nothing is concluded", func(t *testing.T) {
		h := newHarness(t, basicCluster(), snapshotRestore())
		h.mustReconcile()
		h.Fail["get Job"] = serverError()
		if _, n, err := h.reconcile(); !errors.Is(err, errBoom) || n != 0 {
			t.Fatalf("error %v and %d writes", err, n)
		}
	})
}

func TestAForeignJobIsNotTakenOver(t *testing.T) {
	foreign := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "restore-rt"}}
	h := newHarness(t, basicCluster(), snapshotRestore(), foreign)
	_, n, err := h.reconcile()
	if !errors.Is(err, backupjob.ErrForeignJob) || n != 0 {
		t.Fatalf("error %v and %d writes, want ErrForeignJob and none", err, n)
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], ReasonJobConflict) {
		t.Fatalf("events %v", evs)
	}
}

func pruningRestore() *v1alpha1.Restore {
	rs := pitrRestore()
	rs.Spec.Prune = v1alpha1.PruneTypeAfterFailed
	return rs
}

func TestPruneRunsOnce(t *testing.T) {
	h := newHarness(t, basicCluster(), pruningRestore())
	h.mustReconcile()
	h.managerWrites(v1alpha1.RestoreRunning, "", "")
	h.managerWrites(v1alpha1.RestoreFailed, "RestoreDataFromRemoteFailed", "br restore point: region unavailable")

	// The restore pod is still exiting: no abort under a live BR.
	if _, n := h.mustReconcile(); n != 0 || h.Job(PruneJobName(h.restore())) != nil {
		t.Fatalf("the prune started while the restore Job ran (%d writes)", n)
	}
	h.FinishJob("restore-rt", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	h.DrainEvents()

	_, n := h.mustReconcile()
	pj := h.Job("restore-rt-prune")
	if pj == nil {
		t.Fatal("no prune Job")
	}
	if args := containerArgs(pj); !slices.Contains(args, "--abort=true") || !slices.Contains(args, "--mode=pitr") {
		t.Fatalf("prune arguments %v", args)
	}
	rs := h.restore()
	if rs.Status.Phase != v1alpha1.RestorePruneScheduled || !v1alpha1.IsRestoreFailed(rs) || n != 2 {
		t.Fatalf("phase %q, failed %v, %d writes", rs.Status.Phase, v1alpha1.IsRestoreFailed(rs), n)
	}
	if h.Job("restore-rt") == nil {
		t.Fatal("the failed restore's Job must stay for its logs")
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Normal "+ReasonPruneJobCreated) {
		t.Fatalf("events %v", evs)
	}
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("a running prune made %d writes", n)
	}

	// The backup-manager reports, the Job fails: nothing more to do, and no second prune.
	h.managerWrites(v1alpha1.RestorePruneRunning, "", "")
	h.managerWrites(v1alpha1.RestorePruneFailed, "PruneFailed", "br abort restore: checkpoint not found")
	h.FinishJob("restore-rt-prune", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	res, n := h.mustReconcile()
	if n != 0 || res != (ctrl.Result{}) {
		t.Fatalf("%d writes, result %+v after the prune ended", n, res)
	}
	if err := h.Store.Delete(context.Background(), h.Job("restore-rt-prune")); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	if h.Job("restore-rt-prune") != nil {
		t.Fatal("the prune ran twice")
	}
	if c := condition(h.restore(), v1alpha1.RestorePruneFailed); c == nil || c.Reason != "PruneFailed" {
		t.Fatalf("the backup-manager's PruneFailed was changed: %+v", c)
	}
}

func TestAPruneWhoseJobVanishesIsNotRunAgain(t *testing.T) {
	h := newHarness(t, basicCluster(), pruningRestore())
	h.mustReconcile()
	h.FinishJob("restore-rt", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	h.mustReconcile() // records Failed from the Job
	h.mustReconcile() // creates the prune Job
	if h.Job("restore-rt-prune") == nil {
		t.Fatal("no prune Job")
	}
	if err := h.Store.Delete(context.Background(), h.Job("restore-rt-prune")); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	if c := condition(h.restore(), v1alpha1.RestorePruneFailed); c == nil || c.Reason != ReasonJobNotFound {
		t.Fatalf("PruneFailed %+v", c)
	}
	h.mustReconcile()
	if h.Job("restore-rt-prune") != nil {
		t.Fatal("the prune ran twice")
	}
}

func TestAPruneThatCannotBeBuiltFailsOnce(t *testing.T) {
	rs := pruningRestore()
	rs.Name = strings.Repeat("r", 52) // restore-<name> fits in 63 characters, restore-<name>-prune does not
	rs.UID = "uid-long"
	h := newHarness(t, basicCluster(), rs)
	key := restoreKey
	restoreKey.Name = rs.Name
	t.Cleanup(func() { restoreKey = key })
	h.mustReconcile()
	h.FinishJob(rs.GetRestoreJobName(), batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	h.mustReconcile()
	h.DrainEvents()
	h.mustReconcile()
	c := condition(h.restore(), v1alpha1.RestorePruneFailed)
	if c == nil || !strings.Contains(c.Message, "shorter name") {
		t.Fatalf("PruneFailed %+v", c)
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Warning") {
		t.Fatalf("events %v", evs)
	}
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("%d writes after the prune failed", n)
	}
}

func TestADeletedRestoreIsLeftToGarbageCollection(t *testing.T) {
	rs := snapshotRestore()
	rs.Finalizers = []string{"example.com/hold"}
	rs.DeletionTimestamp = ptr.To(metav1.Now())
	h := newHarness(t, basicCluster(), rs)
	res, n := h.mustReconcile()
	if n != 0 || h.JobCount() != 0 || res != (ctrl.Result{}) {
		t.Fatalf("%d writes, %d Jobs, %+v for a deleted Restore", n, h.JobCount(), res)
	}
}

func TestAMissingRestoreIsNotAnError(t *testing.T) {
	h := newHarness(t)
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("%d writes", n)
	}
	h.Fail["get Restore"] = apierrors.NewNotFound(schema.GroupResource{Group: "pingcap.com", Resource: "restores"}, "rt")
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("%d writes", n)
	}
}

func TestSetupRefusesAMissingImage(t *testing.T) {
	if err := SetupWithManager(nil, Options{}); !errors.Is(err, errNoImage) {
		t.Fatalf("error %v, want errNoImage", err)
	}
}

func TestAStaleCacheNeverRunsARestoreOrAPruneTwice(t *testing.T) {
	h := newHarness(t, basicCluster(), pruningRestore())
	unscheduled := h.restore()
	h.mustReconcile()

	// An earlier reconcile scheduled the restore, whose Job was then deleted, and the cache
	// shows neither: the Restore from before, and no Job.
	if err := h.Store.Delete(context.Background(), h.Job("restore-rt")); err != nil {
		t.Fatal(err)
	}
	h.Stale = unscheduled
	if _, n := h.mustReconcile(); n != 0 || h.JobCount() != 0 {
		t.Fatalf("%d writes and %d Jobs from a stale cache", n, h.JobCount())
	}
	h.Stale = nil
	h.mustReconcile() // the lost Job is recorded as Failed
	if !v1alpha1.IsRestoreFailed(h.restore()) {
		t.Fatal("the lost Job was not recorded")
	}

	// The same for the prune: scheduled, deleted, and the cache is behind.
	beforePrune := h.restore()
	h.mustReconcile()
	if h.Job("restore-rt-prune") == nil {
		t.Fatal("no prune Job")
	}
	if err := h.Store.Delete(context.Background(), h.Job("restore-rt-prune")); err != nil {
		t.Fatal(err)
	}
	h.Stale = beforePrune
	if _, n := h.mustReconcile(); n != 0 || h.JobCount() != 0 {
		t.Fatalf("%d writes and %d Jobs from a stale cache", n, h.JobCount())
	}
}

// A PiTR restore waits, without a Job, until TiKV mounts a configuration with
// gc.ratio-threshold = -1, then starts.
func TestPiTRWaitsForTheGCOverlay(t *testing.T) {
	h := newHarness(t, basicCluster(), pitrRestore())
	ctx := context.Background()
	// The cluster's default update strategy keeps one ConfigMap name: the overlay comes and
	// goes in its content.
	if err := h.Store.Update(ctx, tikvRunning(t, false)[0]); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		res, _ := h.mustReconcile()
		if h.JobCount() != 0 {
			t.Fatal("the PiTR Job started before TiKV disabled its GC")
		}
		if res.RequeueAfter == 0 || res.RequeueAfter > 10*time.Second {
			t.Fatalf("requeue after %s while waiting", res.RequeueAfter)
		}
	}
	if err := h.Store.Update(ctx, tikvRunning(t, true)[0]); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	if h.Job("restore-rt") == nil {
		t.Fatal("no Job once TiKV runs with the overlay")
	}
}

// A Restore naming a Secret that does not exist is Invalid on that field, starts no Job and
// looks again a minute later; once the Secret is there the restore starts.
func TestAMissingSecretIsReportedAndRecheckedSlowly(t *testing.T) {
	rs := snapshotRestore()
	rs.Spec.S3.SecretName = "creds"
	h := newHarness(t, basicCluster(), rs)
	for i := 0; i < 2; i++ {
		res, _ := h.mustReconcile()
		if res.RequeueAfter != secretRecheck {
			t.Fatalf("requeue after %s, want %s", res.RequeueAfter, secretRecheck)
		}
	}
	c := condition(h.restore(), v1alpha1.RestoreInvalid)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != ReasonSecretNotFound || !strings.HasPrefix(c.Message, "spec.s3.secretName: Secret creds not found") {
		t.Fatalf("Invalid = %+v", c)
	}
	if h.JobCount() != 0 {
		t.Fatal("a Job was created without its Secret")
	}
	if ev := h.DrainEvents(); len(ev) != 1 {
		t.Fatalf("events %v, want one Warning", ev)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}}
	if err := h.Store.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	if h.Job("restore-rt") == nil {
		t.Fatal("no Job once the Secret exists")
	}
	if v1alpha1.IsRestoreInvalid(h.restore()) {
		t.Fatal("still Invalid")
	}
}
