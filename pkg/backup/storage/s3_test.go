package storage

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// fakeS3 is just enough of S3's REST API, path style, for the calls the backend makes:
// ListObjectsV2, GetObject, PutObject, DeleteObject and DeleteObjects.
type fakeS3 struct {
	bucket string

	mu       sync.Mutex
	objects  map[string][]byte
	requests []*http.Request
	// fail, when set, may answer a request with an error status and code instead.
	fail func(r *http.Request) (status int, code string)
	// keyError, when set, may fail one key of a DeleteObjects.
	keyError func(key string) (code string)
}

func newFakeS3(t *testing.T, bucket string, keys ...string) (*fakeS3, *httptest.Server) {
	f := &fakeS3{bucket: bucket, objects: map[string][]byte{}}
	for _, k := range keys {
		f.objects[k] = []byte("data of " + k)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if f.fail != nil {
		if status, code := f.fail(r); status != 0 {
			s3Error(w, status, code)
			return
		}
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != f.bucket {
		s3Error(w, http.StatusNotFound, "NoSuchBucket")
		return
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && key == "" && q.Get("list-type") == "2":
		f.list(w, q)
	case r.Method == http.MethodPost && q.Has("delete"):
		f.deleteObjects(w, r)
	case r.Method == http.MethodGet:
		data, ok := f.objects[key]
		if !ok {
			s3Error(w, http.StatusNotFound, "NoSuchKey")
			return
		}
		_, _ = w.Write(data)
	case r.Method == http.MethodPut:
		data, _ := io.ReadAll(r.Body)
		f.objects[key] = data
	case r.Method == http.MethodDelete:
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusNotImplemented, "NotImplemented")
	}
}

type s3Contents struct {
	Key  string
	Size int
}

func (f *fakeS3) list(w http.ResponseWriter, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	prefix, after := get("prefix"), get("continuation-token")
	limit, _ := strconv.Atoi(get("max-keys"))
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		Name                  string
		Prefix                string
		IsTruncated           bool
		NextContinuationToken string `xml:",omitempty"`
		Contents              []s3Contents
	}{Name: f.bucket, Prefix: prefix}
	if len(keys) > limit {
		keys, res.IsTruncated, res.NextContinuationToken = keys[:limit], true, keys[limit-1]
	}
	for _, k := range keys {
		res.Contents = append(res.Contents, s3Contents{Key: k, Size: len(f.objects[k])})
	}
	writeXML(w, http.StatusOK, res)
}

func (f *fakeS3) deleteObjects(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Objects []struct{ Key string } `xml:"Object"`
		Quiet   bool
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil || !req.Quiet || len(req.Objects) > 1000 {
		s3Error(w, http.StatusBadRequest, "MalformedXML")
		return
	}
	type keyErr struct{ Key, Code, Message string }
	res := struct {
		XMLName xml.Name `xml:"DeleteResult"`
		Errors  []keyErr `xml:"Error"`
	}{}
	for _, o := range req.Objects {
		if f.keyError != nil {
			if code := f.keyError(o.Key); code != "" {
				res.Errors = append(res.Errors, keyErr{Key: o.Key, Code: code, Message: "refused"})
				continue
			}
		}
		delete(f.objects, o.Key)
	}
	writeXML(w, http.StatusOK, res)
}

func (f *fakeS3) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// count counts the requests whose method is method and whose query has param.
func (f *fakeS3) count(method, param string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Method == method && (param == "" || r.URL.Query().Has(param)) {
			n++
		}
	}
	return n
}

func s3Error(w http.ResponseWriter, status int, code string) {
	writeXML(w, status, struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: "the fake says " + code})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(v)
}

const testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

var testS3Env = MapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": testSecret})

// openTestS3 opens the fake with one attempt per request, so error tests do not wait for the
// SDK's retries.
func openTestS3(t *testing.T, srv *httptest.Server, prefix string, env Env) *s3Bucket {
	t.Helper()
	l := Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: prefix, Provider: "minio", Endpoint: srv.URL}
	b, err := openS3(context.Background(), l, env, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3ListPagesThroughThePrefixFolderOnly(t *testing.T) {
	var keys []string
	for i := range 5 {
		keys = append(keys, fmt.Sprintf("backup-1/%d.sst", i))
	}
	_, srv := newFakeS3(t, "bucket", append(keys, "backup-10/0.sst", "backup-1.log")...)
	b := openTestS3(t, srv, "backup-1", testS3Env)

	got, pages := listAll(t, b, 2)
	if want := []string{"0.sst", "1.sst", "2.sst", "3.sst", "4.sst"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("keys %v, want %v", got, want)
	}
	if pages != 3 {
		t.Fatalf("%d pages, want 3", pages)
	}
	objs, _, err := b.List(context.Background(), "", 1)
	if err != nil || len(objs) != 1 || objs[0].Size != int64(len("data of backup-1/0.sst")) {
		t.Fatalf("List = %+v, %v", objs, err)
	}
}

func TestS3SignsWithTheEnvironmentsKeysAndRegion(t *testing.T) {
	f, srv := newFakeS3(t, "bucket", "p/backupmeta")
	cases := map[string]struct {
		env        Env
		region     string
		wantScope  string
		wantToken  string
		wantSource string
	}{
		"static keys and the default region": {env: testS3Env, wantScope: "AKIDTEST/", wantSource: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from"},
		"AWS_REGION from the environment": {
			env:       MapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_REGION": "eu-west-1"}),
			wantScope: "/eu-west-1/s3/", wantSource: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from",
		},
		"the spec's region wins over the environment's": {
			env:    MapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_REGION": "eu-west-1"}),
			region: "ap-south-1", wantScope: "/ap-south-1/s3/", wantSource: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from",
		},
		"a session token travels with the keys": {
			env:       MapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_SESSION_TOKEN": "tok"}),
			wantScope: "/us-east-1/s3/", wantToken: "tok", wantSource: "AWS_SESSION_TOKEN",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p", Endpoint: srv.URL, Region: tc.region}
			b, err := openS3(context.Background(), l, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Get(context.Background(), "backupmeta"); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			r := f.requests[len(f.requests)-1]
			f.mu.Unlock()
			if r.URL.Path != "/bucket/p/backupmeta" {
				t.Errorf("path %q, want path style /bucket/p/backupmeta", r.URL.Path)
			}
			if auth := r.Header.Get("Authorization"); !strings.Contains(auth, tc.wantScope) {
				t.Errorf("Authorization %q lacks %q", auth, tc.wantScope)
			}
			if got := r.Header.Get("X-Amz-Security-Token"); got != tc.wantToken {
				t.Errorf("session token %q, want %q", got, tc.wantToken)
			}
			if !strings.Contains(b.CredentialSource(), tc.wantSource) {
				t.Errorf("CredentialSource %q lacks %q", b.CredentialSource(), tc.wantSource)
			}
		})
	}
}

func TestS3PutGetAndMissingObjects(t *testing.T) {
	_, srv := newFakeS3(t, "bucket")
	b := openTestS3(t, srv, "backup-1", testS3Env)
	ctx := context.Background()
	if err := b.Put(ctx, "backupmeta", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "backupmeta"); err != nil || string(got) != "meta" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	_, err := b.Get(ctx, "missing")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "s3://bucket/backup-1") {
		t.Fatalf("Get missing = %v, want ErrNotFound naming the location", err)
	}
	other := openTestS3(t, srv, "backup-1", testS3Env)
	other.loc.Bucket = "no-such-bucket"
	if _, _, err := other.List(ctx, "", 10); !errors.Is(err, ErrBucketNotFound) || !strings.Contains(err.Error(), `"no-such-bucket" does not exist`) {
		t.Fatalf("List of a missing bucket = %v, want ErrBucketNotFound", err)
	}
}

func TestS3RefusedCredentialsNameTheirSourceButNotTheSecret(t *testing.T) {
	for _, code := range []string{"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"} {
		t.Run(code, func(t *testing.T) {
			f, srv := newFakeS3(t, "bucket", "p/x")
			f.fail = func(*http.Request) (int, string) { return http.StatusForbidden, code }
			b := openTestS3(t, srv, "p", testS3Env)
			_, _, err := b.List(context.Background(), "", 10)
			if !errors.Is(err, ErrCredentials) {
				t.Fatalf("List = %v, want ErrCredentials", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "AWS_ACCESS_KEY_ID") || !strings.Contains(msg, code) || !strings.Contains(msg, "s3://p") && !strings.Contains(msg, "s3://bucket/p") {
				t.Fatalf("message %q should name the variables, the code and the location", msg)
			}
			if strings.Contains(msg, testSecret) {
				t.Fatalf("message %q shows the secret", msg)
			}
		})
	}
}

func TestS3ClassifiesThrottlingAndServerErrors(t *testing.T) {
	cases := map[string]struct {
		status int
		code   string
		want   error
	}{
		"SlowDown is throttling":     {status: http.StatusServiceUnavailable, code: "SlowDown", want: ErrThrottled},
		"a bare 503 is throttling":   {status: http.StatusServiceUnavailable, code: "Unknown", want: ErrThrottled},
		"InternalError is transient": {status: http.StatusInternalServerError, code: "InternalError", want: ErrTransient},
		"a 502 is transient":         {status: http.StatusBadGateway, code: "BadGateway", want: ErrTransient},
		"a bad request is neither":   {status: http.StatusBadRequest, code: "InvalidArgument", want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeS3(t, "bucket", "p/x", "p/y")
			f.fail = func(*http.Request) (int, string) { return tc.status, tc.code }
			b := openTestS3(t, srv, "p", testS3Env)
			err := b.Delete(context.Background(), []string{"x", "y"})
			if err == nil {
				t.Fatal("Delete succeeded")
			}
			for _, kind := range []error{ErrThrottled, ErrTransient, ErrCredentials} {
				if errors.Is(err, kind) != errors.Is(kind, tc.want) {
					t.Fatalf("Delete = %v: errors.Is(%v) = %t", err, kind, errors.Is(err, kind))
				}
			}
		})
	}
}

func TestS3UnreachableIsTransient(t *testing.T) {
	_, srv := newFakeS3(t, "bucket")
	b := openTestS3(t, srv, "p", testS3Env)
	srv.Close()
	if _, err := b.Get(context.Background(), "x"); !errors.Is(err, ErrTransient) {
		t.Fatalf("Get from a closed server = %v, want ErrTransient", err)
	}
}

func TestS3DeleteBatchesAndReportsKeysLeft(t *testing.T) {
	var keys, rel []string
	for i := range 1500 {
		keys = append(keys, fmt.Sprintf("p/%04d", i))
		rel = append(rel, fmt.Sprintf("%04d", i))
	}
	f, srv := newFakeS3(t, "bucket", append(keys, "p-other/x")...)
	b := openTestS3(t, srv, "p", testS3Env)
	ctx := context.Background()

	if err := b.Delete(ctx, rel[:1]); err != nil {
		t.Fatal(err)
	}
	if n := f.count(http.MethodDelete, ""); n != 1 {
		t.Fatalf("%d DeleteObject requests for one key, want 1", n)
	}
	if err := b.Delete(ctx, rel[1:]); err != nil {
		t.Fatal(err)
	}
	if n := f.count(http.MethodPost, "delete"); n != 2 {
		t.Fatalf("%d DeleteObjects requests for 1499 keys, want 2", n)
	}
	if left := f.keys(); len(left) != 1 || left[0] != "p-other/x" {
		t.Fatalf("left %v, want only p-other/x", left)
	}

	f, srv = newFakeS3(t, "bucket", "p/a", "p/b", "p/c")
	f.keyError = func(key string) string {
		switch key {
		case "p/b":
			return "AccessDenied"
		case "p/c":
			return "NoSuchKey" // already gone: not a failure
		}
		return ""
	}
	b = openTestS3(t, srv, "p", testS3Env)
	err := b.Delete(ctx, []string{"a", "b", "c"})
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "1 key not deleted") || !strings.Contains(err.Error(), "p/b: AccessDenied") {
		t.Fatalf("Delete = %v, want the refused key reported as a credentials error", err)
	}

	f, srv = newFakeS3(t, "bucket", "p/a", "p/b", "p/c")
	f.keyError = func(key string) string {
		if key == "p/c" {
			return "AccessDenied"
		}
		return "InternalError"
	}
	b = openTestS3(t, srv, "p", testS3Env)
	err = b.Delete(ctx, []string{"a", "b", "c"})
	if !errors.Is(err, ErrCredentials) || errors.Is(err, ErrTransient) || !strings.Contains(err.Error(), "3 keys not deleted, among them p/c: AccessDenied") {
		t.Fatalf("Delete = %v, want the refused credentials to decide over transient errors", err)
	}
}

func TestCleanAgainstS3UsesBatchDeletes(t *testing.T) {
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("backup-1/%d/%05d.sst", i%3, i))
	}
	f, srv := newFakeS3(t, "bucket", append(keys, "backup-10/backupmeta")...)
	b := openTestS3(t, srv, "backup-1", testS3Env)
	stats, err := Clean(context.Background(), b, v1alpha1.CleanOption{}, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if left := f.keys(); len(left) != 1 || left[0] != "backup-10/backupmeta" {
		t.Fatalf("left %v, want only backup-10/backupmeta", left)
	}
	// 3 listings of 1000, 3 DeleteObjects, 1 verifying listing.
	if stats.Deleted != 2500 || stats.Requests != 7 || f.count(http.MethodPost, "delete") != 3 {
		t.Fatalf("stats %+v with %d DeleteObjects, want 2500 deleted in 7 requests, 3 of them DeleteObjects", stats, f.count(http.MethodPost, "delete"))
	}
}

// fakeRegionalS3 is a bucket that lives in one AWS region: a request signed for another region
// is answered 301 PermanentRedirect naming the bucket's region in x-amz-bucket-region, as S3
// does (a HEAD's answer has no body). headStatus, when set, answers every HeadBucket with that
// status and the header, as S3 does for credentials without s3:ListBucket (403).
type fakeRegionalS3 struct {
	region     string
	headStatus int
	noHeader   bool // answer without x-amz-bucket-region

	mu       sync.Mutex
	requests []string // "METHOD region"
}

func (f *fakeRegionalS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	parts := strings.Split(scope, "/") // AKID/date/region/s3/aws4_request
	signed := ""
	if len(parts) > 2 {
		signed = parts[2]
	}
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+signed)
	f.mu.Unlock()
	if !f.noHeader {
		w.Header().Set("X-Amz-Bucket-Region", f.region)
	}
	switch {
	case r.Method == http.MethodHead && f.headStatus != 0:
		w.WriteHeader(f.headStatus)
	case signed != f.region && r.Method == http.MethodHead:
		w.WriteHeader(http.StatusMovedPermanently)
	case signed != f.region:
		s3Error(w, http.StatusMovedPermanently, "PermanentRedirect")
	case r.Method == http.MethodHead:
		w.WriteHeader(http.StatusOK)
	default:
		_, _ = w.Write([]byte("meta"))
	}
}

func (f *fakeRegionalS3) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// regionTestEnv has static keys, so that the SDK never looks for an instance profile, and the
// EC2 metadata service disabled all the same.
var regionTestEnv = MapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_EC2_METADATA_DISABLED": "true"})

func TestS3FindsTheRegionOfABucketOnAWSOnly(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cases := map[string]struct {
		provider, region string
		bucketRegion     string // "" is eu-west-1
		customEndpoint   bool   // Location.Endpoint is the server (else only the client is pointed at it, as on AWS)
		headStatus       int
		noHeader         bool
		wantSent         []string
		wantErr          bool
		wantIn           string // the region the error says the bucket is in
	}{
		"a bucket on AWS without a region is found in its own region": {
			provider: "aws", wantSent: []string{"HEAD us-east-1", "GET eu-west-1", "GET eu-west-1"},
		},
		"a provider left empty is AWS": {
			wantSent: []string{"HEAD us-east-1", "GET eu-west-1", "GET eu-west-1"},
		},
		"a HeadBucket refused for lack of s3:ListBucket still names the region": {
			provider: "aws", headStatus: http.StatusForbidden, wantSent: []string{"HEAD us-east-1", "GET eu-west-1", "GET eu-west-1"},
		},
		"a bucket in the default region is asked once and stays there": {
			provider: "aws", bucketRegion: "us-east-1", wantSent: []string{"HEAD us-east-1", "GET us-east-1", "GET us-east-1"},
		},
		"a region written in the spec is never second-guessed": {
			provider: "aws", region: "us-west-2", wantSent: []string{"GET us-west-2"}, wantErr: true, wantIn: `region "eu-west-1"`,
		},
		"a custom endpoint is never asked for a region": {
			provider: "aws", customEndpoint: true, wantSent: []string{"GET us-east-1"}, wantErr: true, wantIn: `region "eu-west-1"`,
		},
		"another provider is never asked for a region": {
			provider: "ceph", wantSent: []string{"GET us-east-1"}, wantErr: true, wantIn: `region "eu-west-1"`,
		},
		"an answer without the region leaves the request where it was": {
			provider: "aws", noHeader: true, wantSent: []string{"HEAD us-east-1", "GET us-east-1"}, wantErr: true, wantIn: "another region",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeRegionalS3{region: "eu-west-1", headStatus: tc.headStatus, noHeader: tc.noHeader}
			if tc.bucketRegion != "" {
				f.region = tc.bucketRegion
			}
			srv := httptest.NewServer(f)
			defer srv.Close()
			l := Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p", Provider: tc.provider, Region: tc.region}
			if tc.customEndpoint {
				l.Endpoint = srv.URL
			}
			b, err := openS3(context.Background(), l, regionTestEnv, func(o *s3.Options) {
				o.RetryMaxAttempts = 1
				o.BaseEndpoint = &srv.URL
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.sent()) != 0 {
				t.Fatalf("Open sent %v, want no request", f.sent())
			}
			_, err = b.Get(context.Background(), "backupmeta")
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				_, err = b.Get(context.Background(), "backupmeta") // the region is found once
			}
			switch {
			case tc.wantErr && !errors.Is(err, ErrWrongRegion):
				t.Fatalf("Get = %v, want ErrWrongRegion", err)
			case tc.wantErr && (!strings.Contains(err.Error(), "set spec.s3.region to the bucket's region") || !strings.Contains(err.Error(), "is in "+tc.wantIn)):
				t.Fatalf("message %q should say the bucket is in %s and to set spec.s3.region", err, tc.wantIn)
			case !tc.wantErr && err != nil:
				t.Fatal(err)
			}
			if got := f.sent(); strings.Join(got, ",") != strings.Join(tc.wantSent, ",") {
				t.Fatalf("requests %v, want %v", got, tc.wantSent)
			}
		})
	}
}

func TestS3ClassifiesAnotherRegionsAnswers(t *testing.T) {
	cases := map[string]struct {
		status  int
		code    string
		message string
		want    error
	}{
		"PermanentRedirect is the wrong region": {status: http.StatusMovedPermanently, code: "PermanentRedirect", want: ErrWrongRegion},
		"a malformed authorization naming the region is the wrong region": {status: http.StatusBadRequest, code: "AuthorizationHeaderMalformed",
			message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'", want: ErrWrongRegion},
		"a malformed authorization for another reason is not": {status: http.StatusBadRequest, code: "AuthorizationHeaderMalformed",
			message: "The authorization header is malformed; a non-empty Access Key (AKID) must be provided in the credential.", want: nil},
		"a bare 301 is the wrong region": {status: http.StatusMovedPermanently, want: ErrWrongRegion},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.code == "" {
					w.WriteHeader(tc.status)
					return
				}
				writeXML(w, tc.status, struct {
					XMLName xml.Name `xml:"Error"`
					Code    string
					Message string
				}{Code: tc.code, Message: tc.message})
			}))
			defer srv.Close()
			b := openTestS3(t, srv, "p", testS3Env)
			_, _, err := b.List(context.Background(), "", 10)
			if err == nil {
				t.Fatal("List succeeded")
			}
			if errors.Is(err, ErrWrongRegion) != (tc.want != nil) {
				t.Fatalf("List = %v: errors.Is(ErrWrongRegion) = %t, want %t", err, errors.Is(err, ErrWrongRegion), tc.want != nil)
			}
			if tc.want != nil && !strings.Contains(err.Error(), "set spec.s3.region to the bucket's region") {
				t.Fatalf("message %q does not say what to do", err)
			}
		})
	}
}

func TestCleanStopsAtOnceOnABucketInAnotherRegion(t *testing.T) {
	f, srv := newFakeS3(t, "bucket", "p/a")
	f.fail = func(*http.Request) (int, string) { return http.StatusMovedPermanently, "PermanentRedirect" }
	b := openTestS3(t, srv, "p", testS3Env)
	stats, err := Clean(context.Background(), b, v1alpha1.CleanOption{}, logr.Discard())
	if !errors.Is(err, ErrWrongRegion) {
		t.Fatalf("Clean = %v, want ErrWrongRegion", err)
	}
	if stats.Requests != 1 || stats.Rounds != 1 {
		t.Fatalf("stats %+v, want one listing in one round", stats)
	}
}

func TestS3GoesWhereBRsOptionsSendBR(t *testing.T) {
	f, srv := newFakeS3(t, "bucket", "p/backupmeta")
	spec := v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Provider: "ceph", Region: "us-west-2", Bucket: "bucket", Prefix: "p",
		Endpoint: "http://127.0.0.1:1"}} // nothing listens there
	l, err := FromProvider(spec, []string{"--s3.endpoint=" + srv.URL, "--s3.region", "eu-central-1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), l, testS3Env)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(context.Background(), "backupmeta"); err != nil || string(got) != "data of p/backupmeta" {
		t.Fatalf("Get = %q, %v; want the object at BR's endpoint", got, err)
	}
	f.mu.Lock()
	auth := f.requests[len(f.requests)-1].Header.Get("Authorization")
	f.mu.Unlock()
	if !strings.Contains(auth, "/eu-central-1/s3/") {
		t.Fatalf("Authorization %q is not signed for BR's region eu-central-1", auth)
	}
}

func TestS3RegionIsFoundOnceUnderConcurrentRequests(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := &fakeRegionalS3{region: "eu-west-1"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	l := Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: "p", Provider: "aws"}
	b, err := openS3(context.Background(), l, regionTestEnv, func(o *s3.Options) { o.RetryMaxAttempts = 1; o.BaseEndpoint = &srv.URL })
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.Get(context.Background(), "backupmeta")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	heads := 0
	for _, r := range f.sent() {
		if strings.HasPrefix(r, "HEAD ") {
			heads++
		} else if r != "GET eu-west-1" {
			t.Fatalf("request %q, want every GET in eu-west-1", r)
		}
	}
	if heads != 1 {
		t.Fatalf("%d HeadBucket requests, want 1", heads)
	}
}
