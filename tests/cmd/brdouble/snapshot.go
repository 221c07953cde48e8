package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/backupmeta"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// The shape of a snapshot backup the double writes.
const (
	sstCount = 6
	// metaFileSplit is how many data files go into the first nested meta file; the rest go
	// into the second, so a reader must follow both.
	metaFileSplit = 3
	clusterID     = 7196812345678901234
	// clusterVersion is what BR stores: the TiKV version as a JSON string.
	clusterVersion = `"8.5.0"`
)

// brVersionInfo is the br_version BR writes into backupmeta.
var brVersionInfo = fmt.Sprintf("BR\nRelease Version: %s\nGit Commit Hash: %s\nGit Branch: HEAD\nGo Version: go1.23\nUTC Build Time: 2026-01-01 00:00:00\nRace Enabled: false",
	brReleaseVersion, brGitHash)

// BR's command names: progress steps and summary titles.
var (
	backupCmdNames  = map[string]string{"full": "Full Backup", "db": "Database Backup", "table": "Table Backup", "raw": "Raw Backup"}
	restoreCmdNames = map[string]string{"full": "Full Restore", "db": "DataBase Restore", "table": "Table Restore", "raw": "Raw Restore", "point": "Point Restore"}
)

// openStorage parses a storage URL with the command's provider flags and opens it with the
// project's storage code and the process environment (plus credentials from the URL).
func (c *brCLI) openStorage(ctx context.Context, cmd *cobra.Command, rawURL string) (brStorage, storage.Bucket, error) {
	st, err := parseStorage(rawURL, storageOptionsFromFlags(cmd.Flags()))
	if err != nil {
		return brStorage{}, nil, err
	}
	if st.loc.Type == v1alpha1.BackupStorageTypeLocal {
		// BR's local storage creates its directory, as `mkdir -p` would.
		if err := os.MkdirAll(filepath.Join(st.loc.Bucket, st.loc.Prefix), 0o755); err != nil {
			return brStorage{}, nil, brError(errStorageInvalidConfig, "create local storage directory: %v", err)
		}
	}
	b, err := storage.Open(ctx, st.loc, st.lookup(c.p.lookup))
	if err != nil {
		return brStorage{}, nil, fmt.Errorf("open external storage %s: %w", st.loc.Redacted(), err)
	}
	return st, b, nil
}

// storageFlag is --storage, required by every command that reads or writes backup data.
func storageFlag(cmd *cobra.Command) (string, error) {
	s, _ := cmd.Flags().GetString("storage")
	if s == "" {
		return "", brError(errStorageInvalidConfig, "empty store is not allowed")
	}
	return s, nil
}

// progress logs one line of BR's log-mode progress printer (br/pkg/utils/progress.go):
// `[progress] [step="Full Backup"] [progress=33.33%] [count="2 / 6"] [speed=...] [elapsed=...] [remaining=...]`.
func (c *brCLI) progress(step string, done, total int, start time.Time) {
	elapsed := time.Since(start)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	speed, remaining := "? p/s", "?"
	if secs := elapsed.Seconds(); secs > 0 && done > 0 {
		speed = fmt.Sprintf("%.2f p/s", float64(done)/secs)
		remaining = (time.Duration(float64(elapsed) / float64(done) * float64(total-done))).Truncate(time.Second).String()
	}
	c.log.info("progress.go:160", "progress",
		fld("step", step),
		fld("progress", fmt.Sprintf("%.2f%%", pct)),
		fld("count", fmt.Sprintf("%d / %d", done, total)),
		fld("speed", speed),
		fld("elapsed", elapsed.Truncate(time.Second).String()),
		fld("remaining", remaining))
}

// failedSummary is the summary BR's deferred collector prints when a task fails.
func (c *brCLI) failedSummary(cmdName string, err error) {
	if err == nil {
		return
	}
	c.log.info("collector.go:224", "units canceled", fld("cancel-unit", 0))
	c.log.summary("collector.go:77", cmdName+" failed summary",
		fld("total-ranges", 0), fld("ranges-succeed", 0), fld("ranges-failed", 0),
		fld("unit-name", "backup/restore"), fld("error", err))
}

// backupTS is the snapshot a backup is taken at: --backupts, else now minus --timeago.
func backupTS(cmd *cobra.Command) (uint64, error) {
	s, _ := cmd.Flags().GetString("backupts")
	ts, err := parseTSString(s, false)
	if err != nil {
		return 0, brError(errInvalidArgument, "parse backupts %q: %v", s, err)
	}
	if ts > 0 {
		return ts, nil
	}
	ago := time.Duration(0)
	if s, _ := cmd.Flags().GetString("timeago"); s != "" {
		if ago, err = time.ParseDuration(s); err != nil {
			return 0, brError(errInvalidArgument, "parse timeago %q: %v", s, err)
		}
		if ago < 0 {
			return 0, brError(errInvalidArgument, "negative timeago is not allowed")
		}
	}
	return brdouble.TSO(time.Now().Add(-ago)), nil
}

// sstFile is one data file of a snapshot backup: its name (as BR v8 names them: store
// folder, region, epoch, key hash, TS, column family) and deterministic content.
func sstFile(i int, ts uint64) (backupmeta.File, []byte) {
	cf := "default"
	if i%2 == 1 {
		cf = "write"
	}
	size := 2048 + 777*i
	data := make([]byte, 0, size+sha256.Size)
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(fmt.Sprintf("sst-%d-", i)), ts))
	for block := seed; len(data) < size; block = sha256.Sum256(block[:]) {
		data = append(data, block[:]...)
	}
	data = data[:size]
	sum := sha256.Sum256(data)
	name := fmt.Sprintf("%d/%d_%d_%x_%d_%s.sst", 1+i%3, 10+i, 5, seed[:8], ts, cf)
	return backupmeta.File{
		Name: name, SHA256: sum[:], StartVersion: 0, EndVersion: ts,
		TotalKVs: uint64(size / 64), TotalBytes: uint64(size * 3), Size: uint64(size), CF: cf,
	}, data
}

// runBackup is `br backup full|db|table|raw`: data files, then the nested meta files, then
// backupmeta last, so that a backupmeta exists only for a finished backup.
func (c *brCLI) runBackup(ctx context.Context, cmd *cobra.Command, kind string) (err error) {
	cmdName := backupCmdNames[kind]
	defer func() { c.failedSummary(cmdName, err) }()
	if t, _ := cmd.Flags().GetString("type"); t != "" {
		return fmt.Errorf("backup --type=%s (volume snapshot backup): %w", t, errUnsupported)
	}
	raw, err := storageFlag(cmd)
	if err != nil {
		return err
	}
	ts, err := backupTS(cmd)
	if err != nil {
		return err
	}
	startTS, _ := cmd.Flags().GetUint64("lastbackupts")
	if startTS >= ts && startTS != 0 {
		return brError(errInvalidArgument, "lastbackupts %d must be less than backupts %d", startTS, ts)
	}
	if startTS == 0 {
		startTS = ts // a full backup is a point in time: start_version = end_version
	}
	st, b, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	defer b.Close()

	switch _, err := b.Get(ctx, backupmeta.FileName); {
	case err == nil:
		return brError(errInvalidArgument, "backup meta file exists in %s/%s, there may be some backup files in the path already, please specify a correct backup directory!",
			st.loc.Redacted(), backupmeta.FileName)
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("error occurred when checking %s file: %w", backupmeta.FileName, err)
	}

	c.log.info("backup.go:385", "get backup ts", fld("BackupTS", ts), fld("time", tsTime(ts)))
	start := time.Now()
	files := make([]backupmeta.File, 0, sstCount)
	var size, kvs, kvBytes uint64
	for i := 0; i < sstCount; i++ {
		f, data := sstFile(i, ts)
		if err := b.Put(ctx, f.Name, data); err != nil {
			return fmt.Errorf("write backup data file %s: %w", f.Name, err)
		}
		files = append(files, f)
		size, kvs, kvBytes = size+f.Size, kvs+f.TotalKVs, kvBytes+f.TotalBytes
		c.progress(cmdName, i+1, sstCount, start)
		if err := c.step.after(ctx); err != nil {
			return err
		}
	}
	if checksum, _ := cmd.Flags().GetBool("checksum"); checksum {
		c.progress("Checksum", 1, 1, start)
		if err := c.step.after(ctx); err != nil {
			return err
		}
	}

	var index []backupmeta.File
	for n, part := range [][]backupmeta.File{files[:metaFileSplit], files[metaFileSplit:]} {
		data := backupmeta.EncodeMetaFile(&backupmeta.MetaFile{DataFiles: part})
		sum := sha256.Sum256(data)
		name := fmt.Sprintf("backupmeta.datafile.%09d", n+1)
		if err := b.Put(ctx, name, data); err != nil {
			return fmt.Errorf("write meta file %s: %w", name, err)
		}
		index = append(index, backupmeta.File{Name: name, SHA256: sum[:], Size: uint64(len(data))})
	}
	meta := &backupmeta.Meta{
		ClusterID: clusterID, ClusterVersion: clusterVersion, BRVersion: brVersionInfo,
		StartVersion: startTS, EndVersion: ts, IsRawKV: kind == "raw", Version: 1,
		FileIndex: &backupmeta.MetaFile{MetaFiles: index},
	}
	if err := b.Put(ctx, backupmeta.FileName, backupmeta.Encode(meta)); err != nil {
		return fmt.Errorf("write %s: %w", backupmeta.FileName, err)
	}
	took := time.Since(start)
	c.log.summary("collector.go:77", cmdName+" success summary",
		fld("total-ranges", sstCount), fld("ranges-succeed", sstCount), fld("ranges-failed", 0),
		fld("backup-checksum", 3*time.Millisecond), fld("backup-fast-checksum", time.Millisecond),
		fld("backup-total-ranges", sstCount), fld("total-take", took),
		fld("BackupTS", ts), fld("total-kv", kvs), fld("total-kv-size", humanSize(float64(kvBytes))),
		fld("average-speed", humanSize(float64(kvBytes)/took.Seconds())+"/s"),
		fld("backup-data-size(after-compressed)", humanSize(float64(size))), fld("Size", size))
	return nil
}

// dataFiles lists a backupmeta's data files: v1's files, v2's file index and, recursively,
// the meta files it names (bounded, so a cycle cannot hang a restore).
func dataFiles(ctx context.Context, b storage.Bucket, m *backupmeta.Meta) ([]backupmeta.File, error) {
	out := append([]backupmeta.File(nil), m.Files...)
	var walk func(mf *backupmeta.MetaFile, depth int) error
	walk = func(mf *backupmeta.MetaFile, depth int) error {
		if depth > 8 {
			return errors.New("backupmeta: meta files nested deeper than 8 levels")
		}
		out = append(out, mf.DataFiles...)
		for _, f := range mf.MetaFiles {
			data, err := b.Get(ctx, f.Name)
			if err != nil {
				return fmt.Errorf("read meta file %s: %w", f.Name, err)
			}
			if err := checkSum(f, data); err != nil {
				return err
			}
			child, err := backupmeta.DecodeMetaFile(data)
			if err != nil {
				return fmt.Errorf("decode meta file %s: %w", f.Name, err)
			}
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if m.FileIndex != nil {
		if err := walk(m.FileIndex, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkSum verifies an object against the size and SHA-256 its meta entry records.
func checkSum(f backupmeta.File, data []byte) error {
	if f.Size != 0 && uint64(len(data)) != f.Size {
		return fmt.Errorf("file %s is %d bytes, backupmeta says %d: the backup is corrupted", f.Name, len(data), f.Size)
	}
	if len(f.SHA256) > 0 {
		if sum := sha256.Sum256(data); string(sum[:]) != string(f.SHA256) {
			return fmt.Errorf("file %s has SHA-256 %x, backupmeta says %x: the backup is corrupted", f.Name, sum, f.SHA256)
		}
	}
	return nil
}

// readSnapshot reads and checks a snapshot backup: backupmeta, every meta file, every data
// file, logging progress under step.
func (c *brCLI) readSnapshot(ctx context.Context, st brStorage, b storage.Bucket, step string, wantRaw bool) (*backupmeta.Meta, []backupmeta.File, error) {
	data, err := b.Get(ctx, backupmeta.FileName)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, brError(errInvalidArgument, "failed to read backup meta: there is no %s in %s: is it a finished backup?",
			backupmeta.FileName, st.loc.Redacted())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read backup meta: %w", err)
	}
	meta, err := backupmeta.Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("decode %s of %s: %w", backupmeta.FileName, st.loc.Redacted(), err)
	}
	switch {
	case meta.IsRawKV && !wantRaw:
		return nil, nil, brError("[BR:Restore:ErrRestoreModeMismatch]restore mode mismatch", "cannot do transactional restore from raw kv data")
	case !meta.IsRawKV && wantRaw:
		return nil, nil, brError("[BR:Restore:ErrRestoreModeMismatch]restore mode mismatch", "cannot do raw restore from transactional data")
	case meta.EndVersion == 0:
		return nil, nil, brError(errInvalidArgument, "the backupmeta of %s has no end version: it is not a snapshot backup", st.loc.Redacted())
	}
	files, err := dataFiles(ctx, b, meta)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	for i, f := range files {
		data, err := b.Get(ctx, f.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("download backup data file %s: %w", f.Name, err)
		}
		if err := checkSum(f, data); err != nil {
			return nil, nil, err
		}
		c.progress(step, i+1, len(files), start)
		if err := c.step.after(ctx); err != nil {
			return nil, nil, err
		}
	}
	return meta, files, nil
}

// runRestore is `br restore full|db|table|raw|point`.
func (c *brCLI) runRestore(ctx context.Context, cmd *cobra.Command, kind string) (err error) {
	cmdName := restoreCmdNames[kind]
	defer func() { c.failedSummary(cmdName, err) }()
	if t, _ := cmd.Flags().GetString("type"); t != "" {
		return fmt.Errorf("restore --type=%s (volume snapshot restore): %w", t, errUnsupported)
	}
	if kind == "point" {
		return c.runRestorePoint(ctx, cmd)
	}
	raw, err := storageFlag(cmd)
	if err != nil {
		return err
	}
	st, b, err := c.openStorage(ctx, cmd, raw)
	if err != nil {
		return err
	}
	defer b.Close()
	start := time.Now()
	meta, files, err := c.readSnapshot(ctx, st, b, cmdName, kind == "raw")
	if err != nil {
		return err
	}
	c.restoreSummary(cmdName, start, files, fld("BackupTS", meta.EndVersion), fld("RestoreTS", nowTSO()))
	return nil
}

func (c *brCLI) restoreSummary(cmdName string, start time.Time, files []backupmeta.File, extra ...field) {
	var size, kvs, kvBytes uint64
	for _, f := range files {
		size, kvs, kvBytes = size+f.Size, kvs+f.TotalKVs, kvBytes+f.TotalBytes
	}
	took := time.Since(start)
	fs := []field{
		fld("total-ranges", len(files)), fld("ranges-succeed", len(files)), fld("ranges-failed", 0),
		fld("split-region", 2*time.Millisecond), fld("restore-ranges", len(files)), fld("total-take", took),
	}
	fs = append(fs, extra...)
	fs = append(fs, fld("total-kv", kvs), fld("total-kv-size", humanSize(float64(kvBytes))),
		fld("average-speed", humanSize(float64(kvBytes)/took.Seconds())+"/s"),
		fld("restore-data-size(after-compressed)", humanSize(float64(size))), fld("Size", size))
	c.log.summary("collector.go:77", cmdName+" success summary", fs...)
}

// runAbortRestore is `br abort restore ...`: it removes what an interrupted restore left
// (checkpoints, temporary tables) in the cluster, which the double does not have.
func (c *brCLI) runAbortRestore(ctx context.Context, cmd *cobra.Command, kind string) error {
	if _, err := storageFlag(cmd); err != nil {
		return err
	}
	c.log.info("abort.go:67", "abort restore: the checkpoint and temporary data of the restore are cleaned up",
		fld("restore", restoreCmdNames[kind]))
	return c.step.after(ctx)
}
