package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// fakeGCS is just enough of the GCS JSON API for the backend: list, media get, multipart
// upload and delete, like fake-gcs-server behind http://host/storage/v1/.
type fakeGCS struct {
	bucket string

	mu      sync.Mutex
	objects map[string][]byte
	auth    []string // the Authorization header of each request
	// fail, when set, may answer a request with an error status instead.
	fail func(r *http.Request) int
}

func newFakeGCS(t *testing.T, bucket string, keys ...string) (*fakeGCS, *httptest.Server) {
	f := &fakeGCS{bucket: bucket, objects: map[string][]byte{}}
	for _, k := range keys {
		f.objects[k] = []byte("data of " + k)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if f.fail != nil {
		if status := f.fail(r); status != 0 {
			gcsError(w, status)
			return
		}
	}
	p := r.URL.EscapedPath()
	upload := strings.HasPrefix(p, "/upload")
	rest, ok := strings.CutPrefix(strings.TrimPrefix(p, "/upload"), "/storage/v1/b/"+f.bucket+"/o")
	if !ok {
		gcsError(w, http.StatusNotFound)
		return
	}
	name, _ := url.PathUnescape(strings.TrimPrefix(rest, "/"))
	switch {
	case upload && r.Method == http.MethodPost:
		f.upload(w, r)
	case name == "" && r.Method == http.MethodGet:
		f.list(w, r.URL.Query())
	case r.Method == http.MethodGet && r.URL.Query().Get("alt") == "media":
		data, ok := f.objects[name]
		if !ok {
			gcsError(w, http.StatusNotFound)
			return
		}
		_, _ = w.Write(data)
	case r.Method == http.MethodDelete:
		if _, ok := f.objects[name]; !ok {
			gcsError(w, http.StatusNotFound)
			return
		}
		delete(f.objects, name)
		w.WriteHeader(http.StatusNoContent)
	default:
		gcsError(w, http.StatusNotImplemented)
	}
}

func (f *fakeGCS) list(w http.ResponseWriter, q url.Values) {
	limit, _ := strconv.Atoi(q.Get("maxResults"))
	var names []string
	for k := range f.objects {
		if strings.HasPrefix(k, q.Get("prefix")) && k > q.Get("pageToken") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	type item struct {
		Name string `json:"name"`
		Size string `json:"size"`
	}
	res := struct {
		Items         []item `json:"items"`
		NextPageToken string `json:"nextPageToken,omitempty"`
	}{}
	if limit > 0 && len(names) > limit {
		names, res.NextPageToken = names[:limit], names[limit-1]
	}
	for _, n := range names {
		res.Items = append(res.Items, item{Name: n, Size: strconv.Itoa(len(f.objects[n]))})
	}
	_ = json.NewEncoder(w).Encode(res)
}

func (f *fakeGCS) upload(w http.ResponseWriter, r *http.Request) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		gcsError(w, http.StatusBadRequest)
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var meta struct {
		Name string `json:"name"`
	}
	part, err := mr.NextPart()
	if err == nil {
		err = json.NewDecoder(part).Decode(&meta)
	}
	if err == nil {
		part, err = mr.NextPart()
	}
	if err != nil {
		gcsError(w, http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(part)
	f.objects[meta.Name] = data
	_ = json.NewEncoder(w).Encode(map[string]string{"name": meta.Name, "bucket": f.bucket, "size": strconv.Itoa(len(data))})
}

func gcsError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"the fake says %d","errors":[{"reason":"fake"}]}}`, status, status)
}

// openTestGCS opens the fake as fake-gcs-server is opened: an http endpoint, no credentials,
// and no SDK retries so that error tests are quick.
func openTestGCS(t *testing.T, srv *httptest.Server, prefix string) *gcsBucket {
	t.Helper()
	l := Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "bucket", Prefix: prefix, Endpoint: srv.URL + "/storage/v1/"}
	b, err := openGCS(context.Background(), l, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.bucket = b.bucket.Retryer(storage.WithPolicy(storage.RetryNever))
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestGCSListsPutsGetsAndDeletesUnderThePrefix(t *testing.T) {
	f, srv := newFakeGCS(t, "bucket", "backup-1/a", "backup-1/b/c", "backup-1/d", "backup-10/a")
	b := openTestGCS(t, srv, "backup-1")
	ctx := context.Background()

	keys, pages := listAll(t, b, 2)
	if strings.Join(keys, ",") != "a,b/c,d" || pages != 2 {
		t.Fatalf("List = %v in %d pages, want a,b/c,d in 2", keys, pages)
	}
	if err := b.Put(ctx, "backupmeta", []byte("meta")); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "backupmeta"); err != nil || string(got) != "meta" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if _, err := b.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing = %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx, []string{"a", "b/c", "d", "backupmeta", "never-there"}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.objects) != 1 || f.objects["backup-10/a"] == nil {
		t.Fatalf("objects left %v, want only backup-10/a", f.objects)
	}
	for _, a := range f.auth {
		if a != "" {
			t.Fatalf("an emulator endpoint got credentials: %q", a)
		}
	}
}

func TestGCSClassifiesErrors(t *testing.T) {
	cases := map[string]struct {
		status int
		want   error
	}{
		"401 is a credentials error":        {status: http.StatusUnauthorized, want: ErrCredentials},
		"403 is a credentials error":        {status: http.StatusForbidden, want: ErrCredentials},
		"429 is throttling":                 {status: http.StatusTooManyRequests, want: ErrThrottled},
		"503 is transient":                  {status: http.StatusServiceUnavailable, want: ErrTransient},
		"404 on a list is a missing bucket": {status: http.StatusNotFound, want: ErrBucketNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeGCS(t, "bucket")
			f.fail = func(*http.Request) int { return tc.status }
			b := openTestGCS(t, srv, "p")
			_, _, err := b.List(context.Background(), "", 10)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "gcs://bucket/p/") {
				t.Fatalf("List = %v, want %v naming the location", err, tc.want)
			}
			if errors.Is(tc.want, ErrCredentials) && !strings.Contains(err.Error(), b.CredentialSource()) {
				t.Fatalf("List = %v, want the credential source named", err)
			}
		})
	}
}

func TestGCSTakesCredentialsAndEndpointFromTheJobsEnvironment(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, []byte(`{"type":"service_account"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		endpoint   string
		env        map[string]string
		wantSource string // a part of CredentialSource
		wantErr    error
	}{
		"a JSON key in GCS_SERVICE_ACCOUNT_JSON_KEY": {
			env: map[string]string{"GCS_SERVICE_ACCOUNT_JSON_KEY": `{"type":"service_account"}`}, wantSource: "GCS_SERVICE_ACCOUNT_JSON_KEY",
		},
		"a key file named by GOOGLE_APPLICATION_CREDENTIALS": {
			env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": keyFile}, wantSource: "GOOGLE_APPLICATION_CREDENTIALS",
		},
		"STORAGE_EMULATOR_HOST without credentials": {
			env: map[string]string{"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}, wantSource: "no credentials",
		},
		"an http endpoint without credentials":         {endpoint: "http://127.0.0.1:4443/storage/v1/", wantSource: "no credentials"},
		"nothing: the application default credentials": {endpoint: "https://private.googleapis.com/storage/v1/", wantSource: "application default credentials"},
		"a JSON key that is not JSON": {
			env: map[string]string{"GCS_SERVICE_ACCOUNT_JSON_KEY": "secret-but-broken"}, wantErr: ErrCredentials,
		},
		"a key file that is missing": {
			env: map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/no/such/key.json"}, wantErr: ErrCredentials,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "b", Prefix: "p", Endpoint: tc.endpoint}
			_, src, err := gcsOptions(l, MapEnv(tc.env))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || strings.Contains(err.Error(), "secret-but-broken") {
					t.Fatalf("gcsOptions = %v, want %v without the key's content", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(src, tc.wantSource) {
				t.Fatalf("gcsOptions = %q, %v; want a source naming %q", src, err, tc.wantSource)
			}
		})
	}
	if got := emulatorEndpoint("localhost:4443"); got != "http://localhost:4443/storage/v1/" {
		t.Fatalf("emulatorEndpoint = %q", got)
	}
	if got := emulatorEndpoint("https://gcs:4443/"); got != "https://gcs:4443/storage/v1/" {
		t.Fatalf("emulatorEndpoint = %q", got)
	}
}

func TestGCSUsesTheEmulatorHostOfTheJobsEnvironment(t *testing.T) {
	f, srv := newFakeGCS(t, "bucket", "p/x")
	l := Location{Type: v1alpha1.BackupStorageTypeGcs, Bucket: "bucket", Prefix: "p"}
	env := MapEnv(map[string]string{"STORAGE_EMULATOR_HOST": strings.TrimPrefix(srv.URL, "http://")})
	b, err := openGCS(context.Background(), l, env, option.WithUserAgent("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	if got, err := b.Get(context.Background(), "x"); err != nil || string(got) != "data of p/x" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if len(f.auth) == 0 {
		t.Fatal("the emulator was not used")
	}
}
