package main

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

func ptr[T any](v T) *T { return &v }

// The double reads BR's URLs itself; these cases pin that reading to BR's rules and check
// that the backup-manager's spelling (storage.Location.URL) of the same location reads back
// as the same location.
func TestParseStorage(t *testing.T) {
	cases := map[string]struct {
		url  string
		opts storageOptions
		want storage.Location
		env  map[string]string // credentials the URL carries, offered to storage.Open
		// fromQuery: the location came from the query, which URL() does not write back.
		fromQuery bool
	}{
		"an S3 URL as v1.6 spells it, provider flags beside it": {
			url:  "s3://bucket/some/prefix",
			opts: storageOptions{s3Region: "us-west-2", s3Provider: "aws", s3Endpoint: "http://127.0.0.1:7070/", s3StorageClass: "STANDARD_IA", s3ACL: "private", s3SSE: "aws:kms"},
			want: storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "some/prefix", Region: "us-west-2",
				Provider: "aws", Endpoint: "http://127.0.0.1:7070", StorageClass: "STANDARD_IA", ACL: "private", SSE: "aws:kms"},
		},
		"force-path-style is kept only when written": {
			url:  "s3://bucket/p?force-path-style=false",
			want: storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p", ForcePathStyle: ptr(false)},
		},
		"query parameters override the flags, with _ spelled as -": {
			url:       "s3://bucket/p?endpoint=http://a:1&REGION=eu-1&access_key=AK&secret-access-key=SK",
			opts:      storageOptions{s3Endpoint: "http://b:2", s3Region: "us-1"},
			want:      storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p", Endpoint: "http://a:1", Region: "eu-1"},
			env:       map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"},
			fromQuery: true,
		},
		"a GCS URL with its trailing slash": {
			url:  "gcs://bkt/backups/one/",
			opts: storageOptions{gcsEndpoint: "http://127.0.0.1:4443", gcsStorageClass: "COLDLINE", gcsPredefinedACL: "private"},
			want: storage.Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "bkt", Prefix: "backups/one",
				Endpoint: "http://127.0.0.1:4443", StorageClass: "COLDLINE", ObjectACL: "private"},
		},
		"an Azure URL with account and SAS token in the query": {
			url:  "azure://container/pre/fix/?account-name=acct&sas-token=sv%3D2020%26sig%3Dabc",
			opts: storageOptions{azAccessTier: "Cool", azEndpoint: "http://127.0.0.1:10000/acct"},
			want: storage.Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "container", Prefix: "pre/fix",
				Account: "acct", SASToken: "sv=2020&sig=abc", AccessTier: "Cool", Endpoint: "http://127.0.0.1:10000/acct"},
		},
		"an account key flag is a credential, not a location field": {
			url:  "azblob://container/p",
			opts: storageOptions{azAccountName: "acct", azAccountKey: "KEY"},
			want: storage.Location{Type: v1alpha1.BackupStorageTypeAzblob, Bucket: "container", Prefix: "p", Account: "acct"},
			env:  map[string]string{"AZURE_STORAGE_KEY": "KEY"},
		},
		"a local URL: the last folder is the prefix": {
			url:  "local:///mnt/backup/ns/name",
			want: storage.Location{Type: v1alpha1.BackupStorageTypeLocal, Bucket: "/mnt/backup/ns", Prefix: "name"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseStorage(tc.url, tc.opts)
			if err != nil {
				t.Fatalf("parseStorage(%q): %v", tc.url, err)
			}
			if !reflect.DeepEqual(got.loc, tc.want) {
				t.Errorf("location\n got %#v\nwant %#v", got.loc, tc.want)
			}
			if tc.env == nil {
				tc.env = map[string]string{}
			}
			if !reflect.DeepEqual(got.env, tc.env) {
				t.Errorf("credentials from the URL: got %v, want %v", got.env, tc.env)
			}
			if tc.fromQuery {
				return
			}
			// The manager's spelling of this location must read back as the same location.
			back, err := parseStorage(got.loc.URL(), tc.opts)
			if err != nil {
				t.Fatalf("parseStorage(URL() = %q): %v", got.loc.URL(), err)
			}
			if !reflect.DeepEqual(back.loc, got.loc) {
				t.Errorf("Location.URL() %q reads back as\n %#v\nnot %#v", got.loc.URL(), back.loc, got.loc)
			}
		})
	}
}

func TestParseStorageRefusesWhatBRRefuses(t *testing.T) {
	cases := map[string]struct{ url, want string }{
		"no storage":               {"", "empty store is not allowed"},
		"an S3 URL with no bucket": {"s3:///prefix", "please specify the bucket for s3"},
		"a GCS URL with no bucket": {"gcs:///prefix", "please specify the bucket for gcs"},
		"an unknown scheme":        {"ftp://host/p", "storage ftp not support yet"},
		"a relative local path":    {"local://relative/path", "must be absolute"},
		"the root directory":       {"local:///", "root directory"},
		"only half an S3 key pair": {"s3://b/p?access-key=AK", "access_key and secret_access_key"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseStorage(tc.url, storageOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseStorage(%q) = %v, want an error containing %q", tc.url, err, tc.want)
			}
		})
	}
}

// What base64ify prints must decode, in tikv-ctl, to the same storage.
func TestBackendRoundTrip(t *testing.T) {
	urls := []struct {
		url  string
		opts storageOptions
	}{
		{"local:///mnt/backup/p", storageOptions{}},
		{"s3://bucket/a/b?force-path-style=false&access-key=AK&secret-access-key=SK", storageOptions{s3Region: "r", s3Endpoint: "http://e:1", s3Provider: "ceph", s3SSEKMSKeyID: "kms"}},
		{"gcs://bucket/a/", storageOptions{gcsEndpoint: "http://g:2", gcsStorageClass: "STANDARD"}},
		{"azure://c/a/?account-name=acct&sas-token=tok", storageOptions{azEndpoint: "http://z:3", azAccessTier: "Hot", azEncryptionScope: "scope"}},
	}
	for _, u := range urls {
		st, err := parseStorage(u.url, u.opts)
		if err != nil {
			t.Fatalf("parseStorage(%q): %v", u.url, err)
		}
		b64 := base64.StdEncoding.EncodeToString(st.backend.encode())
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		be, err := decodeBackend(raw)
		if err != nil {
			t.Fatalf("decode %q's backend: %v", u.url, err)
		}
		if !reflect.DeepEqual(be, st.backend) {
			t.Errorf("%s: backend round trip\n got %+v\nwant %+v", u.url, be, st.backend)
		}
		back, err := storageFromBackend(be)
		if err != nil {
			t.Fatalf("%s: storageFromBackend: %v", u.url, err)
		}
		want := st.loc
		if want.Type == v1alpha1.BackupStorageTypeS3 {
			want.ForcePathStyle = ptr(st.loc.UsesPathStyle()) // the protobuf field is a plain bool
		}
		if !reflect.DeepEqual(back.loc, want) {
			t.Errorf("%s: tikv-ctl reads\n %#v\nnot %#v", u.url, back.loc, want)
		}
		if !reflect.DeepEqual(back.env, st.env) {
			t.Errorf("%s: credentials carried: got %v, want %v", u.url, back.env, st.env)
		}
	}
	if _, err := decodeBackend([]byte{0xff}); err == nil {
		t.Error("decodeBackend accepted garbage")
	}
}

func TestRedactArgs(t *testing.T) {
	s3 := base64.StdEncoding.EncodeToString(backend{s3: &s3Backend{bucket: "b", accessKey: "AK", secretAccessKey: "SK"}}.encode())
	args := []string{
		"backup", "full", "--storage=azure://c/p/?account-name=acct&sas-token=sv%3D1%26sig%3Dsecret",
		"--azblob.account-key=KEY", "--azblob.sas-token", "TOKEN", "-s", "s3://b/p?access-key=AK&secret-access-key=SK",
		"--storage-base64", s3, "--pd=pd:2379",
	}
	got := strings.Join(redactArgs(args, true), " ")
	for _, secret := range []string{"sig%3Dsecret", "sig=secret", "KEY", "TOKEN", "=AK", "=SK", s3} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted args still contain %q: %s", secret, got)
		}
	}
	for _, kept := range []string{"account-name=acct", "--pd=pd:2379", "s3://b/p?", "--azblob.sas-token REDACTED"} {
		if !strings.Contains(got, kept) {
			t.Errorf("redacted args lost %q: %s", kept, got)
		}
	}
	// BR's -s is a URL or a path, which can look like base64: it stays as it is.
	if got := redactArgs([]string{"backup", "full", "-s", "/data/abcd"}, false); got[3] != "/data/abcd" {
		t.Errorf("a BR storage path was redacted: %v", got)
	}
}

func TestParseTSString(t *testing.T) {
	when := time.Date(2026, 5, 11, 1, 42, 23, 0, time.FixedZone("", 8*3600))
	cases := map[string]struct {
		in          string
		requireZone bool
		want        uint64
		err         string
	}{
		"a TSO":                            {in: "400036290571534337", want: 400036290571534337},
		"empty is unset":                   {in: "", want: 0},
		"a datetime with a zone":           {in: "2026-05-11 01:42:23+0800", requireZone: true, want: brdouble.TSO(when)},
		"a datetime without a zone, local": {in: when.In(time.Local).Format("2006-01-02 15:04:05"), want: brdouble.TSO(when)},
		"log flags need the zone":          {in: "2026-05-11 01:42:23", requireZone: true, err: "must set timezone"},
		"garbage":                          {in: "yesterday", err: "invalid timestamp"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseTSString(tc.in, tc.requireZone)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseTSString(%q) = %d, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseTSString(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

// BR's text encoder quotes only what needs quoting; v1.6's progress regexp relies on the
// quotes around a step name with a space.
func TestQuoteIfNeeded(t *testing.T) {
	for in, want := range map[string]string{
		"Full Backup": `"Full Backup"`,
		"Checksum":    "Checksum",
		"33.33%":      "33.33%",
		`a"b`:         `"a\"b"`,
		"x=y":         `"x=y"`,
		"line\nbreak": `"line\nbreak"`,
	} {
		if got := quoteIfNeeded(in); got != want {
			t.Errorf("quoteIfNeeded(%q) = %s, want %s", in, got, want)
		}
	}
	for n, want := range map[float64]string{0: "0B", 999: "999B", 24580: "24.58kB", 1.5e9: "1.5GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%v) = %s, want %s", n, got, want)
		}
	}
}
