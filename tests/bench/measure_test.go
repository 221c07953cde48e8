package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestUnionLength(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1000+int64(s), 0) }
	cases := map[string]struct {
		spans []Interval
		want  time.Duration
	}{
		"no spans cover nothing": {want: 0},
		"one span covers its length": {
			spans: []Interval{{at(0), at(5)}}, want: 5 * time.Second,
		},
		"overlapping spans are counted once": {
			spans: []Interval{{at(2), at(8)}, {at(0), at(5)}}, want: 8 * time.Second,
		},
		"a span inside another adds nothing": {
			spans: []Interval{{at(0), at(10)}, {at(2), at(3)}}, want: 10 * time.Second,
		},
		"disjoint spans add up and the gap is left out": {
			spans: []Interval{{at(10), at(12)}, {at(0), at(3)}}, want: 5 * time.Second,
		},
		"empty or reversed spans are ignored": {
			spans: []Interval{{at(4), at(4)}, {at(9), at(1)}, {at(0), at(2)}}, want: 2 * time.Second,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := UnionLength(tc.spans); got != tc.want {
				t.Errorf("UnionLength = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestGatherReconcileTimeReadsOneController(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: reconcileTimeMetric}, []string{"controller"})
	reg.MustRegister(h)
	h.WithLabelValues("tidbcluster").Observe(0.5)
	h.WithLabelValues("tidbcluster").Observe(0.25)
	h.WithLabelValues("backup").Observe(9)

	got, err := GatherReconcileTime(reg, "tidbcluster")
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 2 || got.Total != 750*time.Millisecond {
		t.Errorf("got %+v, want 2 reconciles taking 750ms", got)
	}
	none, err := GatherReconcileTime(reg, "restore")
	if err != nil {
		t.Fatal(err)
	}
	if none != (ReconcileTime{}) {
		t.Errorf("a controller without reconciles reads %+v", none)
	}
	if d := got.Sub(ReconcileTime{Count: 1, Total: 500 * time.Millisecond}); d.Count != 1 || d.Total != 250*time.Millisecond {
		t.Errorf("Sub = %+v", d)
	}
}

func TestChangedPaths(t *testing.T) {
	cases := map[string]struct {
		before, after string
		want          []string
	}{
		"equal documents differ nowhere": {
			before: `{"a":{"b":1}}`, after: `{"a":{"b":1}}`, want: []string{},
		},
		"a changed leaf is named by its path": {
			before: `{"pd":{"members":{"p0":{"health":true}}}}`, after: `{"pd":{"members":{"p0":{"health":false}}}}`,
			want: []string{"pd.members.p0.health"},
		},
		"list items share one path": {
			before: `{"conditions":[{"m":"a"},{"m":"b"}]}`, after: `{"conditions":[{"m":"x"},{"m":"y"}]}`,
			want: []string{"conditions[].m"},
		},
		"a list that changes length is reported as a whole": {
			before: `{"c":[1]}`, after: `{"c":[1,2]}`, want: []string{"c"},
		},
		"added and removed keys are reported at their root": {
			before: `{"gone":{"x":1},"kept":1}`, after: `{"kept":1,"new":{"y":2}}`, want: []string{"gone", "new"},
		},
		"everything is new after an empty document": {
			before: ``, after: `{"a":1}`, want: []string{"."},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ChangedPaths([]byte(tc.before), []byte(tc.after))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ChangedPaths = %q, want %q", got, tc.want)
			}
		})
	}
}
