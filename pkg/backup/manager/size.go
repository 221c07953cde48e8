package manager

import (
	"fmt"
	"math"
)

// readableSize spells a byte count the way v1.6's status.backupSizeReadable did (SI units, as
// go-humanize's Bytes: "0 B", "999 B", "1.2 kB", "83 MB"), so dashboards that parse it keep
// working.
func readableSize(n uint64) string {
	const base = 1000
	if n < base {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	v := float64(n) / base
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	// Round to one decimal before choosing the format, as go-humanize does: 9999 is "10 kB".
	v = math.Floor(v*10+0.5) / 10
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, units[i])
	}
	return fmt.Sprintf("%.0f %s", v, units[i])
}
