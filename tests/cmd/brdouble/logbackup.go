package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidbops/tidb-operator/pkg/backup/backupmeta"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// A log backup as the double lays it out under the prefix. The data and metadata files use
// real BR's folders (v1/<date>/<hour>/<store>/ and v1/backupmeta/) with the TS range in the
// name, so truncate and compact can select them by name. What real BR keeps in PD (the task
// and its state) the double keeps in v1/task/<name>/state, since it has no PD.
const (
	logFilesAtStart  = 4
	logFilesAtResume = 2
	// logFileSpan is the TS range one log file covers: one second.
	logFileSpan = uint64(1000) << 18
	// truncateSafepointKey is the object BR's truncate writes (BR's own spelling).
	truncateSafepointKey = "v1_stream_trancate_safepoint.txt"
)

var (
	logDataRe = regexp.MustCompile(`^v1/\d{8}/\d{2}/\d+/(\d+)-(\d+)\.log$`)
	logMetaRe = regexp.MustCompile(`^v1/backupmeta/(\d+)-(\d+)-(\d+)\.meta$`)
)

// taskState is a log backup task as PD would hold it.
type taskState struct {
	Name    string `json:"name"`
	State   string `json:"state"` // running, paused or stopped
	StartTS uint64 `json:"start_ts"`
	// CheckpointTS is where the task stood when it was paused or stopped; a running task's
	// checkpoint follows the clock.
	CheckpointTS uint64    `json:"checkpoint_ts"`
	Storage      string    `json:"storage"`
	Updated      time.Time `json:"updated"`
}

func (t taskState) checkpoint() uint64 {
	if t.State == "running" {
		return nowTSO()
	}
	return t.CheckpointTS
}

func taskKey(name string) string { return "v1/task/" + name + "/state" }

func readTask(ctx context.Context, b storage.Bucket, name string) (*taskState, error) {
	data, err := b.Get(ctx, taskKey(name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the state of log backup task %s: %w", name, err)
	}
	var t taskState
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("decode the state of log backup task %s: %w", name, err)
	}
	return &t, nil
}

func writeTask(ctx context.Context, b storage.Bucket, t taskState) error {
	t.Updated = time.Now().UTC()
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the state of log backup task %s: %w", t.Name, err)
	}
	if err := b.Put(ctx, taskKey(t.Name), data); err != nil {
		return fmt.Errorf("write the state of log backup task %s: %w", t.Name, err)
	}
	return nil
}

// logMeta is the double's log metadata file: which data files one store flushed.
type logMeta struct {
	StoreID uint64        `json:"store_id"`
	MinTS   uint64        `json:"min_ts"`
	MaxTS   uint64        `json:"max_ts"`
	Files   []logDataFile `json:"files"`
}

type logDataFile struct {
	Path   string `json:"path"`
	MinTS  uint64 `json:"min_ts"`
	MaxTS  uint64 `json:"max_ts"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// writeLogFiles writes n log data files (and one metadata file each) covering consecutive
// seconds from fromTS, as TiKV's log backup flushes them, after each calling after.
func writeLogFiles(ctx context.Context, b storage.Bucket, fromTS uint64, n int, after func(i int) error) error {
	for i := 0; i < n; i++ {
		minTS := fromTS + uint64(i)*logFileSpan
		maxTS := minTS + logFileSpan - 1
		store := uint64(1 + i%3)
		t := brdouble.TSOTime(minTS).UTC()
		path := fmt.Sprintf("v1/%s/%02d/%d/%d-%d.log", t.Format("20060102"), t.Hour(), store, minTS, maxTS)
		data := make([]byte, 0, 1024+100*i+sha256.Size)
		for block := sha256.Sum256(binary.BigEndian.AppendUint64(nil, minTS)); len(data) < 1024+100*i; block = sha256.Sum256(block[:]) {
			data = append(data, block[:]...)
		}
		data = data[:1024+100*i]
		if err := b.Put(ctx, path, data); err != nil {
			return fmt.Errorf("write log data file %s: %w", path, err)
		}
		sum := sha256.Sum256(data)
		meta, _ := json.Marshal(logMeta{StoreID: store, MinTS: minTS, MaxTS: maxTS, Files: []logDataFile{
			{Path: path, MinTS: minTS, MaxTS: maxTS, Size: len(data), SHA256: fmt.Sprintf("%x", sum)},
		}})
		metaPath := fmt.Sprintf("v1/backupmeta/%d-%d-%d.meta", maxTS, store, minTS)
		if err := b.Put(ctx, metaPath, meta); err != nil {
			return fmt.Errorf("write log metadata file %s: %w", metaPath, err)
		}
		if err := after(i); err != nil {
			return err
		}
	}
	return nil
}

// logObject is a log data or metadata object with the TS range its name carries.
type logObject struct {
	storage.Object
	meta         bool
	minTS, maxTS uint64
}

// listLogObjects lists every log data and metadata object under the prefix.
func listLogObjects(ctx context.Context, b storage.Bucket) ([]logObject, error) {
	var out []logObject
	cursor := ""
	for {
		objs, next, err := b.List(ctx, cursor, 1000)
		if err != nil {
			return nil, fmt.Errorf("list log backup files: %w", err)
		}
		for _, o := range objs {
			if m := logDataRe.FindStringSubmatch(o.Key); m != nil {
				lo, hi := mustUint(m[1]), mustUint(m[2])
				out = append(out, logObject{Object: o, minTS: lo, maxTS: hi})
			} else if m := logMetaRe.FindStringSubmatch(o.Key); m != nil {
				out = append(out, logObject{Object: o, meta: true, minTS: mustUint(m[3]), maxTS: mustUint(m[1])})
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

func mustUint(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }

func taskNameFlag(cmd *cobra.Command) (string, error) {
	return requiredString(cmd, "task-name", "Miss parameters task-name")
}

// runLogStart is `br log start`: backupmeta with the start TS (what v1.6 reads back as the
// log backup's commitTs), the task, and the first log files.
func (c *brCLI) runLogStart(ctx context.Context, cmd *cobra.Command) error {
	name, err := taskNameFlag(cmd)
	if err != nil {
		return err
	}
	raw, err := storageFlag(cmd)
	if err != nil {
		return err
	}
	s, _ := cmd.Flags().GetString("start-ts")
	startTS, err := parseTSString(s, true)
	if err != nil {
		return brError(errInvalidArgument, "parse start-ts %q: %v", s, err)
	}
	if startTS == 0 {
		startTS = nowTSO()
	}
	st, b, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	defer b.Close()
	if t, err := readTask(ctx, b, name); err != nil {
		return err
	} else if t != nil && t.State != "stopped" {
		return brError(errTaskExists, "failed to start log backup task %s (it is %s)", name, t.State)
	}
	pd, err := c.openPDEtcd(cmd)
	if err != nil {
		return err
	}
	if pd != nil {
		defer pd.close()
		// BR looks in PD before it writes anything to the storage.
		if exists, _, err := pd.task(ctx, name); err != nil {
			return err
		} else if exists {
			return brError(errTaskExists, "failed to start log backup task %s: it is registered in PD", name)
		}
	}
	meta := &backupmeta.Meta{ClusterID: clusterID, ClusterVersion: clusterVersion, BRVersion: brVersionInfo, StartVersion: startTS, Version: 1}
	if err := b.Put(ctx, backupmeta.FileName, backupmeta.Encode(meta)); err != nil {
		return fmt.Errorf("write %s: %w", backupmeta.FileName, err)
	}
	if err := writeTask(ctx, b, taskState{Name: name, State: "running", StartTS: startTS, Storage: st.loc.Redacted()}); err != nil {
		return err
	}
	if pd != nil {
		filters, _ := cmd.Flags().GetStringArray("filter")
		info := pdTaskInfo{Name: name, StartTS: startTS, EndTS: 999999999999999999, Storage: st.loc.Redacted(), TableFilter: filters}
		if err := pd.register(ctx, info); err != nil {
			return err
		}
		c.log.info("stream.go:574", "registered log backup task in PD", fld("task-name", name), fld("pd", pd.where()), fld("checkpoint", startTS))
	}
	c.log.info("stream.go:588", "start stream task", fld("task-name", name), fld("start-ts", startTS), fld("start-time", tsTime(startTS)),
		fld("storage", st.loc.Redacted()))
	err = writeLogFiles(ctx, b, startTS, logFilesAtStart, func(int) error { return c.step.after(ctx) })
	if err != nil {
		return err
	}
	c.log.info("stream.go:624", "log backup task started", fld("task-name", name), fld("start-ts", startTS))
	return nil
}

// runLogState is `br log stop|pause|resume`: a state change of an existing task.
func (c *brCLI) runLogState(op string) func(ctx context.Context, cmd *cobra.Command) error {
	return func(ctx context.Context, cmd *cobra.Command) error {
		name, err := taskNameFlag(cmd)
		if err != nil {
			return err
		}
		raw, _ := cmd.Flags().GetString("storage")
		pd, err := c.openPDEtcd(cmd)
		if err != nil {
			return err
		}
		if pd != nil {
			defer pd.close()
		}
		if raw == "" && pd == nil {
			// Real BR finds the task in PD; without BRDOUBLE_ETCD the double keeps it in the
			// storage.
			return fmt.Errorf("br log %s: brdouble needs --storage (or %s) to find task %s: %w", op, brdouble.EnvEtcd, name, errUnsupported)
		}
		var (
			b storage.Bucket
			t *taskState
			// pdCheckpoint is where TiKV had moved the task when the command started.
			pdCheckpoint uint64
		)
		if raw != "" {
			_, b, err = c.openStorage(ctx, cmd, raw)
			if err != nil {
				return err
			}
			defer b.Close()
			if t, err = readTask(ctx, b, name); err != nil {
				return err
			}
			if t == nil || t.State == "stopped" {
				return brError(errTaskNotFound, "failed to %s log backup task: can not find task %s", op, name)
			}
		}
		if pd != nil {
			exists, ck, err := pd.task(ctx, name)
			if err != nil {
				return err
			}
			if !exists {
				return brError(errTaskNotFound, "failed to %s log backup task: can not find task %s in PD", op, name)
			}
			pdCheckpoint = ck
		}
		if err := c.step.after(ctx); err != nil {
			return err
		}
		if pd != nil {
			if err := pd.change(ctx, op, name); err != nil {
				return err
			}
		}
		checkpoint := pdCheckpoint
		if t != nil {
			switch op {
			case "stop", "pause":
				if t.State == "running" {
					t.CheckpointTS = nowTSO()
					if pd != nil && pdCheckpoint != 0 {
						// The checkpoint TiKV reached, not the clock, is where the task stands.
						t.CheckpointTS = pdCheckpoint
					}
				}
				t.State = map[string]string{"stop": "stopped", "pause": "paused"}[op]
			case "resume":
				if t.State == "paused" {
					// The task catches up from its checkpoint: more log files appear.
					if err := writeLogFiles(ctx, b, t.CheckpointTS+1, logFilesAtResume, func(int) error { return nil }); err != nil {
						return err
					}
				}
				t.State = "running"
			}
			if err := writeTask(ctx, b, *t); err != nil {
				return err
			}
			checkpoint = t.checkpoint()
		}
		c.log.info("stream.go:712", op+" log backup task done", fld("task-name", name), fld("checkpoint", checkpoint))
		fmt.Fprintf(c.p.stdout, "%s log backup task %s successfully\n", map[string]string{"stop": "Stop", "pause": "Pause", "resume": "Resume"}[op], name)
		return nil
	}
}

// runLogStatus is `br log status`, in BR's console shape (or --json).
func (c *brCLI) runLogStatus(ctx context.Context, cmd *cobra.Command) error {
	name, _ := cmd.Flags().GetString("task-name")
	raw, _ := cmd.Flags().GetString("storage")
	if raw == "" {
		return fmt.Errorf("br log status: brdouble needs --storage to find the tasks: %w", errUnsupported)
	}
	st, b, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	defer b.Close()
	var tasks []taskState
	if name == "*" || name == "" {
		objs, err := listAll(ctx, b)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if n, ok := strings.CutPrefix(o.Key, "v1/task/"); ok && strings.HasSuffix(n, "/state") {
				if t, err := readTask(ctx, b, strings.TrimSuffix(n, "/state")); err == nil && t != nil && t.State != "stopped" {
					tasks = append(tasks, *t)
				}
			}
		}
	} else if t, err := readTask(ctx, b, name); err != nil {
		return err
	} else if t != nil && t.State != "stopped" {
		tasks = append(tasks, *t)
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		type status struct {
			Name        string   `json:"name"`
			StartTS     uint64   `json:"start_ts"`
			EndTS       uint64   `json:"end_ts"`
			TableFilter []string `json:"table_filter"`
			Storage     string   `json:"storage"`
			Checkpoint  uint64   `json:"checkpoint"`
			Status      string   `json:"status"`
			LastErrors  []string `json:"last_errors"`
		}
		out := []status{}
		for _, t := range tasks {
			out = append(out, status{Name: t.Name, StartTS: t.StartTS, EndTS: 999999999999999999, TableFilter: []string{"*.*"},
				Storage: st.loc.Redacted(), Checkpoint: t.checkpoint(), Status: strings.ToUpper(t.State), LastErrors: []string{}})
		}
		data, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("encode log status: %w", err)
		}
		fmt.Fprintln(c.p.stdout, string(data))
		return nil
	}
	if len(tasks) == 0 {
		fmt.Fprintln(c.p.stdout, "● No Task Yet.")
		return nil
	}
	fmt.Fprintf(c.p.stdout, "● Total %d Tasks.\n", len(tasks))
	for i, t := range tasks {
		state := "● NORMAL"
		if t.State == "paused" {
			state = "● PAUSE"
		}
		fmt.Fprintf(c.p.stdout, "> #%d <\n%18s: %s\n%18s: %s\n%18s: %s\n%18s: %s\n%18s: %s\n",
			i+1, "name", t.Name, "status", state, "start", tsTime(t.StartTS), "storage", st.loc.Redacted(),
			"checkpoint[global]", tsTime(t.checkpoint()))
	}
	return nil
}

func listAll(ctx context.Context, b storage.Bucket) ([]storage.Object, error) {
	var out []storage.Object
	cursor := ""
	for {
		objs, next, err := b.List(ctx, cursor, 1000)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", b.Location().Redacted(), err)
		}
		out = append(out, objs...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// runLogTruncate is `br log truncate --until`: it deletes the log data and metadata files
// wholly before the TS and records the new start of the log in BR's safepoint file.
func (c *brCLI) runLogTruncate(ctx context.Context, cmd *cobra.Command) error {
	s, _ := cmd.Flags().GetString("until")
	until, err := parseTSString(s, true)
	if err != nil {
		return brError(errInvalidArgument, "parse until %q: %v", s, err)
	}
	if until == 0 {
		return brError(errInvalidArgument, "--until is required: the TS until which the log backup data is removed")
	}
	raw, err := storageFlag(cmd)
	if err != nil {
		return err
	}
	dryRun, _ := cmd.Flags().GetBool("dry-run")
	_, b, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	defer b.Close()
	start := time.Now()
	objs, err := listLogObjects(ctx, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.p.stdout, "Reading Metadata... DONE; take = %s\n", time.Since(start).Round(time.Microsecond))
	var keys []string
	var metas, datas int
	var bytes int64
	for _, o := range objs {
		if o.maxTS < until {
			keys = append(keys, o.Key)
			bytes += o.Size
			if o.meta {
				metas++
			} else {
				datas++
			}
		}
	}
	sort.Strings(keys)
	fmt.Fprintf(c.p.stdout, "We are going to remove %d files, until %s.\n", len(keys), tsTime(until))
	if err := c.step.after(ctx); err != nil {
		return err
	}
	if dryRun {
		for _, k := range keys {
			fmt.Fprintln(c.p.stdout, k)
		}
		return nil
	}
	batch := b.MaxDeleteBatch()
	if batch < 1 {
		batch = 1
	}
	for i := 0; i < len(keys); i += batch {
		end := min(i+batch, len(keys))
		if err := b.Delete(ctx, keys[i:end]); err != nil {
			return fmt.Errorf("delete log backup files: %w", err)
		}
	}
	if err := b.Put(ctx, truncateSafepointKey, []byte(strconv.FormatUint(until, 10))); err != nil {
		return fmt.Errorf("write %s: %w", truncateSafepointKey, err)
	}
	fmt.Fprintf(c.p.stdout, "Clearing Data Files and Metadata :: DONE; take = %s, kv-count = 0, kv-size = %d(%s)\n",
		time.Since(start).Round(time.Microsecond), bytes, humanSize(float64(bytes)))
	c.log.summary("collector.go:77", "log truncate success summary",
		fld("until", until), fld("until-time", tsTime(until)), fld("removed-metadata-files", metas),
		fld("removed-data-files", datas), fld("removed-size", bytes), fld("total-take", time.Since(start)))
	return nil
}

// truncateSafepoint is where the log starts after truncates, 0 if it was never truncated.
func truncateSafepoint(ctx context.Context, b storage.Bucket) (uint64, error) {
	data, err := b.Get(ctx, truncateSafepointKey)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", truncateSafepointKey, err)
	}
	return mustUint(strings.TrimSpace(string(data))), nil
}

// runRestorePoint is `br restore point` (PiTR): a full backup (or --start-ts) and the log up
// to --restored-ts, with BR's range checks.
func (c *brCLI) runRestorePoint(ctx context.Context, cmd *cobra.Command) error {
	const cmdName = "Point Restore"
	s, _ := cmd.Flags().GetString("restored-ts")
	restoredTS, err := parseTSString(s, true)
	if err != nil {
		return brError(errInvalidArgument, "parse restored-ts %q: %v", s, err)
	}
	s, _ = cmd.Flags().GetString("start-ts")
	startTS, err := parseTSString(s, true)
	if err != nil {
		return brError(errInvalidArgument, "parse start-ts %q: %v", s, err)
	}
	fullURL, _ := cmd.Flags().GetString("full-backup-storage")
	if fullURL == "" && startTS == 0 {
		return brError(errInvalidArgument, "restore point needs --full-backup-storage (the snapshot to start from) or --start-ts")
	}
	raw, err := storageFlag(cmd)
	if err != nil {
		return err
	}
	logSt, lb, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	defer lb.Close()

	data, err := lb.Get(ctx, backupmeta.FileName)
	if errors.Is(err, storage.ErrNotFound) {
		return brError(errInvalidArgument, "there is no %s in the log backup storage %s: has a log backup task started there?",
			backupmeta.FileName, logSt.loc.Redacted())
	}
	if err != nil {
		return fmt.Errorf("read the log backup's %s: %w", backupmeta.FileName, err)
	}
	logBackup, err := backupmeta.Decode(data)
	if err != nil {
		return fmt.Errorf("decode the log backup's %s: %w", backupmeta.FileName, err)
	}
	objs, err := listLogObjects(ctx, lb)
	if err != nil {
		return err
	}
	logMin := logBackup.StartVersion
	if sp, err := truncateSafepoint(ctx, lb); err != nil {
		return err
	} else if sp > logMin {
		logMin = sp
	}
	logMax := logMin
	for _, o := range objs {
		logMax = max(logMax, o.maxTS)
	}
	if t, err := c.findTask(ctx, lb); err != nil {
		return err
	} else if t != nil {
		logMax = max(logMax, t.checkpoint())
	}

	var (
		fullSt brStorage
		fb     storage.Bucket
		fromTS = startTS
	)
	if fullURL != "" {
		if fullSt, fb, err = c.openStorage(ctx, cmd, fullURL); err != nil {
			return err
		}
		defer fb.Close()
		data, err := fb.Get(ctx, backupmeta.FileName)
		if err != nil {
			return fmt.Errorf("failed to read the full backup's backup meta in %s: %w", fullSt.loc.Redacted(), err)
		}
		full, err := backupmeta.Decode(data)
		if err != nil {
			return fmt.Errorf("decode the full backup's %s: %w", backupmeta.FileName, err)
		}
		fromTS = full.EndVersion
		if fromTS < logBackup.StartVersion {
			return brError(errInvalidArgument, "it has gap between full backup ts:%d(%s) and log backup ts:%d(%s). ",
				fromTS, tsTime(fromTS), logBackup.StartVersion, tsTime(logBackup.StartVersion))
		}
	}
	if restoredTS == 0 {
		restoredTS = logMax
	}
	if logMin > fromTS || fromTS > restoredTS || restoredTS > logMax {
		return brError(errInvalidArgument, "restore log from %d(%s) to %d(%s),  but the current existed log from %d(%s) to %d(%s)",
			fromTS, tsTime(fromTS), restoredTS, tsTime(restoredTS), logMin, tsTime(logMin), logMax, tsTime(logMax))
	}

	start := time.Now()
	var restored []backupmeta.File
	if fb != nil {
		_, files, err := c.readSnapshot(ctx, fullSt, fb, "Full Restore", false)
		if err != nil {
			return err
		}
		restored = files
	}
	var metas, datas []logObject
	for _, o := range objs {
		if o.maxTS >= fromTS && o.minTS <= restoredTS {
			if o.meta {
				metas = append(metas, o)
			} else {
				datas = append(datas, o)
			}
		}
	}
	for i := range metas {
		if _, err := lb.Get(ctx, metas[i].Key); err != nil {
			return fmt.Errorf("read log metadata file %s: %w", metas[i].Key, err)
		}
		c.progress("Restore Meta Files", i+1, len(metas), start)
		if err := c.step.after(ctx); err != nil {
			return err
		}
	}
	var kvBytes int64
	for i, o := range datas {
		got, err := lb.Get(ctx, o.Key)
		if err != nil {
			return fmt.Errorf("download log data file %s: %w", o.Key, err)
		}
		kvBytes += int64(len(got))
		c.progress("Restore KV Files", i+1, len(datas), start)
		if err := c.step.after(ctx); err != nil {
			return err
		}
	}
	c.log.summary("collector.go:77", cmdName+" success summary",
		fld("total-take", time.Since(start)), fld("restore-from", fromTS), fld("restore-to", restoredTS),
		fld("total-kv-count", kvBytes/64), fld("total-size", humanSize(float64(kvBytes))),
		fld("restore-snapshot-files", len(restored)), fld("restore-log-files", len(datas)))
	return nil
}

// findTask is the log backup task whose data is in b, if the double started one there.
func (c *brCLI) findTask(ctx context.Context, b storage.Bucket) (*taskState, error) {
	objs, err := listAll(ctx, b)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if n, ok := strings.CutPrefix(o.Key, "v1/task/"); ok && strings.HasSuffix(n, "/state") {
			return readTask(ctx, b, strings.TrimSuffix(n, "/state"))
		}
	}
	return nil, nil
}
