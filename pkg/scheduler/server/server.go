package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
)

// DefaultShutdownTimeout is how long in-flight requests get to finish after a stop signal. It
// matches the chart's extender httpTimeout, the longest kube-scheduler waits anyway.
const DefaultShutdownTimeout = 30 * time.Second

// Config describes the servers.
type Config struct {
	// Addr serves the extender API and /healthz, e.g. ":10262".
	Addr string
	// MetricsAddr serves /metrics and /debug/pprof, e.g. ":6060"; "0" turns it off.
	MetricsAddr string
	// Extender answers the extender verbs; nil leaves them unmounted.
	Extender Extender
	// ShutdownTimeout bounds the graceful shutdown; zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	Logger          logr.Logger
}

// Server is tidb-scheduler's pair of HTTP servers.
type Server struct {
	cfg     Config
	api     http.Handler
	metrics *metrics
}

// New builds the handlers; nothing listens until Run.
func New(cfg Config) *Server {
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	m := newMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	if cfg.Extender != nil {
		extenderRoutes(mux, cfg.Extender, cfg.Logger, m)
	}
	return &Server{cfg: cfg, api: mux, metrics: m}
}

// Handler serves the extender API and /healthz.
func (s *Server) Handler() http.Handler { return s.api }

// MetricsHandler serves /metrics and /debug/pprof.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Run listens on both addresses and serves until ctx ends, then shuts down gracefully. Both
// listeners are opened before serving starts, so a port already in use is reported at once. If
// one server fails, the other is stopped too.
func (s *Server) Run(ctx context.Context) error {
	type endpoint struct {
		name    string
		addr    string
		handler http.Handler
	}
	endpoints := []endpoint{{"extender", s.cfg.Addr, s.api}}
	if s.cfg.MetricsAddr != "0" {
		endpoints = append(endpoints, endpoint{"metrics", s.cfg.MetricsAddr, s.MetricsHandler()})
	}

	listeners := make([]net.Listener, 0, len(endpoints))
	closeAll := func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	for _, e := range endpoints {
		l, err := net.Listen("tcp", e.addr)
		if err != nil {
			closeAll()
			return fmt.Errorf("listening for the %s server on %s: %w", e.name, e.addr, err)
		}
		listeners = append(listeners, l)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	servers := make([]*http.Server, len(endpoints))
	errs := make(chan error, len(endpoints))
	for i, e := range endpoints {
		servers[i] = &http.Server{
			Handler:           e.handler,
			ReadHeaderTimeout: 10 * time.Second,
		}
		s.cfg.Logger.Info("serving", "server", e.name, "address", listeners[i].Addr().String())
		go func(srv *http.Server, l net.Listener, name string) {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s server: %w", name, err)
				return
			}
			errs <- nil
		}(servers[i], listeners[i], e.name)
	}

	var firstErr error
	select {
	case <-ctx.Done():
	case firstErr = <-errs:
		// A server stopped on its own; it cannot have stopped cleanly without Shutdown.
	}
	s.cfg.Logger.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	// Requests keep their own contexts, which Shutdown leaves alone, so they finish normally.
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancelShutdown()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("shutting down: %w", err)
		}
	}
	return firstErr
}
