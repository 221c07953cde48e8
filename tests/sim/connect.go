package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// EtcdClientURL returns the loopback client URL of the etcd behind the simulated PD of the
// cluster, starting it if needed, for tests that look at PD's etcd directly rather than
// through the proxy.
func (s *Server) EtcdClientURL(ctx context.Context, namespace, cluster string) (string, error) {
	return s.etcd.clientURL(ctx, model.ClusterKey{Namespace: namespace, Name: cluster})
}

// serveConnect answers a CONNECT. Only PD's client port is tunnelled, to a real etcd of the
// cluster, since etcd's gRPC protocol is not worth simulating; every other known host gets 405,
// as before CONNECT was supported, and a host that names nothing gets 502, as for plain
// requests. Faults and the model's view of which processes run apply as they do to requests.
func (s *Server) serveConnect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	t, known := ParseHost(host)
	call := s.calls.begin(simapi.Call{
		Time: s.model.Now(), Method: r.Method, Host: host,
		Namespace: t.Namespace, Cluster: t.Cluster, Component: t.Component, Pod: t.Pod,
	})
	rec := &statusRecorder{ResponseWriter: w}
	faultID := ""
	switch {
	case !known:
		http.Error(rec, fmt.Sprintf("dial tcp: lookup %s: no such host", hostOnly(host)), http.StatusBadGateway)
	case t.Component != simapi.ComponentPD:
		http.Error(rec, "the TiDB simulator only tunnels CONNECT to PD's client port (its etcd)", http.StatusMethodNotAllowed)
	default:
		var tunnelled bool
		faultID, tunnelled = s.connectPD(rec, r, t, call)
		if tunnelled {
			rec.status = http.StatusOK
		}
	}
	s.calls.finish(call, rec.status, faultID)
	s.log.V(1).Info("simulated call", "method", r.Method, "host", host, "status", rec.status, "fault", faultID)
}

// connectPD applies faults and the model to a CONNECT to PD, then tunnels it to the cluster's
// etcd. It returns the fault that shaped the answer and whether the tunnel was set up (its
// 200 is written on the hijacked connection, which the recorder does not see).
func (s *Server) connectPD(w *statusRecorder, r *http.Request, t Target, call *simapi.Call) (string, bool) {
	faultID, acted := s.applyFaults(w, r, t, call, func(status int, msg string) { http.Error(w, msg, status) })
	if acted {
		return faultID, false
	}

	var key model.ClusterKey
	var running bool
	if t.Pod != "" {
		p, ok := s.model.LookupPod(t.Namespace, t.Pod)
		if !ok || p.Spec.Component != t.Component || p.Spec.Cluster != t.Cluster {
			http.Error(w, fmt.Sprintf("dial tcp: lookup %s: no such host", hostOnly(t.Host)), http.StatusBadGateway)
			return faultID, false
		}
		key, running = p.Cluster, p.Spec.Running
	} else {
		k, exists, reachable := s.model.ServiceTarget(t.Namespace, t.Cluster, t.Component)
		if !exists {
			http.Error(w, fmt.Sprintf("dial tcp: lookup %s: no such host", hostOnly(t.Host)), http.StatusBadGateway)
			return faultID, false
		}
		key, running = k, reachable
	}
	if !running || t.Port != servicePort(t.Component) {
		s.resetConn(w) // nothing listens there
		return faultID, false
	}

	ctx, cancel := context.WithTimeout(r.Context(), etcdStartTimeout)
	defer cancel()
	m, err := s.etcd.member(ctx, key)
	if err != nil {
		s.log.Error(err, "no etcd for a CONNECT to PD", "host", t.Host)
		http.Error(w, "simulator: "+err.Error(), http.StatusBadGateway)
		return faultID, false
	}
	upstream, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", m.proc.clientAddr)
	if err != nil {
		http.Error(w, "simulator: dial the etcd of "+key.String()+": "+err.Error(), http.StatusBadGateway)
		return faultID, false
	}
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		_ = upstream.Close()
		http.Error(w, "simulator: this connection cannot be hijacked for a tunnel", http.StatusInternalServerError)
		return faultID, false
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		_ = upstream.Close()
		s.log.Error(err, "hijack a CONNECT")
		return faultID, false
	}
	if !s.etcd.track(conn, upstream) {
		_ = conn.Close()
		_ = upstream.Close()
		return faultID, false
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		s.etcd.untrack(conn, upstream)
		_ = conn.Close()
		_ = upstream.Close()
		return faultID, false
	}
	go s.etcd.pipe(conn, brw.Reader, upstream)
	return faultID, true
}

// pipe copies both ways until either side ends, then closes both: a gRPC connection has no use
// for a half-closed tunnel. Bytes the client sent right behind its CONNECT, already read into
// the server's buffer, go first.
func (e *etcdSet) pipe(client net.Conn, buffered *bufio.Reader, upstream net.Conn) {
	var once sync.Once
	done := make(chan struct{})
	closeBoth := func() {
		once.Do(func() {
			_ = client.Close()
			_ = upstream.Close()
			close(done)
		})
	}
	go func() {
		defer closeBoth()
		if n := buffered.Buffered(); n > 0 {
			pending, _ := buffered.Peek(n)
			if _, err := upstream.Write(pending); err != nil {
				return
			}
		}
		_, _ = io.Copy(upstream, client)
	}()
	go func() {
		defer closeBoth()
		_, _ = io.Copy(client, upstream)
	}()
	<-done
	e.untrack(client, upstream)
}
