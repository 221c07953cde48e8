package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// Env looks up the Job's environment: os.LookupEnv in production, a map in tests. Backends read
// credentials only through it, so a test decides exactly what a backend sees. A nil Env is an
// empty environment.
type Env func(key string) (string, bool)

// MapEnv is an Env holding exactly the given variables.
func MapEnv(vars map[string]string) Env {
	return func(key string) (string, bool) {
		v, ok := vars[key]
		return v, ok
	}
}

// get returns the variable's value, "" when it is unset or the Env is nil.
func (e Env) get(key string) string {
	if e == nil {
		return ""
	}
	v, _ := e(key)
	return v
}

// Object is one object under a Location's prefix.
type Object struct {
	// Key is relative to the prefix, with no leading "/".
	Key  string
	Size int64
}

// Bucket is a Location opened with credentials. Every key is relative to the prefix, and the
// prefix is always treated as a folder (listing uses prefix+"/"), so backup-1 never sees
// backup-10. Methods are safe for concurrent use.
//
// Errors wrap ErrNotFound, ErrBucketNotFound and ErrCredentials where they apply, and ErrThrottled
// or ErrTransient when trying again later may succeed: Clean relies on that classification to
// decide what to retry.
type Bucket interface {
	// List returns up to pageSize objects in key order after cursor ("" for the start) and the
	// cursor of the next page, "" at the end. One call makes one request to the store, so a store
	// may return fewer objects than asked for (S3 and GCS return at most 1000).
	List(ctx context.Context, cursor string, pageSize int) (objs []Object, next string, err error)
	// Get reads an object; the error wraps ErrNotFound when it does not exist.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put writes an object, replacing any that exists.
	Put(ctx context.Context, key string, data []byte) error
	// Delete deletes the objects. A key that does not exist is not an error, so a delete can be
	// retried. S3 deletes up to MaxDeleteBatch keys per request; the other stores delete one
	// object per request, concurrently.
	Delete(ctx context.Context, keys []string) error
	// MaxDeleteBatch is how many keys one delete request takes: 1000 for S3, 1 for the others.
	// Clean sizes its batches with it, so that one Delete call is one request.
	MaxDeleteBatch() int
	// CredentialSource names where the credentials come from, for example
	// "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the Job's environment": names, never values.
	CredentialSource() string
	// Location is the Location the Bucket was opened on.
	Location() Location
	Close() error
}

var (
	// ErrNotFound marks a Get of an object that does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrBucketNotFound marks a request to a bucket or container that does not exist, or a
	// local mount path that is missing.
	ErrBucketNotFound = errors.New("bucket not found")
	// ErrCredentials marks a request the store refused because of the credentials (wrong or
	// expired keys, keys without the permission) or a store opened without any. The message
	// names the credential source.
	ErrCredentials = errors.New("storage credentials refused or missing")
	// ErrThrottled marks a request the store refused because it is being sent too many
	// (S3 SlowDown or 503, GCS 429, Azure 503 ServerBusy).
	ErrThrottled = errors.New("the storage is throttling requests")
	// ErrTransient marks a failure that may not happen again: a connection reset, a timeout,
	// an internal error of the store.
	ErrTransient = errors.New("transient storage error")
	// ErrWrongRegion marks an S3 request sent to another region than the bucket's (S3 answers
	// 301 PermanentRedirect): the message names the bucket's region when S3 tells it.
	ErrWrongRegion = errors.New("the S3 bucket is in another region")
)

// Open connects to the Location's store with credentials from env. It makes no request, so it
// does not notice missing buckets or wrong credentials; the first request does. It does not call
// CheckPrefix either: a backup with an unsafe prefix may still be read, only Clean refuses it.
func Open(ctx context.Context, l Location, env Env) (Bucket, error) {
	if l.Bucket == "" {
		return nil, fmt.Errorf("open %s: no bucket or container", l.Redacted())
	}
	switch l.Type {
	case v1alpha1.BackupStorageTypeS3:
		return openS3(ctx, l, env)
	case v1alpha1.BackupStorageTypeGcs:
		return openGCS(ctx, l, env)
	case v1alpha1.BackupStorageTypeAzblob:
		return openAzblob(l, env, nil)
	case v1alpha1.BackupStorageTypeLocal:
		return openLocal(l)
	default:
		return nil, fmt.Errorf("open storage of type %q: %w", l.Type, v1alpha1.ErrNoStorageProvider)
	}
}

// storeError wraps an error of a store with what was being done, where, and for a refused
// credential where the credentials came from. kind is one of the package's sentinels, or nil
// when the error has none.
func storeError(op string, l Location, credentials string, kind, err error) error {
	switch {
	case kind == nil:
		return fmt.Errorf("%s %s: %w", op, l.Redacted(), err)
	case errors.Is(kind, ErrCredentials):
		return fmt.Errorf("%s %s: %w: check %s: %w", op, l.Redacted(), kind, credentials, err)
	case errors.Is(kind, ErrBucketNotFound):
		return fmt.Errorf("%s %s: %w: %q does not exist or is not visible with these credentials: %w", op, l.Redacted(), kind, l.Bucket, err)
	default:
		return fmt.Errorf("%s %s: %w: %w", op, l.Redacted(), kind, err)
	}
}

// objectKey is the store's name of key: the prefix as a folder, then the key.
func objectKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "/" + key
}

// listPrefix is what a listing asks for so that the prefix is a folder: "backup-1/" never
// matches "backup-10/...".
func listPrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	return prefix + "/"
}

// deleteConcurrency bounds the requests a per-object store's Delete sends at once when it is
// given many keys. Clean gives it one key at a time and does its own bounding.
const deleteConcurrency = 16

// deleteEach calls del for every key with at most deleteConcurrency calls at once and returns
// the errors joined, so a retry can find out everything that failed.
func deleteEach(ctx context.Context, keys []string, del func(ctx context.Context, key string) error) error {
	if len(keys) == 1 {
		return del(ctx, keys[0])
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, deleteConcurrency)
	)
	for _, k := range keys {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := del(ctx, k); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		return nil
	}
	return errorList(errs)
}

// errorList is several errors as one: errors.Is and errors.As see each of them, and the
// message, on one line so that it fits a condition, shows the first few and counts the rest.
type errorList []error

func (l errorList) Error() string {
	const shown = 3
	msgs := make([]string, 0, shown+1)
	for i, err := range l {
		if i == shown {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(l)-shown))
			break
		}
		msgs = append(msgs, err.Error())
	}
	return strings.Join(msgs, "; ")
}

func (l errorList) Unwrap() []error { return l }
