package manager

import "testing"

func TestReadableSizeSpellsBytesAsV16Did(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1500, "1.5 kB"},
		{9999, "10 kB"},
		{83_000_000, "83 MB"},
		{1_234_567_890, "1.2 GB"},
		{999_999, "1000 kB"},
		{5 * 1000 * 1000 * 1000 * 1000, "5.0 TB"},
	} {
		if got := readableSize(tc.n); got != tc.want {
			t.Errorf("readableSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
