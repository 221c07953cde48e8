package brlog

import (
	"encoding/base64"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Progress is one progress report of BR: the step it is in and how far it got, in percent.
type Progress struct {
	Step    string
	Percent float64
}

// progressRE is v1.6's pattern (util.ParseRestoreProgress). It is not anchored: BR prints the
// fields after its own timestamp, level and source location.
var progressRE = regexp.MustCompile(`\[progress\] \[step="(.*?)"\] \[progress=(.*?)%\]`)

// ParseProgress finds a progress report in a BR output line. v1.6 recorded 0% when the number
// did not parse; such a line is ignored here instead, so that a garbled line never moves the
// reported progress backwards.
func ParseProgress(line string) (Progress, bool) {
	m := progressRE.FindStringSubmatch(line)
	if m == nil || m[1] == "" {
		return Progress{}, false
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(m[2]), 64)
	if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
		return Progress{}, false
	}
	return Progress{Step: m[1], Percent: p}, true
}

// ParseBase64ify returns the storage backend `br operator base64ify` printed: BR writes it to
// stdout as one line of standard base64. The last line that decodes as such is taken, so that
// log lines BR may print on stdout before it (BR_LOG_TO_TERM) do not get in the way.
func ParseBase64ify(stdout string) (string, error) {
	lines := strings.Split(stdout, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(l); err == nil && len(b) > 0 {
			return l, nil
		}
	}
	return "", errors.New("br operator base64ify printed no base64 storage backend")
}
