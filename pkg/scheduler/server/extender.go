package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
)

// Extender makes the placement decisions kube-scheduler asks for.
type Extender interface {
	// Implementations must be safe for concurrent use: requests are not serialised.
	//
	// Filter returns the nodes the pod may run on. A predicate that rejects every node is not
	// an error: it returns an empty node list (and records why on the pod). Errors are for
	// requests that cannot be judged at all, and become HTTP 500.
	Filter(ctx context.Context, args *extenderv1.ExtenderArgs) (*extenderv1.ExtenderFilterResult, error)
	// Prioritize scores the candidate nodes.
	Prioritize(ctx context.Context, args *extenderv1.ExtenderArgs) (extenderv1.HostPriorityList, error)
	// Preempt keeps the nodes whose victims, once evicted, would let the pod pass Filter.
	Preempt(ctx context.Context, args *extenderv1.ExtenderPreemptionArgs) (*extenderv1.ExtenderPreemptionResult, error)
}

// Extender endpoint paths, as the chart's KubeSchedulerConfiguration names them (urlPrefix
// .../scheduler, filterVerb filter, preemptVerb preempt).
const (
	PathPrefix     = "/scheduler/"
	PathFilter     = PathPrefix + "filter"
	PathPrioritize = PathPrefix + "prioritize"
	PathPreempt    = PathPrefix + "preempt"
)

// maxRequestBytes bounds a request body. Filter requests carry full Node objects; a few
// thousand of them fit well within this.
const maxRequestBytes = 256 << 20

// extenderRoutes mounts the three verbs on mux.
//
// Requests are not serialised here: v1.6 held one mutex around every filter and preempt call,
// which made a slow API read for one cluster stall all others. The extender serialises only
// what must be (pods of one component sharing a scheduling lock) and is safe to call
// concurrently otherwise.
func extenderRoutes(mux *http.ServeMux, ext Extender, logger logr.Logger, m *metrics) {
	mux.Handle(PathFilter, m.instrument("filter", handle(logger.WithValues("verb", "filter"), ext.Filter)))
	mux.Handle(PathPreempt, m.instrument("preempt", handle(logger.WithValues("verb", "preempt"), ext.Preempt)))
	mux.Handle(PathPrioritize, m.instrument("prioritize", handle(logger.WithValues("verb", "prioritize"), ext.Prioritize)))
}

// handle adapts one extender verb to HTTP: decode the JSON body into In, call, encode Out.
func handle[In any, Out any](logger logr.Logger, call func(context.Context, *In) (Out, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, fmt.Sprintf("%s is not allowed; the scheduler extender takes POST", r.Method), http.StatusMethodNotAllowed)
			return
		}
		in := new(In)
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(in); err != nil {
			logger.Info("rejected an undecodable request", "error", err.Error())
			http.Error(w, fmt.Sprintf("decoding the request body: %v", err), http.StatusBadRequest)
			return
		}
		out, err := call(r.Context(), in)
		if err != nil {
			logger.Error(err, "extender failed")
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, err := json.Marshal(out)
		if err != nil {
			logger.Error(err, "encoding the response")
			http.Error(w, fmt.Sprintf("encoding the response: %v", err), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if _, err := w.Write(body); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
			logger.V(2).Info("writing the response", "error", err.Error())
		}
	})
}
