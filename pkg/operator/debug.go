package operator

import (
	"net/http"
	"net/http/pprof"
)

// pprofHandlers serves the runtime profiles under /debug/pprof on the metrics port, where v1.6
// served them (it mounted the default mux on :6060). The paths are the ones `go tool pprof`
// expects.
func pprofHandlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
