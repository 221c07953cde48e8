package backupjobtest

import (
	"context"
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func TestCacheLagsAndCallsFailAsTold(t *testing.T) {
	ctx := context.Background()
	rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rt"}}
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "restore-rt"}}
	w := New(t, Config{Namespace: "ns", StatusSubresource: []client.Object{&v1alpha1.Restore{}}, Objects: []client.Object{rs, j}})

	w.Stale = rs.DeepCopy()
	w.Stale.SetLabels(map[string]string{"old": "copy"})
	got := &v1alpha1.Restore{}
	if err := w.Cache.Get(ctx, client.ObjectKeyFromObject(rs), got); err != nil || got.Labels["old"] != "copy" {
		t.Fatalf("cache Get = %v, %v; want the stale copy", got.Labels, err)
	}
	if err := w.API.Get(ctx, client.ObjectKeyFromObject(rs), got); err != nil || got.Labels["old"] != "" {
		t.Fatalf("API Get = %v, %v; want the stored Restore", got.Labels, err)
	}

	w.HideJobs = true
	if err := w.Cache.Get(ctx, client.ObjectKeyFromObject(j), &batchv1.Job{}); !apierrors.IsNotFound(err) {
		t.Fatalf("cache Get of a hidden Job: %v", err)
	}
	if w.Job("restore-rt") == nil {
		t.Fatal("the store lost the hidden Job")
	}

	boom := errors.New("boom")
	w.Fail["status Restore"] = boom
	if err := w.API.Status().Update(ctx, rs); !errors.Is(err, boom) {
		t.Fatalf("status update: %v, want boom", err)
	}
	delete(w.Fail, "status Restore")
	if err := w.API.Status().Update(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := w.Cache.Delete(ctx, j); err != nil {
		t.Fatal(err)
	}
	if want := []string{"status Restore/rt", "delete Job/restore-rt"}; len(w.Writes) != 2 || w.Writes[0] != want[0] || w.Writes[1] != want[1] {
		t.Fatalf("writes %v, want %v (a failed write is not one)", w.Writes, want)
	}
}

func TestFinishJob(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w := New(t, Config{Namespace: "ns", Now: now, Objects: []client.Object{
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b"}},
	}})
	w.FinishJob("a", batchv1.JobComplete, "", "")
	w.FinishJob("b", batchv1.JobFailed, "BackoffLimitExceeded", "too many")
	a, b := w.Job("a"), w.Job("b")
	if len(a.Status.Conditions) != 1 || a.Status.CompletionTime == nil || !a.Status.CompletionTime.Time.Equal(now) {
		t.Fatalf("completed Job status %+v", a.Status)
	}
	if len(b.Status.Conditions) != 1 || b.Status.Conditions[0].Reason != "BackoffLimitExceeded" || b.Status.CompletionTime != nil {
		t.Fatalf("failed Job status %+v", b.Status)
	}
	if len(w.Writes) != 0 {
		t.Fatalf("the test's own writes were recorded: %v", w.Writes)
	}
}
