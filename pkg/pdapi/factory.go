package pdapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// TLSConfigProvider returns the client TLS configuration for talking to the components of
// TidbCluster namespace/name (in the operator: built from the "<name>-cluster-client-secret"
// Secret). It is called whenever a TLS client is built, so rotated certificates are used.
type TLSConfigProvider func(ctx context.Context, namespace, name string) (*tls.Config, error)

// FactoryOption configures a Factory.
type FactoryOption func(*Factory)

// WithTLSConfig sets how TLS clusters get their client certificates.
func WithTLSConfig(p TLSConfigProvider) FactoryOption {
	return func(f *Factory) { f.tls = p }
}

// WithProxy replaces http.ProxyFromEnvironment.
func WithProxy(proxy func(*http.Request) (*url.URL, error)) FactoryOption {
	return func(f *Factory) { f.opts.Proxy = proxy }
}

// WithTimeout replaces DefaultTimeout.
func WithTimeout(d time.Duration) FactoryOption {
	return func(f *Factory) { f.opts.Timeout = d }
}

// Factory hands out PD clients, and HTTP clients for the other components. Plain-HTTP clients
// share one transport and are cached per base URL, so connections to a PD are reused across
// reconciles; TLS clients are built per use (see NewHTTPClient). It is safe for concurrent use.
type Factory struct {
	opts  HTTPOptions
	tls   TLSConfigProvider
	plain *http.Client

	mu      sync.Mutex
	clients map[string]Client
}

// NewFactory returns a Factory.
func NewFactory(opts ...FactoryOption) *Factory {
	f := &Factory{clients: map[string]Client{}}
	for _, o := range opts {
		o(f)
	}
	f.plain = NewHTTPClient(f.opts, nil)
	return f
}

// HTTPOptions returns the options the factory builds clients with.
func (f *Factory) HTTPOptions() HTTPOptions { return f.opts }

// HTTPClient returns the HTTP client for talking to the components of TidbCluster
// namespace/name: the shared plain client, or a new TLS client when tlsEnabled.
func (f *Factory) HTTPClient(ctx context.Context, namespace, name string, tlsEnabled bool) (*http.Client, error) {
	if !tlsEnabled {
		return f.plain, nil
	}
	if f.tls == nil {
		return nil, fmt.Errorf("TidbCluster %s/%s has TLS enabled but the operator has no TLS client configuration", namespace, name)
	}
	cfg, err := f.tls(ctx, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("TLS client configuration for TidbCluster %s/%s: %w", namespace, name, err)
	}
	return NewHTTPClient(f.opts, cfg), nil
}

// ForURL returns a client for one PD base URL (e.g. a member's client URL, for Ready) using the
// credentials of target's cluster.
func (f *Factory) ForURL(ctx context.Context, target ClusterTarget, baseURL string) (Client, error) {
	if target.TLS {
		hc, err := f.HTTPClient(ctx, target.Namespace, target.Name, true)
		if err != nil {
			return nil, err
		}
		return New(baseURL, hc), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[baseURL]; ok {
		return c, nil
	}
	c := New(baseURL, f.plain)
	f.clients[baseURL] = c
	return c, nil
}

// ForCluster returns the client for a TidbCluster's PD. When the cluster shares its PD with
// others (peer members) or lists external PD addresses, and the primary URL fails a health
// check, the first fallback that passes one is used instead; if none does, the primary client
// is returned and its calls will report the failure.
func (f *Factory) ForCluster(ctx context.Context, target ClusterTarget) (Client, error) {
	primary, err := f.ForURL(ctx, target, target.PrimaryURL())
	if err != nil {
		return nil, err
	}
	fallbacks := target.FallbackURLs()
	if len(fallbacks) == 0 {
		return primary, nil
	}
	if _, err := primary.Health(ctx); err == nil {
		return primary, nil
	}
	for _, u := range fallbacks {
		c, err := f.ForURL(ctx, target, u)
		if err != nil {
			return nil, err
		}
		if _, err := c.Health(ctx); err == nil {
			return c, nil
		}
	}
	return primary, nil
}

// Names of the files in a mounted TLS secret (the kubernetes.io/tls layout plus the CA).
const (
	tlsCAFile   = "ca.crt"
	tlsCertFile = "tls.crt"
	tlsKeyFile  = "tls.key"
)

// TLSFromDir returns a provider that reads ca.crt, tls.crt and tls.key from dir on every call,
// for processes that get the client certificate as a mounted secret (the discovery service).
func TLSFromDir(dir string) TLSConfigProvider {
	return func(context.Context, string, string) (*tls.Config, error) {
		caPEM, err := os.ReadFile(filepath.Join(dir, tlsCAFile))
		if err != nil {
			return nil, err
		}
		certPEM, err := os.ReadFile(filepath.Join(dir, tlsCertFile))
		if err != nil {
			return nil, err
		}
		keyPEM, err := os.ReadFile(filepath.Join(dir, tlsKeyFile))
		if err != nil {
			return nil, err
		}
		return TLSConfig(caPEM, certPEM, keyPEM)
	}
}

// TLSConfig builds a client configuration that trusts caPEM and presents certPEM/keyPEM.
func TLSConfig(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate found in " + tlsCAFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load client certificate: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
