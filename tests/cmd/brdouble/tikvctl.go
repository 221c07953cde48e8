package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// tikv-ctl's command line is clap 2 (structopt): global options first, then the subcommand
// and its options. Errors are clap's, on stderr, exit code 1.

// tikvOpt is one option: its names, whether it takes a value, and the value's placeholder
// as clap prints it.
type tikvOpt struct {
	long, short string
	value       string // "" for a flag
	def         string
	required    bool
}

var tikvGlobalOpts = []tikvOpt{
	{long: "log-level", value: "log-level", def: "warn"},
	{long: "log-format", value: "log-format", def: "text"},
	{long: "log-file", value: "log-file"},
	{long: "host", value: "host"},
	{long: "pd", value: "pd"},
	{long: "data-dir", value: "data-dir"},
	{long: "config", value: "config"},
	{long: "ca-path", value: "ca-path"},
	{long: "cert-path", value: "cert-path"},
	{long: "key-path", value: "key-path"},
	{long: "skip-paranoid-checks"},
}

var compactLogBackupOpts = []tikvOpt{
	{long: "name", short: "n", value: "name", def: "compaction"},
	{long: "from", value: "from-ts", required: true},
	{long: "until", value: "until-ts", required: true},
	{long: "concurrency", short: "N", value: "max-concurrent-compactions", def: "32"},
	{long: "storage-base64", short: "s", value: "storage-base64", required: true},
	{long: "compression", value: "compression", def: "lz4"},
	{long: "compression-level", value: "compression-level"},
	{long: "force-regenerate"},
	{long: "minimal-compaction-size", value: "minimal-compaction-size", def: "16M"},
	{long: "shard", value: "INDEX/TOTAL"},
}

const compactUsage = "tikv-ctl compact-log-backup [FLAGS] [OPTIONS] --from <from-ts> --storage-base64 <storage-base64> --until <until-ts>"

// clapError prints a clap 2 error and gives tikv-ctl's exit code for it.
func (p *proc) clapError(usage, format string, args ...any) int {
	fmt.Fprintf(p.stderr, "error: %s\n\nUSAGE:\n    %s\n\nFor more information try --help\n", fmt.Sprintf(format, args...), usage)
	return 1
}

// parseOpts consumes options from args until a positional argument (returned as rest).
func parseOpts(args []string, opts []tikvOpt) (vals map[string]string, rest []string, errMsg string) {
	vals = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			return vals, args[i:], ""
		}
		name, value, hasValue := strings.Cut(a, "=")
		var opt *tikvOpt
		for j := range opts {
			o := &opts[j]
			if name == "--"+o.long || (o.short != "" && name == "-"+o.short) {
				opt = o
			}
		}
		if opt == nil {
			return nil, nil, fmt.Sprintf("Found argument '%s' which wasn't expected, or isn't valid in this context", a)
		}
		if opt.value == "" {
			vals[opt.long] = "true"
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Sprintf("The argument '--%s <%s>' requires a value but none was supplied", opt.long, opt.value)
			}
			i++
			value = args[i]
		}
		vals[opt.long] = value
	}
	return vals, nil, ""
}

// runTiKVCtl is the double as tikv-ctl; only compact-log-backup is implemented.
func (p *proc) runTiKVCtl(ctx context.Context) int {
	const topUsage = "tikv-ctl [FLAGS] [OPTIONS] [SUBCOMMAND]"
	global, rest, msg := parseOpts(p.args, tikvGlobalOpts)
	if msg != "" {
		return p.clapError(topUsage, "%s", msg)
	}
	if len(rest) == 0 {
		return p.clapError(topUsage, "a subcommand is required (brdouble implements compact-log-backup)")
	}
	if rest[0] != "compact-log-backup" {
		return p.clapError(topUsage, "Found argument '%s' which wasn't expected, or isn't valid in this context", rest[0])
	}
	opts, extra, msg := parseOpts(rest[1:], compactLogBackupOpts)
	if msg != "" {
		return p.clapError(compactUsage, "%s", msg)
	}
	if len(extra) > 0 {
		return p.clapError(compactUsage, "Found argument '%s' which wasn't expected, or isn't valid in this context", extra[0])
	}
	var missing []string
	for _, o := range compactLogBackupOpts {
		if _, ok := opts[o.long]; !ok {
			if o.required {
				missing = append(missing, fmt.Sprintf("    --%s <%s>", o.long, o.value))
			} else if o.def != "" {
				opts[o.long] = o.def
			}
		}
	}
	if len(missing) > 0 {
		return p.clapError(compactUsage, "The following required arguments were not provided:\n%s", strings.Join(missing, "\n"))
	}
	nums := map[string]uint64{}
	for _, o := range compactLogBackupOpts {
		if o.long != "from" && o.long != "until" && o.long != "concurrency" {
			continue
		}
		v, err := strconv.ParseUint(opts[o.long], 10, 64)
		if err != nil {
			// clap prints Rust's ParseIntError.
			why := "invalid digit found in string"
			if errors.Is(err, strconv.ErrRange) {
				why = "number too large to fit in target type"
			} else if opts[o.long] == "" {
				why = "cannot parse integer from empty string"
			}
			return p.clapError(compactUsage, "Invalid value for '--%s <%s>': %s", o.long, o.value, why)
		}
		nums[o.long] = v
	}
	var shardIdx, shardTotal uint64
	if s := opts["shard"]; s != "" {
		i, t, ok := strings.Cut(s, "/")
		var e1, e2 error
		shardIdx, e1 = strconv.ParseUint(i, 10, 64)
		shardTotal, e2 = strconv.ParseUint(t, 10, 64)
		if !ok || e1 != nil || e2 != nil || shardIdx < 1 || shardIdx > shardTotal {
			return p.clapError(compactUsage, "Invalid value for '--shard <INDEX/TOTAL>': want INDEX/TOTAL with 1 <= INDEX <= TOTAL, got %q", s)
		}
	}
	if !map[string]bool{"lz4": true, "zstd": true, "snappy": true}[opts["compression"]] {
		return p.clapError(compactUsage, "Invalid value for '--compression <compression>': unknown compression %q", opts["compression"])
	}
	level, err := parseLevel(global["log-level"])
	if global["log-level"] == "" {
		level = levelWarn
	} else if err != nil {
		return p.clapError(topUsage, "Invalid value for '--log-level <log-level>': %v", err)
	}
	format := global["log-format"]
	if format != "" && format != "json" && format != "text" {
		return p.clapError(topUsage, "Invalid value for '--log-format <log-format>': must be json or text")
	}
	// tikv-ctl reports a bad backend as a clap error quoting the reason with Rust's Debug.
	raw, err := base64.StdEncoding.DecodeString(opts["storage-base64"])
	if err != nil {
		return p.clapError(compactUsage, "(-s, --storage-base64) is invalid: %q", "cannot parse base64: "+err.Error())
	}
	be, err := decodeBackend(raw)
	if err != nil {
		return p.clapError(compactUsage, "(-s, --storage-base64) is invalid: %q", err.Error())
	}
	st, err := storageFromBackend(be)
	if err != nil {
		return p.clapError(compactUsage, "(-s, --storage-base64) is invalid: %q", err.Error())
	}

	k := &compaction{
		p: p, st: st, name: opts["name"], from: nums["from"], until: nums["until"],
		concurrency: nums["concurrency"], shardIdx: shardIdx, shardTotal: shardTotal,
		log:  &logger{out: p.stderr, level: level, json: format == "json"},
		step: &stepper{ctl: p.ctl, commandPath: "tikv-ctl compact-log-backup"},
	}
	k.log.info("main.rs:1058", "Welcome to TiKV control: compact log backup.")
	k.log.info("main.rs:1059", "TiKV version info.", fld("info_string", "\nTiKV \nRelease Version:   8.5.0-brdouble\nEdition:           Community"))
	if level > levelInfo {
		k.log.warn("main.rs:1063", "Most of compact-log progress logs are only enabled in the `info` level.", fld("current_level", map[int]string{levelWarn: "Some(Warning)", levelError: "Some(Error)"}[level]))
	}
	if err := k.run(ctx); err != nil {
		// The Observability hook reports the abort, then tikv-ctl's main the failure.
		k.log.error("observability.rs:80", "Compaction aborted.", fld("err", err.Error()))
		k.log.error("main.rs:1112", "Failed to compact log backup.", fld("err", err.Error()), fld("err_verbose", fmt.Sprintf("Error { kind: Other(%q) }", err.Error())))
		return 1
	}
	k.log.info("main.rs:1110", "Compact log backup successfully.")
	return 0
}

// compaction is one `tikv-ctl compact-log-backup` run.
type compaction struct {
	p                    *proc
	st                   brStorage
	name                 string
	from, until          uint64
	concurrency          uint64
	shardIdx, shardTotal uint64
	log                  *logger
	step                 *stepper
}

// compactionMeta is what the double writes next to the compacted files.
type compactionMeta struct {
	Name    string    `json:"name"`
	FromTS  uint64    `json:"from_ts"`
	UntilTS uint64    `json:"until_ts"`
	InputTS [2]uint64 `json:"input_ts"`
	Inputs  []string  `json:"inputs"`
	Outputs []string  `json:"outputs"`
}

// run selects the log files with records in [from, until), compacts each into one output
// file and logs as TiKV's Observability hooks do: "Spawning compaction." before and
// "Finishing compaction." after each subcompaction, "All compactions done." at the end.
func (k *compaction) run(ctx context.Context) error {
	b, err := storage.Open(ctx, k.st.loc, k.st.lookup(k.p.lookup))
	if err != nil {
		return fmt.Errorf("failed to create external storage: %w", err)
	}
	defer b.Close()
	url := k.st.loc.Redacted()
	objs, err := listLogObjects(ctx, b)
	if err != nil {
		return err
	}
	var metas, inputs []logObject
	for _, o := range objs {
		if k.shardTotal > 0 && !k.inShard(o) {
			continue
		}
		if o.meta {
			metas = append(metas, o)
		} else if o.maxTS >= k.from && o.minTS < k.until {
			inputs = append(inputs, o)
		}
	}
	// With more than one concurrent compaction, tikv-ctl finishes them in no TS order; the
	// double spawns the newest first, so a reader that kept the last input_max_ts instead of the
	// largest reports too small an end.
	sort.Slice(inputs, func(i, j int) bool {
		if k.concurrency > 1 {
			return inputs[i].minTS > inputs[j].minTS
		}
		return inputs[i].minTS < inputs[j].minTS
	})
	k.log.info("observability.rs:118", "About to start compaction.",
		fld("name", k.name), fld("from_ts", k.from), fld("until_ts", k.until),
		fld("max_concurrent_compactions", k.concurrency), fld("url", url))
	if len(metas) == 0 {
		k.log.warn("observability.rs:88", "No meta files loaded, maybe wrong storage used?", fld("url", url))
		// TiKV's own words, capital included: tests match what the real tool prints.
		return fmt.Errorf("Nothing loaded from %s", url) //nolint:staticcheck // ST1005: the real tool's message

	}

	out := compactionMeta{Name: k.name, FromTS: k.from, UntilTS: k.until}
	start := time.Now()
	var bytesIn, bytesOut uint64
	for cid, in := range inputs {
		k.log.info("observability.rs:42", "Spawning compaction.",
			fld("cid", cid), fld("cf", "default"), fld("input_min_ts", in.minTS), fld("input_max_ts", in.maxTS),
			fld("source", 1), fld("size", in.Size), fld("region_id", 100+cid))
		data, err := b.Get(ctx, in.Key)
		if err != nil {
			return fmt.Errorf("read log file %s: %w", in.Key, err)
		}
		// "Compacting" keeps the records and drops the per-flush framing: half the size.
		compacted := data[:len(data)/2]
		key := fmt.Sprintf("v1/compaction_out/%s/%d-%d/%d_%d-%d.sst", k.name, k.from, k.until, cid, in.minTS, in.maxTS)
		if err := b.Put(ctx, key, compacted); err != nil {
			return fmt.Errorf("write compacted file %s: %w", key, err)
		}
		out.Inputs, out.Outputs = append(out.Inputs, in.Key), append(out.Outputs, key)
		if out.InputTS[0] == 0 || in.minTS < out.InputTS[0] {
			out.InputTS[0] = in.minTS
		}
		out.InputTS[1] = max(out.InputTS[1], in.maxTS)
		bytesIn += uint64(len(data))
		bytesOut += uint64(len(compacted))
		metaDone := len(metas) * (cid + 1) / len(inputs)
		took := time.Since(start)
		k.log.info("observability.rs:66", "Finishing compaction.",
			fld("meta_completed", metaDone), fld("meta_total", len(metas)),
			fld("bytes_to_compact", bytesIn), fld("bytes_compacted", bytesOut), fld("cid", cid),
			fld("load_stat", fmt.Sprintf("LoadStatistic { files_in: 1, keys_in: %d, physical_bytes_in: %d }", len(data)/64, len(data))),
			fld("compact_stat", fmt.Sprintf("CompactStatistic { keys_out: %d, physical_bytes_out: %d }", len(compacted)/64, len(compacted))),
			fld("speed(KiB/s)", float64(bytesIn)/1024/math.Max(took.Seconds(), 0.001)), fld("total_take", took.String()),
			fld("global_load_meta_stat", fmt.Sprintf("LoadMetaStatistic { meta_files_in: %d }", metaDone)))
		if err := k.step.after(ctx); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode compaction meta: %w", err)
	}
	metaKey := fmt.Sprintf("v1/compaction_out/%s/%d-%d/compaction.meta", k.name, k.from, k.until)
	if err := b.Put(ctx, metaKey, data); err != nil {
		return fmt.Errorf("write %s: %w", metaKey, err)
	}
	k.log.info("observability.rs:92", "All compactions done.")
	return nil
}

// inShard reports whether an object belongs to this shard, by its store.
func (k *compaction) inShard(o logObject) bool {
	var store uint64
	if o.meta {
		if m := logMetaRe.FindStringSubmatch(o.Key); m != nil {
			store = mustUint(m[2])
		}
	} else {
		parts := strings.Split(o.Key, "/")
		if len(parts) >= 4 {
			store = mustUint(parts[3])
		}
	}
	return store%k.shardTotal == k.shardIdx-1
}
