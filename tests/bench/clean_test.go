package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/tests/backupenv"
)

// cleanObjects is how many objects BenchmarkCleanS3 deletes; BENCH_CLEAN_OBJECTS overrides it
// for a quicker look.
func cleanObjects(b *testing.B) int {
	n := 100_000
	if v := os.Getenv("BENCH_CLEAN_OBJECTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("BENCH_CLEAN_OBJECTS=%q is not a positive number", v)
		}
	}
	return n
}

// BenchmarkCleanS3 measures the backup-manager's clean (storage.Clean: listing pages and
// DeleteObjects batches of 1,000 with bounded concurrency) on a real S3 server (versitygw) over
// as many objects as a large backup has, against the naive way, one DeleteObject call per
// object through the same SDK. It reports each one's wall time and request count and the
// speed-up.
func BenchmarkCleanS3(b *testing.B) {
	n := cleanObjects(b)
	srv := backupenv.S3(b)
	const bucket = "bench"
	srv.CreateBucket(b, bucket)
	cli := srv.Client()
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		prefix := fmt.Sprintf("batched-%d", i)
		populate(ctx, b, cli, bucket, prefix, n)
		loc := storage.Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: bucket, Prefix: prefix, Region: srv.Region, Endpoint: srv.Endpoint, Provider: "ceph"}
		bk, err := storage.Open(ctx, loc, storage.MapEnv(map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		stats, err := storage.Clean(ctx, bk, v1alpha1.CleanOption{}, logr.Discard())
		batched := time.Since(start)
		_ = bk.Close()
		if err != nil {
			b.Fatalf("clean: %v", err)
		}
		if stats.Deleted != n {
			b.Fatalf("clean deleted %d objects, want %d", stats.Deleted, n)
		}

		prefix = fmt.Sprintf("one-by-one-%d", i)
		populate(ctx, b, cli, bucket, prefix, n)
		start = time.Now()
		naiveRequests := deleteOneByOne(ctx, b, cli, bucket, prefix)
		naive := time.Since(start)

		b.ReportMetric(batched.Seconds(), "clean-s")
		b.ReportMetric(float64(stats.Requests), "clean-requests")
		b.ReportMetric(naive.Seconds(), "one-by-one-s")
		b.ReportMetric(float64(naiveRequests), "one-by-one-requests")
		b.ReportMetric(naive.Seconds()/batched.Seconds(), "speedup-x")
		b.Logf("%d objects: clean %s in %d requests; one by one %s in %d requests (%.1f× faster)",
			n, batched.Round(time.Millisecond), stats.Requests, naive.Round(time.Millisecond), naiveRequests, naive.Seconds()/batched.Seconds())
	}
}

// populate writes n small objects under prefix, shaped like a backup (sst files and metadata in
// a few folders), with enough parallel writers to fill the server quickly.
func populate(ctx context.Context, b *testing.B, cli *s3.Client, bucket, prefix string, n int) {
	b.Helper()
	const writers = 32
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				key := fmt.Sprintf("%s/%d/%05d_%d_write.sst", prefix, i%16, i, i*7)
				_, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x")})
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		b.Fatalf("populate %s: %v", prefix, failed)
	}
}

// deleteOneByOne lists the prefix and deletes each object with its own request, in order, the
// way a simple clean would; it returns the number of requests.
func deleteOneByOne(ctx context.Context, b *testing.B, cli *s3.Client, bucket, prefix string) int {
	b.Helper()
	requests := 0
	p := s3.NewListObjectsV2Paginator(cli, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		requests++
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range page.Contents {
			if _, err := cli.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
				b.Fatal(err)
			}
			requests++
		}
	}
	return requests
}
