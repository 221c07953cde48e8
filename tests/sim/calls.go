package sim

import (
	"sync"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// callLog records the calls made to simulated components, in arrival order.
type callLog struct {
	mu    sync.Mutex
	seq   uint64
	calls []*simapi.Call
	max   int
}

func (l *callLog) begin(c simapi.Call) *simapi.Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	c.Seq = l.seq
	p := &c
	l.calls = append(l.calls, p)
	if l.max > 0 && len(l.calls) > l.max {
		l.calls = l.calls[len(l.calls)-l.max:]
	}
	return p
}

func (l *callLog) finish(c *simapi.Call, status int, fault string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.Status = status
	c.Fault = fault
}

func (l *callLog) setFault(c *simapi.Call, fault string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.Fault = fault
}

func (l *callLog) since(seq uint64) []simapi.Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []simapi.Call{}
	for _, c := range l.calls {
		if c.Seq > seq {
			out = append(out, *c)
		}
	}
	return out
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}
