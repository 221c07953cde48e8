package backupenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Server is a versitygw S3 gateway over a posix folder, running for one test.
type S3Server struct {
	// Endpoint is the server's URL, "http://127.0.0.1:PORT". Clients must use path-style
	// addressing: there is no DNS for bucket.127.0.0.1.
	Endpoint string
	// AccessKey and SecretKey are the gateway's root credentials; requests are signed and
	// checked with them (SigV4), so a wrong key is refused as by AWS.
	AccessKey, SecretKey string
	// Region is the region the gateway reports and expects in signatures.
	Region string
	// DataDir is the posix folder: one sub-folder per bucket, one file per object.
	DataDir string

	clientOnce sync.Once
	client     *s3.Client
}

// S3 starts a versitygw for the test, installing it first if needed (see hack/testservers.sh),
// and stops it when the test ends. Its region is us-east-1 and its root credentials are
// generated, unless WithS3Region and WithS3Credentials say otherwise. Skipped under -short.
// The posix backend keeps object metadata in extended attributes, so the folder must be on a
// file system with user xattrs (ext4, xfs; tmpfs only on recent kernels).
func S3(t testing.TB, opts ...Option) *S3Server {
	t.Helper()
	skipShort(t, "versitygw (S3)")
	bin := locateOrFail(t, kindS3)
	o := applyOptions(opts)
	if (o.s3AccessKey == "") != (o.s3SecretKey == "") {
		t.Fatal("backupenv: WithS3Credentials needs both an access key and a secret key")
	}
	dir := workDir(t, "s3", o)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	s := &S3Server{
		AccessKey: "backupenv-access",
		SecretKey: "backupenv-secret-" + rand.Text(),
		Region:    "us-east-1",
		DataDir:   data,
	}
	if o.s3Region != "" {
		s.Region = o.s3Region
	}
	if o.s3AccessKey != "" {
		s.AccessKey, s.SecretKey = o.s3AccessKey, o.s3SecretKey
	}
	_, port := start(t, serverSpec{
		name:    "versitygw",
		path:    bin,
		logPath: filepath.Join(dir, "versitygw.log"),
		args: func(port int) []string {
			return []string{"--port", fmt.Sprintf("127.0.0.1:%d", port), "--region", s.Region, "posix", data}
		},
		// Credentials through the environment, as documented, rather than on the command line
		// where any process listing would show them.
		env:   []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey},
		ready: httpAnswers("/"),
	})
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	return s
}

// Client returns an aws-sdk-go-v2 client for the server (path-style, static credentials, no
// shared config files or environment read), for tests to set up and inspect buckets directly.
func (s *S3Server) Client() *s3.Client {
	s.clientOnce.Do(func() {
		s.client = s3.New(s3.Options{
			Region:       s.Region,
			BaseEndpoint: aws.String(s.Endpoint),
			UsePathStyle: true,
			Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		})
	})
	return s.client
}

// CreateBucket creates a bucket, failing the test if it cannot.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("backupenv: create S3 bucket %q: %v", name, err)
	}
}

// Env is the environment a process (the backup-manager, a br double) needs to reach the server
// with the AWS SDK's standard variables; the endpoint itself comes from the Backup's spec.
func (s *S3Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
	}
}

// httpAnswers is a readiness check passing once the server returns any HTTP response for path
// (an S3 or Azure server answers an unsigned request with an error document, which is enough to
// know it is serving).
func httpAnswers(path string) func(ctx context.Context, port int) error {
	return func(ctx context.Context, port int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
}
