// Package brlog reads what BR and tikv-ctl print, so that the backup-manager can report
// progress and failures on the custom resources.
//
//   - ParseProgress finds BR's `[progress] [step="…"] [progress=…%]` log fields anywhere in a
//     line (BR prefixes its own timestamp and level), as v1.6's util.ParseRestoreProgress did.
//   - Output collects a failure message the way v1.6 built it (the stdout lines containing
//     [ERROR], then stderr), but bounded: status messages live in etcd objects and are read by
//     humans, so only the last lines are kept and the message is cut from the front.
//   - ParseBase64ify reads the storage backend `br operator base64ify` prints.
//   - ParseCompactLog reads tikv-ctl's JSON log during `compact-log-backup`.
//   - Throttle passes a stream of values (progress) on at most once per interval, so that a
//     chatty tool does not turn into one API write per line. Flush ends it: once Flush has
//     returned no report runs or starts, so the caller may close what reports write to.
//   - SecretRedactor makes the per-line redactor for brrun.Command.Redact: the tools echo
//     storage URLs with SAS tokens and signed request URLs, which must reach neither the pod
//     log nor a status message.
//
// # tikv-ctl's compact-log-backup log
//
// The backup-manager runs `tikv-ctl --log-level INFO --log-format json compact-log-backup …`
// and tikv-ctl logs to stderr. With --log-format json TiKV's logger (json_format in
// components/tikv_util/src/logger, on slog-json) prints one JSON object per line: the keys
// "message", "caller", "level" (FATAL, ERROR, WARN, INFO, DEBUG, TRACE) and "time", plus the
// record's own key/value pairs, integers as JSON numbers and Display or Debug values as
// strings. The records that matter come from the compact-log-backup execution hooks
// (components/compact-log-backup/src/exec_hooks/observability.rs, previously
// execute/hooks.rs) and tikv-ctl's main.rs:
//
//	{"message":"Spawning compaction.","cid":3,"cf":"write","input_min_ts":…,"input_max_ts":…,"source":…,"size":…,"region_id":…}
//	{"message":"Finishing compaction.","meta_completed":2,"meta_total":5,"bytes_to_compact":…,"bytes_compacted":…,"cid":3,…}
//	{"message":"Compaction aborted.","err":"…"}        (level ERROR; the run fails)
//	{"message":"All compactions done."}
//	{"message":"Compact log backup successfully."}
//	{"message":"Failed to compact log backup.","err":"…","err_verbose":"…"}   (level ERROR, then exit 1)
//
// v1.6 (cmd/backup-manager/app/compact/manager.go, pkg/controller/compact_status_updater.go)
// keeps the largest input_max_ts of the "Spawning compaction." records as status.endTs, turns
// each "Finishing compaction." record into status.progress
// "[READ_META(<meta_completed>/<meta_total>),COMPACT_WORK(<bytes_compacted>/<bytes_to_compact>)]",
// and fails with the "err" of "Compaction aborted.". ParseCompactLog reproduces that per line;
// it also recognises the two final records of tikv-ctl's main (success and failure), which v1.6
// left to the exit code. TiKV releases before the byte counters existed log "p_bytes" instead;
// their progress then shows zero bytes, as v1.6's did.
package brlog
