package brlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The messages of tikv-ctl's compact-log-backup records that carry information (see doc.go).
const (
	msgCompactionSpawn   = "Spawning compaction."
	msgCompactionDone    = "Finishing compaction."
	msgCompactionAborted = "Compaction aborted."
	msgAllDone           = "All compactions done."
	msgSucceeded         = "Compact log backup successfully."
	msgFailed            = "Failed to compact log backup."
)

// CompactEvent is what one tikv-ctl log line says about the compaction. Only the fields the
// line carries are set.
type CompactEvent struct {
	// Progress is status.progress as v1.6 words it:
	// "[READ_META(<done>/<total>),COMPACT_WORK(<compacted>/<to compact>)]".
	Progress string
	// EndTs is the input_max_ts of a compaction tikv-ctl started. status.endTs is the largest
	// one seen, so the caller keeps the maximum.
	EndTs uint64
	// Done says tikv-ctl finished every compaction.
	Done bool
	// Err is why tikv-ctl gave up.
	Err string
}

// compactRecord is the part of a tikv-ctl JSON log record ParseCompactLog reads. Go matches the
// keys case-insensitively, as v1.6's decoder did ("Message").
type compactRecord struct {
	Message        string      `json:"message"`
	Err            string      `json:"err"`
	InputMaxTS     *jsonUint64 `json:"input_max_ts"`
	MetaCompleted  jsonUint64  `json:"meta_completed"`
	MetaTotal      jsonUint64  `json:"meta_total"`
	BytesToCompact jsonUint64  `json:"bytes_to_compact"`
	BytesCompacted jsonUint64  `json:"bytes_compacted"`
}

// ParseCompactLog reads one line of tikv-ctl's JSON log. It reports false for lines that are
// not JSON records (tikv-ctl may print a panic or a usage text) and for records that say
// nothing about progress, the end TS or the outcome.
func ParseCompactLog(line string) (CompactEvent, bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return CompactEvent{}, false
	}
	var r compactRecord
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return CompactEvent{}, false
	}
	switch r.Message {
	case msgCompactionSpawn:
		if r.InputMaxTS == nil {
			return CompactEvent{}, false
		}
		return CompactEvent{EndTs: uint64(*r.InputMaxTS)}, true
	case msgCompactionDone:
		return CompactEvent{Progress: fmt.Sprintf("[READ_META(%d/%d),COMPACT_WORK(%d/%d)]",
			r.MetaCompleted, r.MetaTotal, r.BytesCompacted, r.BytesToCompact)}, true
	case msgCompactionAborted, msgFailed:
		err := r.Err
		if err == "" {
			err = strings.TrimSuffix(strings.ToLower(r.Message[:1])+r.Message[1:], ".")
		}
		return CompactEvent{Err: err}, true
	case msgAllDone, msgSucceeded:
		return CompactEvent{Done: true}, true
	default:
		return CompactEvent{}, false
	}
}

// jsonUint64 takes an unsigned integer written as a JSON number or as a string; slog-json
// writes integers as numbers, but a value logged with Display (%) becomes a string.
type jsonUint64 uint64

func (u *jsonUint64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("not an unsigned integer: %s", b)
	}
	*u = jsonUint64(v)
	return nil
}
