package brlog

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds of what Output keeps. A failed BR run can print thousands of lines (with
// BR_LOG_TO_TERM its whole log goes to the terminal) and an [ERROR] line can carry a stack trace
// in errorVerbose; the message ends up in a condition of an object stored in etcd.
const (
	// MaxMessageBytes bounds Message.
	MaxMessageBytes = 4096
	// TailLines is how many [ERROR] lines, and how many stderr lines, are kept: the last ones.
	TailLines = 20
	// MaxLineBytes bounds one kept line; longer lines keep their start, where BR puts the
	// message, and lose their end.
	MaxLineBytes = 1024
)

// ellipsis marks where Output dropped something.
const ellipsis = "…"

// Output collects what a failure message needs from a child's output: the stdout lines
// containing [ERROR] (BR's error log lines) and the tail of stderr. The zero value is ready to
// use; Stdout and Stderr may be called from different goroutines.
type Output struct {
	mu     sync.Mutex
	errors tail
	stderr tail
}

// Stdout takes one stdout line (without its newline).
func (o *Output) Stdout(line string) {
	if !strings.Contains(line, "[ERROR]") {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errors.add(line)
}

// Stderr takes one stderr line (without its newline).
func (o *Output) Stderr(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stderr.add(line)
}

// Message is the failure message: the [ERROR] lines, then the stderr tail, one per line, as
// v1.6 concatenated them. Dropped lines are marked with "…"; when the result is still longer
// than MaxMessageBytes its start is cut, because the last lines say why the tool stopped. It is
// empty when nothing was collected.
func (o *Output) Message() string {
	o.mu.Lock()
	lines := o.errors.lines(nil)
	lines = o.stderr.lines(lines)
	o.mu.Unlock()
	return cutFront(strings.Join(lines, "\n"), MaxMessageBytes)
}

// tail keeps the last TailLines lines it is given.
type tail struct {
	kept    []string
	dropped bool
}

func (t *tail) add(line string) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return
	}
	if len(line) > MaxLineBytes {
		line = cutBack(line, MaxLineBytes)
	}
	if len(t.kept) == TailLines {
		copy(t.kept, t.kept[1:])
		t.kept = t.kept[:TailLines-1]
		t.dropped = true
	}
	t.kept = append(t.kept, line)
}

// lines appends the kept lines to dst, behind an ellipsis line if older ones were dropped.
func (t *tail) lines(dst []string) []string {
	if len(t.kept) == 0 {
		return dst
	}
	if t.dropped {
		dst = append(dst, ellipsis)
	}
	return append(dst, t.kept...)
}

// cutBack keeps the first bytes of s, ending it with an ellipsis, within max bytes, on a rune
// boundary.
func cutBack(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// cutFront keeps the last bytes of s within max bytes, starting at a line if one starts in the
// kept part, else at a rune, behind an ellipsis.
func cutFront(s string, max int) string {
	if len(s) <= max {
		return s
	}
	marker := ellipsis + "\n"
	start := len(s) - (max - len(marker))
	if i := strings.IndexByte(s[start:], '\n'); i >= 0 && start+i+1 < len(s) {
		return marker + s[start+i+1:]
	}
	marker = ellipsis
	start = len(s) - (max - len(marker))
	for start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	return marker + s[start:]
}
