package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// Options configure Run.
type Options struct {
	Config
	// Addr serves the protocol; empty means ":10261".
	Addr string
	// ProxyAddr serves the PD dashboard proxy; empty disables it. The pod uses ":10262".
	ProxyAddr string
	// TLS is TC_TLS_ENABLED: PD is reached over https with the certificate in TLSDir.
	TLS bool
	// TLSDir holds ca.crt, tls.crt and tls.key (the mounted PD cluster secret).
	TLSDir string
	// HTTP tunes the clients to PD (timeout, proxy).
	HTTP pdapi.HTTPOptions
}

// shutdownTimeout bounds how long in-flight questions may finish after ctx ends.
const shutdownTimeout = 5 * time.Second

// Run serves the protocol (and the dashboard proxy, if configured) until ctx ends. Missing
// Config.PD is built from the options. It returns nil after a clean shutdown.
func Run(ctx context.Context, opts Options) error {
	if opts.TLS && opts.TLSDir == "" {
		return errors.New("discovery: TLS is enabled but no certificate directory is given")
	}
	var tlsProvider pdapi.TLSConfigProvider
	if opts.TLSDir != "" {
		tlsProvider = pdapi.TLSFromDir(opts.TLSDir)
	}
	if opts.PD == nil {
		fopts := []pdapi.FactoryOption{pdapi.WithTimeout(opts.HTTP.Timeout)}
		if opts.HTTP.Proxy != nil {
			fopts = append(fopts, pdapi.WithProxy(opts.HTTP.Proxy))
		}
		if tlsProvider != nil {
			fopts = append(fopts, pdapi.WithTLSConfig(tlsProvider))
		}
		opts.PD = FactoryDialer(pdapi.NewFactory(fopts...))
	}
	srv, err := NewServer(opts.Config)
	if err != nil {
		return err
	}
	addr := opts.Addr
	if addr == "" {
		addr = fmt.Sprintf(":%d", Port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("discovery: listen on %s: %w", addr, err)
	}
	handlers := map[net.Listener]http.Handler{ln: srv}
	if opts.ProxyAddr != "" {
		if opts.ClusterName == "" {
			_ = ln.Close()
			return errors.New("discovery: the dashboard proxy needs the cluster name")
		}
		pln, err := net.Listen("tcp", opts.ProxyAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("discovery: listen on %s: %w", opts.ProxyAddr, err)
		}
		pdURL := pdapi.ServiceURL(opts.Namespace, opts.ClusterName, "", opts.TLS, false)
		handlers[pln] = DashboardProxy(pdURL, opts.HTTP, tlsProvider, opts.Namespace, opts.ClusterName)
	}
	opts.Logger.Info("discovery service started", "addr", ln.Addr().String(), "namespace", opts.Namespace, "cluster", opts.ClusterName)
	return serve(ctx, handlers)
}

// serve runs one HTTP server per listener until ctx ends or one of them fails.
func serve(ctx context.Context, handlers map[net.Listener]http.Handler) error {
	errs := make(chan error, len(handlers))
	servers := make([]*http.Server, 0, len(handlers))
	for ln, h := range handlers {
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, hs)
		go func() { errs <- hs.Serve(ln) }()
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, hs := range servers {
		_ = hs.Shutdown(shutdownCtx)
	}
	if first != nil && !errors.Is(first, http.ErrServerClosed) {
		return fmt.Errorf("discovery: serve: %w", first)
	}
	return nil
}

// dashboardPrefix is what the proxy forwards; PD serves TiDB Dashboard under it.
const dashboardPrefix = "/dashboard"

// DashboardProxy forwards /dashboard* to the PD service at pdURL, so that users can reach TiDB
// Dashboard through the discovery Service. With tlsProvider set, the PD cluster certificate is
// read for every request, so rotation needs no restart.
func DashboardProxy(pdURL string, opts pdapi.HTTPOptions, tlsProvider pdapi.TLSConfigProvider, namespace, name string) http.Handler {
	target, err := url.Parse(pdURL)
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "bad PD URL: "+err.Error(), http.StatusInternalServerError)
		})
	}
	plain := pdapi.NewHTTPClient(opts, nil).Transport
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		},
		Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if tlsProvider == nil {
				return plain.RoundTrip(req)
			}
			cfg, err := tlsProvider(req.Context(), namespace, name)
			if err != nil {
				return nil, fmt.Errorf("load PD client certificate: %w", err)
			}
			return pdapi.NewHTTPClient(opts, cfg).Transport.RoundTrip(req)
		}),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, dashboardPrefix) {
			http.NotFound(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
