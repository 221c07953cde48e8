package storage

import (
	"errors"
	"path"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

func localProvider(mountPath, prefix string) *v1alpha1.LocalStorageProvider {
	return &v1alpha1.LocalStorageProvider{VolumeMount: corev1.VolumeMount{Name: "nfs", MountPath: mountPath}, Prefix: prefix}
}

func TestFromProviderReadsEveryProvider(t *testing.T) {
	cases := map[string]struct {
		p         v1alpha1.StorageProvider
		brOptions []string
		want      Location
	}{
		"an S3 bucket and prefix lose their slashes": {
			p:    v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Region: "us-west-2", Bucket: "/bucket/", Prefix: "/backups/demo/"}},
			want: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "backups/demo", Provider: "aws", Region: "us-west-2"},
		},
		"an S3 bucket with a slash puts the rest in front of the prefix": {
			p:    v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "ceph", Bucket: "a/b", Prefix: "c"}},
			want: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "a", Prefix: "b/c", Provider: "ceph"},
		},
		"an S3 provider keeps every option BR is given": {
			p: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "minio", Bucket: "b", Prefix: "p", Endpoint: "http://minio:9000",
				ForcePathStyle: ptr.To(false), SSE: "AES256", ACL: "private", StorageClass: "STANDARD_IA"}},
			want: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Provider: "minio", Endpoint: "http://minio:9000",
				ForcePathStyle: ptr.To(false), SSE: "AES256", ACL: "private", StorageClass: "STANDARD_IA"},
		},
		"the legacy S3 path is read when there is no bucket": {
			p:    v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Path: "s3://legacy/some/prefix/"}},
			want: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "legacy", Prefix: "some/prefix", Provider: "aws"},
		},
		"a GCS bucket takes its endpoint from BR's options, the last one winning": {
			p:         v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{ProjectID: "proj", Bucket: "g", Prefix: "/p/q/", StorageClass: "NEARLINE", ObjectACL: "private"}},
			brOptions: []string{"--gcs.endpoint=http://first/storage/v1/", "--ignore=1", "--gcs.endpoint", "http://second/storage/v1/"},
			want: Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "g", Prefix: "p/q", Endpoint: "http://second/storage/v1/",
				ProjectID: "proj", StorageClass: "NEARLINE", ObjectACL: "private"},
		},
		"the legacy GCS path is read when there is no bucket": {
			p:    v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{Path: "gcs://old/path"}},
			want: Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "old", Prefix: "path"},
		},
		"an Azure container keeps its account, SAS token and access tier": {
			p:         v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "p/", StorageAccount: "acct", SasToken: "sv=1&sig=abc", AccessTier: "Cool"}},
			brOptions: []string{"--azblob.endpoint=http://127.0.0.1:10000/devstoreaccount1"},
			want: Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Endpoint: "http://127.0.0.1:10000/devstoreaccount1",
				Account: "acct", SASToken: "sv=1&sig=abc", AccessTier: "Cool"},
		},
		"the legacy Azure path is read when there is no container": {
			p:    v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Path: "azure://box/dir/"}},
			want: Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "box", Prefix: "dir"},
		},
		"BR's --s3.endpoint, --s3.region and --s3.provider in spec.br.options win over spec.s3, as they do for BR": {
			p:         v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "ceph", Region: "us-west-2", Bucket: "b", Prefix: "p", Endpoint: "http://ceph:7480"}},
			brOptions: []string{"--s3.endpoint=http://first:9000", "--s3.region", "eu-west-1", "--s3.provider=minio", "--s3.endpoint", "http://minio:9000"},
			want:      Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Provider: "minio", Region: "eu-west-1", Endpoint: "http://minio:9000"},
		},
		"an S3 option written empty empties the spec's value, as it does for BR": {
			p:         v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Region: "us-west-2", Bucket: "b", Prefix: "p", Endpoint: "https://s3.example.com"}},
			brOptions: []string{"--s3.region=", "--s3.endpoint="},
			want:      Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Provider: "aws"},
		},
		"options BR does not read as its S3 flags leave spec.s3 alone": {
			p: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Region: "us-west-2", Bucket: "b", Prefix: "p"}},
			brOptions: []string{"--s3_region=eu-west-1", " --s3.region=eu-west-2", "--s3.region-x=1", "--s3.force-path-style=false",
				"--", "--s3.region=eu-west-3"},
			want: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p", Provider: "aws", Region: "us-west-2"},
		},
		"an Azure account from BR's options is used when the spec names none": {
			p:         v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "p"}},
			brOptions: []string{"--azblob.account-name=fromoptions"},
			want:      Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Account: "fromoptions"},
		},
		"the spec's Azure account wins over BR's options, as the URL's account-name does for BR": {
			p:         v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "p", StorageAccount: "fromspec"}},
			brOptions: []string{"--azblob.account-name=fromoptions"},
			want:      Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p", Account: "fromspec"},
		},
		"a dot inside a name is not a dot segment": {
			p:    v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "my.bucket", Prefix: ".hidden/v1..2/x."}},
			want: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "my.bucket", Prefix: ".hidden/v1..2/x.", Provider: "aws"},
		},
		"a local volume's mount path and prefix are cleaned": {
			p:    v1alpha1.StorageProvider{Local: localProvider("/mnt/backup/", "/a//b/./c/")},
			want: Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/mnt/backup", Prefix: "a/b/c"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := FromProvider(tc.p, tc.brOptions)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("FromProvider =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

func TestFromProviderRefusesWhatItCannotUse(t *testing.T) {
	cases := map[string]struct {
		p       v1alpha1.StorageProvider
		wantErr error  // nil: any error
		wantMsg string // a part of the message
	}{
		"no provider at all": {p: v1alpha1.StorageProvider{}, wantErr: v1alpha1.ErrNoStorageProvider},
		"two providers": {
			p:       v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b"}, Gcs: &v1alpha1.GcsStorageProvider{Bucket: "g"}},
			wantMsg: "more than one",
		},
		"an S3 provider without a bucket":           {p: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws"}}, wantMsg: "spec.s3.bucket"},
		"a GCS provider without a bucket":           {p: v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{}}, wantMsg: "spec.gcs.bucket"},
		"an Azure provider without a container":     {p: v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{}}, wantMsg: "spec.azblob.container"},
		"a local volume without a mount path":       {p: v1alpha1.StorageProvider{Local: localProvider("", "p")}, wantMsg: "mountPath"},
		"a local prefix climbing out of the volume": {p: v1alpha1.StorageProvider{Local: localProvider("/mnt", "a/../../etc")}, wantErr: ErrUnsafePrefix},
		"a local mount path with a parent segment": {
			p: v1alpha1.StorageProvider{Local: localProvider("/mnt/../etc", "p")}, wantErr: ErrUnsafePrefix,
			wantMsg: `spec.local.volumeMount.mountPath "/mnt/../etc" contains ".."`,
		},
		"an S3 prefix whose parent segment would change the bucket": {
			p:       v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "b", Prefix: "../x/y"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.s3.prefix "../x/y" contains ".."`,
		},
		"an S3 bucket with a parent segment": {
			p:       v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "b/../c", Prefix: "p"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.s3.bucket "b/../c" contains ".."`,
		},
		"an S3 bucket that is a current-directory segment": {
			p:       v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: ".", Prefix: "x/y"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.s3.bucket "." contains "."`,
		},
		"an S3 prefix with a current-directory segment": {
			p:       v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "b", Prefix: "a/./c"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.s3.prefix "a/./c" contains "."`,
		},
		"a legacy S3 path with a parent segment": {
			p:       v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "aws", Path: "s3://b/../x/y"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.s3.path "s3://b/../x/y" contains ".."`,
		},
		"a GCS prefix with a parent segment": {
			p:       v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{Bucket: "g", Prefix: "a/../../h"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.gcs.prefix "a/../../h" contains ".."`,
		},
		"a GCS bucket with a current-directory segment": {
			p:       v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{Bucket: "./g", Prefix: "p"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.gcs.bucket "./g" contains "."`,
		},
		"a legacy GCS path with a current-directory segment": {
			p:       v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{Path: "gcs://./g/p"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.gcs.path "gcs://./g/p" contains "."`,
		},
		"an Azure container with a parent segment": {
			p:       v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Container: "c/..", Prefix: "d/p"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.azblob.container "c/.." contains ".."`,
		},
		"an Azure prefix with a current-directory segment": {
			p:       v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "./p"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.azblob.prefix "./p" contains "."`,
		},
		"a legacy Azure path with a parent segment": {
			p:       v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Path: "azure://c/../d/p"}},
			wantErr: ErrUnsafePrefix, wantMsg: `spec.azblob.path "azure://c/../d/p" contains ".."`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := FromProvider(tc.p, nil)
			if err == nil {
				t.Fatal("FromProvider succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v does not wrap %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
}

func TestURLsAreSpelledAsV16SpellsThem(t *testing.T) {
	s3 := Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: "p/q"}
	withPathStyle := func(v bool) Location { l := s3; l.ForcePathStyle = ptr.To(v); return l }
	az := Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "c", Prefix: "p"}
	withAz := func(account, sas string) Location { l := az; l.Account, l.SASToken = account, sas; return l }
	cases := map[string]struct {
		l                         Location
		url, redacted, statusPath string
	}{
		"S3 without forcePathStyle has no query": {l: s3,
			url: "s3://b/p/q", redacted: "s3://b/p/q", statusPath: "s3://b/p/q"},
		"S3 with forcePathStyle written true says so": {l: withPathStyle(true),
			url: "s3://b/p/q?force-path-style=true", redacted: "s3://b/p/q?force-path-style=true", statusPath: "s3://b/p/q"},
		"S3 with forcePathStyle written false says so": {l: withPathStyle(false),
			url: "s3://b/p/q?force-path-style=false", redacted: "s3://b/p/q?force-path-style=false", statusPath: "s3://b/p/q"},
		"S3 without a prefix is the bucket": {l: Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b"},
			url: "s3://b", redacted: "s3://b", statusPath: "s3://b"},
		"GCS ends in a slash for BR and in the status, as v1.6 writes both": {l: Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "g", Prefix: "p", Endpoint: "http://x/storage/v1/"},
			url: "gcs://g/p/", redacted: "gcs://g/p/", statusPath: "gcs://g/p/"},
		"GCS without a prefix is the bucket with a slash": {l: Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "g"},
			url: "gcs://g/", redacted: "gcs://g/", statusPath: "gcs://g/"},
		"Azure without account or SAS has no query": {l: az,
			url: "azure://c/p/", redacted: "azure://c/p/", statusPath: "azure://c/p/"},
		"Azure with an account names it in the URL only": {l: withAz("acct", ""),
			url: "azure://c/p/?account-name=acct", redacted: "azure://c/p/?account-name=acct", statusPath: "azure://c/p/"},
		"Azure with a SAS token escapes it and redacts it": {l: withAz("acct", "sv=2022-11-02&sig=s3cr3t+/="),
			url:      "azure://c/p/?account-name=acct&sas-token=sv%3D2022-11-02%26sig%3Ds3cr3t%2B%2F%3D",
			redacted: "azure://c/p/?account-name=acct&sas-token=REDACTED", statusPath: "azure://c/p/"},
		"local is an absolute path": {l: Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/mnt/nfs", Prefix: "backup-1"},
			url: "local:///mnt/nfs/backup-1", redacted: "local:///mnt/nfs/backup-1", statusPath: "local:///mnt/nfs/backup-1"},
		"an unknown type has no URL": {l: Location{Type: v1alpha1.BackupStorageTypeUnknown, Bucket: "x"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.l.URL(); got != tc.url {
				t.Errorf("URL = %q, want %q", got, tc.url)
			}
			if got := tc.l.Redacted(); got != tc.redacted {
				t.Errorf("Redacted = %q, want %q", got, tc.redacted)
			}
			if got := tc.l.StatusPath(); got != tc.statusPath {
				t.Errorf("StatusPath = %q, want %q", got, tc.statusPath)
			}
		})
	}
}

func TestPathStyleFollowsV16Defaults(t *testing.T) {
	cases := map[string]struct {
		provider string
		force    *bool
		want     bool
	}{
		"AWS defaults to path style":               {provider: "aws", want: true},
		"Alibaba defaults to virtual-hosted style": {provider: "alibaba", want: false},
		"Netease defaults to virtual-hosted style": {provider: "netease", want: false},
		"forcePathStyle true wins over alibaba":    {provider: "alibaba", force: ptr.To(true), want: true},
		"forcePathStyle false wins over aws":       {provider: "aws", force: ptr.To(false), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Provider: tc.provider, ForcePathStyle: tc.force}
			if got := l.UsesPathStyle(); got != tc.want {
				t.Fatalf("UsesPathStyle = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestCheckPrefixRefusesPrefixesThatReachBeyondOneBackup(t *testing.T) {
	s3 := func(prefix string) Location {
		return Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "b", Prefix: prefix}
	}
	local := func(mount, prefix string) Location {
		return Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: mount, Prefix: prefix}
	}
	cases := map[string]struct {
		l    Location
		safe bool
	}{
		"a plain prefix":                            {l: s3("backups/backup-1"), safe: true},
		"a prefix that is a sibling's beginning":    {l: s3("backup-1"), safe: true},
		"a local prefix under an absolute mount":    {l: local("/mnt/nfs", "backup-1"), safe: true},
		"an empty prefix is the whole bucket":       {l: s3("")},
		"a root prefix is the whole bucket":         {l: s3("/")},
		"slashes only are the whole bucket":         {l: s3("//")},
		"a parent segment":                          {l: s3("a/../b")},
		"a lone parent segment":                     {l: s3("..")},
		"a current-directory segment":               {l: s3("a/./b")},
		"a lone current-directory local prefix":     {l: local("/mnt/nfs", ".")},
		"an empty segment":                          {l: s3("a//b")},
		"a leading slash":                           {l: s3("/a")},
		"a trailing slash":                          {l: s3("a/")},
		"no bucket":                                 {l: Location{Type: v1alpha1.BackupStorageTypeS3, Prefix: "p"}},
		"a relative local mount path":               {l: local("mnt/nfs", "p")},
		"an empty local prefix is the whole volume": {l: local("/mnt/nfs", "")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckPrefix(tc.l)
			if tc.safe && err != nil {
				t.Fatalf("CheckPrefix refused a safe prefix: %v", err)
			}
			if !tc.safe && !errors.Is(err, ErrUnsafePrefix) {
				t.Fatalf("CheckPrefix = %v, want ErrUnsafePrefix", err)
			}
		})
	}
}

// v16StoragePath is status.backupPath as v1.6's util.GetStoragePath computes it from the spec's
// raw fields: the bucket and prefix joined, with a trailing slash for GCS and Azure.
func v16StoragePath(p v1alpha1.StorageProvider) string {
	switch {
	case p.S3 != nil:
		return "s3://" + path.Join(p.S3.Bucket, p.S3.Prefix)
	case p.Gcs != nil:
		return "gcs://" + path.Join(p.Gcs.Bucket, p.Gcs.Prefix) + "/"
	case p.Azblob != nil:
		return "azure://" + path.Join(p.Azblob.Container, p.Azblob.Prefix) + "/"
	case p.Local != nil:
		return "local://" + path.Join(p.Local.VolumeMount.MountPath, p.Local.Prefix)
	}
	return ""
}

func TestStatusPathIsV16sGetStoragePath(t *testing.T) {
	cases := map[string]v1alpha1.StorageProvider{
		"S3 has no trailing slash":                        {S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "bucket", Prefix: "backups/demo"}},
		"S3 with a trailing slash on the prefix drops it": {S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "bucket", Prefix: "backups/demo/"}},
		"S3 with a folder in the bucket field":            {S3: &v1alpha1.S3StorageProvider{Provider: "ceph", Bucket: "a/b", Prefix: "c"}},
		"S3 with a doubled slash in the prefix":           {S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "b", Prefix: "x//y"}},
		"S3 without a prefix is the bucket":               {S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "b"}},
		"GCS ends in a slash":                             {Gcs: &v1alpha1.GcsStorageProvider{Bucket: "g", Prefix: "p/q"}},
		"GCS with a leading slash on the prefix":          {Gcs: &v1alpha1.GcsStorageProvider{Bucket: "g", Prefix: "/p/q/"}},
		"GCS without a prefix is the bucket and a slash":  {Gcs: &v1alpha1.GcsStorageProvider{Bucket: "g"}},
		"Azure ends in a slash":                           {Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "p", StorageAccount: "acct", SasToken: "sig=x"}},
		"local joins the mount path and the prefix":       {Local: localProvider("/mnt/backup/", "/a//b/./c/")},
		"local without a prefix is the mount path":        {Local: localProvider("/mnt/backup", "")},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			l, err := FromProvider(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := l.StatusPath(), v16StoragePath(p); got != want {
				t.Fatalf("StatusPath = %q, v1.6 wrote %q", got, want)
			}
		})
	}
}

func TestSamePathIgnoresOneTrailingSlashAndNothingElse(t *testing.T) {
	cases := map[string]struct {
		a, b string
		same bool
	}{
		"equal paths are the same":                                     {a: "s3://b/p", b: "s3://b/p", same: true},
		"a GCS path by v1.6 and one without its slash are the same":    {a: "gcs://g/p/", b: "gcs://g/p", same: true},
		"an Azure path by v1.6 and one without its slash are the same": {a: "azure://c/p", b: "azure://c/p/", same: true},
		"an S3 path with a slash added is the same":                    {a: "s3://b/p/", b: "s3://b/p", same: true},
		"two trailing slashes are not one":                             {a: "gcs://g/p//", b: "gcs://g/p"},
		"another prefix is not the same":                               {a: "s3://b/p", b: "s3://b/q"},
		"a sibling whose name begins the same is not the same":         {a: "s3://b/backup-1", b: "s3://b/backup-10"},
		"another bucket is not the same":                               {a: "gcs://g/p/", b: "gcs://h/p/"},
		"another scheme is not the same":                               {a: "s3://b/p", b: "gcs://b/p/"},
		"case is not normalised":                                       {a: "s3://b/P", b: "s3://b/p"},
		"a doubled slash is not normalised":                            {a: "s3://b/x//y", b: "s3://b/x/y"},
		"a leading slash on the bucket is not normalised":              {a: "s3:///b/p", b: "s3://b/p"},
		"a query is not ignored":                                       {a: "s3://b/p?force-path-style=true", b: "s3://b/p"},
		"an empty path is the same as nothing":                         {a: "", b: ""},
		"an empty path is not a slash":                                 {a: "", b: "/"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := SamePath(tc.a, tc.b); got != tc.same {
				t.Fatalf("SamePath(%q, %q) = %t, want %t", tc.a, tc.b, got, tc.same)
			}
			if got := SamePath(tc.b, tc.a); got != tc.same {
				t.Fatalf("SamePath(%q, %q) = %t, want %t", tc.b, tc.a, got, tc.same)
			}
		})
	}
}

func TestSamePathMatchesWhatV16AndThisManagerRecorded(t *testing.T) {
	for name, p := range map[string]v1alpha1.StorageProvider{
		"S3":    {S3: &v1alpha1.S3StorageProvider{Provider: "aws", Bucket: "b", Prefix: "p"}},
		"GCS":   {Gcs: &v1alpha1.GcsStorageProvider{Bucket: "g", Prefix: "p"}},
		"Azure": {Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "p"}},
		"local": {Local: localProvider("/mnt", "p")},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := FromProvider(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Earlier versions of this backup-manager wrote GCS and Azure paths without the slash.
			for _, recorded := range []string{v16StoragePath(p), strings.TrimSuffix(v16StoragePath(p), "/")} {
				if !SamePath(l.StatusPath(), recorded) {
					t.Errorf("SamePath(%q, %q) = false", l.StatusPath(), recorded)
				}
			}
		})
	}
}

func TestAStorageInBROptionsIsRefused(t *testing.T) {
	s3 := v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "p"}}
	for _, tc := range []struct {
		name    string
		options []string
		refused bool
	}{
		{name: "--storage=URL sends BR elsewhere", options: []string{"--storage=s3://other/x"}, refused: true},
		{name: "--storage URL as two options too", options: []string{"--storage", "s3://other/x"}, refused: true},
		{name: "-s is --storage's shorthand", options: []string{"-s", "s3://other/x"}, refused: true},
		{name: "-s glued to its value", options: []string{"-ss3://other/x"}, refused: true},
		{name: "--full-backup-storage too", options: []string{"--full-backup-storage=s3://other/x"}, refused: true},
		{name: "other options are fine", options: []string{"--s3.endpoint=http://minio:9000", "--checksum=false", "--ratelimit=128"}},
		{name: "after -- nothing is a flag", options: []string{"--", "-s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromProvider(s3, tc.options)
			if tc.refused && (err == nil || !strings.Contains(err.Error(), "spec.br.options")) {
				t.Fatalf("err = %v, want a refusal naming spec.br.options", err)
			}
			if !tc.refused && err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}
