package storage

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// fakeAzure is just enough of the Blob service for the backend, with the account in the path
// as Azurite serves it: http://host/devstoreaccount1/<container>/<blob>.
type fakeAzure struct {
	account, container string

	mu       sync.Mutex
	blobs    map[string][]byte
	requests []*http.Request
	// fail, when set, may answer a request with an error status and code instead.
	fail func(r *http.Request) (int, string)
}

func newFakeAzure(t *testing.T, keys ...string) (*fakeAzure, *httptest.Server) {
	f := &fakeAzure{account: "devstoreaccount1", container: "box", blobs: map[string][]byte{}}
	for _, k := range keys {
		f.blobs[k] = []byte("data of " + k)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAzure) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if f.fail != nil {
		if status, code := f.fail(r); status != 0 {
			azError(w, status, code)
			return
		}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+f.account+"/"+f.container)
	if !ok {
		azError(w, http.StatusNotFound, "ContainerNotFound")
		return
	}
	name := strings.TrimPrefix(rest, "/")
	q := r.URL.Query()
	switch {
	case name == "" && q.Get("comp") == "list":
		f.list(w, q)
	case r.Method == http.MethodGet:
		data, ok := f.blobs[name]
		if !ok {
			azError(w, http.StatusNotFound, "BlobNotFound")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	case r.Method == http.MethodPut:
		data, _ := io.ReadAll(r.Body)
		f.blobs[name] = data
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodDelete:
		if _, ok := f.blobs[name]; !ok {
			azError(w, http.StatusNotFound, "BlobNotFound")
			return
		}
		delete(f.blobs, name)
		w.WriteHeader(http.StatusAccepted)
	default:
		azError(w, http.StatusNotImplemented, "NotImplemented")
	}
}

func (f *fakeAzure) list(w http.ResponseWriter, q url.Values) {
	limit, _ := strconv.Atoi(q.Get("maxresults"))
	var names []string
	for k := range f.blobs {
		if strings.HasPrefix(k, q.Get("prefix")) && k > q.Get("marker") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	type props struct {
		ContentLength int64 `xml:"Content-Length"`
	}
	type blobItem struct {
		Name       string
		Properties props
	}
	res := struct {
		XMLName    xml.Name   `xml:"EnumerationResults"`
		Blobs      []blobItem `xml:"Blobs>Blob"`
		NextMarker string
	}{}
	if limit > 0 && len(names) > limit {
		names, res.NextMarker = names[:limit], names[limit-1]
	}
	for _, n := range names {
		res.Blobs = append(res.Blobs, blobItem{Name: n, Properties: props{ContentLength: int64(len(f.blobs[n]))}})
	}
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(res)
}

func azError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>"+code+
		"</Code><Message>The fake says "+code+".\nRequestId:42\nTime:now</Message></Error>")
}

// azuriteKey is Azurite's well-known account key.
const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

var testAzureEnv = MapEnv(map[string]string{"AZURE_STORAGE_ACCOUNT": "devstoreaccount1", "AZURE_STORAGE_KEY": azuriteKey})

func openTestAzure(t *testing.T, srv *httptest.Server, l Location, env Env) *azBucket {
	t.Helper()
	l.Type, l.Bucket, l.Endpoint = v1alpha1.BackupStorageTypeAzblob, "box", srv.URL+"/devstoreaccount1"
	b, err := openAzblob(l, env, &container.ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAzureWithTheAccountKeyOnAzuritesURLs(t *testing.T) {
	f, srv := newFakeAzure(t, "backup-1/a", "backup-1/b/c", "backup-1/d", "backup-10/a")
	b := openTestAzure(t, srv, Location{Prefix: "backup-1"}, testAzureEnv)
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
	if len(f.blobs) != 1 || f.blobs["backup-10/a"] == nil {
		t.Fatalf("blobs left %v, want only backup-10/a", f.blobs)
	}
	for _, r := range f.requests {
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "SharedKey devstoreaccount1:") {
			t.Fatalf("Authorization %q, want a shared key signature", auth)
		}
		if r.Method == http.MethodDelete && r.Header.Get("x-ms-delete-snapshots") != "include" {
			t.Fatal("a delete that leaves the blob's snapshots, which Azure refuses")
		}
	}
}

func TestAzureWithASASTokenNeverShowsIt(t *testing.T) {
	const sas = "sv=2022-11-02&ss=b&srt=co&sp=rwdl&se=2099-01-01T00:00:00Z&sig=TopSecret%2Bsig%3D"
	f, srv := newFakeAzure(t, "p/x")
	b := openTestAzure(t, srv, Location{Prefix: "p", SASToken: "?" + sas}, nil)
	if b.CredentialSource() != "the spec's SAS token (spec.azblob.sasToken)" {
		t.Fatalf("CredentialSource = %q", b.CredentialSource())
	}
	if _, err := b.Get(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	r := f.requests[0]
	f.mu.Unlock()
	if r.URL.Query().Get("sig") != "TopSecret+sig=" || r.Header.Get("Authorization") != "" {
		t.Fatalf("request %s did not carry the SAS token", r.URL)
	}

	f.fail = func(*http.Request) (int, string) { return http.StatusForbidden, "AuthenticationFailed" }
	_, err := b.Get(context.Background(), "x")
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "the spec's SAS token") ||
		!strings.Contains(err.Error(), "403 AuthenticationFailed: The fake says AuthenticationFailed.") {
		t.Fatalf("Get = %v, want a short credentials error naming the SAS token", err)
	}
	srv.Close()
	_, err = b.Get(context.Background(), "x")
	if !errors.Is(err, ErrTransient) {
		t.Fatalf("Get from a closed server = %v, want ErrTransient", err)
	}
	if strings.Contains(err.Error(), "TopSecret") || !strings.Contains(err.Error(), "sig=REDACTED") {
		t.Fatalf("error %q shows the SAS signature", err)
	}
}

func TestAzureClassifiesErrors(t *testing.T) {
	cases := map[string]struct {
		status int
		code   string
		want   error
	}{
		"a wrong key":                  {status: http.StatusForbidden, code: "AuthenticationFailed", want: ErrCredentials},
		"a key without the permission": {status: http.StatusForbidden, code: "AuthorizationPermissionMismatch", want: ErrCredentials},
		"a busy server is throttling":  {status: http.StatusServiceUnavailable, code: "ServerBusy", want: ErrThrottled},
		"a timeout is transient":       {status: http.StatusInternalServerError, code: "OperationTimedOut", want: ErrTransient},
		"a missing container":          {status: http.StatusNotFound, code: "ContainerNotFound", want: ErrBucketNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, srv := newFakeAzure(t, "p/x")
			f.fail = func(*http.Request) (int, string) { return tc.status, tc.code }
			b := openTestAzure(t, srv, Location{Prefix: "p"}, testAzureEnv)
			_, _, err := b.List(context.Background(), "", 10)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "azure://box/p/") {
				t.Fatalf("List = %v, want %v naming the location", err, tc.want)
			}
			if errors.Is(tc.want, ErrCredentials) && (!strings.Contains(err.Error(), "AZURE_STORAGE_KEY") || strings.Contains(err.Error(), azuriteKey)) {
				t.Fatalf("List = %v, want the key's variable named and its value not", err)
			}
		})
	}
}

func TestAzureChoosesTheFirstCredentialFound(t *testing.T) {
	aad := map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_CLIENT_ID": "id", "AZURE_CLIENT_SECRET": "s", "AZURE_TENANT_ID": "t"}
	cases := map[string]struct {
		l          Location
		env        map[string]string
		wantSource string
		wantErr    string
	}{
		"the SAS token wins over the environment": {l: Location{SASToken: "sig=x"}, env: map[string]string{"AZURE_STORAGE_KEY": azuriteKey, "AZURE_STORAGE_ACCOUNT": "acct"}, wantSource: "SAS token"},
		"the account key":                         {env: map[string]string{"AZURE_STORAGE_KEY": azuriteKey, "AZURE_STORAGE_ACCOUNT": "acct"}, wantSource: "AZURE_STORAGE_KEY"},
		"an AAD application":                      {env: aad, wantSource: "AZURE_CLIENT_SECRET"},
		"the spec's account serves the key":       {l: Location{Account: "acct"}, env: map[string]string{"AZURE_STORAGE_KEY": azuriteKey}, wantSource: "AZURE_STORAGE_KEY"},
		"no credential at all":                    {env: map[string]string{"AZURE_STORAGE_ACCOUNT": "acct"}, wantErr: "set spec.azblob.sasToken"},
		"no account and no endpoint":              {env: map[string]string{"AZURE_STORAGE_KEY": azuriteKey}, wantErr: "no storage account"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := tc.l
			l.Type, l.Bucket, l.Prefix = v1alpha1.BackupStorageTypeAzblob, "box", "p"
			b, err := openAzblob(l, MapEnv(tc.env), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("openAzblob = %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(b.CredentialSource(), tc.wantSource) {
				t.Fatalf("openAzblob = %v; source %q, want one naming %q", err, b.CredentialSource(), tc.wantSource)
			}
			if !strings.HasPrefix(b.container.URL(), "https://acct.blob.core.windows.net/box") {
				t.Fatalf("container URL %q, want the account's default endpoint", b.container.URL())
			}
		})
	}
}
