package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// Options configure a Server.
type Options struct {
	// Model is the simulated state; nil means a new model with default options.
	Model *model.Model
	// Logger receives request errors and lifecycle messages.
	Logger logr.Logger
	// Seed makes fractional faults reproducible; 0 seeds from the clock.
	Seed uint64
	// MaxCalls bounds the call log; older calls are dropped (default 100000).
	MaxCalls int
	// MaxHold bounds how long a timeout fault holds a connection (default 10m).
	MaxHold time.Duration
	// MaxBody bounds how much of a request body is read and recorded (default 1 MiB).
	MaxBody int64
	// EtcdBinary is the etcd run behind each simulated PD's client port, for CONNECT tunnels;
	// empty means LocateEtcd's search (the binary `make testbin` builds).
	EtcdBinary string
	// LogBackupAdvanceInterval is how often the simulated TiKV moves the checkpoints of running
	// log backup tasks to the model's clock (default DefaultLogBackupAdvanceInterval); negative
	// disables it, leaving it to AdvanceLogBackups.
	LogBackupAdvanceInterval time.Duration
}

// Server is the simulator's HTTP handler: proxy, simulated APIs and admin API.
type Server struct {
	model  *model.Model
	log    logr.Logger
	faults *faultSet
	calls  *callLog
	admin  http.Handler
	opts   Options

	pd, ms, tikv, tidb, tiflash, ticdc http.Handler
	// etcd runs the real etcd behind each PD's client port, for CONNECT.
	etcd *etcdSet

	mu       sync.Mutex
	httpSrv  *http.Server
	listener net.Listener
	// done is closed by Close so that held connections are let go.
	done chan struct{}
}

// New returns a server for the given options.
func New(opts Options) *Server {
	if opts.Model == nil {
		opts.Model = model.New(model.Options{})
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	if opts.MaxCalls <= 0 {
		opts.MaxCalls = 100000
	}
	if opts.MaxHold <= 0 {
		opts.MaxHold = 10 * time.Minute
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.LogBackupAdvanceInterval == 0 {
		opts.LogBackupAdvanceInterval = DefaultLogBackupAdvanceInterval
	}
	s := &Server{
		model:  opts.Model,
		log:    opts.Logger,
		faults: newFaultSet(opts.Seed),
		calls:  &callLog{max: opts.MaxCalls},
		opts:   opts,
		done:   make(chan struct{}),
	}
	s.etcd = newEtcdSet(opts, s.model.Now)
	s.admin = s.adminHandler()
	s.pd = s.pdHandler()
	s.ms = s.microServiceHandler()
	s.tikv = s.tikvHandler()
	s.tidb = s.tidbHandler()
	s.tiflash = s.tiflashHandler()
	s.ticdc = s.ticdcHandler()
	return s
}

// Model returns the simulated state.
func (s *Server) Model() *model.Model { return s.model }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background. It returns the
// base URL, which is both the proxy URL for HTTP_PROXY and the admin API base.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.mu.Lock()
	s.httpSrv, s.listener = srv, ln
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(err, "simulator stopped serving")
		}
	}()
	return s.URL(), nil
}

// URL is the base URL of a started server.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops a started server, lets go of held connections, cuts CONNECT tunnels and stops
// the etcd processes (removing their data).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	// First, because Shutdown neither closes hijacked tunnels nor ends a CONNECT that waits
	// for an etcd to start; this does both.
	s.etcd.close()
	if s.httpSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.httpSrv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down simulator: %w", err)
	}
	return nil
}

// ServeHTTP routes a request: admin API, simulated component, or an unknown host.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		s.serveConnect(w, r)
		return
	}
	t, ok := ParseHost(r.Host)
	if !ok && !r.URL.IsAbs() && strings.HasPrefix(r.URL.Path, simapi.PathPrefix) {
		s.admin.ServeHTTP(w, r)
		return
	}
	s.serveSimulated(w, r, t, ok)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// reqInfo is what a component handler learns about the request's target.
type reqInfo struct {
	target  Target
	cluster model.ClusterKey
	// pod is set when the host named a pod.
	pod model.PodKey
}

type reqInfoKey struct{}

func infoFrom(r *http.Request) reqInfo { return r.Context().Value(reqInfoKey{}).(reqInfo) }

// serveSimulated records and answers a request for a component. A host that names no
// component (known is false) is recorded too, since a test may want to see that the operator
// addressed something wrong, and gets the answer a proxy gives when DNS fails.
func (s *Server) serveSimulated(w http.ResponseWriter, r *http.Request, t Target, known bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBody))
	if err != nil {
		http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	call := s.calls.begin(simapi.Call{
		Time: s.model.Now(), Method: r.Method, Host: r.Host, Path: path, Body: string(body),
		Namespace: t.Namespace, Cluster: t.Cluster, Component: t.Component, Pod: t.Pod,
	})
	rec := &statusRecorder{ResponseWriter: w}
	faultID := ""
	if known {
		faultID = s.serve(rec, r, t, call)
	} else if r.URL.IsAbs() {
		http.Error(rec, fmt.Sprintf("dial tcp: lookup %s: no such host", hostOnly(r.Host)), http.StatusBadGateway)
	} else {
		http.Error(rec, "not a simulated host: "+r.Host, http.StatusNotFound)
	}
	s.calls.finish(call, rec.status, faultID)
	s.log.V(1).Info("simulated call", "method", r.Method, "host", r.Host, "path", path, "status", rec.status, "fault", faultID)
}

// applyFaults decides the faults for one call, records them in the call before they act, and
// carries out latency and the fault's action: a reset connection, a hold then a reset, or an
// error written through writeError (PD's HTTP API answers JSON, a proxy plain text). It
// reports whether the call was answered (or cut) by a fault, so that the caller stops there.
func (s *Server) applyFaults(w *statusRecorder, r *http.Request, t Target, call *simapi.Call, writeError func(status int, msg string)) (string, bool) {
	d := s.faults.decide(t, r)
	faultID := strings.Join(d.ids, ",")
	s.calls.setFault(call, faultID)
	if d.latency > 0 && !s.sleep(r.Context(), d.latency) {
		return faultID, true
	}
	f := d.action
	if f == nil {
		return faultID, false
	}
	switch f.Kind {
	case simapi.FaultUnreachable:
		s.resetConn(w)
	case simapi.FaultTimeout:
		hold := s.opts.MaxHold
		if f.Latency.Duration > 0 {
			hold = min(hold, f.Latency.Duration)
		}
		s.sleep(r.Context(), hold)
		s.resetConn(w)
	case simapi.FaultError:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		writeError(status, "simulated fault "+f.ID)
	}
	return faultID, true
}

// serve answers one simulated request and returns the ID of the fault that shaped the answer.
// The fault is written into the call record before it acts: a client whose connection is reset
// may ask for the call log before this goroutine finishes.
func (s *Server) serve(w *statusRecorder, r *http.Request, t Target, call *simapi.Call) string {
	faultID, acted := s.applyFaults(w, r, t, call, func(status int, msg string) { writeJSONIndent(w, status, msg) })
	if acted {
		return faultID
	}

	info := reqInfo{target: t}
	var running bool
	if t.Pod != "" {
		p, ok := s.model.LookupPod(t.Namespace, t.Pod)
		if !ok || p.Spec.Component != t.Component || p.Spec.Cluster != t.Cluster {
			http.Error(w, fmt.Sprintf("dial tcp: lookup %s: no such host", hostOnly(t.Host)), http.StatusBadGateway)
			return faultID
		}
		info.cluster, info.pod, running = p.Cluster, model.PodKey{Namespace: t.Namespace, Name: t.Pod}, p.Spec.Running
	} else {
		key, exists, reachable := s.model.ServiceTarget(t.Namespace, t.Cluster, t.Component)
		if !exists {
			http.Error(w, fmt.Sprintf("dial tcp: lookup %s: no such host", hostOnly(t.Host)), http.StatusBadGateway)
			return faultID
		}
		info.cluster, running = key, reachable
	}
	if !running || t.Port != servicePort(t.Component) {
		s.resetConn(w) // nothing listens there
		return faultID
	}
	r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
	switch t.Component {
	case simapi.ComponentPD:
		s.pd.ServeHTTP(w, r)
	case simapi.ComponentTSO, simapi.ComponentScheduling:
		s.ms.ServeHTTP(w, r)
	case simapi.ComponentTiKV:
		s.tikv.ServeHTTP(w, r)
	case simapi.ComponentTiDB:
		s.tidb.ServeHTTP(w, r)
	case simapi.ComponentTiFlash:
		s.tiflash.ServeHTTP(w, r)
	case simapi.ComponentTiCDC:
		s.ticdc.ServeHTTP(w, r)
	}
	return faultID
}

// sleep waits for d; false if the client went away or the server closed first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// resetConn drops the client connection with a TCP reset and no answer, which a client sees
// like a refused or broken connection.
func (s *Server) resetConn(w *statusRecorder) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		// HTTP/2 or a test recorder: the closest we can do is an empty 502.
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		s.log.Error(err, "hijack connection to reset it")
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// statusRecorder remembers the status sent, for the call log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
