package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// nowTSO is what BR gets from PD for "now": the wall clock as a TSO.
func nowTSO() uint64 { return brdouble.TSO(time.Now()) }

// tsTime renders a TSO as BR does next to it in logs and errors.
func tsTime(ts uint64) string {
	return brdouble.TSOTime(ts).Format("2006-01-02 15:04:05.999 -0700")
}

// Layouts of a datetime TS, with a zone (required for log backup flags) and without.
var (
	zonedLayouts = []string{
		"2006-01-02 15:04:05.999999999-0700", "2006-01-02 15:04:05.999999999 -0700",
		"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999 -07:00",
		"2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano,
	}
	localLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}
)

// parseTSString is BR's ParseTSString: a TSO number, or a datetime. requireZone is BR's
// tzCheck, set for --start-ts, --until and --restored-ts: a datetime without a zone is
// refused there because the operator's pod and the user may be in different zones.
func parseTSString(s string, requireZone bool) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if ts, err := strconv.ParseUint(s, 10, 64); err == nil {
		return ts, nil
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return brdouble.TSO(t), nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			if requireZone {
				return 0, fmt.Errorf("must set timezone when using datetime format ts, e.g. '2018-05-11 01:42:23+0800'")
			}
			return brdouble.TSO(t), nil
		}
	}
	return 0, fmt.Errorf("invalid timestamp %q: not a TSO or a datetime such as '2018-05-11 01:42:23+0800'", s)
}
