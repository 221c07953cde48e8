package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// S3's limits: DeleteObjects takes at most 1000 keys, ListObjectsV2 returns at most 1000.
const (
	s3MaxDeleteBatch = 1000
	s3MaxListPage    = 1000
)

type s3Bucket struct {
	loc     Location
	credSrc string
	// client is replaced at most once, inside regionOnce, when the bucket's region is found;
	// every request takes it through api.
	client *s3.Client
	// findRegion is set when nothing names the bucket's region and the bucket is on AWS itself
	// (no region, no endpoint, provider aws or unset): BR then asks S3 for the bucket's region,
	// and so does the first request here (resolveRegion).
	findRegion bool
	regionOnce sync.Once
}

// openS3 builds the client from the Location and the Job's environment. It makes no request:
// the bucket's region, when it must be found, is found by the first request. tweak lets tests
// shorten the SDK's retries (and point a client at a test server without setting
// Location.Endpoint).
func openS3(ctx context.Context, l Location, env Env, tweak ...func(*s3.Options)) (*s3Bucket, error) {
	region := l.Region
	if region == "" {
		region = env.get("AWS_REGION")
	}
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		// Without a client-side retry quota: Clean sends many deletes at once, and a burst of
		// SlowDown answers would otherwise exhaust the quota and fail requests the store would
		// have accepted a moment later.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
		}),
		// Checksums only where S3 requires them (DeleteObjects): S3-compatible stores differ in
		// which of the newer checksum headers they accept.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	creds, credSrc := s3Credentials(env)
	if creds != nil {
		opts = append(opts, config.WithCredentialsProvider(creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open %s: load AWS configuration: %w", l.Redacted(), err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if l.Endpoint != "" {
			o.BaseEndpoint = aws.String(withScheme(l.Endpoint))
		}
		o.UsePathStyle = l.UsesPathStyle()
		for _, t := range tweak {
			t(o)
		}
	})
	findRegion := l.Region == "" && l.Endpoint == "" && (l.Provider == "" || l.Provider == string(v1alpha1.S3StorageProviderTypeAWS))
	return &s3Bucket{loc: l, client: client, credSrc: credSrc, findRegion: findRegion}, nil
}

// api is the client to send a request with, in the bucket's region once it is known.
func (b *s3Bucket) api(ctx context.Context) *s3.Client {
	if b.findRegion {
		b.regionOnce.Do(func() { b.resolveRegion(ctx) })
	}
	return b.client
}

// resolveRegion asks S3 where the bucket is with a HeadBucket, as BR does for a bucket on AWS
// without a region, and moves the client there. S3 names the region in x-amz-bucket-region
// whatever its answer: 200, 301 from another region, or 403 for credentials without
// s3:ListBucket. Without that header the client stays where it is, and the request that follows
// reports what is wrong. It is never done for a custom endpoint, whose region is the user's.
func (b *s3Bucket) resolveRegion(ctx context.Context) {
	out, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.loc.Bucket)})
	region := headerRegion(err)
	if err == nil {
		region = aws.ToString(out.BucketRegion)
	}
	if !validRegion(region) || region == b.client.Options().Region {
		return
	}
	b.client = s3.New(b.client.Options(), func(o *s3.Options) { o.Region = region })
}

// headerRegion is the bucket's region as an S3 error response names it (x-amz-bucket-region),
// or "".
func headerRegion(err error) string {
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.Response != nil && resp.Response.Response != nil {
		return resp.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

var regionName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// validRegion reports whether region looks like an AWS region name: only such a name, which
// goes into the endpoint's host name, is taken from a response.
func validRegion(region string) bool { return len(region) <= 64 && regionName.MatchString(region) }

// s3Credentials returns static credentials when the Job's environment has keys (a Secret named
// by spec.s3.secretName), or nil for the SDK's default chain (IRSA, instance profile), and how
// to name the source in errors.
func s3Credentials(env Env) (aws.CredentialsProvider, string) {
	id, secret := env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return nil, "the AWS SDK's default credential chain (IAM role for service accounts, instance profile): " +
			"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set in the Job's environment"
	}
	token := env.get("AWS_SESSION_TOKEN")
	src := "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the Job's environment"
	if token != "" {
		src = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN from the Job's environment"
	}
	return credentials.NewStaticCredentialsProvider(id, secret, token), src
}

// withScheme adds https:// to an endpoint written as a bare host ("minio.example.com:9000"),
// which the SDK would otherwise refuse.
func withScheme(endpoint string) string {
	if strings.Contains(endpoint, "://") {
		return endpoint
	}
	return "https://" + endpoint
}

func (b *s3Bucket) List(ctx context.Context, cursor string, pageSize int) ([]Object, string, error) {
	in := &s3.ListObjectsV2Input{
		Bucket:  aws.String(b.loc.Bucket),
		Prefix:  aws.String(listPrefix(b.loc.Prefix)),
		MaxKeys: aws.Int32(int32(min(max(pageSize, 1), s3MaxListPage))),
	}
	if cursor != "" {
		in.ContinuationToken = aws.String(cursor)
	}
	out, err := b.api(ctx).ListObjectsV2(ctx, in)
	if err != nil {
		return nil, "", b.fail("list objects in", err)
	}
	objs := make([]Object, 0, len(out.Contents))
	for _, o := range out.Contents {
		objs = append(objs, Object{Key: strings.TrimPrefix(aws.ToString(o.Key), listPrefix(b.loc.Prefix)), Size: aws.ToInt64(o.Size)})
	}
	if !aws.ToBool(out.IsTruncated) {
		return objs, "", nil
	}
	return objs, aws.ToString(out.NextContinuationToken), nil
}

func (b *s3Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.api(ctx).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(objectKey(b.loc.Prefix, key))})
	if err != nil {
		return nil, b.fail("get "+key+" from", err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, storeError("read "+key+" from", b.loc, b.credSrc, ErrTransient, err)
	}
	return data, nil
}

func (b *s3Bucket) Put(ctx context.Context, key string, data []byte) error {
	_, err := b.api(ctx).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.loc.Bucket), Key: aws.String(objectKey(b.loc.Prefix, key)),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return b.fail("put "+key+" to", err)
	}
	return nil
}

// Delete sends one DeleteObjects request per 1000 keys. A single key goes through DeleteObject
// instead: that is what Clean sends when spec.cleanOption.disableBatchConcurrency is set, the
// option for S3-compatible stores without the multi-object delete API.
func (b *s3Bucket) Delete(ctx context.Context, keys []string) error {
	if len(keys) == 1 {
		_, err := b.api(ctx).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.loc.Bucket), Key: aws.String(objectKey(b.loc.Prefix, keys[0]))})
		if err != nil && !errors.Is(s3ErrorKind(err), ErrNotFound) { // some S3-compatible stores answer 404 for a missing key
			return b.fail("delete "+keys[0]+" from", err)
		}
		return nil
	}
	for len(keys) > 0 {
		n := min(len(keys), s3MaxDeleteBatch)
		if err := b.deleteBatch(ctx, keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

func (b *s3Bucket) deleteBatch(ctx context.Context, keys []string) error {
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = types.ObjectIdentifier{Key: aws.String(objectKey(b.loc.Prefix, k))}
	}
	out, err := b.api(ctx).DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(b.loc.Bucket),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return b.fail(fmt.Sprintf("delete %d objects from", len(keys)), err)
	}
	if err := s3KeyErrors(out.Errors); err != nil {
		return storeError(fmt.Sprintf("delete %d objects from", len(keys)), b.loc, b.credSrc, s3ErrorKind(err), err)
	}
	return nil
}

// s3KeyError is one key DeleteObjects did not delete; it answers as an API error so that the
// failure is classified like a whole request's.
type s3KeyError struct{ key, code, message string }

func (e s3KeyError) Error() string                 { return fmt.Sprintf("%s: %s: %s", e.key, e.code, e.message) }
func (e s3KeyError) ErrorCode() string             { return e.code }
func (e s3KeyError) ErrorMessage() string          { return e.message }
func (e s3KeyError) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }

// s3KeyErrors turns the per-key errors of a DeleteObjects answer into one error: one key's error,
// which decides the classification (a refused credential if there is one, so that Clean stops,
// else the first), and how many keys failed. A key that is already gone is not a failure.
func s3KeyErrors(errs []types.Error) error {
	var first *s3KeyError
	n := 0
	for _, e := range errs {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue
		}
		ke := &s3KeyError{key: aws.ToString(e.Key), code: aws.ToString(e.Code), message: aws.ToString(e.Message)}
		if n == 0 || (errors.Is(s3ErrorKind(ke), ErrCredentials) && !errors.Is(s3ErrorKind(first), ErrCredentials)) {
			first = ke
		}
		n++
	}
	switch n {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("1 key not deleted: %w", *first)
	default:
		return fmt.Errorf("%d keys not deleted, among them %w", n, *first)
	}
}

func (b *s3Bucket) MaxDeleteBatch() int      { return s3MaxDeleteBatch }
func (b *s3Bucket) CredentialSource() string { return b.credSrc }
func (b *s3Bucket) Location() Location       { return b.loc }
func (b *s3Bucket) Close() error             { return nil }

func (b *s3Bucket) fail(op string, err error) error {
	kind := s3ErrorKind(err)
	if errors.Is(kind, ErrWrongRegion) {
		return b.wrongRegion(op, err)
	}
	return storeError(op, b.loc, b.credSrc, kind, err)
}

// wrongRegion says which region the request went to, where the bucket is when S3 said so, and
// what to do about it.
func (b *s3Bucket) wrongRegion(op string, err error) error {
	where := "another region"
	if r := headerRegion(err); validRegion(r) {
		where = fmt.Sprintf("region %q", r)
	}
	return fmt.Errorf("%s %s: %w: the request went to region %q but bucket %q is in %s: "+
		"set spec.s3.region to the bucket's region (a --s3.region in spec.br.options overrides it): %w",
		op, b.loc.Redacted(), ErrWrongRegion, b.client.Options().Region, b.loc.Bucket, where, err)
}

// s3ErrorKind classifies an S3 error by its code, which S3-compatible stores share, and falls
// back to the HTTP status.
func s3ErrorKind(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey":
			return ErrNotFound
		case "NoSuchBucket":
			return ErrBucketNotFound
		case "PermanentRedirect":
			return ErrWrongRegion
		case "AuthorizationHeaderMalformed":
			// "the region 'us-east-1' is wrong; expecting 'eu-west-1'": signed for another
			// region than the endpoint's.
			if strings.Contains(api.ErrorMessage(), "region") {
				return ErrWrongRegion
			}
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken",
			"TokenRefreshRequired", "AllAccessDisabled", "InvalidClientTokenId", "AccountProblem":
			return ErrCredentials
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled",
			"TooManyRequestsException", "ServiceUnavailable":
			return ErrThrottled
		case "InternalError", "RequestTimeout", "RequestTimeoutException", "OperationAborted":
			return ErrTransient
		}
	}
	if isCredentialRetrieval(err) {
		return ErrCredentials
	}
	// A request that never got an answer (refused, reset, timed out) also comes as a
	// ResponseError, with status 0.
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return ErrTransient
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusMovedPermanently {
		return ErrWrongRegion // a HEAD's 301 has no body to carry the code
	}
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 {
		return httpStatusKind(resp.HTTPStatusCode(), http.StatusServiceUnavailable)
	}
	return nil
}

// isCredentialRetrieval reports an error of the SDK's credential chain: no credentials found, or
// the identity provider refused them. The SDK gives it no type of its own.
func isCredentialRetrieval(err error) bool {
	return strings.Contains(err.Error(), "failed to retrieve credentials") ||
		strings.Contains(err.Error(), "failed to refresh cached credentials")
}

// httpStatusKind classifies an HTTP status the same way for every store; throttle is the status
// the store uses to ask for fewer requests besides 429.
func httpStatusKind(status, throttle int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrCredentials
	case status == http.StatusTooManyRequests || status == throttle:
		return ErrThrottled
	case status == http.StatusRequestTimeout || status >= 500:
		return ErrTransient
	default:
		return nil
	}
}
