package brcmd

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{
			"a SAS token in --storage is hidden and the rest of the URL kept",
			[]string{"backup", "full", "--storage=azure://c/p/?account-name=acct&sas-token=sv%3D1%26sig%3Dsecret"},
			[]string{"backup", "full", "--storage=azure://c/p/?account-name=acct&sas-token=REDACTED"},
		},
		{
			"a SAS token in --full-backup-storage is hidden",
			[]string{"--full-backup-storage=azure://c/p/?sas-token=abc"},
			[]string{"--full-backup-storage=azure://c/p/?sas-token=REDACTED"},
		},
		{
			"an unescaped SAS token loses its signature too",
			[]string{"--storage=azure://c/p/?sas-token=sv=2020&sig=abc&account-name=acct"},
			[]string{"--storage=azure://c/p/?sas-token=REDACTED&sig=REDACTED&account-name=acct"},
		},
		{
			"a storage URL given as a separate argument is redacted",
			[]string{"--storage", "s3://b/p?access-key=AK&secret-access-key=SK", "-s", "s3://b/p?secret-access-key=SK"},
			[]string{"--storage", "s3://b/p?access-key=REDACTED&secret-access-key=REDACTED", "-s", "s3://b/p?secret-access-key=REDACTED"},
		},
		{
			"secret flags are hidden in both forms",
			[]string{"--azblob.sas-token=tok", "--s3.secret-access-key", "SK", "--s3.access-key=AK", "--azblob.account-key=KEY", "--azblob.encryption-key=EK"},
			[]string{"--azblob.sas-token=REDACTED", "--s3.secret-access-key", "REDACTED", "--s3.access-key=REDACTED", "--azblob.account-key=REDACTED", "--azblob.encryption-key=REDACTED"},
		},
		{
			"crypter keys and the base64 storage are hidden",
			[]string{"--crypter.key=0123", "--log.crypter.key", "4567", "compact-log-backup", "--storage-base64", "Q0FGRQ==", "--master-key=aws-kms:///k?SecretKey=x"},
			[]string{"--crypter.key=REDACTED", "--log.crypter.key", "REDACTED", "compact-log-backup", "--storage-base64", "REDACTED", "--master-key=REDACTED"},
		},
		{
			"the TLS key path, endpoints and filters are not secrets",
			[]string{"--key=/var/lib/cluster-client-tls/tls.key", "--s3.endpoint=http://minio:9000", "--filter", "!db.*", "--storage=s3://b/p?force-path-style=true"},
			[]string{"--key=/var/lib/cluster-client-tls/tls.key", "--s3.endpoint=http://minio:9000", "--filter", "!db.*", "--storage=s3://b/p?force-path-style=true"},
		},
		{
			"a secret flag at the end without a value is left alone",
			[]string{"backup", "--azblob.sas-token"},
			[]string{"backup", "--azblob.sas-token"},
		},
		{
			"a secret flag followed by another flag does not hide that flag",
			[]string{"--s3.access-key", "--pd=pd:2379"},
			[]string{"--s3.access-key", "--pd=pd:2379"},
		},
		{
			"an empty list stays empty",
			[]string{},
			[]string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := Redact(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Redact =\n%q\nwant\n%q", got, tc.want)
			}
			if !slices.Equal(tc.in, in) {
				t.Fatalf("Redact modified its input: %q", tc.in)
			}
		})
	}
}

func TestRedactHidesEveryCommandLineSecret(t *testing.T) {
	loc := storage.Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Account: "acct", SASToken: "sv=2020-08-04&ss=b&sig=TOPSECRET"}
	rs := restore(func(rs *v1alpha1.Restore) { rs.Spec.BR.Options = []string{"--azblob.sas-token=TOPSECRET"} })
	args, err := Restore(rs, pitrOptions(), cluster, loc, &loc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(args, " "), "TOPSECRET") {
		t.Fatal("the test command line should carry the token")
	}
	t.Run("a PiTR restore from Azure with a SAS token logs no token", func(t *testing.T) {
		if got := strings.Join(Redact(args), " "); strings.Contains(got, "TOPSECRET") {
			t.Fatalf("redacted command line still holds the token: %s", got)
		}
	})
}

func pitrOptions() job.RestoreOptions {
	return job.RestoreOptions{Mode: v1alpha1.RestoreModePiTR, PitrRestoredTS: "1"}
}
