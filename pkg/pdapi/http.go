package pdapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds every request the operator makes to a component. A reconcile must not
// hang on one unresponsive pod, and v1.6 used the same value.
const DefaultTimeout = 5 * time.Second

// maxBody caps how much of a response is read. Store lists of large clusters are a few MiB;
// anything far beyond that is a misbehaving endpoint, not data worth buffering.
const maxBody = 64 << 20

// maxErrorBody caps the body kept in an HTTPError so that errors stay printable.
const maxErrorBody = 64 << 10

// HTTPOptions configures the HTTP clients built for component APIs. The zero value means: a
// 5 second timeout and proxies taken from HTTP_PROXY/HTTPS_PROXY/NO_PROXY.
type HTTPOptions struct {
	// Timeout of a whole request, including reading the body. Zero means DefaultTimeout.
	Timeout time.Duration
	// Proxy chooses the proxy for a request. Nil means http.ProxyFromEnvironment, which is how
	// test environments route the operator to a component simulator.
	Proxy func(*http.Request) (*url.URL, error)
}

// NewHTTPClient returns a client following opts. With tlsConfig set, keep-alives are disabled:
// TLS clients are built per use so that a rotated client certificate is picked up, and idle
// connections of discarded clients would otherwise linger.
func NewHTTPClient(opts HTTPOptions, tlsConfig *tls.Config) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	proxy := opts.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = proxy
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig
		tr.DisableKeepAlives = true
	}
	return &http.Client{Timeout: timeout, Transport: tr}
}

// HTTPError is an answer with status 400 or above. Its message has the v1.6 format, which users
// grep for in events and logs.
type HTTPError struct {
	Code int
	URL  string
	Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("Error response %d URL %s,body response: %s", e.Code, e.URL, e.Body)
}

// Is lets errors.Is match an HTTPError against ErrNotBootstrapped (decided by the body) and
// against another *HTTPError by status code (and URL, when the target sets one), e.g.
// errors.Is(err, &pdapi.HTTPError{Code: http.StatusNotFound}).
func (e *HTTPError) Is(target error) bool {
	if target == ErrNotBootstrapped {
		return bodyMeansNotBootstrapped(e.Body)
	}
	var t *HTTPError
	if errors.As(target, &t) && t != nil {
		return t.Code == e.Code && (t.URL == "" || t.URL == e.URL)
	}
	return false
}

// StatusCode returns the HTTP status carried by err, or 0 when err is not an HTTPError.
func StatusCode(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	return 0
}

// Response is a finished exchange whose body has been read and closed.
type Response struct {
	Code int
	URL  string
	Body []byte
}

// Err returns an *HTTPError when the status is 400 or above, nil otherwise.
func (r *Response) Err() error {
	if r.Code < http.StatusBadRequest {
		return nil
	}
	body := r.Body
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	return &HTTPError{Code: r.Code, URL: r.URL, Body: string(body)}
}

// DecodeJSON decodes the body into out. It fails with the response's HTTPError first, so callers
// can write `if err := resp.DecodeJSON(&v)`.
func (r *Response) DecodeJSON(out any) error {
	if err := r.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("decode response of %s: %w", r.URL, err)
	}
	return nil
}

// Do sends one request and reads the whole answer. A non-nil body is sent as JSON. The returned
// error covers only failures to exchange the request (connection, timeout, encoding); judging
// the status is left to the caller, because several PD calls accept 404 as success.
func Do(ctx context.Context, hc *http.Client, method, rawURL string, body any) (*Response, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request body for %s %s: %w", method, rawURL, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: %w", method, rawURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read response of %s %s: %w", method, rawURL, err)
	}
	return &Response{Code: res.StatusCode, URL: rawURL, Body: data}, nil
}

// JoinURL appends path to a base URL, tolerating a trailing slash on the base (peer member
// client URLs come from PD as given by the user).
func JoinURL(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
