package bench

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// RequestKey is one kind of API request: the verb as Kubernetes audit logs name it (get, list,
// watch, create, update, patch, delete, deletecollection) and the resource, group-qualified
// for the non-core groups and with its subresource ("pods", "statefulsets.apps",
// "tidbclusters.pingcap.com/status"). Requests outside the resource paths (discovery, /version)
// have the resource "discovery".
type RequestKey struct {
	Verb     string
	Resource string
}

func (k RequestKey) String() string { return k.Verb + " " + k.Resource }

// IsWrite reports whether the request changes state on the server.
func (k RequestKey) IsWrite() bool {
	switch k.Verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

// RequestCounter counts the requests that pass through the transports it wraps. Install it with
// rest.Config.WrapTransport = counter.Wrap, before any client is built from the config.
type RequestCounter struct {
	mu        sync.Mutex
	counts    map[RequestKey]int
	conflicts map[RequestKey]int
}

// NewRequestCounter returns an empty counter.
func NewRequestCounter() *RequestCounter {
	return &RequestCounter{counts: map[RequestKey]int{}, conflicts: map[RequestKey]int{}}
}

// Wrap has the signature of rest.Config.WrapTransport.
func (c *RequestCounter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return countingTransport{next: rt, counter: c}
}

// Reset forgets everything counted so far and returns it.
func (c *RequestCounter) Reset() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Requests(c.counts)
	c.counts = map[RequestKey]int{}
	return out
}

// ResetConflicts forgets the requests answered 409 Conflict so far and returns them; they are
// also in the counts Reset returns. A write refused for a stale resourceVersion is one.
func (c *RequestCounter) ResetConflicts() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Requests(c.conflicts)
	c.conflicts = map[RequestKey]int{}
	return out
}

// Snapshot returns a copy of the counts so far.
func (c *RequestCounter) Snapshot() Requests {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(Requests, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

func (c *RequestCounter) add(k RequestKey) {
	c.mu.Lock()
	c.counts[k]++
	c.mu.Unlock()
}

func (c *RequestCounter) addConflict(k RequestKey) {
	c.mu.Lock()
	c.conflicts[k]++
	c.mu.Unlock()
}

type countingTransport struct {
	next    http.RoundTripper
	counter *RequestCounter
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	k := ClassifyRequest(r.Method, r.URL.Path, r.URL.Query().Get("watch"))
	t.counter.add(k)
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusConflict {
		t.counter.addConflict(k)
	}
	return resp, err
}

// Requests are counted requests by kind.
type Requests map[RequestKey]int

// Total is the number of requests that match keep (all of them when keep is nil).
func (r Requests) Total(keep func(RequestKey) bool) int {
	n := 0
	for k, v := range r {
		if keep == nil || keep(k) {
			n += v
		}
	}
	return n
}

// Writes keeps the requests that change state.
func Writes(k RequestKey) bool { return k.IsWrite() }

// NotLeaderElection keeps every request except those on the leader-election lease, which every
// replica of any controller makes whatever it manages.
func NotLeaderElection(k RequestKey) bool {
	return !strings.HasPrefix(k.Resource, "leases.coordination.k8s.io")
}

// Table lists the counts, largest first, one "count  verb resource" line each.
func (r Requests) Table() string {
	keys := make([]RequestKey, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r[keys[i]] != r[keys[j]] {
			return r[keys[i]] > r[keys[j]]
		}
		return keys[i].String() < keys[j].String()
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%6d  %s\n", r[k], k)
	}
	return b.String()
}

// ClassifyRequest names an API request from its method, URL path and the value of its watch
// query parameter. Paths follow the API server's layout:
//
//	/api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
//	/apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
//
// where /api/v1/namespaces/<name> is the namespace itself.
func ClassifyRequest(method, path, watch string) RequestKey {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var group string
	var rest []string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, rest = parts[1], parts[3:]
	default:
		return RequestKey{Verb: strings.ToLower(method), Resource: "discovery"}
	}
	// A namespaced path; "namespaces/<name>" alone, or with a subresource of the namespace
	// (status, finalize), is the namespace object.
	namespaceSubresource := len(rest) == 3 && (rest[2] == "status" || rest[2] == "finalize")
	if len(rest) >= 3 && rest[0] == "namespaces" && !namespaceSubresource {
		rest = rest[2:]
	}
	resource, name, sub := rest[0], "", ""
	if len(rest) > 1 {
		name = rest[1]
	}
	if len(rest) > 2 {
		sub = rest[2]
	}
	if group != "" {
		resource += "." + group
	}
	if sub != "" {
		resource += "/" + sub
	}
	return RequestKey{Verb: verbOf(method, name != "", watch == "true" || watch == "1"), Resource: resource}
}

func verbOf(method string, named, watch bool) string {
	switch method {
	case http.MethodGet:
		switch {
		case watch:
			return "watch"
		case named:
			return "get"
		default:
			return "list"
		}
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if named {
			return "delete"
		}
		return "deletecollection"
	default:
		return strings.ToLower(method)
	}
}
