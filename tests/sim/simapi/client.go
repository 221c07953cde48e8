package simapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) when the simulator answers 404, e.g. for an unknown cluster.
var ErrNotFound = errors.New("not found")

// Client talks to the simulator's admin API.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client for the simulator listening at baseURL (e.g.
// "http://127.0.0.1:34567"). The client never uses a proxy, so it works from a process whose
// HTTP_PROXY points at the simulator itself.
func NewClient(baseURL string) *Client {
	return &Client{
		base: strings.TrimRight(baseURL, "/"),
		http: &http.Client{
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
			Timeout:   30 * time.Second,
		},
	}
}

// Healthz succeeds once the simulator serves requests.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "healthz", nil, nil)
}

// Calls returns the recorded calls with Seq > since, oldest first.
func (c *Client) Calls(ctx context.Context, since uint64) ([]Call, error) {
	var calls []Call
	err := c.do(ctx, http.MethodGet, "calls?since="+strconv.FormatUint(since, 10), nil, &calls)
	return calls, err
}

// ResetCalls forgets every recorded call; sequence numbers keep growing.
func (c *Client) ResetCalls(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "calls", nil, nil)
}

// AddFault installs a fault and returns it with its ID.
func (c *Client) AddFault(ctx context.Context, f Fault) (Fault, error) {
	var out Fault
	err := c.do(ctx, http.MethodPost, "faults", f, &out)
	return out, err
}

// Faults lists the installed faults.
func (c *Client) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := c.do(ctx, http.MethodGet, "faults", nil, &out)
	return out, err
}

// RemoveFault uninstalls one fault.
func (c *Client) RemoveFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "faults/"+url.PathEscape(id), nil, nil)
}

// ClearFaults uninstalls every fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "faults", nil, nil)
}

// Clusters lists the simulated clusters.
func (c *Client) Clusters(ctx context.Context) ([]ClusterRef, error) {
	var out []ClusterRef
	err := c.do(ctx, http.MethodGet, "clusters", nil, &out)
	return out, err
}

// Cluster returns a snapshot of one simulated cluster.
func (c *Client) Cluster(ctx context.Context, namespace, name string) (ClusterState, error) {
	var out ClusterState
	err := c.do(ctx, http.MethodGet, clusterPath(namespace, name), nil, &out)
	return out, err
}

// PatchCluster changes settings of a simulated cluster (creating it if needed).
func (c *Client) PatchCluster(ctx context.Context, namespace, name string, p ClusterPatch) error {
	return c.do(ctx, http.MethodPatch, clusterPath(namespace, name), p, nil)
}

// ForgetCluster drops everything the simulator knows about a cluster and its pods.
func (c *Client) ForgetCluster(ctx context.Context, namespace, name string) error {
	return c.do(ctx, http.MethodDelete, clusterPath(namespace, name), nil, nil)
}

// PatchStore injects or clears store faults.
func (c *Client) PatchStore(ctx context.Context, namespace, name string, storeID uint64, p StorePatch) error {
	return c.do(ctx, http.MethodPatch, clusterPath(namespace, name)+"/stores/"+strconv.FormatUint(storeID, 10), p, nil)
}

// PatchMember injects or clears PD member faults.
func (c *Client) PatchMember(ctx context.Context, namespace, name, member string, p MemberPatch) error {
	return c.do(ctx, http.MethodPatch, clusterPath(namespace, name)+"/members/"+url.PathEscape(member), p, nil)
}

// Pods lists the pods the simulator knows.
func (c *Client) Pods(ctx context.Context) ([]Pod, error) {
	var out []Pod
	err := c.do(ctx, http.MethodGet, "pods", nil, &out)
	return out, err
}

// PutPod creates or replaces a pod, for tests that run without Kubernetes.
func (c *Client) PutPod(ctx context.Context, p Pod) error {
	return c.do(ctx, http.MethodPut, podPath(p.Namespace, p.Name), p, nil)
}

// PatchPod changes how a pod's simulated process behaves.
func (c *Client) PatchPod(ctx context.Context, namespace, name string, p PodPatch) error {
	return c.do(ctx, http.MethodPatch, podPath(namespace, name), p, nil)
}

// DeletePod removes a pod, as if it was deleted from Kubernetes.
func (c *Client) DeletePod(ctx context.Context, namespace, name string) error {
	return c.do(ctx, http.MethodDelete, podPath(namespace, name), nil, nil)
}

func clusterPath(namespace, name string) string {
	return "clusters/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

func podPath(namespace, name string) string {
	return "pods/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+PathPrefix+path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s %s: %s: %w", method, path, strings.TrimSpace(string(data)), ErrNotFound)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}
