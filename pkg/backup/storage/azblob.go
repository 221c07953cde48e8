package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azure returns at most 5000 blobs per listing request.
const azMaxListPage = 5000

type azBucket struct {
	loc       Location
	container *container.Client
	credSrc   string
}

// openAzblob connects to the container at the Location's endpoint, or the account's default
// one. opts lets tests shorten the SDK's retries.
func openAzblob(l Location, env Env, opts *container.ClientOptions) (*azBucket, error) {
	account := l.Account
	if account == "" {
		account = env.get("AZURE_STORAGE_ACCOUNT")
	}
	serviceURL := l.Endpoint
	if serviceURL == "" {
		if account == "" {
			return nil, fmt.Errorf("open %s: no storage account: set spec.azblob.storageAccount or AZURE_STORAGE_ACCOUNT in the Secret", l.Redacted())
		}
		serviceURL = "https://" + account + ".blob.core.windows.net/"
	}
	// The endpoint is the whole service URL, account included when it is in the path
	// (Azurite's http://127.0.0.1:10000/devstoreaccount1).
	b := &azBucket{loc: l}
	var err error
	b.container, b.credSrc, err = azContainer(runtime.JoinPaths(serviceURL, l.Bucket), l.SASToken, account, env, opts)
	if errors.Is(err, errNoAzureCredential) {
		return nil, fmt.Errorf("open %s: %w: %w", l.Redacted(), ErrCredentials, err)
	}
	if err != nil {
		return nil, storeError("open", l, b.credSrc, ErrCredentials, b.redact(err))
	}
	return b, nil
}

var errNoAzureCredential = errors.New("no credential: set spec.azblob.sasToken, or AZURE_STORAGE_KEY, or AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID in the Secret")

// azContainer opens the container with the first credential found: the spec's SAS token (the
// user wrote it for this very container), the account key, then an AAD application.
func azContainer(containerURL, sas, account string, env Env, opts *container.ClientOptions) (*container.Client, string, error) {
	switch {
	case sas != "":
		c, err := container.NewClientWithNoCredential(containerURL+"?"+strings.TrimPrefix(sas, "?"), opts)
		return c, "the spec's SAS token (spec.azblob.sasToken)", err
	case env.get("AZURE_STORAGE_KEY") != "":
		src := "AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY from the Job's environment"
		if account == "" {
			return nil, src, errors.New("AZURE_STORAGE_KEY is set but no storage account: set spec.azblob.storageAccount or AZURE_STORAGE_ACCOUNT")
		}
		cred, err := container.NewSharedKeyCredential(account, env.get("AZURE_STORAGE_KEY"))
		if err != nil {
			return nil, src, err
		}
		c, err := container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
		return c, src, err
	case env.get("AZURE_CLIENT_ID") != "" && env.get("AZURE_CLIENT_SECRET") != "" && env.get("AZURE_TENANT_ID") != "":
		src := "AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID from the Job's environment"
		cred, err := azidentity.NewClientSecretCredential(env.get("AZURE_TENANT_ID"), env.get("AZURE_CLIENT_ID"), env.get("AZURE_CLIENT_SECRET"), nil)
		if err != nil {
			return nil, src, err
		}
		c, err := container.NewClient(containerURL, cred, opts)
		return c, src, err
	default:
		return nil, "", errNoAzureCredential
	}
}

func (b *azBucket) List(ctx context.Context, cursor string, pageSize int) ([]Object, string, error) {
	o := &container.ListBlobsFlatOptions{
		Prefix:     to.Ptr(listPrefix(b.loc.Prefix)),
		MaxResults: to.Ptr(int32(min(max(pageSize, 1), azMaxListPage))),
	}
	if cursor != "" {
		o.Marker = to.Ptr(cursor)
	}
	page, err := b.container.NewListBlobsFlatPager(o).NextPage(ctx)
	if err != nil {
		return nil, "", b.fail("list blobs in", err)
	}
	var objs []Object
	if page.Segment != nil {
		objs = make([]Object, 0, len(page.Segment.BlobItems))
		for _, it := range page.Segment.BlobItems {
			obj := Object{Key: strings.TrimPrefix(deref(it.Name), *o.Prefix)}
			if it.Properties != nil {
				obj.Size = deref(it.Properties.ContentLength)
			}
			objs = append(objs, obj)
		}
	}
	return objs, deref(page.NextMarker), nil
}

func (b *azBucket) Get(ctx context.Context, key string) ([]byte, error) {
	resp, err := b.container.NewBlobClient(objectKey(b.loc.Prefix, key)).DownloadStream(ctx, nil)
	if err != nil {
		return nil, b.fail("get "+key+" from", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, storeError("read "+key+" from", b.loc, b.credSrc, ErrTransient, b.redact(err))
	}
	return data, nil
}

func (b *azBucket) Put(ctx context.Context, key string, data []byte) error {
	if _, err := b.container.NewBlockBlobClient(objectKey(b.loc.Prefix, key)).UploadBuffer(ctx, data, nil); err != nil {
		return b.fail("put "+key+" to", err)
	}
	return nil
}

// Delete deletes each blob with its snapshots, which Azure otherwise refuses to delete.
func (b *azBucket) Delete(ctx context.Context, keys []string) error {
	return deleteEach(ctx, keys, func(ctx context.Context, key string) error {
		_, err := b.container.NewBlobClient(objectKey(b.loc.Prefix, key)).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
		if err == nil || bloberror.HasCode(err, bloberror.BlobNotFound) {
			return nil
		}
		return b.fail("delete "+key+" from", err)
	})
}

func (b *azBucket) MaxDeleteBatch() int      { return 1 }
func (b *azBucket) CredentialSource() string { return b.credSrc }
func (b *azBucket) Location() Location       { return b.loc }
func (b *azBucket) Close() error             { return nil }

func (b *azBucket) fail(op string, err error) error {
	return storeError(op, b.loc, b.credSrc, azErrorKind(err), b.redact(err))
}

func azErrorKind(err error) error {
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		return ErrNotFound
	case bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.ContainerBeingDeleted):
		return ErrBucketNotFound
	case bloberror.HasCode(err, bloberror.ServerBusy):
		return ErrThrottled
	case bloberror.HasCode(err, bloberror.OperationTimedOut, bloberror.InternalError):
		return ErrTransient
	}
	var resp *azcore.ResponseError
	if errors.As(err, &resp) {
		return httpStatusKind(resp.StatusCode, http.StatusServiceUnavailable)
	}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		return ErrCredentials
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTransient
	}
	return nil
}

// sasSignature matches the signature of a SAS token, the part of it that grants access, however
// a URL in an error message escaped it.
var sasSignature = regexp.MustCompile(`(?i)(sig(=|%3D))[^&\s"']+`)

// redact makes an SDK error safe to log: a connection error carries the request URL, SAS token
// included, and a response error the whole XML body. The result keeps err in its chain.
func (b *azBucket) redact(err error) error {
	msg := err.Error()
	var resp *azcore.ResponseError
	if errors.As(err, &resp) {
		msg = fmt.Sprintf("%d %s", resp.StatusCode, resp.ErrorCode)
		if m := azMessage(resp); m != "" {
			msg += ": " + m
		}
	}
	if sas := strings.TrimPrefix(b.loc.SASToken, "?"); sas != "" {
		msg = strings.ReplaceAll(msg, sas, "REDACTED")
	}
	return &redactedError{msg: sasSignature.ReplaceAllString(msg, "${1}REDACTED"), err: err}
}

var azMessageRE = regexp.MustCompile(`<Message>([^<\n]*)`)

// azMessage is the first line of the <Message> of an Azure error body: the sentence a user can
// act on, without the request id and time that follow it.
func azMessage(resp *azcore.ResponseError) string {
	if resp.RawResponse == nil {
		return ""
	}
	body, err := runtime.Payload(resp.RawResponse)
	if err != nil {
		return ""
	}
	if m := azMessageRE.FindSubmatch(body); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	return ""
}

// redactedError shows a message safe to log and unwraps to the error it stands for.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// deref reads the optional fields of the SDK's generated models; nil is the zero value.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
