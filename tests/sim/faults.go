package sim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// faultSet holds the injected request faults, in the order they were added.
type faultSet struct {
	mu     sync.Mutex
	faults []*simapi.Fault
	nextID int
	rnd    *rand.Rand
}

func newFaultSet(seed uint64) *faultSet {
	return &faultSet{rnd: rand.New(rand.NewPCG(seed, seed+1))}
}

func validateFault(f simapi.Fault) error {
	switch f.Kind {
	case simapi.FaultUnreachable, simapi.FaultTimeout:
	case simapi.FaultError:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			return fmt.Errorf("status %d: an error fault needs a 4xx or 5xx status", f.Status)
		}
	case simapi.FaultLatency:
		if f.Latency.Duration <= 0 {
			return fmt.Errorf("a latency fault needs a positive latency")
		}
	default:
		return fmt.Errorf("unknown fault kind %q (want unreachable, error, timeout or latency)", f.Kind)
	}
	if f.Fraction < 0 || f.Fraction > 1 {
		return fmt.Errorf("fraction %v: must be within (0, 1], or 0 for always", f.Fraction)
	}
	if f.Times < 0 {
		return fmt.Errorf("times %d: must not be negative", f.Times)
	}
	return nil
}

func (s *faultSet) add(f simapi.Fault) (simapi.Fault, error) {
	if err := validateFault(f); err != nil {
		return simapi.Fault{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	f.ID = "f" + strconv.Itoa(s.nextID)
	s.faults = append(s.faults, &f)
	return f, nil
}

func (s *faultSet) list() []simapi.Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]simapi.Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

func (s *faultSet) remove(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = slices.DeleteFunc(s.faults, func(f *simapi.Fault) bool { return f.ID == id })
	return len(s.faults) < n
}

func (s *faultSet) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func faultMatches(f *simapi.Fault, t Target, r *http.Request) bool {
	return (f.Namespace == "" || f.Namespace == t.Namespace) &&
		(f.Cluster == "" || f.Cluster == t.Cluster) &&
		(f.Component == "" || f.Component == t.Component) &&
		(f.Pod == "" || f.Pod == t.Pod) &&
		(f.Method == "" || strings.EqualFold(f.Method, r.Method)) &&
		(f.Path == "" || strings.HasPrefix(r.URL.Path, f.Path))
}

// decision is what the faults do to one request.
type decision struct {
	latency time.Duration
	// ids of every fault that fired, latency ones included.
	ids []string
	// action is the fault that replaces the normal answer, if any.
	action *simapi.Fault
}

// decide rolls every matching fault in order. Latency faults add up; the first other fault
// that fires decides the answer.
func (s *faultSet) decide(t Target, r *http.Request) decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d decision
	for _, f := range s.faults {
		if !faultMatches(f, t, r) {
			continue
		}
		if f.Fraction > 0 && f.Fraction < 1 && s.rnd.Float64() >= f.Fraction {
			continue
		}
		d.ids = append(d.ids, f.ID)
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1 // spent: removed below
			}
		}
		if f.Kind == simapi.FaultLatency {
			d.latency += f.Latency.Duration
			continue
		}
		cp := *f
		d.action = &cp
		break
	}
	s.faults = slices.DeleteFunc(s.faults, func(f *simapi.Fault) bool { return f.Times < 0 })
	return d
}
