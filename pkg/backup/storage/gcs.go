package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

const (
	// gcsMaxListPage is the most objects GCS returns per listing request.
	gcsMaxListPage = 1000
	// gcsMaxAttempts bounds the SDK's attempts per request, as the other SDKs' defaults do.
	gcsMaxAttempts = 3
)

type gcsBucket struct {
	loc     Location
	client  *storage.Client
	bucket  *storage.BucketHandle
	credSrc string
}

func openGCS(ctx context.Context, l Location, env Env, extra ...option.ClientOption) (*gcsBucket, error) {
	opts, credSrc, err := gcsOptions(l, env)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", l.Redacted(), err)
	}
	client, err := storage.NewClient(ctx, append(opts, extra...)...)
	if err != nil {
		return nil, storeError("open", l, credSrc, ErrCredentials, err)
	}
	// Every operation here may be retried: a delete of a missing object counts as done and a put
	// rewrites the whole object, so the SDK's retries are safe for deletes and writes too. The
	// SDK would retry without end; a bound lets Clean see the error and decide.
	bucket := client.Bucket(l.Bucket).Retryer(storage.WithPolicy(storage.RetryAlways), storage.WithMaxAttempts(gcsMaxAttempts))
	return &gcsBucket{loc: l, client: client, bucket: bucket, credSrc: credSrc}, nil
}

// gcsOptions chooses the endpoint and credentials from the Location and the Job's environment,
// never from the process's: the SDK would read STORAGE_EMULATOR_HOST and
// GOOGLE_APPLICATION_CREDENTIALS itself, so both are passed to it explicitly.
func gcsOptions(l Location, env Env) ([]option.ClientOption, string, error) {
	opts := []option.ClientOption{
		// A backup Job must not export telemetry to Cloud Monitoring.
		storage.WithDisabledClientMetrics(),
		// Reads on the JSON API, like everything else, so one endpoint serves them all.
		storage.WithJSONReads(),
	}
	endpoint, emulator := l.Endpoint, false
	if host := env.get("STORAGE_EMULATOR_HOST"); endpoint == "" && host != "" {
		endpoint, emulator = emulatorEndpoint(host), true
	}
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	switch {
	case env.get("GCS_SERVICE_ACCOUNT_JSON_KEY") != "":
		key := []byte(env.get("GCS_SERVICE_ACCOUNT_JSON_KEY"))
		t, err := gcsCredentialsType(key)
		if err != nil {
			return nil, "", fmt.Errorf("read GCS_SERVICE_ACCOUNT_JSON_KEY: %w: %w", ErrCredentials, err)
		}
		return append(opts, option.WithAuthCredentialsJSON(t, key)), "GCS_SERVICE_ACCOUNT_JSON_KEY from the Job's environment", nil
	case env.get("GOOGLE_APPLICATION_CREDENTIALS") != "":
		file := env.get("GOOGLE_APPLICATION_CREDENTIALS")
		src := "the file GOOGLE_APPLICATION_CREDENTIALS in the Job's environment names"
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w: %w", src, ErrCredentials, err)
		}
		t, err := gcsCredentialsType(data)
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w: %w", src, ErrCredentials, err)
		}
		return append(opts, option.WithAuthCredentialsFile(t, file)), src, nil
	case emulator || strings.HasPrefix(endpoint, "http://"):
		// An emulator (fake-gcs-server) takes no credentials; Google's endpoints are never
		// plain http, so an https endpoint without a key still gets the default credentials.
		return append(opts, option.WithoutAuthentication()), "no credentials (an emulator endpoint)", nil
	default:
		return opts, "Google's application default credentials (workload identity, metadata server): GCS_SERVICE_ACCOUNT_JSON_KEY is not set in the Job's environment", nil
	}
}

// emulatorEndpoint is the JSON API endpoint of STORAGE_EMULATOR_HOST, as the SDK derives it.
func emulatorEndpoint(host string) string {
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	return strings.TrimSuffix(host, "/") + "/storage/v1/"
}

// gcsCredentialsType reads the "type" of a JSON credential. The SDK wants it named so that it
// never loads a kind of credential by surprise; any kind BR accepts is accepted here.
func gcsCredentialsType(data []byte) (option.CredentialsType, error) {
	var f struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return "", errors.New("not a JSON credential")
	}
	if f.Type == "" {
		return "", errors.New(`the JSON credential has no "type"`)
	}
	return option.CredentialsType(f.Type), nil
}

func (b *gcsBucket) List(ctx context.Context, cursor string, pageSize int) ([]Object, string, error) {
	q := &storage.Query{Prefix: listPrefix(b.loc.Prefix)}
	if err := q.SetAttrSelection([]string{"Name", "Size"}); err != nil {
		return nil, "", fmt.Errorf("list objects in %s: %w", b.loc.Redacted(), err)
	}
	// At most one page of the API, so that one List is one request.
	pager := iterator.NewPager(b.bucket.Objects(ctx, q), min(max(pageSize, 1), gcsMaxListPage), cursor)
	var attrs []*storage.ObjectAttrs
	next, err := pager.NextPage(&attrs)
	if err != nil {
		return nil, "", b.fail("list objects in", err)
	}
	objs := make([]Object, 0, len(attrs))
	for _, a := range attrs {
		objs = append(objs, Object{Key: strings.TrimPrefix(a.Name, q.Prefix), Size: a.Size})
	}
	return objs, next, nil
}

func (b *gcsBucket) Get(ctx context.Context, key string) ([]byte, error) {
	r, err := b.bucket.Object(objectKey(b.loc.Prefix, key)).NewReader(ctx)
	if err != nil {
		return nil, b.fail("get "+key+" from", err)
	}
	defer func() { _ = r.Close() }()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, storeError("read "+key+" from", b.loc, b.credSrc, ErrTransient, err)
	}
	return data, nil
}

func (b *gcsBucket) Put(ctx context.Context, key string, data []byte) error {
	w := b.bucket.Object(objectKey(b.loc.Prefix, key)).NewWriter(ctx)
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return b.fail("put "+key+" to", err)
	}
	if err := w.Close(); err != nil {
		return b.fail("put "+key+" to", err)
	}
	return nil
}

func (b *gcsBucket) Delete(ctx context.Context, keys []string) error {
	return deleteEach(ctx, keys, func(ctx context.Context, key string) error {
		err := b.bucket.Object(objectKey(b.loc.Prefix, key)).Delete(ctx)
		if err == nil || errors.Is(err, storage.ErrObjectNotExist) {
			return nil
		}
		return b.fail("delete "+key+" from", err)
	})
}

func (b *gcsBucket) MaxDeleteBatch() int      { return 1 }
func (b *gcsBucket) CredentialSource() string { return b.credSrc }
func (b *gcsBucket) Location() Location       { return b.loc }
func (b *gcsBucket) Close() error             { return b.client.Close() }

func (b *gcsBucket) fail(op string, err error) error {
	return storeError(op, b.loc, b.credSrc, gcsErrorKind(err), err)
}

func gcsErrorKind(err error) error {
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return ErrNotFound
	case errors.Is(err, storage.ErrBucketNotExist):
		return ErrBucketNotFound
	}
	var api *googleapi.Error
	if errors.As(err, &api) {
		if api.Code == 404 {
			// The only 404 left: the SDK reports missing objects as ErrObjectNotExist.
			return ErrBucketNotFound
		}
		return httpStatusKind(api.Code, 0)
	}
	var authErr *auth.Error
	if errors.As(err, &authErr) {
		// Fetching a token failed: a revoked key, or a workload identity not bound to an account.
		return ErrCredentials
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTransient
	}
	return nil
}
