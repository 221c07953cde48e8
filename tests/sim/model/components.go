package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// This file models the processes that are not PD or stores: TiDB servers, TiCDC captures,
// PD micro-services and TiFlash's store-status.

type tidbServer struct {
	podUID string
	// labels set through POST /labels; TiDB keeps them in memory only, so a new pod instance
	// starts without them.
	labels map[string]string
}

func (c *Cluster) reconcileTiDB() {
	for _, p := range c.podsOf(simapi.ComponentTiDB) {
		srv := c.tidb[p.key]
		if srv == nil || (p.running() && srv.podUID != p.spec.UID) {
			srv = &tidbServer{podUID: p.spec.UID, labels: map[string]string{}}
			c.tidb[p.key] = srv
		}
	}
	for k := range c.tidb {
		if c.pods[k] == nil {
			delete(c.tidb, k)
		}
	}
	if c.pods[c.ddlOwner].running() {
		return
	}
	c.ddlOwner = PodKey{}
	for _, p := range c.podsOf(simapi.ComponentTiDB) {
		if p.running() {
			c.ddlOwner = p.key
			return
		}
	}
}

// SetTiDBLabels merges server labels into a TiDB server (POST /labels).
func (c *Cluster) SetTiDBLabels(p PodKey, labels map[string]string) error {
	srv := c.tidb[p]
	if srv == nil {
		return newErr(KindNotFound, fmt.Sprintf("tidb %s not found", p))
	}
	maps.Copy(srv.labels, labels)
	return nil
}

// TiDBIsOwner reports whether the TiDB server is the DDL owner.
func (c *Cluster) TiDBIsOwner(p PodKey) bool { return c.ddlOwner == p }

// TiDBVersion is the version the TiDB pod runs.
func (c *Cluster) TiDBVersion(p PodKey) string {
	if pd := c.pods[p]; pd != nil {
		return c.m.imageVersion(pd.spec.Image)
	}
	return c.m.opts.DefaultVersion
}

type capture struct {
	id       string
	podUID   string
	tables   int
	draining bool
}

// CaptureView is a TiCDC capture as its API shows it.
type CaptureView struct {
	ID      string
	Pod     PodKey
	Address string
	Version string
	IsOwner bool
	Tables  int
}

// reconcileCaptures gives every running TiCDC pod a capture (a new ID for each process start),
// hands the tables of vanished captures to the others, and keeps an owner.
func (c *Cluster) reconcileCaptures() {
	for _, p := range c.podsOf(simapi.ComponentTiCDC) {
		cp := c.captures[p.key]
		switch {
		case !p.running():
			c.dropCapture(p.key)
		case cp == nil || cp.podUID != p.spec.UID:
			c.dropCapture(p.key)
			c.captures[p.key] = &capture{id: c.newCaptureID(), podUID: p.spec.UID}
		}
	}
	for k := range c.captures {
		if c.pods[k] == nil {
			c.dropCapture(k)
		}
	}
	if c.captures[c.cdcOwner] == nil {
		c.cdcOwner = PodKey{}
		if keys := c.captureKeys(); len(keys) > 0 {
			c.cdcOwner = keys[0]
		}
	}
	for c.cdcUnassigned > 0 {
		t := c.leastLoadedCapture(PodKey{})
		if t == nil {
			break
		}
		t.tables++
		c.cdcUnassigned--
	}
}

func (c *Cluster) dropCapture(k PodKey) {
	if cp := c.captures[k]; cp != nil {
		c.cdcUnassigned += cp.tables
		delete(c.captures, k)
	}
}

func (c *Cluster) newCaptureID() string {
	a, b := c.m.rnd.Uint64(), c.m.rnd.Uint64()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func (c *Cluster) captureKeys() []PodKey {
	keys := slices.Collect(maps.Keys(c.captures))
	slices.SortFunc(keys, func(a, b PodKey) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

// leastLoadedCapture returns the non-draining capture (other than except) with the fewest
// tables.
func (c *Cluster) leastLoadedCapture(except PodKey) *capture {
	var best *capture
	for _, k := range c.captureKeys() {
		cp := c.captures[k]
		if k == except || cp.draining {
			continue
		}
		if best == nil || cp.tables < best.tables {
			best = cp
		}
	}
	return best
}

// stepCaptures moves tables off draining captures and evens out the others.
func (c *Cluster) stepCaptures() {
	for _, k := range c.captureKeys() {
		cp := c.captures[k]
		if !cp.draining {
			continue
		}
		for range c.m.opts.CDCTablesPerTick {
			t := c.leastLoadedCapture(k)
			if cp.tables == 0 || t == nil {
				break
			}
			cp.tables--
			t.tables++
		}
	}
	for range c.m.opts.CDCTablesPerTick {
		var hi, lo *capture
		for _, k := range c.captureKeys() {
			cp := c.captures[k]
			if cp.draining {
				continue
			}
			if hi == nil || cp.tables > hi.tables {
				hi = cp
			}
			if lo == nil || cp.tables < lo.tables {
				lo = cp
			}
		}
		if hi == nil || hi.tables-lo.tables <= 1 {
			return
		}
		hi.tables--
		lo.tables++
	}
}

func (c *Cluster) setCDCTables(n int) {
	n = max(n, 0)
	for _, cp := range c.captures {
		cp.tables = 0
	}
	c.cdcTables = n
	c.cdcUnassigned = n
	c.reconcileCaptures()
}

func (c *Cluster) captureView(k PodKey) CaptureView {
	cp := c.captures[k]
	pd := c.pods[k]
	return CaptureView{
		ID:      cp.id,
		Pod:     k,
		Address: podDomain(pd.spec) + ":8301",
		Version: c.m.imageVersion(pd.spec.Image),
		IsOwner: c.cdcOwner == k,
		Tables:  cp.tables,
	}
}

// Capture returns the capture a TiCDC pod runs.
func (c *Cluster) Capture(p PodKey) (CaptureView, bool) {
	if c.captures[p] == nil {
		return CaptureView{}, false
	}
	return c.captureView(p), true
}

// Captures lists the running captures, sorted by pod.
func (c *Cluster) Captures() []CaptureView {
	out := []CaptureView{}
	for _, k := range c.captureKeys() {
		out = append(out, c.captureView(k))
	}
	return out
}

// ResignOwner makes the owner capture hand ownership to another capture, preferring one that
// is not draining. With no other capture it stays the owner.
func (c *Cluster) ResignOwner() {
	var next PodKey
	for _, k := range c.captureKeys() {
		if k == c.cdcOwner {
			continue
		}
		if next == (PodKey{}) || (c.captures[next].draining && !c.captures[k].draining) {
			next = k
		}
	}
	if next != (PodKey{}) {
		c.cdcOwner = next
	}
}

// DrainCapture starts moving the tables of a capture to the others and returns how many it
// still holds. The owner cannot be drained, and draining needs another capture.
func (c *Cluster) DrainCapture(id string) (int, error) {
	var key PodKey
	var cp *capture
	for k, v := range c.captures {
		if v.id == id {
			key, cp = k, v
		}
	}
	if cp == nil {
		return 0, newErr(KindNotFound, fmt.Sprintf("[CDC:ErrCaptureNotExist]capture not exists, %s", id))
	}
	if len(c.captures) < 2 {
		return 0, newErr(KindUnavailable, "[CDC:ErrSchedulerRequestFailed]scheduler request failed, only one capture is alive")
	}
	if key == c.cdcOwner {
		return 0, newErr(KindUnavailable, "[CDC:ErrSchedulerRequestFailed]scheduler request failed, cannot drain the owner")
	}
	cp.draining = true
	return cp.tables, nil
}

// MicroServiceMember is a running PD micro-service pod as PD lists it.
type MicroServiceMember struct {
	Pod            PodKey
	ServiceAddr    string
	Version        string
	StartTimestamp int64
}

func (c *Cluster) reconcileMicroServices() {
	for _, svc := range []string{simapi.ComponentTSO, simapi.ComponentScheduling} {
		if c.pods[c.msPrimary[svc]].running() {
			continue
		}
		delete(c.msPrimary, svc)
		for _, p := range c.podsOf(svc) {
			if p.running() {
				c.msPrimary[svc] = p.key
				break
			}
		}
	}
}

// MicroServiceMembers lists the running pods of a PD micro-service (tso or scheduling).
func (c *Cluster) MicroServiceMembers(service string) []MicroServiceMember {
	out := []MicroServiceMember{}
	for _, p := range c.podsOf(service) {
		if !p.running() {
			continue
		}
		out = append(out, MicroServiceMember{
			Pod:            p.key,
			ServiceAddr:    "http://" + podDomain(p.spec) + ":2379",
			Version:        c.m.imageVersion(p.spec.Image),
			StartTimestamp: p.since.Unix(),
		})
	}
	return out
}

// MicroServicePrimary returns the service address of the primary of a PD micro-service.
func (c *Cluster) MicroServicePrimary(service string) (string, error) {
	p := c.pods[c.msPrimary[service]]
	if p == nil {
		return "", newErr(KindNotFound, fmt.Sprintf("no primary for %s", service))
	}
	return "http://" + podDomain(p.spec) + ":2379", nil
}

// TransferMicroServicePrimary moves the primary of a PD micro-service to the named member (a
// pod name or service address), or to any other running member when newPrimary is empty.
func (c *Cluster) TransferMicroServicePrimary(service, newPrimary string) error {
	members := c.MicroServiceMembers(service)
	for _, mb := range members {
		match := newPrimary == "" && mb.Pod != c.msPrimary[service]
		match = match || mb.Pod.Name == newPrimary || mb.ServiceAddr == newPrimary
		if match {
			c.msPrimary[service] = mb.Pod
			return nil
		}
	}
	if newPrimary == "" {
		return newErr(KindInvalid, "no other member to transfer the primary to")
	}
	return newErr(KindNotFound, fmt.Sprintf("member %s not found", newPrimary))
}

// TiFlashStoreStatus is the body of TiFlash's GET /tiflash/store-status: an injected override,
// else Running once the store is registered and Up-state, Idle before.
func (c *Cluster) TiFlashStoreStatus(p PodKey) string {
	pd := c.pods[p]
	if pd == nil {
		return "Terminated"
	}
	if pd.tiflashStatus != "" {
		return pd.tiflashStatus
	}
	if st, ok := c.StoreOfPod(p); ok {
		switch st.State {
		case StateUp, StateOffline:
			return "Running"
		}
		return "Terminated"
	}
	return "Idle"
}
