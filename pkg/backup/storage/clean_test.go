package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// fakeBucket is an in-memory store shaped like the real ones: a flat key space in which the
// Bucket sees only its prefix folder, listings capped per request, deletes in batches of
// maxBatch, and hooks that make requests fail.
type fakeBucket struct {
	loc       Location
	maxBatch  int
	listLimit int // most objects one List returns, like S3's 1000

	// listErr and deleteErr, when set, may fail the n-th call (1-based) of their kind.
	listErr   func(n int) error
	deleteErr func(n int, keys []string) error
	// onDelete runs after a successful delete, with the store locked.
	onDelete func(f *fakeBucket, n int)

	mu          sync.Mutex
	objects     map[string]bool // full keys
	listCalls   int
	deleteCalls int
	batchSizes  []int
	deleted     []string // full keys
	inFlight    int
	maxInFlight int
}

func newFake(prefix string, maxBatch int, keys ...string) *fakeBucket {
	f := &fakeBucket{
		loc:      Location{Type: v1alpha1.BackupStorageTypeS3, Bucket: "bucket", Prefix: prefix},
		maxBatch: maxBatch, listLimit: 1000, objects: map[string]bool{},
	}
	for _, k := range keys {
		f.objects[k] = true
	}
	return f
}

// manyKeys is n keys under prefix, in no particular order.
func manyKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s/%d/%05d.sst", prefix, i%7, i)
	}
	return keys
}

func (f *fakeBucket) List(ctx context.Context, cursor string, pageSize int) ([]Object, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls++
	if f.listErr != nil {
		if err := f.listErr(f.listCalls); err != nil {
			return nil, "", err
		}
	}
	var keys []string
	for k := range f.objects {
		if rel, ok := strings.CutPrefix(k, f.loc.Prefix+"/"); ok && rel > cursor {
			keys = append(keys, rel)
		}
	}
	sort.Strings(keys)
	n := min(pageSize, f.listLimit)
	next := ""
	if len(keys) > n {
		keys, next = keys[:n], keys[n-1]
	}
	objs := make([]Object, len(keys))
	for i, k := range keys {
		objs[i] = Object{Key: k, Size: 1}
	}
	return objs, next, nil
}

func (f *fakeBucket) Delete(ctx context.Context, keys []string) error {
	f.mu.Lock()
	f.deleteCalls++
	n := f.deleteCalls
	f.batchSizes = append(f.batchSizes, len(keys))
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()

	time.Sleep(time.Millisecond) // long enough for concurrent batches to overlap
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if len(keys) > f.maxBatch {
		return fmt.Errorf("a batch of %d keys, more than %d", len(keys), f.maxBatch)
	}
	if f.deleteErr != nil {
		if err := f.deleteErr(n, keys); err != nil {
			return err
		}
	}
	for _, k := range keys {
		full := f.loc.Prefix + "/" + k
		delete(f.objects, full)
		f.deleted = append(f.deleted, full)
	}
	if f.onDelete != nil {
		f.onDelete(f, n)
	}
	return nil
}

func (f *fakeBucket) Get(context.Context, string) ([]byte, error) { return nil, ErrNotFound }
func (f *fakeBucket) Put(context.Context, string, []byte) error   { return nil }
func (f *fakeBucket) MaxDeleteBatch() int                         { return f.maxBatch }
func (f *fakeBucket) CredentialSource() string                    { return "the test" }
func (f *fakeBucket) Location() Location                          { return f.loc }
func (f *fakeBucket) Close() error                                { return nil }

func (f *fakeBucket) left() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sleeps records the waits of a clean instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func runClean(t *testing.T, b Bucket, opt v1alpha1.CleanOption) (CleanStats, *sleeps, error) {
	t.Helper()
	c := newCleaner(b, opt, logr.Discard())
	s := &sleeps{}
	c.sleep = s.sleep
	stats, err := c.run(context.Background())
	return stats, s, err
}

func TestCleanBatchesAndBoundsConcurrency(t *testing.T) {
	cases := map[string]struct {
		maxBatch, objects int
		opt               v1alpha1.CleanOption
		wantBatch         int // the largest batch
		wantConcurrency   int // the most deletes at once allowed
		wantRequests      int
	}{
		"S3 deletes 1000 keys a request, 10 requests at once by default": {
			maxBatch: 1000, objects: 25000, wantBatch: 1000, wantConcurrency: 10,
			// pages of 10000: 10+10+5 lists of 1000, 10+10+5 deletes, one verifying list
			wantRequests: 25 + 25 + 1,
		},
		"S3 with a batch concurrency of 2": {
			maxBatch: 1000, objects: 5500, opt: v1alpha1.CleanOption{BatchDeleteOption: v1alpha1.BatchDeleteOption{BatchConcurrency: 2}},
			wantBatch: 1000, wantConcurrency: 2, wantRequests: 6 + 6 + 1,
		},
		"S3 with batches disabled deletes one key a request, routine concurrency at once": {
			maxBatch: 1000, objects: 300,
			opt:       v1alpha1.CleanOption{BatchDeleteOption: v1alpha1.BatchDeleteOption{DisableBatchConcurrency: true, BatchConcurrency: 50, RoutineConcurrency: 7}},
			wantBatch: 1, wantConcurrency: 7, wantRequests: 1 + 300 + 1,
		},
		"a per-object store deletes 100 objects at once by default": {
			maxBatch: 1, objects: 450, wantBatch: 1, wantConcurrency: 100, wantRequests: 1 + 450 + 1,
		},
		"a per-object store with a routine concurrency of 4 and small pages": {
			maxBatch: 1, objects: 45, opt: v1alpha1.CleanOption{PageSize: 10, BatchDeleteOption: v1alpha1.BatchDeleteOption{RoutineConcurrency: 4}},
			wantBatch: 1, wantConcurrency: 4, wantRequests: 5 + 45 + 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake("backup-1", tc.maxBatch, manyKeys("backup-1", tc.objects)...)
			stats, _, err := runClean(t, f, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if left := f.left(); len(left) != 0 {
				t.Fatalf("%d objects left", len(left))
			}
			if stats.Deleted != tc.objects || stats.Rounds != 1 || stats.Requests != tc.wantRequests {
				t.Errorf("stats %+v, want %d deleted, 1 round, %d requests", stats, tc.objects, tc.wantRequests)
			}
			if f.listCalls+f.deleteCalls != stats.Requests {
				t.Errorf("the store saw %d requests, the stats say %d", f.listCalls+f.deleteCalls, stats.Requests)
			}
			if largest := max(0, maxOf(f.batchSizes)); largest != tc.wantBatch {
				t.Errorf("largest batch %d, want %d", largest, tc.wantBatch)
			}
			if f.maxInFlight > tc.wantConcurrency {
				t.Errorf("%d deletes at once, want at most %d", f.maxInFlight, tc.wantConcurrency)
			}
			if f.maxInFlight < 2 && tc.wantConcurrency > 1 {
				t.Errorf("deletes never overlapped: the concurrency is not used")
			}
		})
	}
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func TestCleanDeletesNothingOutsideThePrefix(t *testing.T) {
	siblings := []string{"backup-10/backupmeta", "backup-10/1/a.sst", "backup-1.log", "backup-1", "other/backup-1/x", "backup-2/backup-1/y"}
	f := newFake("backup-1", 1000, append(manyKeys("backup-1", 2100), siblings...)...)
	f.listLimit = 333
	stats, _, err := runClean(t, f, v1alpha1.CleanOption{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(siblings)
	if left := f.left(); strings.Join(left, ",") != strings.Join(siblings, ",") {
		t.Fatalf("left %v, want exactly %v", left, siblings)
	}
	for _, k := range f.deleted {
		if !strings.HasPrefix(k, "backup-1/") {
			t.Fatalf("deleted %q, outside backup-1/", k)
		}
	}
	if stats.Deleted != 2100 {
		t.Fatalf("deleted %d, want 2100", stats.Deleted)
	}
}

func TestCleanOfAnEmptyPrefixListsOnce(t *testing.T) {
	f := newFake("backup-1", 1000, "backup-10/x")
	stats, _, err := runClean(t, f, v1alpha1.CleanOption{})
	if err != nil {
		t.Fatal(err)
	}
	if stats != (CleanStats{Requests: 1, Rounds: 1}) {
		t.Fatalf("stats %+v, want one listing and nothing else", stats)
	}
}

func TestCleanRefusesUnsafePrefixesWithoutARequest(t *testing.T) {
	for _, prefix := range []string{"", "/", "a/../b", "a//b"} {
		f := newFake(prefix, 1000, "a/x", "b/y")
		_, _, err := runClean(t, f, v1alpha1.CleanOption{})
		if !errors.Is(err, ErrUnsafePrefix) {
			t.Fatalf("prefix %q: Clean = %v, want ErrUnsafePrefix", prefix, err)
		}
		if f.listCalls+f.deleteCalls != 0 {
			t.Fatalf("prefix %q: %d requests made", prefix, f.listCalls+f.deleteCalls)
		}
	}
}

func TestCleanRetries(t *testing.T) {
	transient := fmt.Errorf("delete: %w: connection reset", ErrTransient)
	throttled := fmt.Errorf("delete: %w: SlowDown", ErrThrottled)
	cases := map[string]struct {
		opt        v1alpha1.CleanOption
		listErr    func(n int) error
		deleteErr  func(n int, keys []string) error
		wantRounds int
		// wantWaits checks the waits between attempts.
		wantWaits func(t *testing.T, waits []time.Duration)
	}{
		"a transient delete error is retried with growing waits within the round": {
			deleteErr:  failTimes(3, transient),
			wantRounds: 1,
			wantWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 3 || w[0] >= w[2] || w[0] < transientBackoff.initial/2 {
					t.Errorf("waits %v, want 3 growing ones", w)
				}
			},
		},
		"a transient list error is retried within the round": {
			listErr: func(n int) error {
				if n == 1 {
					return transient
				}
				return nil
			},
			wantRounds: 1,
			wantWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 1 {
					t.Errorf("waits %v, want 1", w)
				}
			},
		},
		"throttling without backoffEnabled fails the round, and the next round finishes": {
			deleteErr: func(n int, _ []string) error {
				if n == 1 {
					return throttled
				}
				return nil
			},
			wantRounds: 2,
			wantWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 1 || w[0] != roundBackoff.initial {
					t.Errorf("waits %v, want only the one between rounds", w)
				}
			},
		},
		"throttling with backoffEnabled backs off within the round": {
			opt:        v1alpha1.CleanOption{BackoffEnabled: true},
			deleteErr:  failTimes(2, throttled),
			wantRounds: 1,
			wantWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 2 || w[0] < throttleBackoff.initial/2 {
					t.Errorf("waits %v, want 2 of at least %v", w, throttleBackoff.initial/2)
				}
			},
		},
		"a failure that is neither transient nor throttling is left to the next round": {
			deleteErr: func(n int, _ []string) error {
				if n == 2 {
					return errors.New("delete: InvalidRequest")
				}
				return nil
			},
			wantRounds: 2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFake("backup-1", 1000, manyKeys("backup-1", 3000)...)
			f.listErr, f.deleteErr = tc.listErr, tc.deleteErr
			stats, s, err := runClean(t, f, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if left := f.left(); len(left) != 0 {
				t.Fatalf("%d objects left", len(left))
			}
			if stats.Rounds != tc.wantRounds {
				t.Errorf("%d rounds, want %d", stats.Rounds, tc.wantRounds)
			}
			if f.listCalls+f.deleteCalls != stats.Requests {
				t.Errorf("the store saw %d requests, the stats say %d", f.listCalls+f.deleteCalls, stats.Requests)
			}
			if tc.wantWaits != nil {
				tc.wantWaits(t, s.all())
			}
		})
	}
}

// failTimes fails the deletes of the batch holding the first key the first n times.
func failTimes(n int, err error) func(int, []string) error {
	var mu sync.Mutex
	failed := 0
	return func(_ int, keys []string) error {
		mu.Lock()
		defer mu.Unlock()
		if slices.Contains(keys, "0/00000.sst") && failed < n {
			failed++
			return err
		}
		return nil
	}
}

func TestCleanGivesUpAfterRetryCountRounds(t *testing.T) {
	f := newFake("backup-1", 1000, manyKeys("backup-1", 10)...)
	f.deleteErr = func(int, []string) error { return errors.New("delete: object locked") }
	stats, s, err := runClean(t, f, v1alpha1.CleanOption{RetryCount: 3})
	if err == nil || !strings.Contains(err.Error(), "object locked") || !strings.Contains(err.Error(), "3 of 3 rounds") {
		t.Fatalf("Clean = %v, want the last failure after 3 rounds", err)
	}
	if stats.Rounds != 3 || len(s.all()) != 2 {
		t.Fatalf("stats %+v with %d waits, want 3 rounds with 2 waits between them", stats, len(s.all()))
	}

	f = newFake("backup-1", 1000, manyKeys("backup-1", 10)...)
	f.deleteErr = func(int, []string) error { return errors.New("delete: object locked") }
	if stats, _, _ := runClean(t, f, v1alpha1.CleanOption{}); stats.Rounds != defaultRetryCount {
		t.Fatalf("%d rounds, want the default %d", stats.Rounds, defaultRetryCount)
	}
}

func TestCleanStopsAtOnceOnRefusedCredentials(t *testing.T) {
	f := newFake("backup-1", 1, manyKeys("backup-1", 5000)...)
	f.deleteErr = func(int, []string) error {
		return fmt.Errorf("delete x from s3://bucket/backup-1: %w (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the Job's environment)", ErrCredentials)
	}
	stats, s, err := runClean(t, f, v1alpha1.CleanOption{BatchDeleteOption: v1alpha1.BatchDeleteOption{RoutineConcurrency: 10}})
	if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("Clean = %v, want ErrCredentials naming the source", err)
	}
	if stats.Rounds != 1 || len(s.all()) != 0 {
		t.Fatalf("stats %+v, waits %v: want one round and no retry", stats, s.all())
	}
	if f.deleteCalls > 20 {
		t.Fatalf("%d deletes sent after the credentials were refused", f.deleteCalls)
	}
}

func TestCleanVerifiesThatNothingIsLeft(t *testing.T) {
	f := newFake("backup-1", 1000, manyKeys("backup-1", 1500)...)
	// BR still writing: an object appears behind the listing's cursor during the first round.
	f.onDelete = func(f *fakeBucket, n int) {
		if n == 1 {
			f.objects["backup-1/0-late-file"] = true
		}
	}
	stats, _, err := runClean(t, f, v1alpha1.CleanOption{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Rounds != 2 || stats.Deleted != 1501 || len(f.left()) != 0 {
		t.Fatalf("stats %+v, left %v: want the late object found by the check and deleted in round 2", stats, f.left())
	}

	f = newFake("backup-1", 1000, manyKeys("backup-1", 10)...)
	f.onDelete = func(f *fakeBucket, n int) { f.objects[fmt.Sprintf("backup-1/late-%d", n)] = true }
	if _, _, err = runClean(t, f, v1alpha1.CleanOption{RetryCount: 2}); err == nil || !strings.Contains(err.Error(), "still under") {
		t.Fatalf("Clean = %v, want a report of the objects left", err)
	}
}

func TestCleanStopsWhenCancelled(t *testing.T) {
	f := newFake("backup-1", 1000, manyKeys("backup-1", 10)...)
	f.deleteErr = func(int, []string) error { return errors.New("delete: locked") }
	ctx, cancel := context.WithCancel(context.Background())
	c := newCleaner(f, v1alpha1.CleanOption{}, logr.Discard())
	c.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return context.Canceled }
	stats, err := c.run(ctx)
	if !errors.Is(err, context.Canceled) || stats.Rounds != 1 {
		t.Fatalf("Clean = %+v, %v; want it to stop after the first round", stats, err)
	}
}

func TestSummarizeKeepsPermanentErrorsVisible(t *testing.T) {
	errs := []error{errors.New("a"), errors.New("b"), errors.New("c"), errors.New("d"), fmt.Errorf("e: %w", ErrCredentials)}
	err := summarize(errs)
	if !errors.Is(err, ErrCredentials) || err.Error() != "5 deletions failed: e: storage credentials refused or missing; a; b; and 2 more" {
		t.Fatalf("summarize = %v, want the credentials error kept and first", err)
	}
}

func TestBackoffGrowsToItsCap(t *testing.T) {
	b := backoff{initial: time.Second, max: 5 * time.Second}
	var got []time.Duration
	for i := 1; i <= 5; i++ {
		got = append(got, b.delay(i))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	for range 100 {
		if d := jitter(time.Second); d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jitter(1s) = %v, want within [0.5s, 1s]", d)
		}
	}
}
