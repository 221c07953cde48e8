package tiflashapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/podaddr"
)

// ProxyStatusPort is the status port of TiFlash's embedded TiKV proxy.
const ProxyStatusPort = 20292

// StoreStatus is the state TiFlash reports at /tiflash/store-status.
type StoreStatus string

// The states TiFlash reports. Only Running means the store serves.
const (
	StoreStatusIdle       StoreStatus = "Idle"
	StoreStatusReady      StoreStatus = "Ready"
	StoreStatusRunning    StoreStatus = "Running"
	StoreStatusStopping   StoreStatus = "Stopping"
	StoreStatusTerminated StoreStatus = "Terminated"
)

// Pod identifies a pod of the component; see package podaddr.
type Pod = podaddr.Pod

// ProxyStatusURL is "<scheme>://<pod>.<cluster>-tiflash-peer.<ns>[.svc.<domain>]:20292".
func ProxyStatusURL(p Pod) string { return p.URL("tiflash", ProxyStatusPort) }

// Reader is what the operator reads from a TiFlash pod.
type Reader interface {
	// StoreStatus returns the reported state, as sent (surrounding whitespace removed).
	StoreStatus(ctx context.Context) (StoreStatus, error)
}

// Client reads from one TiFlash pod.
type Client interface {
	Reader
	// URL is the base URL the client talks to.
	URL() string
}

// New returns a client for the TiFlash proxy status port at baseURL.
func New(baseURL string, hc *http.Client) Client {
	return &client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

type client struct {
	base string
	hc   *http.Client
}

func (c *client) URL() string { return c.base }

func (c *client) StoreStatus(ctx context.Context) (StoreStatus, error) {
	res, err := pdapi.Do(ctx, c.hc, http.MethodGet, c.base+"/tiflash/store-status", nil)
	if err != nil {
		return "", err
	}
	if err := res.Err(); err != nil {
		return "", err
	}
	return StoreStatus(strings.TrimSpace(string(res.Body))), nil
}
