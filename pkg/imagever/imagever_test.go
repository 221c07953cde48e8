package imagever

import "testing"

func TestAtLeast(t *testing.T) {
	cases := []struct {
		image        string
		major, minor int
		want         bool
	}{
		{"pingcap/tidb:v8.5.0", 6, 3, true},
		{"pingcap/tidb:v6.3.0", 6, 3, true},
		{"pingcap/tidb:v6.2.9", 6, 3, false},
		{"pingcap/tidb:v5.4.0", 6, 3, false},
		{"pingcap/tidb:7.1.0", 6, 3, true},
		{"pingcap/tidb:v3.0.0", 4, 0, false},
		{"pingcap/tidb:latest", 6, 3, true},
		{"pingcap/tidb:nightly", 6, 3, true},
		{"pingcap/tidb", 6, 3, true},
		{"registry:5000/pingcap/tidb", 6, 3, true},
		{"registry:5000/pingcap/tidb:v6.1.0", 6, 3, false},
		{"pingcap/tidb:v6", 6, 0, true},
		{"pingcap/tidb:v6.5-custom", 6, 5, true},
	}
	for _, c := range cases {
		if got := AtLeast(c.image, c.major, c.minor); got != c.want {
			t.Errorf("AtLeast(%q, %d, %d) = %v, want %v", c.image, c.major, c.minor, got, c.want)
		}
	}
}
