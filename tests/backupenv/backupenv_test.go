package backupenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/go-sql-driver/mysql"
	"google.golang.org/api/iterator"
)

// helperEnv makes the test binary act as another process that uses a server (see TestMain).
const helperEnv = "BACKUPENV_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode); err != nil {
			fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is the other process of TestGCSFromAnotherProcess: with only STORAGE_EMULATOR_HOST
// in its environment, as the backup-manager or BR would have, it reads one object and writes
// another through the Go SDK.
func runHelper(mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch mode {
	case "gcs":
		c, err := storage.NewClient(ctx)
		if err != nil {
			return fmt.Errorf("new client: %w", err)
		}
		defer func() { _ = c.Close() }()
		b := c.Bucket(os.Getenv("HELPER_BUCKET"))
		r, err := b.Object("from-parent").NewReader(ctx)
		if err != nil {
			return fmt.Errorf("open from-parent: %w", err)
		}
		data, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil {
			return fmt.Errorf("read from-parent: %w", err)
		}
		w := b.Object("from-child").NewWriter(ctx)
		if _, err := w.Write(append([]byte("child saw: "), data...)); err != nil {
			return fmt.Errorf("write from-child: %w", err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("close from-child: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("unknown helper mode %q", mode)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestS3(t *testing.T) {
	t.Parallel()
	srv := S3(t)
	ctx := testContext(t)
	c := srv.Client()
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT", srv.Endpoint)
	}
	srv.CreateBucket(t, "backups")

	put := func(key, body string) {
		t.Helper()
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("backup-1/backupmeta", "meta-1")
	put("backup-1/1/sst-a", "a")
	put("backup-10/backupmeta", "meta-10")

	// Listing with a folder prefix must not reach into backup-10; paging with a small page
	// size must still give every key once.
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("backups"), Prefix: aws.String("backup-1/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if got, want := strings.Join(keys, ","), "backup-1/1/sst-a,backup-1/backupmeta"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("backup-1/backupmeta")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	body, _ := io.ReadAll(out.Body)
	_ = out.Body.Close()
	if string(body) != "meta-1" {
		t.Errorf("got %q, want meta-1", body)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backups"), Key: aws.String("backup-1/missing")})
	var noKey *s3types.NoSuchKey
	if !errors.As(err, &noKey) {
		t.Errorf("get of a missing key: %v, want NoSuchKey", err)
	}

	// The backup cleaner deletes in batches of 1000, the most one DeleteObjects takes. The
	// keys sit in nested folders, which the posix backend has to remove as they empty.
	const n = 1000
	var all []s3types.ObjectIdentifier
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("many/%02d/%04d.sst", i%10, i)
		all = append(all, s3types.ObjectIdentifier{Key: aws.String(key)})
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String(key), Body: strings.NewReader(key)})
			if err != nil {
				errs <- fmt.Errorf("put %s: %w", key, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := countS3(ctx, t, c, "many/"); got != n {
		t.Fatalf("listed %d objects under many/, want %d", got, n)
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String("backups"),
		Delete: &s3types.Delete{Objects: all, Quiet: aws.Bool(false)},
	})
	if err != nil {
		t.Fatalf("DeleteObjects of %d keys: %v", n, err)
	}
	if len(del.Errors) != 0 || len(del.Deleted) != n {
		t.Fatalf("DeleteObjects: %d deleted, %d errors (first: %+v), want %d deleted", len(del.Deleted), len(del.Errors), firstS3Error(del.Errors), n)
	}
	if got := countS3(ctx, t, c, "many/"); got != 0 {
		t.Errorf("%d objects left under many/ after DeleteObjects", got)
	}
	if got := countS3(ctx, t, c, "backup-1"); got != 3 {
		t.Errorf("%d objects under backup-1 after deleting many/, want 3 (backup-1/ and backup-10/)", got)
	}

	// Signatures are checked: a client with the wrong secret is refused.
	bad := s3.New(s3.Options{
		Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, "wrong", ""),
	})
	if _, err := bad.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("backups")}); err == nil {
		t.Error("listing with a wrong secret key succeeded")
	}
	if len(srv.Env()) != 3 {
		t.Errorf("Env() = %v", srv.Env())
	}
}

// WithS3Region and WithS3Credentials set what the gateway checks signatures against: the given
// credentials and region work, the default region no longer does.
func TestS3WithRegionAndCredentials(t *testing.T) {
	t.Parallel()
	srv := S3(t, WithS3Region("eu-west-3"), WithS3Credentials("backupenv-fixed", "fixed-secret"))
	ctx := testContext(t)
	if srv.Region != "eu-west-3" || srv.AccessKey != "backupenv-fixed" || srv.SecretKey != "fixed-secret" {
		t.Fatalf("server has region %q and access key %q", srv.Region, srv.AccessKey)
	}
	srv.CreateBucket(t, "backups")
	if _, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("backups")}); err != nil {
		t.Fatalf("list with the given credentials and region: %v", err)
	}
	other := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	})
	if _, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("backups")}); err == nil {
		t.Error("listing with a signature for another region succeeded")
	}
	if env := strings.Join(srv.Env(), " "); !strings.Contains(env, "AWS_REGION=eu-west-3") || !strings.Contains(env, "AWS_ACCESS_KEY_ID=backupenv-fixed") {
		t.Errorf("Env() = %v", srv.Env())
	}
}

func firstS3Error(errs []s3types.Error) any {
	if len(errs) == 0 {
		return nil
	}
	return struct{ Key, Code, Message string }{aws.ToString(errs[0].Key), aws.ToString(errs[0].Code), aws.ToString(errs[0].Message)}
}

func countS3(ctx context.Context, t *testing.T, c *s3.Client, prefix string) int {
	t.Helper()
	n := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("backups"), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		n += len(page.Contents)
	}
	return n
}

func TestGCS(t *testing.T) {
	t.Parallel()
	srv := GCS(t)
	ctx := testContext(t)
	if want := "http://" + srv.EmulatorHost + "/storage/v1/"; srv.Endpoint != want {
		t.Errorf("Endpoint = %q, want %q", srv.Endpoint, want)
	}
	srv.CreateBucket(t, "backups")
	b := srv.Client().Bucket("backups")
	for _, k := range []string{"backup-1/backupmeta", "backup-1/1/sst-a", "backup-10/backupmeta"} {
		writeGCS(ctx, t, b, k, "data of "+k)
	}
	if got, want := strings.Join(listGCS(ctx, t, b, "backup-1/"), ","), "backup-1/1/sst-a,backup-1/backupmeta"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}
	if got := readGCS(ctx, t, b, "backup-1/backupmeta"); got != "data of backup-1/backupmeta" {
		t.Errorf("read %q", got)
	}
	if _, err := b.Object("backup-1/missing").NewReader(ctx); !errors.Is(err, storage.ErrObjectNotExist) {
		t.Errorf("read of a missing object: %v, want ErrObjectNotExist", err)
	}
	// A 20 MiB object is sent as a resumable upload in two chunks (the SDK's chunk size is
	// 16 MiB), which only works if the server tells the client its real address.
	big := bytes.Repeat([]byte("x"), 20<<20)
	w := b.Object("backup-1/big").NewWriter(ctx)
	if _, err := w.Write(big); err != nil {
		t.Fatalf("write big: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close big: %v", err)
	}
	if attrs, err := b.Object("backup-1/big").Attrs(ctx); err != nil || attrs.Size != int64(len(big)) {
		t.Errorf("big object: %+v, %v", attrs, err)
	}
	for _, k := range listGCS(ctx, t, b, "backup-1/") {
		if err := b.Object(k).Delete(ctx); err != nil {
			t.Fatalf("delete %s: %v", k, err)
		}
	}
	if got := listGCS(ctx, t, b, ""); len(got) != 1 || got[0] != "backup-10/backupmeta" {
		t.Errorf("after deleting backup-1/: %v, want only backup-10/backupmeta", got)
	}
}

// TestGCSFromAnotherProcess checks that the in-process server serves other processes, as the
// backup-manager binary will be: a child process with only STORAGE_EMULATOR_HOST set reads an
// object and writes one.
func TestGCSFromAnotherProcess(t *testing.T) {
	t.Parallel()
	srv := GCS(t)
	ctx := testContext(t)
	srv.CreateBucket(t, "backups")
	b := srv.Client().Bucket("backups")
	writeGCS(ctx, t, b, "from-parent", "hello")

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=gcs", "HELPER_BUCKET=backups")
	cmd.Env = append(cmd.Env, srv.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if got := readGCS(ctx, t, b, "from-child"); got != "child saw: hello" {
		t.Errorf("from-child = %q", got)
	}
}

// TestGCSWithDir checks the file backend: objects survive a restart on the same folder.
func TestGCSWithDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := testContext(t)
	t.Run("first", func(t *testing.T) {
		srv := GCS(t, WithDir(dir))
		srv.CreateBucket(t, "backups")
		writeGCS(ctx, t, srv.Client().Bucket("backups"), "a/b", "kept")
	})
	t.Run("second", func(t *testing.T) {
		srv := GCS(t, WithDir(dir))
		if got := readGCS(ctx, t, srv.Client().Bucket("backups"), "a/b"); got != "kept" {
			t.Errorf("after restart: %q", got)
		}
	})
}

func writeGCS(ctx context.Context, t *testing.T, b *storage.BucketHandle, key, data string) {
	t.Helper()
	w := b.Object(key).NewWriter(ctx)
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatalf("write %s: %v", key, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close %s: %v", key, err)
	}
}

func readGCS(ctx context.Context, t *testing.T, b *storage.BucketHandle, key string) string {
	t.Helper()
	r, err := b.Object(key).NewReader(ctx)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer func() { _ = r.Close() }()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(data)
}

func listGCS(ctx context.Context, t *testing.T, b *storage.BucketHandle, prefix string) []string {
	t.Helper()
	var keys []string
	it := b.Objects(ctx, &storage.Query{Prefix: prefix})
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		keys = append(keys, attrs.Name)
	}
	sort.Strings(keys)
	return keys
}

func TestAzure(t *testing.T) {
	t.Parallel()
	srv := Azure(t)
	ctx := testContext(t)
	if !strings.HasSuffix(srv.Endpoint, "/devstoreaccount1") {
		t.Errorf("Endpoint = %q", srv.Endpoint)
	}
	c := srv.Client()
	srv.CreateContainer(t, "backups")
	for _, k := range []string{"backup-1/backupmeta", "backup-1/1/sst-a", "backup-10/backupmeta"} {
		if _, err := c.UploadBuffer(ctx, "backups", k, []byte("data of "+k), nil); err != nil {
			t.Fatalf("upload %s: %v", k, err)
		}
	}
	if got, want := strings.Join(listAzure(ctx, t, c, "backup-1/"), ","), "backup-1/1/sst-a,backup-1/backupmeta"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}
	resp, err := c.DownloadStream(ctx, "backups", "backup-1/backupmeta", nil)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	data, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(data) != "data of backup-1/backupmeta" {
		t.Errorf("downloaded %q", data)
	}
	if _, err := c.DownloadStream(ctx, "backups", "backup-1/missing", nil); !bloberror.HasCode(err, bloberror.BlobNotFound) {
		t.Errorf("download of a missing blob: %v, want BlobNotFound", err)
	}
	for _, k := range listAzure(ctx, t, c, "backup-1/") {
		if _, err := c.DeleteBlob(ctx, "backups", k, nil); err != nil {
			t.Fatalf("delete %s: %v", k, err)
		}
	}
	if got := listAzure(ctx, t, c, ""); len(got) != 1 || got[0] != "backup-10/backupmeta" {
		t.Errorf("after deleting backup-1/: %v, want only backup-10/backupmeta", got)
	}

	// Shared-key signatures are checked: a client with another key is refused.
	cred, err := azblob.NewSharedKeyCredential(srv.Account, "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := azblob.NewClientWithSharedKeyCredential(srv.Endpoint+"/", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	pager := bad.NewListBlobsFlatPager("backups", nil)
	if _, err := pager.NextPage(ctx); err == nil {
		t.Error("listing with a wrong key succeeded")
	}
}

func listAzure(ctx context.Context, t *testing.T, c *azblob.Client, prefix string) []string {
	t.Helper()
	var keys []string
	// A page size of 1 checks that the continuation marker works.
	pager := c.NewListBlobsFlatPager("backups", &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(prefix), MaxResults: to.Ptr(int32(1))})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		for _, item := range page.Segment.BlobItems {
			keys = append(keys, *item.Name)
		}
	}
	sort.Strings(keys)
	return keys
}

func TestMySQL(t *testing.T) {
	t.Parallel()
	srv := MySQL(t)
	ctx := testContext(t)
	db := srv.DB(t)
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatalf("SELECT VERSION(): %v", err)
	}
	t.Logf("server version %s", version)

	// A connection of its own through the DSN, as the code under test makes one.
	if err := pingDSN(ctx, srv.DSN()); err != nil {
		t.Fatalf("ping %s: %v", srv.Addr(), err)
	}
	// The password is real: a wrong one is refused.
	c := srv.config()
	c.Passwd = "wrong"
	err := pingDSN(ctx, c.FormatDSN())
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) || myErr.Number != 1045 {
		t.Errorf("ping with a wrong password: %v, want error 1045 (access denied)", err)
	}

	srv.InitTiDBGCTable(t)
	if got := srv.TiDBVariable(t, TiDBGCLifeTimeVariable); got != DefaultTiDBGCLifeTime {
		t.Errorf("%s = %q, want %q", TiDBGCLifeTimeVariable, got, DefaultTiDBGCLifeTime)
	}
	// What a backup does: raise the life time, then put the old value back.
	var old string
	if err := db.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM mysql.tidb WHERE VARIABLE_NAME = ?", TiDBGCLifeTimeVariable).Scan(&old); err != nil {
		t.Fatalf("read GC life time: %v", err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE mysql.tidb SET VARIABLE_VALUE = ? WHERE VARIABLE_NAME = ?", "72h", TiDBGCLifeTimeVariable); err != nil {
		t.Fatalf("update GC life time: %v", err)
	}
	if got := srv.TiDBVariable(t, TiDBGCLifeTimeVariable); got != "72h" {
		t.Errorf("after update: %q", got)
	}
	srv.SetTiDBVariable(t, TiDBGCLifeTimeVariable, old)
	if got := srv.TiDBVariable(t, TiDBGCLifeTimeVariable); got != DefaultTiDBGCLifeTime {
		t.Errorf("after restore: %q", got)
	}
	srv.InitTiDBGCTable(t) // idempotent
}

// TestMySQLTLS checks WithTLS: a TCP client gets in only over TLS that verifies the server's
// certificate for 127.0.0.1 against ca.crt and presents the client certificate of TLSDir, as
// the backup-manager builds its connection from the folder the Job mounts.
func TestMySQLTLS(t *testing.T) {
	t.Parallel()
	srv := MySQL(t, WithTLS())
	ctx := testContext(t)

	// The server's own pool (DSN and DB) speaks TLS.
	var cipher string
	if err := srv.DB(t).QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'").Scan(&cipher); err != nil {
		t.Fatalf("read Ssl_cipher: %v", err)
	}
	if cipher == "" {
		t.Error("the connection through DB is not encrypted (Ssl_cipher is empty)")
	}
	srv.InitTiDBGCTable(t)
	if got := srv.TiDBVariable(t, TiDBGCLifeTimeVariable); got != DefaultTiDBGCLifeTime {
		t.Errorf("%s = %q over TLS, want %q", TiDBGCLifeTimeVariable, got, DefaultTiDBGCLifeTime)
	}

	// What the backup-manager does with the folder: verify against ca.crt, present tls.crt.
	if err := pingTLS(ctx, srv, clientTLS(t, srv.TLSDir, false)); err != nil {
		t.Fatalf("TLS with the certificates of %s: %v", srv.TLSDir, err)
	}

	// A plain connection is refused, with the right password. For root that is its REQUIRE
	// X509, which the server checks first (error 1045).
	plain := srv.config()
	plain.TLSConfig = ""
	err := pingDSN(ctx, plain.FormatDSN())
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) || myErr.Number != 1045 {
		t.Errorf("ping as root without TLS: %v, want error 1045 (access denied)", err)
	}
	// An account that requires nothing is refused without TLS too (--require-secure-transport;
	// MariaDB words that as access denied, where MySQL has error 3159) and let in with it, with
	// the same password and without a client certificate.
	var secure int
	if err := srv.DB(t).QueryRowContext(ctx, "SELECT @@global.require_secure_transport").Scan(&secure); err != nil || secure != 1 {
		t.Errorf("require_secure_transport = %d (%v), want 1", secure, err)
	}
	if _, err := srv.DB(t).ExecContext(ctx, "CREATE USER 'any'@'127.0.0.1' IDENTIFIED BY 'any-password' REQUIRE NONE"); err != nil {
		t.Fatalf("create a user: %v", err)
	}
	plain.User, plain.Passwd = "any", "any-password"
	err = pingDSN(ctx, plain.FormatDSN())
	if !errors.As(err, &myErr) || myErr.Number != 1045 {
		t.Errorf("ping as a user without REQUIRE, without TLS: %v, want error 1045 (access denied)", err)
	}
	anyUser := plain.Clone()
	anyUser.TLS = &tls.Config{RootCAs: clientTLS(t, srv.TLSDir, false).RootCAs, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if err := pingConfig(ctx, anyUser); err != nil {
		t.Errorf("ping as a user without REQUIRE, over TLS: %v", err)
	}

	// TLS without a client certificate is refused too: root REQUIRE X509.
	noCert := clientTLS(t, srv.TLSDir, false)
	noCert.Certificates = nil
	err = pingTLS(ctx, srv, noCert)
	if !errors.As(err, &myErr) || myErr.Number != 1045 {
		t.Errorf("ping over TLS without a client certificate: %v, want error 1045 (access denied)", err)
	}

	// With another CA the server's certificate does not verify; skipping the verification,
	// the same client certificate still gets in.
	wrong := srv.TLSDirWithUnrelatedCA(t)
	var unknownCA x509.UnknownAuthorityError
	if err := pingTLS(ctx, srv, clientTLS(t, wrong, false)); !errors.As(err, &unknownCA) {
		t.Errorf("ping verifying with an unrelated CA: %v, want x509.UnknownAuthorityError", err)
	}
	if err := pingTLS(ctx, srv, clientTLS(t, wrong, true)); err != nil {
		t.Errorf("ping with an unrelated CA, not verifying the server: %v", err)
	}
}

// clientTLS builds a client configuration from a certificate folder the way the
// backup-manager does (pkg/backup/manager tidbTLS), without importing it: that is the code the
// folder is for, not the code under test here.
func clientTLS(t *testing.T, dir string, skipVerify bool) *tls.Config {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, TLSCertFile), filepath.Join(dir, TLSKeyFile))
	if err != nil {
		t.Fatalf("load the client certificate of %s: %v", dir, err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{pair}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if skipVerify {
		c.InsecureSkipVerify = true
		return c
	}
	ca, err := os.ReadFile(filepath.Join(dir, TLSCAFile))
	if err != nil {
		t.Fatal(err)
	}
	c.RootCAs = x509.NewCertPool()
	if !c.RootCAs.AppendCertsFromPEM(ca) {
		t.Fatalf("%s holds no PEM certificate", filepath.Join(dir, TLSCAFile))
	}
	return c
}

// pingTLS connects as root with tc, on a connection of its own.
func pingTLS(ctx context.Context, srv *MySQLServer, tc *tls.Config) error {
	c := srv.config()
	c.TLSConfig = ""
	c.TLS = tc
	return pingConfig(ctx, c)
}

// pingConfig connects with c, which may hold a TLS configuration a DSN cannot name.
func pingConfig(ctx context.Context, c *mysql.Config) error {
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	return db.PingContext(ctx)
}

// TestMySQLWithDir checks that a data directory is reused and the new password applies.
func TestMySQLWithDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t.Run("first", func(t *testing.T) {
		srv := MySQL(t, WithDir(dir))
		srv.InitTiDBGCTable(t)
		srv.SetTiDBVariable(t, TiDBGCLifeTimeVariable, "1h")
	})
	t.Run("second", func(t *testing.T) {
		srv := MySQL(t, WithDir(dir))
		if got := srv.TiDBVariable(t, TiDBGCLifeTimeVariable); got != "1h" {
			t.Errorf("after restart: %q, want 1h", got)
		}
	})
}

func TestLastLine(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b\n":              "/a/b",
		"noise\n/a/b\n\n":     "/a/b",
		"":                    "",
		"  /path with space ": "/path with space",
	} {
		if got := lastLine(in); got != want {
			t.Errorf("lastLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPortTaken(t *testing.T) {
	p := t.TempDir() + "/log"
	if err := os.WriteFile(p, []byte("listen tcp 127.0.0.1:1: bind: address already in use\nretrying\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !portTaken(p, 0) {
		t.Error("portTaken missed the message")
	}
	if portTaken(p, int64(len("listen tcp 127.0.0.1:1: bind: address already in use\n"))) {
		t.Error("portTaken looked before the offset")
	}
}

func TestShortSkips(t *testing.T) {
	if !testing.Short() {
		t.Skip("checks -short behaviour")
	}
	for name, start := range map[string]func(testing.TB){
		"S3":    func(t testing.TB) { S3(t) },
		"Azure": func(t testing.TB) { Azure(t) },
		"MySQL": func(t testing.TB) { MySQL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			start(t)
			t.Fatal("not skipped under -short")
		})
	}
}
