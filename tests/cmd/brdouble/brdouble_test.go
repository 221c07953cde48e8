package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/backupmeta"
	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// These tests run the built binary, as the backup-manager does, against local storage in a
// temporary directory: no server is needed.

func TestMain(m *testing.M) {
	code := m.Run()
	brdouble.Cleanup()
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the double with a minimal environment (so the developer's own cloud credentials
// never leak in), BR_LOG_TO_TERM set as v1.6's Jobs set it, no step delay, plus env.
func run(t *testing.T, bin string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = testEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func testEnv(env map[string]string) []string {
	base := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "TMPDIR": os.TempDir(),
		"BR_LOG_TO_TERM": "1", brdouble.EnvStepDelay: "0",
	}
	for k, v := range env {
		base[k] = v
	}
	var out []string
	for k, v := range base {
		if v != "-" { // "-" removes a default
			out = append(out, k+"="+v)
		}
	}
	return out
}

func (r result) mustSucceed(t *testing.T, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

func (r result) mustFail(t *testing.T, what string, stderrHas ...string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("%s: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("%s: stderr lacks %q:\n%s", what, s, r.stderr)
		}
	}
}

// progresses are the progress reports of BR output, parsed as the backup-manager parses them.
func progresses(out string) []brlog.Progress {
	var ps []brlog.Progress
	for _, line := range strings.Split(out, "\n") {
		if p, ok := brlog.ParseProgress(line); ok {
			ps = append(ps, p)
		}
	}
	return ps
}

// openLocal opens a local storage folder with the project's storage code, as the
// backup-manager would, to check what the double wrote.
func openLocal(t *testing.T, dir string) storage.Bucket {
	t.Helper()
	b, err := storage.Open(context.Background(), storage.Location{
		Type: v1alpha1.BackupStorageTypeLocal, Bucket: filepath.Dir(dir), Prefix: filepath.Base(dir),
	}, storage.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func readSummary(t *testing.T, dir string) backupmeta.Summary {
	t.Helper()
	s, err := backupmeta.Read(context.Background(), openLocal(t, dir).Get)
	if err != nil {
		t.Fatalf("backupmeta.Read(%s): %v", dir, err)
	}
	return s
}

// filesUnder lists the regular files below dir, relative and with their sizes.
func filesUnder(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = fi.Size()
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func TestUnknownFlagFailsAsBRDoes(t *testing.T) {
	br, _ := brdouble.Build(t)
	r := run(t, br, nil, "backup", "full", "--storage=local:///tmp/x", "--no-such-flag")
	// cobra's shape (BR sets SilenceUsage, so no usage follows), then BR's own log line.
	r.mustFail(t, "unknown flag", "Error: unknown flag: --no-such-flag")
	if !strings.Contains(r.stdout, `[ERROR] [main.go:58] ["br failed"] [error="unknown flag: --no-such-flag"]`) {
		t.Errorf("stdout lacks BR's failure line:\n%s", r.stdout)
	}
	// A flag of another subcommand is unknown here too, as in BR: --db belongs to `backup db`.
	run(t, br, nil, "backup", "full", "-s", "local:///tmp/x", "--db=test").mustFail(t, "--db on full", "Error: unknown flag: --db")
	run(t, br, nil, "backup", "full", "-s", "local:///tmp/x", "--concurrency=many").mustFail(t, "bad value",
		`invalid argument "many" for "--concurrency" flag`)
}

func TestRequiredArguments(t *testing.T) {
	br, _ := brdouble.Build(t)
	store := "local://" + filepath.Join(t.TempDir(), "b")
	cases := map[string]struct {
		args []string
		want string
	}{
		"backup without storage":             {[]string{"backup", "full"}, "empty store is not allowed"},
		"backup db without --db":             {[]string{"backup", "db", "-s", store}, `required flag(s) "db" not set`},
		"backup table without --table":       {[]string{"backup", "table", "-s", store, "--db=d"}, `required flag(s) "table" not set`},
		"log start without a task name":      {[]string{"log", "start", "-s", store}, "Miss parameters task-name"},
		"log truncate without --until":       {[]string{"log", "truncate", "-s", store}, "--until is required"},
		"log start with a zoneless datetime": {[]string{"log", "start", "--task-name=t", "--start-ts=2026-01-02 03:04:05", "-s", store}, "must set timezone"},
		"restore point without a start":      {[]string{"restore", "point", "-s", store, "--restored-ts=1"}, "--full-backup-storage"},
		"base64ify without storage":          {[]string{"operator", "base64ify"}, "empty store is not allowed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			run(t, br, nil, tc.args...).mustFail(t, name, tc.want)
		})
	}
}

func TestBackupWritesARealBackupmeta(t *testing.T) {
	br, _ := brdouble.Build(t)
	dir := filepath.Join(t.TempDir(), "ns", "backup-1")
	ts := brdouble.TSO(time.Now().Add(-time.Hour))
	r := run(t, br, map[string]string{brdouble.EnvStepDelay: "5ms"},
		"backup", "full", "--pd=basic-pd.ns:2379", "--storage=local://"+dir, "--backupts="+strconv.FormatUint(ts, 10), "--checksum=true")
	r.mustSucceed(t, "backup full")

	s := readSummary(t, dir)
	var sstBytes uint64
	var ssts int
	for name, size := range filesUnder(t, dir) {
		if strings.HasSuffix(name, ".sst") {
			sstBytes += uint64(size)
			ssts++
		}
	}
	if s.EndVersion != ts || s.Files != sstCount || ssts != sstCount || s.Size != sstBytes {
		t.Errorf("backupmeta.Read = %+v; want EndVersion %d, %d files of %d bytes in all", s, ts, ssts, sstBytes)
	}
	// The v2 layout: the data files are only in the nested meta files.
	data, err := openLocal(t, dir).Get(context.Background(), backupmeta.FileName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := backupmeta.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.FileIndex == nil || len(m.FileIndex.MetaFiles) != 2 || len(m.FileIndex.DataFiles) != 0 || len(m.Files) != 0 {
		t.Errorf("backupmeta is not the v2 layout with 2 nested meta files: %+v", m)
	}

	ps := progresses(r.stdout)
	distinct := map[float64]bool{}
	for _, p := range ps {
		if p.Step == "Full Backup" {
			distinct[p.Percent] = true
		}
	}
	if len(distinct) < 3 || !distinct[100] {
		t.Errorf("want several distinct Full Backup progress values ending at 100, got %v in\n%s", ps, r.stdout)
	}
	if !regexp.MustCompile(`\["Full Backup success summary"\].*\[total-take=[^\]]+\].*\[BackupTS=` + strconv.FormatUint(ts, 10) + `\].*\[backup-data-size\(after-compressed\)=[^\]]+\] \[Size=` + strconv.FormatUint(sstBytes, 10) + `\]`).MatchString(r.stdout) {
		t.Errorf("no BR summary line with the size:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "[ERROR]") {
		t.Errorf("a successful backup printed [ERROR]:\n%s", r.stdout)
	}

	// BR refuses to write over a finished backup.
	again := run(t, br, nil, "backup", "full", "--storage=local://"+dir)
	again.mustFail(t, "second backup", "backup meta file exists in local://"+dir+"/backupmeta")
	if !strings.Contains(again.stdout, `["failed to backup"]`) {
		t.Errorf("second backup did not log BR's failure:\n%s", again.stdout)
	}
}

func TestBackupTSDefaultsToNowAndTimeago(t *testing.T) {
	br, _ := brdouble.Build(t)
	before := brdouble.TSO(time.Now())
	dir := filepath.Join(t.TempDir(), "now")
	run(t, br, nil, "backup", "db", "--db=test", "-s", "local://"+dir).mustSucceed(t, "backup db")
	after := brdouble.TSO(time.Now())
	if s := readSummary(t, dir); s.EndVersion < before || s.EndVersion > after {
		t.Errorf("EndVersion %d not in [%d, %d]", s.EndVersion, before, after)
	}
	dir = filepath.Join(t.TempDir(), "ago")
	run(t, br, nil, "backup", "table", "--db=test", "--table=t", "--timeago=1h", "-s", "local://"+dir).mustSucceed(t, "backup table")
	got := brdouble.TSOTime(readSummary(t, dir).EndVersion)
	if d := time.Until(got.Add(time.Hour)); d < -time.Minute || d > time.Minute {
		t.Errorf("--timeago=1h gave EndVersion at %v", got)
	}
}

func TestRestoreReadsTheBackup(t *testing.T) {
	br, _ := brdouble.Build(t)
	dir := filepath.Join(t.TempDir(), "b")
	run(t, br, nil, "backup", "full", "-s", "local://"+dir).mustSucceed(t, "backup")

	r := run(t, br, nil, "restore", "full", "-s", "local://"+dir, "--pd=pd:2379", "--with-sys-table=true")
	r.mustSucceed(t, "restore full")
	ps := progresses(r.stdout)
	if len(ps) == 0 || ps[len(ps)-1] != (brlog.Progress{Step: "Full Restore", Percent: 100}) {
		t.Errorf("restore progress %v, want Full Restore up to 100%%", ps)
	}
	if !strings.Contains(r.stdout, `["Full Restore success summary"]`) {
		t.Errorf("no restore summary:\n%s", r.stdout)
	}

	run(t, br, nil, "restore", "full", "-s", "local://"+filepath.Join(t.TempDir(), "empty")).
		mustFail(t, "restore of nothing", "there is no backupmeta in local://")
	run(t, br, nil, "restore", "raw", "-s", "local://"+dir).mustFail(t, "raw restore of a txn backup", "cannot do raw restore")

	// A data file that changed on the storage fails the restore, as a checksum would.
	for name := range filesUnder(t, dir) {
		if strings.HasSuffix(name, ".sst") {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	run(t, br, nil, "restore", "full", "-s", "local://"+dir).mustFail(t, "restore of a corrupted backup", "corrupted")
}

func TestAbortRestore(t *testing.T) {
	br, _ := brdouble.Build(t)
	r := run(t, br, nil, "abort", "restore", "full", "-s", "local://"+t.TempDir()+"/x", "--pd=pd:2379")
	r.mustSucceed(t, "abort restore")
	if !strings.Contains(r.stdout, "[INFO]") {
		t.Errorf("abort restore logged nothing:\n%s", r.stdout)
	}
}

func logFiles(t *testing.T, dir string) (data, meta []string) {
	for name := range filesUnder(t, dir) {
		switch {
		case logDataRe.MatchString(name):
			data = append(data, name)
		case logMetaRe.MatchString(name):
			meta = append(meta, name)
		}
	}
	return data, meta
}

func TestLogBackupLifecycle(t *testing.T) {
	br, _ := brdouble.Build(t)
	dir := filepath.Join(t.TempDir(), "log")
	store := "--storage=local://" + dir
	start := brdouble.TSO(time.Now().Add(-10 * time.Minute))

	run(t, br, nil, "log", "stop", "--task-name=t1", store).mustFail(t, "stop before start", "can not find task t1")
	run(t, br, nil, "log", "start", "--task-name=t1", "--start-ts="+strconv.FormatUint(start, 10), store, "--pd=pd:2379").mustSucceed(t, "log start")
	if s := readSummary(t, dir); s.StartVersion != start {
		t.Errorf("log backupmeta StartVersion %d, want %d", s.StartVersion, start)
	}
	data, meta := logFiles(t, dir)
	if len(data) != logFilesAtStart || len(meta) != logFilesAtStart {
		t.Fatalf("log start wrote %v and %v", data, meta)
	}
	run(t, br, nil, "log", "start", "--task-name=t1", store).mustFail(t, "second start", "stream task already exists")

	status := run(t, br, nil, "log", "status", "--task-name=t1", "--json", store)
	status.mustSucceed(t, "log status")
	if !strings.Contains(status.stdout, `"name":"t1"`) || !strings.Contains(status.stdout, `"status":"RUNNING"`) {
		t.Errorf("log status --json: %s", status.stdout)
	}
	run(t, br, nil, "log", "pause", "--task-name=t1", store).mustSucceed(t, "log pause")
	run(t, br, nil, "log", "resume", "--task-name=t1", store).mustSucceed(t, "log resume")
	if data, _ := logFiles(t, dir); len(data) != logFilesAtStart+logFilesAtResume {
		t.Errorf("after resume: %d log files, want %d", len(data), logFilesAtStart+logFilesAtResume)
	}

	// Truncate until the end of the second file: the first two files and their metadata go.
	until := start + 2*logFileSpan
	r := run(t, br, nil, "log", "truncate", "--until="+strconv.FormatUint(until, 10), store)
	r.mustSucceed(t, "log truncate")
	if !strings.Contains(r.stdout, "We are going to remove 4 files") || !strings.Contains(r.stdout, `["log truncate success summary"]`) {
		t.Errorf("truncate output:\n%s", r.stdout)
	}
	data, meta = logFiles(t, dir)
	if len(data) != logFilesAtStart+logFilesAtResume-2 || len(meta) != logFilesAtStart+logFilesAtResume-2 {
		t.Errorf("after truncate: %v %v", data, meta)
	}
	for _, name := range data {
		if m := logDataRe.FindStringSubmatch(name); mustUint(m[2]) < until {
			t.Errorf("%s ends before --until and survived the truncate", name)
		}
	}
	if got, err := os.ReadFile(filepath.Join(dir, truncateSafepointKey)); err != nil || string(got) != strconv.FormatUint(until, 10) {
		t.Errorf("safepoint file: %q, %v", got, err)
	}

	run(t, br, nil, "log", "stop", "--task-name=t1", store).mustSucceed(t, "log stop")
	run(t, br, nil, "log", "pause", "--task-name=t1", store).mustFail(t, "pause after stop", "can not find task t1")
}

func TestRestorePoint(t *testing.T) {
	br, _ := brdouble.Build(t)
	root := t.TempDir()
	logStore, full := "local://"+filepath.Join(root, "log"), "local://"+filepath.Join(root, "full")
	logStart := brdouble.TSO(time.Now().Add(-time.Hour))
	fullTS := logStart + 10*logFileSpan
	run(t, br, nil, "log", "start", "--task-name=pitr", "--start-ts="+strconv.FormatUint(logStart, 10), "-s", logStore).mustSucceed(t, "log start")
	run(t, br, nil, "backup", "full", "--backupts="+strconv.FormatUint(fullTS, 10), "-s", full).mustSucceed(t, "backup full")

	restored := strconv.FormatUint(brdouble.TSO(time.Now().Add(-time.Minute)), 10)
	r := run(t, br, nil, "restore", "point", "-s", logStore, "--full-backup-storage="+full, "--restored-ts="+restored, "--pd=pd:2379")
	r.mustSucceed(t, "restore point")
	steps := map[string]bool{}
	for _, p := range progresses(r.stdout) {
		steps[p.Step] = true
	}
	if !steps["Full Restore"] || !strings.Contains(r.stdout, `["Point Restore success summary"]`) {
		t.Errorf("restore point output:\n%s", r.stdout)
	}
	run(t, br, nil, "restore", "point", "-s", logStore, "--start-ts="+strconv.FormatUint(logStart+logFileSpan, 10), "--restored-ts="+restored).
		mustSucceed(t, "restore point from --start-ts")

	run(t, br, nil, "restore", "point", "-s", logStore, "--full-backup-storage="+full, "--restored-ts="+strconv.FormatUint(fullTS-1, 10)).
		mustFail(t, "restored-ts before the full backup", "restore log from")
	run(t, br, nil, "restore", "point", "-s", logStore, "--full-backup-storage="+full,
		"--restored-ts="+strconv.FormatUint(brdouble.TSO(time.Now().Add(time.Hour)), 10)).
		mustFail(t, "restored-ts after the checkpoint", "but the current existed log from")
	run(t, br, nil, "restore", "point", "-s", "local://"+filepath.Join(root, "nolog"), "--full-backup-storage="+full, "--restored-ts="+restored).
		mustFail(t, "no log backup", "has a log backup task started there")
}

func TestBase64ifyAndCompactRoundTrip(t *testing.T) {
	br, tikvCtl := brdouble.Build(t)
	dir := filepath.Join(t.TempDir(), "log")
	start := brdouble.TSO(time.Now().Add(-time.Hour))
	run(t, br, nil, "log", "start", "--task-name=c", "--start-ts="+strconv.FormatUint(start, 10), "-s", "local://"+dir).mustSucceed(t, "log start")

	// v1.6's compact Job has no BR_LOG_TO_TERM: stdout is then the base64 line alone.
	b := run(t, br, map[string]string{"BR_LOG_TO_TERM": "-", "TMPDIR": t.TempDir()}, "operator", "base64ify", "--storage=local://"+dir)
	b.mustSucceed(t, "base64ify")
	b64, err := brlog.ParseBase64ify(b.stdout)
	if err != nil || strings.TrimSpace(b.stdout) != b64 {
		t.Fatalf("base64ify stdout %q: %v", b.stdout, err)
	}
	if !strings.Contains(b.stderr, "Detail BR log in ") {
		t.Errorf("base64ify stderr: %q", b.stderr)
	}

	until := start + 3*logFileSpan
	r := run(t, tikvCtl, map[string]string{brdouble.EnvStepDelay: "1ms"}, "--log-level", "INFO", "--log-format", "json", "compact-log-backup",
		"--storage-base64", b64, "--from", strconv.FormatUint(start, 10), "--until", strconv.FormatUint(until, 10), "-N", "4")
	r.mustSucceed(t, "tikv-ctl compact-log-backup")
	var progress []string
	var endTS uint64
	var done bool
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !strings.HasPrefix(line, "{") {
			t.Errorf("tikv-ctl printed a non-JSON line: %q", line)
		}
		ev, ok := brlog.ParseCompactLog(line)
		if !ok {
			continue
		}
		if ev.Progress != "" {
			progress = append(progress, ev.Progress)
		}
		endTS = max(endTS, ev.EndTs)
		done = done || ev.Done
		if ev.Err != "" {
			t.Errorf("compaction reported an error: %s", ev.Err)
		}
	}
	if len(progress) != 3 || progress[2] != "[READ_META(4/4),COMPACT_WORK(1686/3372)]" || endTS != until-1 || !done {
		t.Errorf("compact log: progress %v, end TS %d (want %d), done %v\n%s", progress, endTS, until-1, done, r.stderr)
	}
	var outputs int
	for name := range filesUnder(t, dir) {
		if strings.HasPrefix(name, "v1/compaction_out/compaction/") && strings.HasSuffix(name, ".sst") {
			outputs++
		}
	}
	if outputs != 3 {
		t.Errorf("%d compacted files, want 3", outputs)
	}

	// A storage with no log backup: tikv-ctl says so and fails.
	empty := run(t, br, nil, "operator", "base64ify", "-s", "local://"+filepath.Join(t.TempDir(), "none"))
	e64, _ := brlog.ParseBase64ify(empty.stdout)
	r = run(t, tikvCtl, nil, "--log-level", "INFO", "--log-format", "json", "compact-log-backup", "--storage-base64", e64, "--from", "1", "--until", "2", "-N", "1")
	if r.code != 1 || !strings.Contains(r.stderr, `"message":"Compaction aborted.","err":"Nothing loaded from local://`) {
		t.Errorf("compacting nothing: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, tikvCtl, nil, "compact-log-backup", "--storage-base64", b64, "--from", "1", "--until", "2", "--bogus")
	if r.code != 1 || !strings.Contains(r.stderr, "error: Found argument '--bogus' which wasn't expected") {
		t.Errorf("unknown tikv-ctl argument: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, tikvCtl, nil, "compact-log-backup", "--storage-base64", b64, "--until", "2")
	if r.code != 1 || !strings.Contains(r.stderr, "--from <from-ts>") {
		t.Errorf("missing --from: exit %d\n%s", r.code, r.stderr)
	}
}

func TestLogsGoToTheLogFileWithoutBRLogToTerm(t *testing.T) {
	br, _ := brdouble.Build(t)
	logFile := filepath.Join(t.TempDir(), "br.log")
	r := run(t, br, map[string]string{"BR_LOG_TO_TERM": "-"}, "backup", "full", "--log-file="+logFile, "-s", "local://"+t.TempDir()+"/b")
	r.mustSucceed(t, "backup")
	if len(progresses(r.stdout)) != 0 || !strings.Contains(r.stdout, "Full Backup success summary") {
		t.Errorf("stdout should hold only the summary:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Detail BR log in "+logFile) {
		t.Errorf("stderr: %q", r.stderr)
	}
	data, err := os.ReadFile(logFile)
	if err != nil || len(progresses(string(data))) == 0 {
		t.Errorf("the log file has no progress (%v):\n%s", err, data)
	}
}

func TestFailControl(t *testing.T) {
	br, tikvCtl := brdouble.Build(t)
	dir := filepath.Join(t.TempDir(), "b")
	r := run(t, br, map[string]string{brdouble.EnvFail: "the disk is on fire"}, "backup", "full", "-s", "local://"+dir)
	r.mustFail(t, "FAIL", "Error: the disk is on fire")
	if n := len(progresses(r.stdout)); n != 1 {
		t.Errorf("%d progress lines before the failure, want 1", n)
	}
	if !strings.Contains(r.stdout, `[ERROR] [backup.go:41] ["failed to backup"] [error="the disk is on fire"]`) {
		t.Errorf("no BR [ERROR] line:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, backupmeta.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed backup left a backupmeta: %v", err)
	}

	// BRDOUBLE_ONLY aims the failure: base64ify passes, tikv-ctl fails with the message.
	env := map[string]string{brdouble.EnvFail: "compaction exploded", brdouble.EnvOnly: "tikv-ctl"}
	logDir := filepath.Join(t.TempDir(), "log")
	run(t, br, env, "log", "start", "--task-name=x", "-s", "local://"+logDir).mustSucceed(t, "log start under ONLY=tikv-ctl")
	b := run(t, br, map[string]string{"BR_LOG_TO_TERM": "-", "TMPDIR": t.TempDir(), brdouble.EnvFail: "x", brdouble.EnvOnly: "tikv-ctl"},
		"operator", "base64ify", "-s", "local://"+logDir)
	b.mustSucceed(t, "base64ify under ONLY=tikv-ctl")
	r = run(t, tikvCtl, env, "--log-level", "INFO", "--log-format", "json", "compact-log-backup",
		"--storage-base64", strings.TrimSpace(b.stdout), "--from", "0", "--until", "18446744073709551615", "-N", "1")
	var aborted string
	for _, line := range strings.Split(r.stderr, "\n") {
		if ev, ok := brlog.ParseCompactLog(line); ok && ev.Err != "" && aborted == "" {
			aborted = ev.Err
		}
	}
	if r.code != 1 || aborted != "compaction exploded" {
		t.Errorf("tikv-ctl FAIL: exit %d, error %q\n%s", r.code, aborted, r.stderr)
	}
}

// startHanging starts the double in its own process group, as brrun starts BR, and waits
// for its first progress line.
func startHanging(t *testing.T, bin string, env map[string]string, args ...string) (*exec.Cmd, *bytes.Buffer, <-chan error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = testEnv(env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	var stdout bytes.Buffer
	progressed := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			stdout.WriteString(sc.Text() + "\n")
			if _, ok := brlog.ParseProgress(sc.Text()); ok && !once {
				once = true
				close(progressed)
			}
		}
		done <- cmd.Wait()
	}()
	select {
	case <-progressed:
	case err := <-done:
		t.Fatalf("exited before progressing: %v\n%s\n%s", err, stdout.String(), stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("no progress line")
	}
	return cmd, &stdout, done
}

func TestHangControlEndsOnSIGTERMToTheGroup(t *testing.T) {
	br, _ := brdouble.Build(t)
	cmd, stdout, done := startHanging(t, br, map[string]string{brdouble.EnvHang: "1"}, "backup", "full", "-s", "local://"+t.TempDir()+"/b")
	select {
	case err := <-done:
		t.Fatalf("did not hang: %v\n%s", err, stdout)
	case <-time.After(300 * time.Millisecond):
	}
	sent := time.Now()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("after SIGTERM: %v, want exit 1", err)
		}
		if time.Since(sent) > 2*time.Second {
			t.Errorf("took %v to stop", time.Since(sent))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after SIGTERM")
	}
	for _, want := range []string{`["received signal to exit"] [signal=terminated]`, `["failed to backup"] [error="context canceled"]`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

func TestHangControlEndsWhenTheParentDies(t *testing.T) {
	br, _ := brdouble.Build(t)
	// A shell is the parent; when it is SIGKILLed the double is orphaned and must go.
	pidFile := filepath.Join(t.TempDir(), "pid")
	sh := exec.Command("/bin/sh", "-c", `"$0" "$@" & echo $! > `+pidFile+`; wait`, br, "backup", "full", "-s", "local://"+t.TempDir()+"/b")
	sh.Env = testEnv(map[string]string{brdouble.EnvHang: "1"})
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(5 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	if pid == 0 {
		t.Fatal("the double did not start")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	time.Sleep(300 * time.Millisecond)
	_ = sh.Process.Kill()
	_ = sh.Wait()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		// An exited orphan is reaped by init; a zombie still answers kill(0), so look at its state.
		if data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(data), ") Z ") {
			return
		}
	}
	t.Fatal("the double outlived its parent by 5s")
}

func TestDieControl(t *testing.T) {
	br, _ := brdouble.Build(t)
	dir := filepath.Join(t.TempDir(), "b")
	cmd := exec.Command(br, "backup", "full", "-s", "local://"+dir)
	cmd.Env = testEnv(map[string]string{brdouble.EnvDie: "1"})
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("want death by SIGKILL, got %v\n%s", err, out)
	}
	if len(progresses(string(out))) != 1 {
		t.Errorf("want one progress line before dying:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, backupmeta.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a killed backup left a backupmeta: %v", err)
	}
}

func TestRecordControl(t *testing.T) {
	br, tikvCtl := brdouble.Build(t)
	rec := filepath.Join(t.TempDir(), "record.jsonl")
	env := map[string]string{
		brdouble.EnvRecord: rec, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "very-secret", "AWS_REGION": "us-east-1",
	}
	run(t, br, env, "backup", "full", "--storage=azure://c/p/?account-name=acct&sas-token=sig%3Dtopsecret", "--nope")
	run(t, tikvCtl, env, "--bogus")
	recs, err := brdouble.ReadRecords(rec)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records %+v, %v", recs, err)
	}
	raw, _ := os.ReadFile(rec)
	for _, secret := range []string{"topsecret", "AKIAEXAMPLE", "very-secret"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the record holds the secret %q:\n%s", secret, raw)
		}
	}
	if r := recs[0]; r.Tool != "br" || strings.Join(r.Args[:2], " ") != "backup full" || !strings.Contains(r.Args[2], "account-name=acct") ||
		strings.Join(r.CredentialEnv, ",") != "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY" || !contains(r.Env, "AWS_REGION") || !contains(r.Env, "BR_LOG_TO_TERM") {
		t.Errorf("br record: %+v", r)
	}
	if recs[1].Tool != "tikv-ctl" || recs[1].Args[0] != "--bogus" {
		t.Errorf("tikv-ctl record: %+v", recs[1])
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
