package backupjob

import (
	"context"
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob/backupjobtest"
)

func cond(t batchv1.JobConditionType, reason string) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: reason + " message"}
}

func TestObserve(t *testing.T) {
	done := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	cases := map[string]struct {
		job  *batchv1.Job
		want Outcome
	}{
		"no Job":                   {nil, Outcome{Phase: Absent}},
		"no status":                {&batchv1.Job{}, Outcome{Phase: Running}},
		"suspended":                {&batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobSuspended, "Suspended")}}}, Outcome{Phase: Running}},
		"complete":                 {&batchv1.Job{Status: batchv1.JobStatus{CompletionTime: &done, Conditions: []batchv1.JobCondition{cond(batchv1.JobComplete, "Completed")}}}, Outcome{Phase: Succeeded, FinishedAt: done}},
		"criteria":                 {&batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: done}}}}, Outcome{Phase: Succeeded, FinishedAt: done}},
		"failed":                   {&batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobFailed, "BackoffLimitExceeded")}}}, Outcome{Phase: Failed, Reason: "BackoffLimitExceeded", Message: "BackoffLimitExceeded message"}},
		"target":                   {&batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobFailureTarget, "DeadlineExceeded")}}}, Outcome{Phase: Failed, Reason: "DeadlineExceeded", Message: "DeadlineExceeded message"}},
		"failed wins over target":  {&batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobFailureTarget, "A"), cond(batchv1.JobFailed, "B")}}}, Outcome{Phase: Failed, Reason: "B", Message: "B message"}},
		"false conditions ignored": {&batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionFalse}}}}, Outcome{Phase: Running}},
		"failed without words":     {&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j"}, Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}}}, Outcome{Phase: Failed, Reason: "JobFailed", Message: "Job j failed"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Observe(tc.job); got != tc.want {
				t.Fatalf("Observe = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func owned(name string, uid string) *batchv1.Job {
	yes := true
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: name,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "pingcap.com/v1alpha1", Kind: "Backup", Name: "bk", UID: k8stypes.UID("uid-" + uid), Controller: &yes}},
	}}
}

func TestEnsureCreatesOnceAndNeverUpdates(t *testing.T) {
	creates := 0
	c := fake.NewClientBuilder().WithScheme(backupjobtest.Scheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			creates++
			return c.Create(ctx, obj, opts...)
		},
		Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error {
			t.Error("Ensure updated a Job")
			return nil
		},
	}).Build()
	ctx := context.Background()
	desired := owned("backup-bk", "1")
	if _, created, err := Ensure(ctx, c, desired); err != nil || !created {
		t.Fatalf("first Ensure: created=%v err=%v", created, err)
	}
	changed := desired.DeepCopy()
	changed.Spec.Template.Spec.ServiceAccountName = "other"
	live, created, err := Ensure(ctx, c, changed)
	if err != nil || created {
		t.Fatalf("second Ensure: created=%v err=%v", created, err)
	}
	if live.Spec.Template.Spec.ServiceAccountName != "" {
		t.Fatalf("the live Job was changed: %q", live.Spec.Template.Spec.ServiceAccountName)
	}
	if creates != 1 {
		t.Fatalf("%d creates, want 1", creates)
	}
}

func TestEnsureRefusesForeignJobs(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(backupjobtest.Scheme(t)).WithObjects(owned("backup-bk", "other")).Build()
	_, created, err := Ensure(context.Background(), c, owned("backup-bk", "1"))
	if created || !errors.Is(err, ErrForeignJob) {
		t.Fatalf("created=%v err=%v, want ErrForeignJob", created, err)
	}
	unowned := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x"}}
	if _, _, err := Ensure(context.Background(), c, unowned); err == nil {
		t.Fatal("a Job without an owner was created")
	}
}

func TestEnsureReportsErrors(t *testing.T) {
	boom := errors.New("boom")
	c := fake.NewClientBuilder().WithScheme(backupjobtest.Scheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error { return boom },
	}).Build()
	if _, _, err := Ensure(context.Background(), c, owned("backup-bk", "1")); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	exists := fake.NewClientBuilder().WithScheme(backupjobtest.Scheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
			return apierrors.NewAlreadyExists(schema.GroupResource{Group: "batch", Resource: "jobs"}, "backup-bk")
		},
	}).Build()
	if _, created, err := Ensure(context.Background(), exists, owned("backup-bk", "1")); created || !apierrors.IsAlreadyExists(err) {
		t.Fatalf("created=%v err=%v, want AlreadyExists", created, err)
	}
}

func TestDeleteUsesTheObservedUID(t *testing.T) {
	live := owned("backup-bk", "1")
	live.UID = "job-uid-1"
	var gotOpts client.DeleteOptions
	c := fake.NewClientBuilder().WithScheme(backupjobtest.Scheme(t)).WithObjects(live).WithInterceptorFuncs(interceptor.Funcs{
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			gotOpts.ApplyOptions(opts)
			return c.Delete(ctx, obj, opts...)
		},
	}).Build()
	if err := Delete(context.Background(), c, live); err != nil {
		t.Fatal(err)
	}
	if gotOpts.Preconditions == nil || gotOpts.Preconditions.UID == nil || *gotOpts.Preconditions.UID != "job-uid-1" {
		t.Fatalf("preconditions = %+v", gotOpts.Preconditions)
	}
	if gotOpts.PropagationPolicy == nil || *gotOpts.PropagationPolicy != metav1.DeletePropagationBackground {
		t.Fatalf("propagation = %v", gotOpts.PropagationPolicy)
	}
	// Gone already: not an error.
	if err := Delete(context.Background(), c, live); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func TestActive(t *testing.T) {
	done := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "done"}, Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobComplete, "")}}}
	running := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "running"}}
	if _, ok := Active([]batchv1.Job{done}); ok {
		t.Fatal("a finished Job counted as active")
	}
	if name, ok := Active([]batchv1.Job{done, running}); !ok || name != "running" {
		t.Fatalf("Active = %q %v", name, ok)
	}
}
