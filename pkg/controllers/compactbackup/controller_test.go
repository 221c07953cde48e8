package compactbackup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

var errBoom = errors.New("the API server is unwell")

func initImages(j *batchv1.Job) map[string]string {
	out := map[string]string{}
	for _, c := range j.Spec.Template.Spec.InitContainers {
		out[c.Name] = c.Image
	}
	return out
}

func TestCreatesTheJobOnceAndThenWritesNothing(t *testing.T) {
	h := newHarness(t, basicCluster(), compaction())
	res, n := h.mustReconcile()
	j := h.Job("cpbk")
	if j == nil {
		t.Fatal("no Job named like the CompactBackup")
	}
	if imgs := initImages(j); imgs["br"] != "pingcap/br:v8.5.0" || imgs["tikv-ctl"] != "pingcap/tikv:v8.5.0" {
		t.Fatalf("init images %v", imgs)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != "uid-cpbk" {
		t.Fatalf("owner %v", j.OwnerReferences)
	}
	if cb := h.compact(); cb.Status.State != v1alpha1.CompactStateScheduled || n != 2 {
		t.Fatalf("state %q after %d writes, want Scheduled after 2", cb.Status.State, n)
	}
	if res.RequeueAfter != DefaultResync {
		t.Fatalf("result %+v", res)
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Normal JobCreated") {
		t.Fatalf("events %v", evs)
	}
	for i := 0; i < 3; i++ {
		if _, n := h.mustReconcile(); n != 0 {
			t.Fatalf("steady-state reconcile %d made %d writes", i, n)
		}
	}
	h.managerWrites(v1alpha1.CompactStateRunning, "")
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("a running compaction made %d writes", n)
	}
	h.managerWrites(v1alpha1.CompactStateComplete, "compaction finished")
	h.FinishJob("cpbk", batchv1.JobComplete, "", "")
	if res, n := h.mustReconcile(); n != 0 || res != (ctrl.Result{}) {
		t.Fatalf("a complete compaction made %d writes and asked for %+v", n, res)
	}
	if h.JobCount() != 1 || len(h.DrainEvents()) != 0 {
		t.Fatal("more Jobs or events than one")
	}
}

// failRun makes the current Job fail as the backup-manager does: it records Failed with its
// error, then exits non-zero.
func (h *harness) failRun(message string) {
	h.t.Helper()
	h.managerWrites(v1alpha1.CompactStateFailed, message)
	h.FinishJob("cpbk", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
}

func TestRetriesFollowTheDecisionWithOneJobAtATime(t *testing.T) {
	h := newHarness(t, basicCluster(), compaction()) // maxRetryTimes 2
	h.mustReconcile()
	h.DrainEvents()
	oneJob := func() {
		t.Helper()
		if n := h.JobCount(); n > 1 {
			t.Fatalf("%d Jobs at once", n)
		}
	}

	for retryNum, delay := range []time.Duration{10 * time.Second, 20 * time.Second} {
		n := retryNum + 1
		h.managerWrites(v1alpha1.CompactStateRunning, "")
		h.failRun("tikv-ctl compact-log-backup: access denied")

		// The failure is recorded, the Job kept for its logs until the retry is due.
		res, writes := h.mustReconcile()
		cb := h.compact()
		if cb.Status.State != v1alpha1.CompactStateRetryFailed || len(cb.Status.BackoffRetryStatus) != n || writes != 1 {
			t.Fatalf("retry %d: state %q, %d records, %d writes", n, cb.Status.State, len(cb.Status.BackoffRetryStatus), writes)
		}
		if rec := cb.Status.BackoffRetryStatus[n-1]; rec.RetryNum != n || !strings.Contains(rec.RetryReason, "access denied") {
			t.Fatalf("record %+v", rec)
		}
		if res.RequeueAfter != delay {
			t.Fatalf("retry %d: requeue after %v, want %v", n, res.RequeueAfter, delay)
		}
		if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Warning RetryScheduled") {
			t.Fatalf("events %v", evs)
		}
		if h.Job("cpbk") == nil {
			t.Fatal("the failed Job was deleted before the retry was due")
		}
		if _, writes := h.mustReconcile(); writes != 0 {
			t.Fatalf("waiting for the retry made %d writes", writes)
		}

		// Due: the failed Job goes, then a fresh one comes, Scheduled again.
		h.Now = h.Now.Add(delay)
		res, writes = h.mustReconcile()
		if h.Job("cpbk") != nil || writes != 1 || res.RequeueAfter != time.Second {
			t.Fatalf("retry %d due: Job still there %v, %d writes, %+v", n, h.Job("cpbk") != nil, writes, res)
		}
		h.mustReconcile()
		oneJob()
		cb = h.compact()
		if h.Job("cpbk") == nil || cb.Status.State != v1alpha1.CompactStateScheduled || !strings.Contains(cb.Status.Message, "retry") {
			t.Fatalf("retry %d: Job %v, state %q, message %q", n, h.Job("cpbk") != nil, cb.Status.State, cb.Status.Message)
		}
		h.DrainEvents()
	}

	// The last retry fails too: Failed for good, with the backup-manager's error.
	h.failRun("tikv-ctl compact-log-backup: still denied")
	res, writes := h.mustReconcile()
	cb := h.compact()
	if cb.Status.State != v1alpha1.CompactStateFailed || !strings.Contains(cb.Status.Message, "still denied") || !strings.Contains(cb.Status.Message, "spec.maxRetryTimes") {
		t.Fatalf("state %q, message %q", cb.Status.State, cb.Status.Message)
	}
	if writes != 1 || res != (ctrl.Result{}) || len(cb.Status.BackoffRetryStatus) != 2 {
		t.Fatalf("%d writes, %+v, %d records", writes, res, len(cb.Status.BackoffRetryStatus))
	}
	if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Warning RetryLimitExceeded") {
		t.Fatalf("events %v", evs)
	}
	h.Now = h.Now.Add(time.Hour)
	for i := 0; i < 2; i++ {
		if res, writes := h.mustReconcile(); writes != 0 || res != (ctrl.Result{}) {
			t.Fatalf("a compaction given up on made %d writes and asked for %+v", writes, res)
		}
	}
	if h.Job("cpbk") == nil || len(h.DrainEvents()) != 0 {
		t.Fatal("the last failed Job must stay for its logs, without new events")
	}
}

func TestAFailedJobWithoutRetriesFailsOnce(t *testing.T) {
	cb := compaction()
	cb.Spec.MaxRetryTimes = 0
	h := newHarness(t, basicCluster(), cb)
	h.mustReconcile()
	h.managerWrites(v1alpha1.CompactStateRunning, "")
	// The pod was evicted: no report from the backup-manager.
	h.FinishJob("cpbk", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	if _, n := h.mustReconcile(); n != 1 {
		t.Fatalf("%d writes", n)
	}
	if got := h.compact(); got.Status.State != v1alpha1.CompactStateFailed || len(got.Status.BackoffRetryStatus) != 0 {
		t.Fatalf("status %+v", got.Status)
	}
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("%d writes after giving up", n)
	}
}

func TestInvalidSpecsFailWithoutAJob(t *testing.T) {
	cases := map[string]struct {
		edit      func(*v1alpha1.CompactBackup)
		objs      bool
		wantField string
	}{
		"a missing target cluster": {edit: func(*v1alpha1.CompactBackup) {}, wantField: "spec.br.cluster"},
		"an unparseable endTs":     {edit: func(cb *v1alpha1.CompactBackup) { cb.Spec.EndTs = "tomorrow" }, objs: true, wantField: "spec.endTs"},
		"a cluster without TiKV to copy tikv-ctl from": {edit: func(cb *v1alpha1.CompactBackup) {
			cb.Spec.BR.Cluster = "nokv"
			cb.Spec.ToolImage = "pingcap/br:v8.5.0"
		}, objs: true, wantField: "spec.tikvImage"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cb := compaction()
			c.edit(cb)
			var h *harness
			if c.objs {
				nokv := &v1alpha1.TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nokv"}, Spec: v1alpha1.TidbClusterSpec{Version: "v8.5.0"}}
				h = newHarness(t, basicCluster(), nokv, cb)
			} else {
				h = newHarness(t, cb)
			}
			res, n := h.mustReconcile()
			got := h.compact()
			if got.Status.State != v1alpha1.CompactStateFailed || !strings.Contains(got.Status.Message, c.wantField) {
				t.Fatalf("state %q, message %q, want Failed naming %q", got.Status.State, got.Status.Message, c.wantField)
			}
			if n != 1 || h.JobCount() != 0 || res != (ctrl.Result{}) {
				t.Fatalf("%d writes, %d Jobs, %+v", n, h.JobCount(), res)
			}
			if evs := h.DrainEvents(); len(evs) != 1 || !strings.Contains(evs[0], "Warning") {
				t.Fatalf("events %v", evs)
			}
			if _, n := h.mustReconcile(); n != 0 || len(h.DrainEvents()) != 0 {
				t.Fatalf("a refused compaction made %d writes on the next reconcile", n)
			}
		})
	}
}

func TestImagesInTheSpecNeedNoCluster(t *testing.T) {
	cb := compaction()
	cb.Spec.TikvImage, cb.Spec.ToolImage = "pingcap/tikv:v8.1.0", "pingcap/br:v8.1.0"
	h := newHarness(t, cb) // spec.br.cluster names a cluster that does not exist
	h.mustReconcile()
	j := h.Job("cpbk")
	if j == nil {
		t.Fatalf("no Job; status %+v", h.compact().Status)
	}
	if imgs := initImages(j); imgs["br"] != "pingcap/br:v8.1.0" || imgs["tikv-ctl"] != "pingcap/tikv:v8.1.0" {
		t.Fatalf("init images %v", imgs)
	}
}

func TestCompleteWinsOverAStaleCache(t *testing.T) {
	h := newHarness(t, basicCluster(), compaction())
	h.mustReconcile()
	h.managerWrites(v1alpha1.CompactStateRunning, "")
	h.Stale = h.compact()
	h.managerWrites(v1alpha1.CompactStateComplete, "compaction finished")
	// Whatever the Job says (here: failed after the result was written), Complete stays.
	h.FinishJob("cpbk", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("%d writes over Complete", n)
	}
	if got := h.compact(); got.Status.State != v1alpha1.CompactStateComplete || len(got.Status.BackoffRetryStatus) != 0 {
		t.Fatalf("status %+v", got.Status)
	}
}

func TestALostJobIsConfirmedThenRetried(t *testing.T) {
	h := newHarness(t, basicCluster(), compaction())
	h.mustReconcile()
	h.managerWrites(v1alpha1.CompactStateRunning, "")

	h.HideJobs = true
	if _, n := h.mustReconcile(); n != 0 {
		t.Fatalf("a Job missing from the cache only caused %d writes", n)
	}
	h.HideJobs = false

	if err := h.Store.Delete(context.Background(), h.Job("cpbk")); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile()
	cb := h.compact()
	if cb.Status.State != v1alpha1.CompactStateRetryFailed || len(cb.Status.BackoffRetryStatus) != 1 || !strings.Contains(cb.Status.BackoffRetryStatus[0].RetryReason, ReasonJobNotFound) {
		t.Fatalf("status %+v", cb.Status)
	}
	// Not due yet: no Job.
	if res, _ := h.mustReconcile(); h.JobCount() != 0 || res.RequeueAfter != 10*time.Second {
		t.Fatalf("%d Jobs, %+v before the retry is due", h.JobCount(), res)
	}
	h.Now = h.Now.Add(10 * time.Second)
	h.mustReconcile()
	if h.Job("cpbk") == nil || h.compact().Status.State != v1alpha1.CompactStateScheduled {
		t.Fatal("the due retry did not run")
	}
}

func TestInjectedErrorsFailTheStepWithoutPartialDamage(t *testing.T) {
	t.Run("creating the Job fails: the state stays new", func(t *testing.T) {
		h := newHarness(t, basicCluster(), compaction())
		h.Fail["create Job"] = errBoom
		if _, _, err := h.reconcile(); !errors.Is(err, errBoom) {
			t.Fatalf("error %v", err)
		}
		if h.compact().Status.State != "" || h.JobCount() != 0 {
			t.Fatal("partial damage after a failed create")
		}
		delete(h.Fail, "create Job")
		h.mustReconcile()
		if h.compact().Status.State != v1alpha1.CompactStateScheduled {
			t.Fatal("not scheduled after the error went away")
		}
	})
	t.Run("recording Scheduled fails: recorded next time, no second Job", func(t *testing.T) {
		h := newHarness(t, basicCluster(), compaction())
		h.Fail["status CompactBackup"] = errBoom
		if _, _, err := h.reconcile(); !errors.Is(err, errBoom) {
			t.Fatalf("error %v", err)
		}
		delete(h.Fail, "status CompactBackup")
		if _, n := h.mustReconcile(); n != 1 || h.JobCount() != 1 || h.compact().Status.State != v1alpha1.CompactStateScheduled {
			t.Fatalf("%d writes, %d Jobs, state %q", n, h.JobCount(), h.compact().Status.State)
		}
	})
	t.Run("recording a failure fails: nothing is deleted and nothing recorded", func(t *testing.T) {
		h := newHarness(t, basicCluster(), compaction())
		h.mustReconcile()
		h.failRun("tikv-ctl: boom")
		h.Fail["status CompactBackup"] = errBoom
		if _, _, err := h.reconcile(); !errors.Is(err, errBoom) {
			t.Fatalf("error %v", err)
		}
		if h.Job("cpbk") == nil || len(h.compact().Status.BackoffRetryStatus) != 0 {
			t.Fatal("partial damage after a failed status write")
		}
	})
	t.Run("deleting the failed Job fails: the retry stays open and runs later", func(t *testing.T) {
		h := newHarness(t, basicCluster(), compaction())
		h.mustReconcile()
		h.failRun("tikv-ctl: boom")
		h.mustReconcile()
		h.Now = h.Now.Add(10 * time.Second)
		h.Fail["delete Job"] = errBoom
		if _, n, err := h.reconcile(); !errors.Is(err, errBoom) || n != 0 {
			t.Fatalf("error %v, %d writes", err, n)
		}
		if h.Job("cpbk") == nil || h.compact().Status.State != v1alpha1.CompactStateRetryFailed {
			t.Fatal("the retry did not stay open")
		}
		delete(h.Fail, "delete Job")
		h.mustReconcile()
		h.mustReconcile()
		if h.compact().Status.State != v1alpha1.CompactStateScheduled || len(h.compact().Status.BackoffRetryStatus) != 1 {
			t.Fatalf("status %+v", h.compact().Status)
		}
	})
	t.Run("reading the cluster fails: the compaction is not refused", func(t *testing.T) {
		h := newHarness(t, basicCluster(), compaction())
		h.Fail["get TidbCluster"] = errBoom
		if _, n, err := h.reconcile(); !errors.Is(err, errBoom) || n != 0 {
			t.Fatalf("error %v, %d writes", err, n)
		}
		if h.compact().Status.State != "" {
			t.Fatal("an API error was taken for a missing cluster")
		}
	})
}

func TestAForeignJobIsNotTakenOver(t *testing.T) {
	foreign := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cpbk"}}
	h := newHarness(t, basicCluster(), compaction(), foreign)
	if _, n, err := h.reconcile(); !errors.Is(err, backupjob.ErrForeignJob) || n != 0 {
		t.Fatalf("error %v, %d writes", err, n)
	}
}

func TestSetupRefusesAMissingImage(t *testing.T) {
	if err := SetupWithManager(nil, Options{}); !errors.Is(err, errNoImage) {
		t.Fatalf("error %v, want errNoImage", err)
	}
}

func TestAStaleCacheStartsNoRunThatNoRecordAccountsFor(t *testing.T) {
	h := newHarness(t, basicCluster(), compaction())
	before := h.compact()
	h.mustReconcile()
	if err := h.Store.Delete(context.Background(), h.Job("cpbk")); err != nil {
		t.Fatal(err)
	}
	h.Stale = before
	if _, n := h.mustReconcile(); n != 0 || h.JobCount() != 0 {
		t.Fatalf("%d writes and %d Jobs from a stale cache", n, h.JobCount())
	}
	h.Stale = nil
	h.mustReconcile()
	if cb := h.compact(); cb.Status.State != v1alpha1.CompactStateRetryFailed || len(cb.Status.BackoffRetryStatus) != 1 {
		t.Fatalf("the lost run was not recorded: %+v", cb.Status)
	}
}
