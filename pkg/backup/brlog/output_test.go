package brlog

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestOutputMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdout []string
		stderr []string
		want   string
	}{
		{"nothing collected gives no message", []string{"[INFO] fine"}, nil, ""},
		{
			"error lines come before the stderr tail, as v1.6 concatenated them",
			[]string{"[INFO] start", "[2025/01/02] [ERROR] [backup.go:1] [\"backup failed\"] [error=\"boom\"]", "[INFO] end"},
			[]string{"Error: run br: boom"},
			"[2025/01/02] [ERROR] [backup.go:1] [\"backup failed\"] [error=\"boom\"]\nError: run br: boom",
		},
		{"stdout lines without [ERROR] are not kept", []string{"[WARN] slow", "error in lower case"}, []string{"stderr"}, "stderr"},
		{"blank stderr lines are not kept", nil, []string{"", "  ", "panic: x", "\r"}, "panic: x"},
		{"trailing newlines are dropped", []string{"[ERROR] a\r\n"}, []string{"b\n"}, "[ERROR] a\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o Output
			for _, l := range tc.stdout {
				o.Stdout(l)
			}
			for _, l := range tc.stderr {
				o.Stderr(l)
			}
			if got := o.Message(); got != tc.want {
				t.Fatalf("Message =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestOutputBounds(t *testing.T) {
	t.Run("only the last stderr lines are kept, behind an ellipsis", func(t *testing.T) {
		var o Output
		for i := range 100 {
			o.Stderr(fmt.Sprintf("line %d", i))
		}
		got := strings.Split(o.Message(), "\n")
		if len(got) != TailLines+1 || got[0] != ellipsis || got[1] != "line 80" || got[TailLines] != "line 99" {
			t.Fatalf("Message lines = %q", got)
		}
	})
	t.Run("only the last error lines are kept, and the stderr tail follows", func(t *testing.T) {
		var o Output
		for i := range 30 {
			o.Stdout(fmt.Sprintf("[ERROR] e%d", i))
		}
		o.Stderr("last words")
		got := strings.Split(o.Message(), "\n")
		if got[0] != ellipsis || got[1] != "[ERROR] e10" || got[len(got)-2] != "[ERROR] e29" || got[len(got)-1] != "last words" {
			t.Fatalf("Message lines = %q", got)
		}
	})
	t.Run("a long line keeps its start and is marked", func(t *testing.T) {
		var o Output
		o.Stdout("[ERROR] " + strings.Repeat("x", 5000))
		got := o.Message()
		if len(got) > MaxLineBytes || !strings.HasPrefix(got, "[ERROR] x") || !strings.HasSuffix(got, ellipsis) {
			t.Fatalf("Message = %d bytes %q…%q", len(got), got[:20], got[len(got)-10:])
		}
	})
	t.Run("the message stays within MaxMessageBytes and is cut at a line from the front", func(t *testing.T) {
		var o Output
		for i := range TailLines {
			o.Stdout(fmt.Sprintf("[ERROR] %02d %s", i, strings.Repeat("e", 500)))
			o.Stderr(fmt.Sprintf("stderr %02d %s", i, strings.Repeat("s", 500)))
		}
		got := o.Message()
		if len(got) > MaxMessageBytes {
			t.Fatalf("Message is %d bytes, more than %d", len(got), MaxMessageBytes)
		}
		if !strings.HasPrefix(got, ellipsis+"\nstderr ") {
			t.Fatalf("Message does not start at a whole line behind the marker: %q", got[:40])
		}
		if !strings.HasSuffix(got, "stderr 19 "+strings.Repeat("s", 500)) {
			t.Fatal("Message lost its last line")
		}
	})
	t.Run("a message of one huge multi-byte line is cut on a rune boundary", func(t *testing.T) {
		s := strings.Repeat("é", 5000)
		got := cutFront(s, MaxMessageBytes)
		if len(got) > MaxMessageBytes || !utf8.ValidString(got) || !strings.HasPrefix(got, ellipsis+"é") {
			t.Fatalf("cutFront = %d bytes, valid %v", len(got), utf8.ValidString(got))
		}
		got = cutBack(s, 101)
		if len(got) > 101 || !utf8.ValidString(got) || !strings.HasSuffix(got, "é"+ellipsis) {
			t.Fatalf("cutBack = %d bytes, valid %v", len(got), utf8.ValidString(got))
		}
	})
}

func TestOutputConcurrency(t *testing.T) {
	t.Run("stdout and stderr may be fed from different goroutines while the message is read", func(t *testing.T) {
		var o Output
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					if g%2 == 0 {
						o.Stdout(fmt.Sprintf("[ERROR] %d-%d", g, i))
					} else {
						o.Stderr(fmt.Sprintf("%d-%d", g, i))
					}
					if i%50 == 0 {
						_ = o.Message()
					}
				}
			}()
		}
		wg.Wait()
		if got := o.Message(); len(got) == 0 || len(got) > MaxMessageBytes {
			t.Fatalf("Message is %d bytes", len(got))
		}
	})
}
