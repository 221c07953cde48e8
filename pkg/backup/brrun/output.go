package brrun

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// maxLineLength is the longest piece of a line handed on at once. A longer line arrives in
// several pieces of at most this length, in order; failing the run, or holding an unbounded
// line in memory, would be worse than a log line split in two.
const maxLineLength = 64 << 10

// output sends the child's lines to the pod log and the handlers, one at a time: a line is
// written to the log in one Write, so lines of stdout and stderr never interleave mid-line,
// and handlers never run concurrently.
type output struct {
	mu   sync.Mutex
	log  io.Writer
	name string
	h    Handlers
	// redact is Command.Redact (nil: lines go out as they are).
	redact func(string) string
	// quietStdout is Command.QuietStdout; hiddenBytes and hiddenLines count what it kept out
	// of the log, for the one line that says so.
	quietStdout              bool
	hiddenBytes, hiddenLines int
}

func (o *output) stdout(line string) { o.line(o.name+": ", o.h.Stdout, line, o.quietStdout) }
func (o *output) stderr(line string) { o.line(o.name+" (stderr): ", o.h.Stderr, line, false) }

func (o *output) line(prefix string, handle func(string), line string, quiet bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if quiet {
		o.hiddenBytes += len(line) // what the child printed, line ends aside
		o.hiddenLines++
	}
	// Under mu, so that a redactor need not be safe for concurrent use.
	if o.redact != nil {
		line = o.redact(line)
	}
	if !quiet {
		_, _ = io.WriteString(o.log, prefix+line+"\n") // a lost log line must not fail the backup
	}
	if handle != nil {
		handle(line)
	}
}

// hiddenSummary logs, in place of the stdout QuietStdout kept out of the log, how much there
// was: whoever reads the pod log then knows the tool did print something, and that it was
// withheld on purpose rather than lost.
func (o *output) hiddenSummary() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.quietStdout {
		return
	}
	lines := "lines"
	if o.hiddenLines == 1 {
		lines = "line"
	}
	_, _ = fmt.Fprintf(o.log, "%s: <stdout not shown: %d bytes in %d %s>\n", o.name, o.hiddenBytes, o.hiddenLines, lines)
}

// note logs what brrun itself does, told apart from the child's output by its prefix. It is
// redacted too: the command line it logs may hold what LogArgs missed.
func (o *output) note(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if o.redact != nil {
		msg = o.redact(msg)
	}
	_, _ = io.WriteString(o.log, "brrun: "+msg+"\n")
}

// stream reads r until it ends and hands on each line, or each piece of a line longer than
// maxLineLength, without its line end.
func (ch *child) stream(r *os.File, emit func(string)) {
	defer ch.readers.Done()
	defer func() { _ = r.Close() }() // read to the end: nothing left to report
	br := bufio.NewReaderSize(r, maxLineLength)
	continued := false
	for {
		piece, isPrefix, err := br.ReadLine()
		if err != nil {
			return // EOF, or closed by drain
		}
		// A line exactly maxLineLength long ends in an empty piece, which is no line.
		if !continued || isPrefix || len(piece) > 0 {
			emit(string(piece))
		}
		continued = isPrefix
	}
}

// commandLine is the command as logged: the path and the loggable arguments, an argument
// quoted when it is empty or holds blanks or quotes, so that the words can be told apart.
func commandLine(c Command) string {
	args := c.LogArgs
	if args == nil {
		args = c.Args
	}
	words := make([]string, 0, len(args)+1)
	for _, a := range append([]string{c.Path}, args...) {
		words = append(words, quote(a))
	}
	return strings.Join(words, " ")
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'\\") {
		return strconv.Quote(s)
	}
	return s
}
