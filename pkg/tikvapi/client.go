package tikvapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
	"github.com/tidbops/tidb-operator/pkg/podaddr"
)

// StatusPort is TiKV's status port, serving /metrics.
const StatusPort = 20180

// Leader-count metric: the number of Regions whose leader is on this store.
const (
	regionCountMetric = "tikv_raftstore_region_count"
	regionTypeLabel   = "type"
	leaderRegionType  = "leader"
)

// ErrNoLeaderMetric means /metrics answered but without the leader-count series, e.g. while
// the store is still starting. Callers must not read it as "zero leaders".
var ErrNoLeaderMetric = errors.New(`metric tikv_raftstore_region_count{type="leader"} not found`)

// Pod identifies a pod of the component; see package podaddr.
type Pod = podaddr.Pod

// StatusURL is the base URL of the pod's status port, reached through the headless peer
// service: "<scheme>://<pod>.<cluster>-tikv-peer.<ns>[.svc.<domain>]:20180".
func StatusURL(p Pod) string { return p.URL("tikv", StatusPort) }

// Reader is what the operator reads from a TiKV pod.
type Reader interface {
	// LeaderCount returns the number of Region leaders the store holds.
	LeaderCount(ctx context.Context) (int, error)
}

// Client reads from one TiKV pod.
type Client interface {
	Reader
	// URL is the base URL the client talks to.
	URL() string
}

// New returns a client for the TiKV status port at baseURL.
func New(baseURL string, hc *http.Client) Client {
	return &client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

type client struct {
	base string
	hc   *http.Client
}

func (c *client) URL() string { return c.base }

func (c *client) LeaderCount(ctx context.Context) (int, error) {
	res, err := pdapi.Do(ctx, c.hc, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	if err := res.Err(); err != nil {
		return 0, err
	}
	n, err := ParseLeaderCount(res.Body)
	if err != nil {
		return 0, fmt.Errorf("read leader count from %s: %w", res.URL, err)
	}
	return n, nil
}

// ParseLeaderCount extracts tikv_raftstore_region_count{type="leader"} from Prometheus text
// exposition.
func ParseLeaderCount(metrics []byte) (int, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(metrics))
	if err != nil {
		return 0, fmt.Errorf("parse metrics: %w", err)
	}
	family, ok := families[regionCountMetric]
	if !ok {
		return 0, ErrNoLeaderMetric
	}
	for _, m := range family.GetMetric() {
		if !hasLabel(m, regionTypeLabel, leaderRegionType) {
			continue
		}
		v, ok := sampleValue(m)
		if !ok {
			continue
		}
		return int(v), nil
	}
	return 0, ErrNoLeaderMetric
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// sampleValue reads the value whatever type the family was declared with (TiKV declares it a
// gauge; an exposition without a TYPE line yields "untyped").
func sampleValue(m *dto.Metric) (float64, bool) {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Untyped != nil:
		return m.Untyped.GetValue(), true
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	}
	return 0, false
}
