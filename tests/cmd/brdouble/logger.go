package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Log levels, in pingcap/log's (zap's) order.
const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
)

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR"}

// parseLevel reads --log-level as zap does (case-insensitive; "warning" as TiKV also takes).
func parseLevel(s string) (int, error) {
	switch strings.ToLower(s) {
	case "debug", "trace":
		return levelDebug, nil
	case "info", "":
		return levelInfo, nil
	case "warn", "warning":
		return levelWarn, nil
	case "error", "critical", "fatal":
		return levelError, nil
	}
	return 0, fmt.Errorf("unrecognized level: %q", s)
}

// field is one structured field of a log line.
type field struct {
	key string
	val any
}

func fld(key string, val any) field { return field{key, val} }

// logger writes log lines in the unified TiDB log format that BR (pingcap/log) and TiKV
// (slog) share: `[2026/12/03 10:00:00.000 +00:00] [INFO] [file.go:12] [message] [k=v]...`,
// or one JSON object per line.
type logger struct {
	mu    sync.Mutex
	out   io.Writer
	json  bool
	level int
	// dup also receives summary lines: BR copies its summary to stdout when it logs to a
	// file, which is all a user running BR without BR_LOG_TO_TERM sees on stdout.
	dup io.Writer
}

func (l *logger) info(caller, msg string, fs ...field)  { l.log(levelInfo, caller, msg, fs...) }
func (l *logger) warn(caller, msg string, fs ...field)  { l.log(levelWarn, caller, msg, fs...) }
func (l *logger) error(caller, msg string, fs ...field) { l.log(levelError, caller, msg, fs...) }

func (l *logger) log(level int, caller, msg string, fs ...field) {
	if l == nil || level < l.level {
		return
	}
	l.write(l.out, l.format(level, caller, msg, fs))
}

// summary logs an INFO line and copies it to dup.
func (l *logger) summary(caller, msg string, fs ...field) {
	line := l.format(levelInfo, caller, msg, fs)
	if l.level <= levelInfo {
		l.write(l.out, line)
	}
	if l.dup != nil {
		l.write(l.dup, line)
	}
}

func (l *logger) write(w io.Writer, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(w, line)
}

// timeFormat is the unified log format's timestamp: local time with millisecond precision.
const timeFormat = "2006/01/02 15:04:05.000 -07:00"

func (l *logger) format(level int, caller, msg string, fs []field) string {
	now := time.Now().Format(timeFormat)
	var b strings.Builder
	if l.json {
		b.WriteString(`{"level":`)
		writeJSON(&b, levelNames[level])
		b.WriteString(`,"time":`)
		writeJSON(&b, now)
		b.WriteString(`,"caller":`)
		writeJSON(&b, caller)
		b.WriteString(`,"message":`)
		writeJSON(&b, msg)
		for _, f := range fs {
			b.WriteByte(',')
			writeJSON(&b, f.key)
			b.WriteByte(':')
			writeJSON(&b, jsonValue(f.val))
		}
		b.WriteString("}\n")
		return b.String()
	}
	fmt.Fprintf(&b, "[%s] [%s] [%s] [%s]", now, levelNames[level], caller, quoteIfNeeded(msg))
	for _, f := range fs {
		fmt.Fprintf(&b, " [%s=%s]", quoteIfNeeded(f.key), quoteIfNeeded(textValue(f.val)))
	}
	b.WriteByte('\n')
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(fmt.Sprint(v))
	}
	b.Write(data)
}

// jsonValue keeps numbers and booleans as JSON numbers and booleans, as slog_json and zap do.
func jsonValue(v any) any {
	switch x := v.(type) {
	case error:
		return x.Error()
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	return v
}

func textValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	case time.Duration:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		return "[" + strings.Join(x, ",") + "]"
	}
	return fmt.Sprint(v)
}

// quoteIfNeeded quotes a message or value the way pingcap/log's text encoder does: only
// when it holds a space or control character, a backslash, a quote, a bracket, '=' or
// invalid UTF-8. So `[step="Full Backup"]` is quoted and `[step=Checksum]` is not.
func quoteIfNeeded(s string) string {
	need := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= 0x20 || c == '\\' || c == '"' || c == '[' || c == ']' || c == '=' || c == 0x7f {
				need = true
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			need = true
			break
		}
		i += n
	}
	if !need {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// humanSize is docker/go-units HumanSize, which BR's summary uses: decimal units, four
// significant digits ("24.58kB").
func humanSize(n float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return strconv.FormatFloat(n, 'g', 4, 64) + units[i]
}
