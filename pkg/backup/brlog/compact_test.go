package brlog

import "testing"

func TestParseCompactLog(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want CompactEvent
		ok   bool
	}{
		{
			"a spawned compaction gives its input_max_ts as the end TS",
			`{"message":"Spawning compaction.","caller":"observability.rs:40","level":"INFO","time":"2025/01/02 15:04:05.123 +08:00","cid":3,"cf":"write","input_min_ts":456000000000000000,"input_max_ts":456789012345678901,"source":4,"size":1024,"region_id":12}`,
			CompactEvent{EndTs: 456789012345678901}, true,
		},
		{
			"an input_max_ts written as a string is read too",
			`{"message":"Spawning compaction.","input_max_ts":"42"}`,
			CompactEvent{EndTs: 42}, true,
		},
		{
			"a spawned compaction without input_max_ts says nothing",
			`{"message":"Spawning compaction.","cid":1}`,
			CompactEvent{}, false,
		},
		{
			"a finished compaction gives progress worded as v1.6 does",
			`{"message":"Finishing compaction.","level":"INFO","meta_completed":2,"meta_total":5,"bytes_to_compact":4096,"bytes_compacted":1024,"cid":3,"load_stat":"LoadStatistic { files_in: 1 }","speed(KiB/s)":12.5,"total_take":"1.2s"}`,
			CompactEvent{Progress: "[READ_META(2/5),COMPACT_WORK(1024/4096)]"}, true,
		},
		{
			"a finished compaction of an older TiKV without byte counters shows zero bytes",
			`{"message":"Finishing compaction.","meta_completed":1,"meta_total":1,"p_bytes":77}`,
			CompactEvent{Progress: "[READ_META(1/1),COMPACT_WORK(0/0)]"}, true,
		},
		{
			"the message key is matched without regard to case, as v1.6's decoder did",
			`{"Message":"Finishing compaction.","meta_completed":1,"meta_total":2}`,
			CompactEvent{Progress: "[READ_META(1/2),COMPACT_WORK(0/0)]"}, true,
		},
		{
			"an aborted compaction gives its error",
			`{"message":"Compaction aborted.","level":"ERROR","err":"[BR:Common:ErrInvalidArgument] no such bucket"}`,
			CompactEvent{Err: "[BR:Common:ErrInvalidArgument] no such bucket"}, true,
		},
		{
			"an aborted compaction without an error still fails",
			`{"message":"Compaction aborted.","level":"ERROR"}`,
			CompactEvent{Err: "compaction aborted"}, true,
		},
		{
			"tikv-ctl's final failure gives its error",
			`{"message":"Failed to compact log backup.","level":"ERROR","err":"Nothing loaded from s3://b/p","err_verbose":"Other(...)"}`,
			CompactEvent{Err: "Nothing loaded from s3://b/p"}, true,
		},
		{"all compactions done is the end", `{"message":"All compactions done.","level":"INFO"}`, CompactEvent{Done: true}, true},
		{"tikv-ctl's final success is the end", `{"message":"Compact log backup successfully."}`, CompactEvent{Done: true}, true},
		{"other records say nothing", `{"message":"Welcome to TiKV control: compact log backup.","level":"INFO"}`, CompactEvent{}, false},
		{"an error record of another kind is left to the exit code and the stderr tail", `{"message":"failed to dump async backtrace.","level":"WARN","err":"x"}`, CompactEvent{}, false},
		{"a line that is not JSON is ignored", `thread 'main' panicked at 'boom'`, CompactEvent{}, false},
		{"broken JSON is ignored", `{"message":"Finishing compaction.",`, CompactEvent{}, false},
		{"a progress counter that is not a number makes the line unreadable", `{"message":"Finishing compaction.","meta_completed":-1}`, CompactEvent{}, false},
		{"an empty line is ignored", ``, CompactEvent{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseCompactLog(tc.line)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("ParseCompactLog = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
