package tidbapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/podaddr"
)

// StatusPort is TiDB's status port.
const StatusPort = 10080

// Pod identifies a pod of the component; see package podaddr.
type Pod = podaddr.Pod

// StatusURL is "<scheme>://<pod>.<cluster>-tidb-peer.<ns>[.svc.<domain>]:10080".
func StatusURL(p Pod) string { return p.URL("tidb", StatusPort) }

// Reader is what the operator reads from a TiDB pod.
type Reader interface {
	// Health returns nil when GET /status answers below 400; the body is not looked at. Any
	// error means the member is unhealthy, and says why.
	Health(ctx context.Context) error
}

// Writer is what the operator changes on a TiDB pod.
type Writer interface {
	// SetServerLabels replaces the server's labels (POST /labels).
	SetServerLabels(ctx context.Context, labels map[string]string) error
}

// Client reads from and writes to one TiDB pod.
type Client interface {
	Reader
	Writer
	// URL is the base URL the client talks to.
	URL() string
}

// New returns a client for the TiDB status port at baseURL.
func New(baseURL string, hc *http.Client) Client {
	return &client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

type client struct {
	base string
	hc   *http.Client
}

func (c *client) URL() string { return c.base }

func (c *client) Health(ctx context.Context) error {
	res, err := pdapi.Do(ctx, c.hc, http.MethodGet, c.base+"/status", nil)
	if err != nil {
		return err
	}
	return res.Err()
}

func (c *client) SetServerLabels(ctx context.Context, labels map[string]string) error {
	res, err := pdapi.Do(ctx, c.hc, http.MethodPost, c.base+"/labels", labels)
	if err != nil {
		return err
	}
	return res.Err()
}
