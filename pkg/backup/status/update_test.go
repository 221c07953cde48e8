package status

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

var backupKey = client.ObjectKey{Namespace: "ns", Name: "bk"}

func newClient(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().
		WithScheme(s).
		WithStatusSubresource(&v1alpha1.Backup{}, &v1alpha1.Restore{}, &v1alpha1.CompactBackup{}).
		WithObjects(objs...).
		WithInterceptorFuncs(funcs).
		Build()
}

func scheduledBackup() *v1alpha1.Backup {
	return &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Namespace: backupKey.Namespace, Name: backupKey.Name},
		Status: v1alpha1.BackupStatus{
			Phase:      v1alpha1.BackupScheduled,
			Conditions: []v1alpha1.BackupCondition{cond(v1alpha1.BackupScheduled, corev1.ConditionTrue)},
		},
	}
}

// writes counts every call that could change an object, whatever the verb.
type writes struct{ n int }

func (w *writes) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			w.n++
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			w.n++
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			w.n++
			return c.Patch(ctx, obj, p, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			w.n++
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			w.n++
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	}
}

// fastRetries makes the conflict backoff short for the test and restores it afterwards.
func fastRetries(t *testing.T, steps int) {
	t.Helper()
	saved := conflictBackoff
	conflictBackoff = wait.Backoff{Steps: steps, Duration: time.Millisecond, Factor: 2}
	t.Cleanup(func() { conflictBackoff = saved })
}

func getBackup(t *testing.T, c client.Client) *v1alpha1.Backup {
	t.Helper()
	bk := &v1alpha1.Backup{}
	if err := c.Get(context.Background(), backupKey, bk); err != nil {
		t.Fatal(err)
	}
	return bk
}

func TestUpdateRetriesAConflictAndKeepsTheOtherWritersChange(t *testing.T) {
	ctx := context.Background()
	var tries int
	var firstErr error
	funcs := interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			tries++
			if tries == 1 {
				// The operator writes between our Get and our Update: another condition and
				// the checkpoint. Our copy's resourceVersion is now stale.
				other := All(
					SetBackupCondition(cond(v1alpha1.BackupRestart, corev1.ConditionTrue), BackupFields{}),
					SetBackupFields(BackupFields{LogCheckpointTs: "42"}),
				)
				if err := Update(ctx, c, backupKey, &v1alpha1.Backup{}, other); err != nil {
					t.Fatalf("other writer: %v", err)
				}
				firstErr = c.SubResource(sub).Update(ctx, obj, opts...)
				return firstErr
			}
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	}
	c := newClient(t, funcs, scheduledBackup())

	ours := SetBackupCondition(cond(v1alpha1.BackupRunning, corev1.ConditionTrue), BackupFields{BackupPath: "s3://b/p"})
	got := &v1alpha1.Backup{}
	if err := Update(ctx, c, backupKey, got, ours); err != nil {
		t.Fatal(err)
	}

	if !apierrors.IsConflict(firstErr) {
		t.Fatalf("the first write should have hit a real conflict, got %v", firstErr)
	}
	if tries != 2 {
		t.Errorf("status writes = %d, want 2 (one conflict, one retry)", tries)
	}
	bk := getBackup(t, c)
	if got.ResourceVersion != bk.ResourceVersion {
		t.Errorf("obj holds resourceVersion %q, want the written %q", got.ResourceVersion, bk.ResourceVersion)
	}
	if bk.Status.Phase != v1alpha1.BackupRunning {
		t.Errorf("phase = %q, want Running", bk.Status.Phase)
	}
	if bk.Status.BackupPath != "s3://b/p" || bk.Status.LogCheckpointTs != "42" {
		t.Errorf("backupPath = %q, logCheckpointTs = %q: both writers' fields should be there", bk.Status.BackupPath, bk.Status.LogCheckpointTs)
	}
	if got, want := condTypes(bk.Status.Conditions), "Scheduled,Restart,Running"; got != want {
		t.Errorf("conditions = %s, want %s", got, want)
	}
}

func TestUpdateWithoutAChangeMakesNoWrite(t *testing.T) {
	cases := map[string]func(*v1alpha1.Backup) bool{
		"a transaction that reports no change": func(*v1alpha1.Backup) bool { return false },
		"the condition that is already there":  SetBackupCondition(cond(v1alpha1.BackupScheduled, corev1.ConditionTrue), BackupFields{}),
		"fields that are all unset":            SetBackupFields(BackupFields{}),
	}
	for name, tx := range cases {
		t.Run(name, func(t *testing.T) {
			var w writes
			c := newClient(t, w.funcs(), scheduledBackup())
			if err := Update(context.Background(), c, backupKey, &v1alpha1.Backup{}, tx); err != nil {
				t.Fatal(err)
			}
			if w.n != 0 {
				t.Errorf("writes = %d, want 0", w.n)
			}
		})
	}
}

func TestUpdateGivesUpAfterABoundedNumberOfConflicts(t *testing.T) {
	fastRetries(t, 4)
	var tries int
	funcs := interceptor.Funcs{
		SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			tries++
			return apierrors.NewConflict(schema.GroupResource{Group: "pingcap.com", Resource: "backups"}, backupKey.Name, errors.New("object was modified"))
		},
	}
	c := newClient(t, funcs, scheduledBackup())

	err := Update(context.Background(), c, backupKey, &v1alpha1.Backup{}, SetBackupCondition(cond(v1alpha1.BackupRunning, corev1.ConditionTrue), BackupFields{}))
	if !apierrors.IsConflict(err) {
		t.Fatalf("err = %v, want a wrapped conflict", err)
	}
	if tries != 4 {
		t.Errorf("tries = %d, want 4", tries)
	}
	if !strings.Contains(err.Error(), "gave up after 4 tries") {
		t.Errorf("err = %q, want it to say how many tries were made", err)
	}
}

func TestUpdateStopsRetryingWhenTheContextEnds(t *testing.T) {
	fastRetries(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	funcs := interceptor.Funcs{
		SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			cancel()
			return apierrors.NewConflict(schema.GroupResource{Group: "pingcap.com", Resource: "backups"}, backupKey.Name, errors.New("object was modified"))
		},
	}
	c := newClient(t, funcs, scheduledBackup())

	err := Update(ctx, c, backupKey, &v1alpha1.Backup{}, SetBackupCondition(cond(v1alpha1.BackupRunning, corev1.ConditionTrue), BackupFields{}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestUpdateReportsNotFound(t *testing.T) {
	c := newClient(t, interceptor.Funcs{})
	called := false
	err := Update(context.Background(), c, backupKey, &v1alpha1.Backup{}, func(*v1alpha1.Backup) bool {
		called = true
		return true
	})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("err = %v, want NotFound", err)
	}
	if !strings.Contains(err.Error(), "get Backup ns/bk") {
		t.Errorf("err = %q, want it to name the object", err)
	}
	if called {
		t.Error("mutate was called without an object")
	}
}

func TestUpdateWorksForRestoreAndCompactBackup(t *testing.T) {
	ctx := context.Background()
	rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rs"}}
	cb := &v1alpha1.CompactBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cb"}}
	c := newClient(t, interceptor.Funcs{}, rs, cb)

	err := Update(ctx, c, client.ObjectKeyFromObject(rs), &v1alpha1.Restore{}, All(
		SetRestoreCondition(v1alpha1.RestoreCondition{Type: v1alpha1.RestoreRunning, Status: corev1.ConditionTrue}, RestoreFields{}),
		SetRestoreProgress("Full Restore", 12.5, metav1.Now()),
	))
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(ctx, c, client.ObjectKeyFromObject(cb), &v1alpha1.CompactBackup{}, SetCompactState(v1alpha1.CompactStateRunning, CompactFields{Progress: "p"})); err != nil {
		t.Fatal(err)
	}

	gotRs, gotCb := &v1alpha1.Restore{}, &v1alpha1.CompactBackup{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(rs), gotRs); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cb), gotCb); err != nil {
		t.Fatal(err)
	}
	if gotRs.Status.Phase != v1alpha1.RestoreRunning || len(gotRs.Status.Progresses) != 1 {
		t.Errorf("restore status = %+v, want Running with one progress", gotRs.Status)
	}
	if gotCb.Status.State != v1alpha1.CompactStateRunning || gotCb.Status.Progress != "p" {
		t.Errorf("compact status = %+v, want Running with progress p", gotCb.Status)
	}
}

func TestResetClearsAUsedObjectButKeepsTheKindOfAnUnstructuredOne(t *testing.T) {
	bk := scheduledBackup()
	bk.Status.LogSubCommandStatuses = map[v1alpha1.LogSubCommandType]v1alpha1.LogSubCommandStatus{v1alpha1.LogStartCommand: {}}
	reset(bk)
	if bk.Name != "" || bk.Status.Phase != "" || bk.Status.LogSubCommandStatuses != nil {
		t.Errorf("reset left %+v", bk)
	}

	u := &unstructured.Unstructured{}
	gvk := v1alpha1.SchemeGroupVersion.WithKind("Backup")
	u.SetGroupVersionKind(gvk)
	u.SetName("bk")
	reset(u)
	if u.GetName() != "" || u.GroupVersionKind() != gvk {
		t.Errorf("reset of unstructured: name %q, kind %v; want no name and kind %v", u.GetName(), u.GroupVersionKind(), gvk)
	}
	if got := kindOf(u); got != "Backup" {
		t.Errorf("kindOf(unstructured) = %q, want Backup", got)
	}
}
