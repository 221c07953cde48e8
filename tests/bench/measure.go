package bench

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HeapSample is the heap as runtime.ReadMemStats reports it after a full collection.
type HeapSample struct {
	// InUse is HeapInuse: bytes in spans that hold at least one object.
	InUse uint64
	// Alloc is HeapAlloc: bytes of reachable objects (after the collection, nothing else).
	Alloc uint64
}

// SampleHeap collects garbage until the heap stops shrinking (finalizers and sync.Pools can
// free more on a second pass), returns freed memory to the OS and reads the heap figures.
func SampleHeap() HeapSample {
	var ms runtime.MemStats
	prev := uint64(0)
	for i := 0; i < 5; i++ {
		runtime.GC()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		if i > 0 && ms.HeapAlloc >= prev {
			break
		}
		prev = ms.HeapAlloc
	}
	return HeapSample{InUse: ms.HeapInuse, Alloc: ms.HeapAlloc}
}

// MiBSince is the growth from base to s in MiB, for both figures; negative when it shrank.
func (s HeapSample) MiBSince(base HeapSample) (inUse, alloc float64) {
	const mib = 1 << 20
	return (float64(s.InUse) - float64(base.InUse)) / mib, (float64(s.Alloc) - float64(base.Alloc)) / mib
}

// ReconcileTime is controller-runtime's record of one controller's reconciles.
type ReconcileTime struct {
	Count uint64
	Total time.Duration
}

// Sub is the difference r - earlier.
func (r ReconcileTime) Sub(earlier ReconcileTime) ReconcileTime {
	return ReconcileTime{Count: r.Count - earlier.Count, Total: r.Total - earlier.Total}
}

// reconcileTimeMetric is the histogram controller-runtime observes each reconcile's duration
// in, labelled with the controller's name.
const reconcileTimeMetric = "controller_runtime_reconcile_time_seconds"

// GatherReconcileTime reads the reconcile-time histogram of controller from g (controller-
// runtime's metrics.Registry in the benchmarks). A controller that has not reconciled yet has
// no series and reads as zero.
func GatherReconcileTime(g prometheus.Gatherer, controller string) (ReconcileTime, error) {
	families, err := g.Gather()
	if err != nil {
		return ReconcileTime{}, fmt.Errorf("gathering metrics: %w", err)
	}
	for _, f := range families {
		if f.GetName() != reconcileTimeMetric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					h := m.GetHistogram()
					return ReconcileTime{
						Count: h.GetSampleCount(),
						Total: time.Duration(h.GetSampleSum() * float64(time.Second)),
					}, nil
				}
			}
		}
	}
	return ReconcileTime{}, nil
}

// Interval is a span of time.
type Interval struct{ From, To time.Time }

// UnionLength is the time covered by at least one of the intervals: how long something was
// waiting when each interval is one thing's wait.
func UnionLength(spans []Interval) time.Duration {
	s := append([]Interval(nil), spans...)
	// Insertion sort by start: the lists are a handful of pods.
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].From.Before(s[j-1].From); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	var total time.Duration
	var curFrom, curTo time.Time
	for i, iv := range s {
		if !iv.To.After(iv.From) {
			continue
		}
		if i == 0 || curTo.IsZero() || iv.From.After(curTo) {
			if !curTo.IsZero() {
				total += curTo.Sub(curFrom)
			}
			curFrom, curTo = iv.From, iv.To
			continue
		}
		if iv.To.After(curTo) {
			curTo = iv.To
		}
	}
	if !curTo.IsZero() {
		total += curTo.Sub(curFrom)
	}
	return total
}

// ChangedPaths lists the leaves that differ between two JSON documents, as dotted paths with
// list positions written "[]" (so that the same field of different members counts as one
// path): "pd.members.basic-pd-0.health", "tikv.stores.1.leaderCount", "conditions[].message".
// Added and removed subtrees are reported at their root. Paths are sorted and unique.
func ChangedPaths(before, after []byte) ([]string, error) {
	var a, b any
	if len(before) > 0 {
		if err := json.Unmarshal(before, &a); err != nil {
			return nil, fmt.Errorf("decoding the earlier document: %w", err)
		}
	}
	if err := json.Unmarshal(after, &b); err != nil {
		return nil, fmt.Errorf("decoding the later document: %w", err)
	}
	seen := map[string]bool{}
	diffJSON("", a, b, seen)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

func diffJSON(path string, a, b any, out map[string]bool) {
	name := func(p string) string {
		if p == "" {
			return "."
		}
		return p
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			out[name(path)] = true
			return
		}
		for k, x := range av {
			diffJSON(joinPath(path, k), x, bv[k], out)
		}
		for k, y := range bv {
			if _, ok := av[k]; !ok && y != nil {
				out[joinPath(path, k)] = true
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			out[name(path)] = true
			return
		}
		for i := range av {
			diffJSON(path+"[]", av[i], bv[i], out)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			out[name(path)] = true
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
