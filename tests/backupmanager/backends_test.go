package backupmanager

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/iterator"
	corev1 "k8s.io/api/core/v1"

	gcs "cloud.google.com/go/storage"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/backupenv"
)

// backend is one kind of storage with a running server: how a spec names it, what the Job's
// environment carries for it, and how the test inspects it with the provider's own SDK (never
// through the code under test).
type backend struct {
	name string
	// provider returns the storage provider of a backup under prefix.
	provider func(prefix string) v1alpha1.StorageProvider
	// brOptions are the spec.br.options a user of this store writes (service endpoints).
	brOptions []string
	// env is the credential environment the operator would give the Job.
	env env
	// secret is a credential value that must never appear in output or status.
	secret string
	// keys lists every object key under prefix ("" = the whole bucket), sorted.
	keys func(ctx context.Context, t *testing.T, prefix string) []string
	// put writes an object; get reads one.
	put func(ctx context.Context, t *testing.T, key string, data []byte)
	get func(ctx context.Context, t *testing.T, key string) []byte
	// statusPath is status.backupPath for prefix.
	statusPath func(prefix string) string
}

const bucketName = "backups"

func s3Backend(t *testing.T) backend {
	srv := backupenv.S3(t)
	srv.CreateBucket(t, bucketName)
	cli := srv.Client()
	return backend{
		name: "s3",
		provider: func(prefix string) v1alpha1.StorageProvider {
			return v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{
				Provider: v1alpha1.S3StorageProviderTypeCeph, Region: srv.Region, Endpoint: srv.Endpoint,
				Bucket: bucketName, Prefix: prefix, SecretName: "s3-secret",
			}}
		},
		env:    env{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey},
		secret: srv.SecretKey,
		keys: func(ctx context.Context, t *testing.T, prefix string) []string {
			t.Helper()
			var keys []string
			p := s3.NewListObjectsV2Paginator(cli, &s3.ListObjectsV2Input{Bucket: aws.String(bucketName), Prefix: aws.String(prefix)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("list s3://%s/%s: %v", bucketName, prefix, err)
				}
				for _, o := range page.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
			}
			sort.Strings(keys)
			return keys
		},
		put: func(ctx context.Context, t *testing.T, key string, data []byte) {
			t.Helper()
			if _, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key), Body: strings.NewReader(string(data))}); err != nil {
				t.Fatalf("put s3 %s: %v", key, err)
			}
		},
		get: func(ctx context.Context, t *testing.T, key string) []byte {
			t.Helper()
			out, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("get s3 %s: %v", key, err)
			}
			defer out.Body.Close()
			data, err := io.ReadAll(out.Body)
			if err != nil {
				t.Fatalf("get s3 %s: %v", key, err)
			}
			return data
		},
		statusPath: func(prefix string) string { return "s3://" + bucketName + "/" + prefix },
	}
}

func gcsBackend(t *testing.T) backend {
	srv := backupenv.GCS(t)
	srv.CreateBucket(t, bucketName)
	cli := srv.Client()
	return backend{
		name: "gcs",
		provider: func(prefix string) v1alpha1.StorageProvider {
			return v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{
				ProjectID: "test-project", Bucket: bucketName, Prefix: prefix,
			}}
		},
		brOptions: []string{"--gcs.endpoint=" + srv.Endpoint},
		env:       env{},
		keys: func(ctx context.Context, t *testing.T, prefix string) []string {
			t.Helper()
			var keys []string
			it := cli.Bucket(bucketName).Objects(ctx, &gcs.Query{Prefix: prefix})
			for {
				o, err := it.Next()
				if errors.Is(err, iterator.Done) {
					break
				}
				if err != nil {
					t.Fatalf("list gcs://%s/%s: %v", bucketName, prefix, err)
				}
				keys = append(keys, o.Name)
			}
			sort.Strings(keys)
			return keys
		},
		put: func(ctx context.Context, t *testing.T, key string, data []byte) {
			t.Helper()
			w := cli.Bucket(bucketName).Object(key).NewWriter(ctx)
			if _, err := w.Write(data); err != nil {
				t.Fatalf("put gcs %s: %v", key, err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("put gcs %s: %v", key, err)
			}
		},
		get: func(ctx context.Context, t *testing.T, key string) []byte {
			t.Helper()
			rd, err := cli.Bucket(bucketName).Object(key).NewReader(ctx)
			if err != nil {
				t.Fatalf("get gcs %s: %v", key, err)
			}
			defer rd.Close()
			data, err := io.ReadAll(rd)
			if err != nil {
				t.Fatalf("get gcs %s: %v", key, err)
			}
			return data
		},
		statusPath: func(prefix string) string { return "gcs://" + path.Join(bucketName, prefix) + "/" },
	}
}

func azureBackend(t *testing.T) backend {
	srv := backupenv.Azure(t)
	srv.CreateContainer(t, bucketName)
	cli := srv.Client()
	return backend{
		name: "azblob",
		provider: func(prefix string) v1alpha1.StorageProvider {
			return v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{
				Container: bucketName, Prefix: prefix, StorageAccount: srv.Account, SecretName: "azure-secret",
			}}
		},
		brOptions: []string{"--azblob.endpoint=" + srv.Endpoint},
		env:       env{"AZURE_STORAGE_ACCOUNT": srv.Account, "AZURE_STORAGE_KEY": srv.Key},
		secret:    srv.Key,
		keys: func(ctx context.Context, t *testing.T, prefix string) []string {
			t.Helper()
			var keys []string
			p := cli.NewListBlobsFlatPager(bucketName, &azblob.ListBlobsFlatOptions{Prefix: &prefix})
			for p.More() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("list azure://%s/%s: %v", bucketName, prefix, err)
				}
				for _, b := range page.Segment.BlobItems {
					keys = append(keys, *b.Name)
				}
			}
			sort.Strings(keys)
			return keys
		},
		put: func(ctx context.Context, t *testing.T, key string, data []byte) {
			t.Helper()
			if _, err := cli.UploadBuffer(ctx, bucketName, key, data, nil); err != nil {
				t.Fatalf("put azure %s: %v", key, err)
			}
		},
		get: func(ctx context.Context, t *testing.T, key string) []byte {
			t.Helper()
			res, err := cli.DownloadStream(ctx, bucketName, key, nil)
			if err != nil {
				t.Fatalf("get azure %s: %v", key, err)
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("get azure %s: %v", key, err)
			}
			return data
		},
		statusPath: func(prefix string) string { return "azure://" + path.Join(bucketName, prefix) + "/" },
	}
}

func localBackend(t *testing.T) backend {
	mount := t.TempDir()
	return backend{
		name: "local",
		provider: func(prefix string) v1alpha1.StorageProvider {
			return v1alpha1.StorageProvider{Local: &v1alpha1.LocalStorageProvider{
				Volume:      corev1.Volume{Name: "backup", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				VolumeMount: corev1.VolumeMount{Name: "backup", MountPath: mount},
				Prefix:      prefix,
			}}
		},
		env: env{},
		keys: func(_ context.Context, t *testing.T, prefix string) []string {
			t.Helper()
			var keys []string
			err := filepath.WalkDir(mount, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(mount, p)
				if strings.HasPrefix(filepath.ToSlash(rel), prefix) {
					keys = append(keys, filepath.ToSlash(rel))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("walk %s: %v", mount, err)
			}
			sort.Strings(keys)
			return keys
		},
		put: func(_ context.Context, t *testing.T, key string, data []byte) {
			t.Helper()
			p := filepath.Join(mount, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		get: func(_ context.Context, t *testing.T, key string) []byte {
			t.Helper()
			data, err := os.ReadFile(filepath.Join(mount, filepath.FromSlash(key)))
			if err != nil {
				t.Fatal(err)
			}
			return data
		},
		statusPath: func(prefix string) string { return "local://" + mount + "/" + prefix },
	}
}

// allBackends starts every storage server for a test.
func allBackends(t *testing.T) []backend {
	return []backend{s3Backend(t), gcsBackend(t), azureBackend(t), localBackend(t)}
}
