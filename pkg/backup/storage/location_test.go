package storage

import (
	"errors"
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
		"GCS ends in a slash for BR but not in the status": {l: Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "g", Prefix: "p", Endpoint: "http://x/storage/v1/"},
			url: "gcs://g/p/", redacted: "gcs://g/p/", statusPath: "gcs://g/p"},
		"Azure without account or SAS has no query": {l: az,
			url: "azure://c/p/", redacted: "azure://c/p/", statusPath: "azure://c/p"},
		"Azure with an account names it": {l: withAz("acct", ""),
			url: "azure://c/p/?account-name=acct", redacted: "azure://c/p/?account-name=acct", statusPath: "azure://c/p"},
		"Azure with a SAS token escapes it and redacts it": {l: withAz("acct", "sv=2022-11-02&sig=s3cr3t+/="),
			url:      "azure://c/p/?account-name=acct&sas-token=sv%3D2022-11-02%26sig%3Ds3cr3t%2B%2F%3D",
			redacted: "azure://c/p/?account-name=acct&sas-token=REDACTED", statusPath: "azure://c/p"},
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
