package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// CleanStats says what a Clean did; the benchmark reports it.
type CleanStats struct {
	// Deleted counts the objects of the delete requests that succeeded.
	Deleted int
	// Requests counts the calls to the store, List and Delete, retries included (each call is
	// one request; the SDKs' own retries inside a call are not seen).
	Requests int
	// Rounds counts the passes over the prefix.
	Rounds int
}

// Defaults where spec.cleanOption leaves a field zero, v1.6's.
const (
	defaultPageSize           = 10000
	defaultRetryCount         = 5
	defaultBatchConcurrency   = 10
	defaultRoutineConcurrency = 100
)

// backoff is an exponential backoff: wait initial, then twice as long each time up to max, for
// at most attempts tries in all.
type backoff struct {
	initial, max time.Duration
	attempts     int
}

func (b backoff) delay(retry int) time.Duration {
	d := float64(b.initial) * math.Pow(2, float64(retry-1))
	return time.Duration(min(d, float64(b.max)))
}

var (
	// transientBackoff retries a request that failed on the way: a reset, a timeout, a 500.
	transientBackoff = backoff{initial: 200 * time.Millisecond, max: 5 * time.Second, attempts: 5}
	// throttleBackoff gives a store that asks for fewer requests time to recover; only with
	// spec.cleanOption.backoffEnabled, as in v1.6.
	throttleBackoff = backoff{initial: time.Second, max: 30 * time.Second, attempts: 8}
	// roundBackoff spaces the passes over the prefix.
	roundBackoff = backoff{initial: time.Second, max: 30 * time.Second}
)

// Clean deletes every object under the Bucket's prefix and then checks that none is left.
//
// It refuses a prefix CheckPrefix refuses. Keys come only from listing this Bucket, so nothing
// outside the prefix folder is ever deleted. It lists pages of opt.PageSize objects and deletes
// each page in batches of b.MaxDeleteBatch() keys, opt.BatchConcurrency batches at once for a
// store with batch deletes (S3) or opt.RoutineConcurrency single deletes at once for the others
// (and for S3 with opt.DisableBatchConcurrency). A request that fails transiently is retried
// with exponential backoff, and so is one the store throttled when opt.BackoffEnabled. A pass
// that still fails is repeated, up to opt.RetryCount passes; refused credentials, a missing
// bucket and a bucket in another region end the clean at once.
func Clean(ctx context.Context, b Bucket, opt v1alpha1.CleanOption, log logr.Logger) (CleanStats, error) {
	c := newCleaner(b, opt, log)
	return c.run(ctx)
}

// cleaner is one Clean: its settings, its counters, and the sleep tests replace.
type cleaner struct {
	b                 Bucket
	log               logr.Logger
	pageSize          int
	rounds            int
	batch             int
	concurrency       int
	backoffOnThrottle bool
	sleep             func(ctx context.Context, d time.Duration) error

	requests atomic.Int64
	deleted  atomic.Int64
}

func newCleaner(b Bucket, opt v1alpha1.CleanOption, log logr.Logger) *cleaner {
	c := &cleaner{
		b: b, log: log, backoffOnThrottle: opt.BackoffEnabled, sleep: sleepCtx,
		pageSize: defaultPageSize, rounds: defaultRetryCount,
		batch: max(b.MaxDeleteBatch(), 1), concurrency: defaultBatchConcurrency,
	}
	if opt.PageSize > 0 {
		c.pageSize = int(min(opt.PageSize, math.MaxInt32))
	}
	if opt.RetryCount > 0 {
		c.rounds = opt.RetryCount
	}
	if opt.BatchConcurrency > 0 {
		c.concurrency = int(opt.BatchConcurrency)
	}
	if opt.DisableBatchConcurrency {
		c.batch = 1
	}
	if c.batch == 1 {
		c.concurrency = defaultRoutineConcurrency
		if opt.RoutineConcurrency > 0 {
			c.concurrency = int(opt.RoutineConcurrency)
		}
	}
	return c
}

func (c *cleaner) run(ctx context.Context) (CleanStats, error) {
	loc := c.b.Location()
	if err := CheckPrefix(loc); err != nil {
		return CleanStats{}, fmt.Errorf("clean %s: %w", loc.Redacted(), err)
	}
	c.log.Info("cleaning backup data", "location", loc.Redacted(), "pageSize", c.pageSize,
		"batch", c.batch, "concurrency", c.concurrency, "rounds", c.rounds, "backoffOnThrottle", c.backoffOnThrottle)
	var err error
	round := 0
	for round < c.rounds {
		round++
		if err = c.pass(ctx); err == nil || permanent(err) || round == c.rounds {
			break
		}
		delay := roundBackoff.delay(round)
		c.log.Info("clean round failed, retrying", "round", round, "after", delay.String(), "error", err.Error())
		if serr := c.sleep(ctx, delay); serr != nil {
			err = errorList{err, serr}
			break
		}
	}
	stats := CleanStats{Deleted: int(c.deleted.Load()), Requests: int(c.requests.Load()), Rounds: round}
	if err != nil {
		return stats, fmt.Errorf("clean %s: gave up after %d of %d rounds: %w", loc.Redacted(), round, c.rounds, err)
	}
	c.log.Info("cleaned backup data", "location", loc.Redacted(), "deleted", stats.Deleted, "requests", stats.Requests, "rounds", stats.Rounds)
	return stats, nil
}

// permanent reports an error no retry can fix: refused credentials, a missing bucket, a bucket
// in another region, an unsafe key, or the clean being cancelled.
func permanent(err error) bool {
	return errors.Is(err, ErrCredentials) || errors.Is(err, ErrBucketNotFound) || errors.Is(err, ErrWrongRegion) || errors.Is(err, ErrUnsafePrefix) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// pass lists the prefix page by page and deletes each page, listing the next page while the
// current one is deleted (a listing is a round trip the deletions need not wait for); the
// cursor stays valid while the objects before it go. Failed batches do not stop the pass, so
// that one bad object does not keep the rest; they fail it at the end. An empty first listing
// needs no further check, any other pass ends by listing the prefix again.
func (c *cleaner) pass(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel() // stops the lister when deleting ends early
	pages := c.listAhead(ctx)
	var failures []error
	seen := false
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		seen = seen || len(p.keys) > 0
		if errs := c.deletePage(ctx, p.keys); len(errs) > 0 {
			failures = append(failures, errs...)
			if permanent(errorList(errs)) {
				break
			}
		}
	}
	if len(failures) > 0 {
		return summarize(failures)
	}
	if err := parent.Err(); err != nil {
		return err
	}
	if !seen {
		return nil
	}
	return c.verify(parent)
}

// listed is one page of keys, or the error that ended the listing.
type listed struct {
	keys []string
	err  error
}

// listAhead lists the prefix in pages into a channel that holds one page, so that at most one
// page is listed ahead of the deletions. The channel is closed after the last page, after an
// error (sent as the last item) or when ctx ends.
func (c *cleaner) listAhead(ctx context.Context) <-chan listed {
	pages := make(chan listed, 1)
	go func() {
		defer close(pages)
		cursor := ""
		for {
			keys, next, err := c.listPage(ctx, cursor)
			select {
			case pages <- listed{keys: keys, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || next == "" {
				return
			}
			cursor = next
		}
	}()
	return pages
}

// listPage lists until it has pageSize objects or the listing ends: stores return at most 1000
// or 5000 objects per request, and a page is what the deletes of one step share.
func (c *cleaner) listPage(ctx context.Context, cursor string) ([]string, string, error) {
	var keys []string
	for len(keys) < c.pageSize {
		var objs []Object
		var next string
		err := c.retry(ctx, func() error {
			var err error
			objs, next, err = c.b.List(ctx, cursor, c.pageSize-len(keys))
			return err
		})
		if err != nil {
			return nil, "", err
		}
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		cursor = next
		if next == "" {
			break
		}
	}
	return keys, cursor, nil
}

// deletePage deletes the keys in batches, c.concurrency batches at once, and returns the errors
// of the batches that failed. After a permanent error no further batch is started.
func (c *cleaner) deletePage(parent context.Context, keys []string) []error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, c.concurrency)
	)
	for start := 0; start < len(keys) && ctx.Err() == nil; start += c.batch {
		batch := keys[start:min(start+c.batch, len(keys))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := c.retry(ctx, func() error { return c.b.Delete(ctx, batch) })
			if err == nil {
				c.deleted.Add(int64(len(batch)))
				return
			}
			if errors.Is(err, context.Canceled) && parent.Err() == nil {
				return // stopped by another batch's permanent error, which is reported
			}
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			if permanent(err) {
				cancel()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		c.log.Info("some deletions failed", "location", c.b.Location().Redacted(), "failedBatches", len(errs), "first", errs[0].Error())
	} else if len(keys) > 0 {
		c.log.V(1).Info("deleted a page", "objects", len(keys), "deletedSoFar", c.deleted.Load())
	}
	return errs
}

// verify lists the prefix once more: objects written during the pass, or a store that listed
// fewer than it had, must not let a clean pass for done.
func (c *cleaner) verify(ctx context.Context) error {
	var objs []Object
	err := c.retry(ctx, func() error {
		var err error
		objs, _, err = c.b.List(ctx, "", 1)
		return err
	})
	if err != nil {
		return err
	}
	if len(objs) > 0 {
		return fmt.Errorf("objects are still under %s after deleting, for example %q", c.b.Location().Redacted(), objs[0].Key)
	}
	return nil
}

// retry calls do, one request each time, until it succeeds or fails in a way that waiting does
// not fix.
func (c *cleaner) retry(ctx context.Context, do func() error) error {
	for attempt := 1; ; attempt++ {
		c.requests.Add(1)
		err := do()
		if err == nil {
			return nil
		}
		var bo backoff
		switch {
		case errors.Is(err, ErrCredentials), errors.Is(err, ErrBucketNotFound):
			return err
		case errors.Is(err, ErrTransient):
			bo = transientBackoff
		case errors.Is(err, ErrThrottled) && c.backoffOnThrottle:
			bo = throttleBackoff
		default:
			return err
		}
		if attempt >= bo.attempts {
			return err
		}
		c.log.V(1).Info("retrying a storage request", "attempt", attempt, "error", err.Error())
		if serr := c.sleep(ctx, jitter(bo.delay(attempt))); serr != nil {
			return errorList{err, serr}
		}
	}
}

// jitter spreads the retries of concurrent deletions over [d/2, d), so that they do not hit a
// throttling store again all at once.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// summarize makes one error of the failures of a pass, permanent ones first so that they are
// shown and run sees what must stop the clean.
func summarize(errs []error) error {
	slices.SortStableFunc(errs, func(a, b error) int {
		switch pa, pb := permanent(a), permanent(b); {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		default:
			return 0
		}
	})
	return fmt.Errorf("%d deletions failed: %w", len(errs), errorList(errs))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
