package backupmanager

import (
	"context"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

// TestCleanDeletesExactlyTheBackupsObjects backs up to backup-1 on every storage, puts a
// sibling backup-10 (a prefix match of backup-1 but another backup) and an object beside
// them, runs clean, and checks that only backup-1's objects are gone.
func TestCleanDeletesExactlyTheBackupsObjects(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	for _, b := range allBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			name := "clean-" + b.name
			backupInto(ctx, t, ns, name, b, "team/backup-1")
			b.put(ctx, t, "team/backup-10/backupmeta", []byte("another backup"))
			b.put(ctx, t, "team/backup-1.txt", []byte("not under the prefix"))
			if n := len(b.keys(ctx, t, "team/backup-1/")); n < 3 {
				t.Fatalf("the backup wrote %d objects; want several to delete", n)
			}

			r := startManager(t, b.env, "clean", "--namespace="+ns, "--backupName="+name)
			r.mustSucceed(t, time.Minute)

			if left := b.keys(ctx, t, "team/backup-1/"); len(left) != 0 {
				t.Errorf("clean left %q", left)
			}
			want := []string{"team/backup-1.txt", "team/backup-10/backupmeta"}
			if got := b.keys(ctx, t, "team/"); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("after clean the bucket holds %q, want exactly %q", got, want)
			}
			got := getBackup(ctx, t, client.ObjectKey{Namespace: ns, Name: name})
			if clean := condition(got, v1alpha1.BackupClean); clean == nil || got.Status.Phase != v1alpha1.BackupClean {
				t.Errorf("phase %q conditions %+v; want Clean", got.Status.Phase, got.Status.Conditions)
			}
		})
	}
}

// TestCleanRefusesWhatCouldReachOtherData: a backup whose spec no longer names the path it
// wrote, and one whose prefix is empty, are refused with CleanFailed and nothing is deleted.
func TestCleanRefusesWhatCouldReachOtherData(t *testing.T) {
	cluster.InstallCRDs(t, "../../manifests/crd")
	ns := cluster.Namespace(t)
	c := cluster.Shared(t).Client()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := s3Backend(t)
	backupInto(ctx, t, ns, "moved", b, "refuse/moved")
	before := b.keys(ctx, t, "")

	for _, tc := range []struct {
		name   string
		prefix string
		want   string
	}{
		{"a spec edited after the backup", "refuse/elsewhere", "status.backupPath"},
		{"an empty prefix", "", "prefix is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := client.ObjectKey{Namespace: ns, Name: "moved"}
			bk := getBackup(ctx, t, key)
			bk.Spec.StorageProvider = b.provider(tc.prefix)
			if err := c.Update(ctx, bk); err != nil {
				t.Fatal(err)
			}
			if tc.prefix == "" {
				// Make the recorded path agree, so that only the prefix rule can refuse it.
				bk.Status.BackupPath = b.statusPath("")
				bk.Status.BackupPath = strings.TrimSuffix(bk.Status.BackupPath, "/")
				if err := c.Status().Update(ctx, bk); err != nil {
					t.Fatal(err)
				}
			}
			if code := startManager(t, b.env, "clean", "--namespace="+ns, "--backupName=moved").wait(t, time.Minute); code == 0 {
				t.Fatal("clean exited 0")
			}
			got := getBackup(ctx, t, key)
			failed := condition(got, v1alpha1.BackupCleanFailed)
			if failed == nil || !strings.Contains(failed.Message, tc.want) {
				t.Fatalf("conditions %+v; want CleanFailed mentioning %q", got.Status.Conditions, tc.want)
			}
			if after := b.keys(ctx, t, ""); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("objects changed: %d before, %d after", len(before), len(after))
			}
		})
	}
}
