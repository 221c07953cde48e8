package job_test

import (
	"context"
	"sort"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/manager"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// readByToolsOnly are the variables the Jobs carry that no Go code of this repository reads:
// v1.6 wrote them for the programs in its image, and a Job keeps them so that it looks as it did.
// None is a credential (TestEnvNamesAreRead checks they are never Secret references). When the
// backup-manager starts reading one, the test fails until it is removed from here.
var readByToolsOnly = map[string]string{
	"S3_PROVIDER":        "rclone (v1.6 image, Dumpling exports)",
	"S3_ENDPOINT":        "rclone (v1.6 image, Dumpling exports)",
	"AWS_ACL":            "rclone (v1.6 image, Dumpling exports)",
	"AWS_STORAGE_CLASS":  "rclone (v1.6 image, Dumpling exports)",
	"AWS_DEFAULT_REGION": "the AWS SDK and v1.6's KMS wrapper (useKMS)",
	"GCS_PROJECT_ID":     "rclone (v1.6 image, Dumpling exports)",
	"GCS_OBJECT_ACL":     "rclone (v1.6 image, Dumpling exports)",
	"GCS_BUCKET_ACL":     "rclone (v1.6 image, Dumpling exports)",
	"GCS_LOCATION":       "rclone (v1.6 image, Dumpling exports)",
	"GCS_STORAGE_CLASS":  "rclone (v1.6 image, Dumpling exports)",
	"AZURE_ACCESS_TIER":  "rclone (v1.6 image, Dumpling exports)",
	"BR_LOG_TO_TERM":     "BR (the backup-manager only checks whether it is set)",
}

// storageReads returns every variable pkg/backup/storage looks up when it opens a bucket, found
// by opening probe locations with a recording Env. A backend reads some variables only when
// others are set (the Azure AAD triple after the account key is found missing), so the probe
// repeats with the variables seen so far set in different combinations until no new one shows
// up. Open makes no request, so nothing leaves the process.
func storageReads(t *testing.T) map[string]bool {
	t.Helper()
	probes := []storage.Location{
		// No region: the S3 backend falls back to AWS_REGION.
		{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p"},
		// A plain-http endpoint, so that no credentials means no metadata server lookup.
		{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "b", Prefix: "p", Endpoint: "http://127.0.0.1:1/storage/v1/"},
		// No account: the Azure backend falls back to AZURE_STORAGE_ACCOUNT.
		{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Endpoint: "http://127.0.0.1:1/devstoreaccount1"},
		{Type: v1alpha1.BackupStorageTypeLocal, Bucket: t.TempDir(), Prefix: "p"},
	}
	seen := map[string]bool{}
	open := func(l storage.Location, set map[string]bool) {
		env := func(key string) (string, bool) {
			seen[key] = true
			if set[key] {
				return "x", true
			}
			return "", false
		}
		if b, err := storage.Open(context.Background(), l, env); err == nil {
			_ = b.Close()
		}
	}
	for _, l := range probes {
		for {
			before := len(seen)
			var known []string
			for k := range seen {
				known = append(known, k)
			}
			sort.Strings(known)
			sets := []map[string]bool{{}, setOf(known...)}
			for i, k := range known {
				sets = append(sets, setOf(k), setOf(append(append([]string{}, known[:i]...), known[i+1:]...)...))
			}
			for _, s := range sets {
				open(l, s)
			}
			if len(seen) == before {
				break
			}
		}
	}
	return seen
}

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// TestEnvNamesAreRead shows that every variable the builders generate is one the backup-manager
// reads (its storage backends, or manager.EnvTiDBPassword), or one of readByToolsOnly; and that
// every Secret reference feeds a variable the backup-manager itself reads, so no credential is
// handed to a name nobody looks at.
func TestEnvNamesAreRead(t *testing.T) {
	read := storageReads(t)
	read[manager.EnvTiDBPassword] = true
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "GCS_SERVICE_ACCOUNT_JSON_KEY",
		"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"} {
		if !read[want] {
			t.Fatalf("the probe did not see the storage backends read %s (saw %v): the probe is broken", want, read)
		}
	}
	for name := range readByToolsOnly {
		if read[name] {
			t.Errorf("%s is read by the backup-manager now: remove it from readByToolsOnly", name)
		}
	}
	emitted := map[string]bool{}
	cases := allCases()
	for _, name := range sortedNames(cases) {
		c := cases[name]
		fromSpec := setOf(c.specEnv...)
		for _, e := range mustBuild(t, c).Spec.Template.Spec.Containers[0].Env {
			if fromSpec[e.Name] {
				continue
			}
			emitted[e.Name] = true
			switch {
			case e.ValueFrom != nil && !read[e.Name]:
				t.Errorf("%s: %s comes from a Secret, but the backup-manager never reads it", name, e.Name)
			case !read[e.Name] && readByToolsOnly[e.Name] == "":
				t.Errorf("%s: %s is read by nobody: neither pkg/backup/storage nor pkg/backup/manager looks it up, and it is not in readByToolsOnly", name, e.Name)
			}
		}
	}
	for name := range readByToolsOnly {
		if !emitted[name] {
			t.Errorf("no test Job carries %s: cover it or remove it from readByToolsOnly", name)
		}
	}
}
