package ticdcapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/podaddr"
)

// Port is the port the operator configures TiCDC to serve on (TiCDC's own default is 8300).
const Port = 8301

var (
	// ErrUnsupported means the TiCDC version does not have the endpoint (it answered 404).
	ErrUnsupported = errors.New("TiCDC does not support this API")
	// ErrUnavailable means TiCDC answered 503: try again later.
	ErrUnavailable = errors.New("TiCDC is not ready to serve this request")
)

// Pod identifies a pod of the component; see package podaddr.
type Pod = podaddr.Pod

// URL is "<scheme>://<pod>.<cluster>-ticdc-peer.<ns>[.svc.<domain>]:8301".
func URL(p Pod) string { return p.URL("ticdc", Port) }

// AddressURL turns a capture address as TiCDC reports it ("host:port") into a base URL.
func AddressURL(address string, tls bool) string {
	return pdapi.Scheme(tls) + "://" + address
}

// Status is GET /status of one TiCDC server.
type Status struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	IsOwner bool   `json:"is_owner"`
}

// Capture is one entry of GET /api/v1/captures.
type Capture struct {
	ID      string `json:"id"`
	IsOwner bool   `json:"is_owner"`
	Address string `json:"address"`
}

// FindCapture returns the capture served by pod, or nil. The capture address starts with the
// pod's peer host name; the match stops at a label or port boundary so that "db" does not
// match namespace "db2" and ordinal 1 does not match ordinal 10.
func FindCapture(captures []Capture, pod Pod) *Capture {
	host := pod.PeerHost("ticdc")
	for i := range captures {
		addr := captures[i].Address
		if _, rest, ok := strings.Cut(addr, "://"); ok {
			addr = rest
		}
		rest, ok := strings.CutPrefix(addr, host)
		if ok && (rest == "" || rest[0] == '.' || rest[0] == ':') {
			return &captures[i]
		}
	}
	return nil
}

type drainRequest struct {
	CaptureID string `json:"capture_id"`
}

type drainResponse struct {
	CurrentTableCount int `json:"current_table_count"`
}

// Reader is what the operator reads from TiCDC.
type Reader interface {
	// Status returns the server's capture ID, version and ownership.
	Status(ctx context.Context) (*Status, error)
	// Captures lists every capture of the TiCDC cluster.
	Captures(ctx context.Context) ([]Capture, error)
	// Health returns nil when the TiCDC cluster is healthy. Ask the owner. Versions without
	// /api/v1/health (404) count as healthy.
	Health(ctx context.Context) error
}

// Writer is what the operator asks TiCDC to do.
type Writer interface {
	// ResignOwner makes this server, if it is the owner, give ownership up.
	ResignOwner(ctx context.Context) error
	// DrainCapture moves the tables of captureID to other captures and returns how many tables
	// it still replicates; call again until zero.
	DrainCapture(ctx context.Context, captureID string) (int, error)
}

// Client reads from and writes to one TiCDC server.
type Client interface {
	Reader
	Writer
	// URL is the base URL the client talks to.
	URL() string
}

// New returns a client for the TiCDC server at baseURL.
func New(baseURL string, hc *http.Client) Client {
	return &client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

type client struct {
	base string
	hc   *http.Client
}

func (c *client) URL() string { return c.base }

// classify maps TiCDC's 404 and 503 to the package's sentinel errors, keeping the HTTP error.
func classify(res *pdapi.Response) error {
	err := res.Err()
	switch res.Code {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	case http.StatusServiceUnavailable:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func (c *client) call(ctx context.Context, method, path string, body, out any) error {
	res, err := pdapi.Do(ctx, c.hc, method, c.base+path, body)
	if err != nil {
		return err
	}
	if err := classify(res); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return res.DecodeJSON(out)
}

func (c *client) Status(ctx context.Context) (*Status, error) {
	res, err := pdapi.Do(ctx, c.hc, http.MethodGet, c.base+"/status", nil)
	if err != nil {
		return nil, err
	}
	out := &Status{}
	if err := res.DecodeJSON(out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Captures(ctx context.Context) ([]Capture, error) {
	var out []Capture
	if err := c.call(ctx, http.MethodGet, "/api/v1/captures", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *client) Health(ctx context.Context) error {
	res, err := pdapi.Do(ctx, c.hc, http.MethodGet, c.base+"/api/v1/health", nil)
	if err != nil {
		return err
	}
	if res.Code == http.StatusNotFound {
		return nil
	}
	return res.Err()
}

func (c *client) ResignOwner(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/api/v1/owner/resign", nil, nil)
}

func (c *client) DrainCapture(ctx context.Context, captureID string) (int, error) {
	var out drainResponse
	if err := c.call(ctx, http.MethodPut, "/api/v1/captures/drain", drainRequest{CaptureID: captureID}, &out); err != nil {
		return 0, err
	}
	return out.CurrentTableCount, nil
}
