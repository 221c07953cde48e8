package manifests

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/rest"
)

// ServiceAccountConfig returns a copy of admin that acts as the ServiceAccount namespace/name:
// every request is impersonated, so the API server authorizes it against that account's RBAC
// (here: the generated ClusterRole and Role) instead of the admin's. admin must be allowed to
// impersonate (system:masters is).
func ServiceAccountConfig(admin *rest.Config, namespace, name string) *rest.Config {
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name),
		// The groups the API server gives a real token of that account.
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
	return cfg
}

// Request is one API request as RBAC sees it.
type Request struct {
	Verb        string // get, list, watch, create, update, patch, delete, deletecollection
	Group       string // "" for the core group
	Resource    string
	Subresource string
	Namespace   string // empty for cluster-scoped resources and cluster-wide lists
	Name        string
	Status      int // the HTTP status of the response; 0 if none arrived
}

// ResourcePath is the resource as RBAC rules name it: resource or resource/subresource.
func (r Request) ResourcePath() string {
	if r.Subresource == "" {
		return r.Resource
	}
	return r.Resource + "/" + r.Subresource
}

// Recorder records the API requests made through the configs it wraps.
type Recorder struct {
	mu       sync.Mutex
	requests []Request
}

// Wrap makes every request made with cfg (and configs copied from it afterwards) be recorded.
func (r *Recorder) Wrap(cfg *rest.Config) {
	prev := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return recordingTransport{rec: r, next: rt}
	}
}

// Requests returns what was recorded so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

type recordingTransport struct {
	rec  *Recorder
	next http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if parsed, ok := ParseRequest(req.Method, req.URL); ok {
		if resp != nil {
			parsed.Status = resp.StatusCode
		}
		t.rec.mu.Lock()
		t.rec.requests = append(t.rec.requests, parsed)
		t.rec.mu.Unlock()
	}
	return resp, err
}

// ParseRequest turns a resource request into RBAC terms, following the API server's URL layout:
// /api/v1/... for the core group, /apis/<group>/<version>/... otherwise, then optionally
// namespaces/<ns>/, then <resource>[/<name>[/<subresource>]]. Discovery and other non-resource
// paths report false.
func ParseRequest(method string, u *url.URL) (Request, bool) {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	var r Request
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		r.Group = parts[1]
		parts = parts[3:]
	default:
		return r, false
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) != 2 {
		r.Namespace = parts[1]
		parts = parts[2:]
	}
	switch len(parts) {
	case 1:
		r.Resource = parts[0]
	case 2:
		r.Resource, r.Name = parts[0], parts[1]
	case 3:
		r.Resource, r.Name, r.Subresource = parts[0], parts[1], parts[2]
	default:
		return r, false
	}
	watch := u.Query().Get("watch")
	switch method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watch == "true" || watch == "1":
			r.Verb = "watch"
		case r.Name == "":
			r.Verb = "list"
		default:
			r.Verb = "get"
		}
	case http.MethodPost:
		r.Verb = "create"
	case http.MethodPut:
		r.Verb = "update"
	case http.MethodPatch:
		r.Verb = "patch"
	case http.MethodDelete:
		r.Verb = "delete"
		if r.Name == "" {
			r.Verb = "deletecollection"
		}
	default:
		return r, false
	}
	return r, true
}

// Permission is one verb on one resource, as granted by a rule: in Namespace only when it comes
// from a Role, everywhere when Namespace is empty (a ClusterRole).
type Permission struct {
	Group, Resource, Verb, Namespace string
}

func (p Permission) String() string {
	group := p.Group
	if group == "" {
		group = "core"
	}
	s := fmt.Sprintf("%s %s/%s", p.Verb, group, p.Resource)
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	}
	return s
}

// Permissions expands rules into single permissions. namespace is the Role's namespace, or empty
// for a ClusterRole.
func Permissions(rules []rbacv1.PolicyRule, namespace string) []Permission {
	var out []Permission
	for _, rule := range rules {
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					out = append(out, Permission{Group: g, Resource: res, Verb: v, Namespace: namespace})
				}
			}
		}
	}
	return out
}

// Unexercised returns the permissions no recorded request used, sorted: candidates for removal
// (or for a test that exercises them).
func Unexercised(perms []Permission, requests []Request) []Permission {
	used := func(p Permission) bool {
		for _, r := range requests {
			if r.Group == p.Group && r.ResourcePath() == p.Resource && r.Verb == p.Verb &&
				(p.Namespace == "" || p.Namespace == r.Namespace) {
				return true
			}
		}
		return false
	}
	var out []Permission
	for _, p := range perms {
		if !used(p) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
