package manager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/status"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// Compact runs `tidb-backup-manager compact`: BR turns the storage description into the
// base64 form tikv-ctl takes, then tikv-ctl compacts the log backup between startTs and endTs,
// reporting progress in its JSON log, which becomes status.progress.
func (m *Manager) Compact(ctx context.Context, o job.CompactOptions) error {
	key := client.ObjectKey{Namespace: o.Namespace, Name: o.ResourceName}
	cb := &v1alpha1.CompactBackup{}
	if err := m.Client.Get(ctx, key, cb); err != nil {
		return fmt.Errorf("compact %s: read the CompactBackup: %w", key, err)
	}
	mm := *m
	mm.Log = m.Log.WithValues("compactbackup", key.String())
	c := &compactRun{m: &mm, key: key, cb: cb}
	return c.run(ctx)
}

type compactRun struct {
	m   *Manager
	key client.ObjectKey
	cb  *v1alpha1.CompactBackup
}

func (c *compactRun) run(ctx context.Context) error {
	var options []string
	if c.cb.Spec.BR != nil {
		options = c.cb.Spec.BR.Options
	}
	loc, err := storage.FromProvider(c.cb.Spec.StorageProvider, options)
	if err != nil {
		return c.fail(ctx, fmt.Errorf("storage: %w", err))
	}
	if err := c.state(ctx, v1alpha1.CompactStatePrepare, status.CompactFields{}); err != nil {
		return err
	}
	var stdout strings.Builder
	var mu sync.Mutex
	err = c.m.runTool(ctx, tool{path: c.m.BRPath, args: brcmd.Base64ify(loc), secrets: []string{loc.SASToken}, quiet: true}, func(line string) {
		mu.Lock()
		defer mu.Unlock()
		stdout.WriteString(line)
		stdout.WriteByte('\n')
	}, nil)
	if err != nil {
		return c.fail(ctx, fmt.Errorf("br operator base64ify: %w", err))
	}
	mu.Lock()
	b64, err := brlog.ParseBase64ify(stdout.String())
	mu.Unlock()
	if err != nil {
		return c.fail(ctx, fmt.Errorf("br operator base64ify: %w", err))
	}
	args, err := brcmd.CompactLog(c.cb, b64)
	if err != nil {
		return c.fail(ctx, err)
	}
	if err := c.state(ctx, v1alpha1.CompactStateRunning, status.CompactFields{}); err != nil {
		return err
	}
	return c.compact(ctx, args, []string{b64, loc.SASToken})
}

// compact runs tikv-ctl and follows its log: progress at most once per ProgressInterval, the
// end TS and any error it reports.
func (c *compactRun) compact(ctx context.Context, args, secrets []string) error {
	w := startLatest(func(p string) {
		if err := c.update(ctx, status.SetCompactState(v1alpha1.CompactStateRunning, status.CompactFields{Progress: p})); err != nil {
			c.m.Log.Error(err, "could not record progress", "progress", p)
		}
	})
	th := brlog.NewThrottle(c.m.ProgressInterval, c.m.Clock, w.put)
	var (
		mu      sync.Mutex
		last    brlog.CompactEvent
		toolErr string
	)
	// The base64 storage holds the credentials BR put in it: never shown.
	err := c.m.runTool(ctx, tool{path: c.m.TiKVCtlPath, args: args, secrets: secrets}, nil, func(line string) {
		ev, ok := brlog.ParseCompactLog(line)
		if !ok {
			return
		}
		mu.Lock()
		// Compactions run concurrently (-N) and report in no TS order: the end is the
		// largest input TS seen, as v1.6 kept it.
		last.EndTs = max(last.EndTs, ev.EndTs)
		if ev.Done {
			last.Done = true
		}
		if ev.Err != "" {
			toolErr = ev.Err
		}
		mu.Unlock()
		if ev.Progress != "" {
			th.Offer(ev.Progress)
		}
	})
	th.Flush()
	w.stop()
	mu.Lock()
	defer mu.Unlock()
	if err == nil && toolErr != "" {
		err = errors.New(toolErr)
	}
	if err != nil {
		return c.fail(ctx, fmt.Errorf("tikv-ctl compact-log-backup: %w", err))
	}
	fields := status.CompactFields{Message: "compaction finished"}
	if last.EndTs != 0 {
		fields.EndTs = fmt.Sprint(last.EndTs)
	}
	return c.state(ctx, v1alpha1.CompactStateComplete, fields)
}

func (c *compactRun) state(ctx context.Context, s v1alpha1.CompactState, fields status.CompactFields) error {
	if err := c.update(ctx, status.SetCompactState(s, fields)); err != nil {
		return fmt.Errorf("compact %s: record %s: %w", c.key, s, err)
	}
	return nil
}

func (c *compactRun) fail(ctx context.Context, cause error) error {
	return c.m.recordFailure(ctx, "compact", c.key, cause, func(ctx context.Context, message string) error {
		return c.state(ctx, v1alpha1.CompactStateFailed, status.CompactFields{Message: message})
	})
}

func (c *compactRun) update(ctx context.Context, mutate func(*v1alpha1.CompactBackup) bool) error {
	return update(ctx, c.m.Client, c.key, &v1alpha1.CompactBackup{}, mutate)
}
