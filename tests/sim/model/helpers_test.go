package model_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/sim/model"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

var key = model.ClusterKey{Namespace: "ns", Name: "basic"}

type env struct {
	t     *testing.T
	m     *model.Model
	clock *model.FakeClock
	// uids counts pod instances per pod name, so a restart gives a new UID.
	uids map[string]int
}

func newEnv(t *testing.T, opts model.Options) *env {
	t.Helper()
	clock := model.NewFakeClock(t0)
	opts.Clock = clock
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	return &env{t: t, m: model.New(opts), clock: clock, uids: map[string]int{}}
}

func podName(comp string, ord int) string { return fmt.Sprintf("basic-%s-%d", comp, ord) }

func (e *env) podSpec(comp string, ord int, running bool) simapi.Pod {
	name := podName(comp, ord)
	if e.uids[name] == 0 {
		e.uids[name] = 1
	}
	return simapi.Pod{
		Namespace: "ns", Name: name, UID: fmt.Sprintf("%s-uid-%d", name, e.uids[name]),
		Cluster: "basic", Component: comp, Running: running, Image: "pingcap/" + comp + ":v8.5.0",
	}
}

// run starts (or keeps running) a pod instance.
func (e *env) run(comp string, ord int) {
	e.t.Helper()
	if err := e.m.UpsertPod(e.podSpec(comp, ord, true)); err != nil {
		e.t.Fatal(err)
	}
}

// stop marks the pod instance as not running (the pod object still exists).
func (e *env) stop(comp string, ord int) {
	e.t.Helper()
	if err := e.m.UpsertPod(e.podSpec(comp, ord, false)); err != nil {
		e.t.Fatal(err)
	}
}

// recreate deletes the pod and creates a new instance (new UID) that runs.
func (e *env) recreate(comp string, ord int) {
	e.t.Helper()
	name := podName(comp, ord)
	e.m.DeletePod("ns", name)
	e.uids[name]++
	e.run(comp, ord)
}

func (e *env) del(comp string, ord int) { e.m.DeletePod("ns", podName(comp, ord)) }

func (e *env) step(d time.Duration) { e.clock.Step(d); e.m.Advance() }

func (e *env) snap() simapi.ClusterState {
	e.t.Helper()
	st, err := e.m.Snapshot(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) do(fn func(c *model.Cluster) error) error { return e.m.Cluster(key, fn) }

func (e *env) mustDo(fn func(c *model.Cluster) error) {
	e.t.Helper()
	if err := e.do(fn); err != nil {
		e.t.Fatal(err)
	}
}

// store returns the newest store of a pod.
func (e *env) store(comp string, ord int) simapi.Store {
	e.t.Helper()
	st, ok := e.snap().StoreByPod(podName(comp, ord))
	if !ok {
		e.t.Fatalf("no store for %s", podName(comp, ord))
	}
	return st
}

// startBasic runs pd PD pods and kv TiKV pods and lets regions settle.
func (e *env) startBasic(pd, kv int) {
	e.t.Helper()
	for i := range pd {
		e.run(simapi.ComponentPD, i)
	}
	for i := range kv {
		e.run(simapi.ComponentTiKV, i)
	}
	e.step(time.Minute)
}

func wantKind(t *testing.T, err error, kind *model.Error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %d", err, kind.Kind)
	}
}

func totals(st simapi.ClusterState) (leaders, peers int) {
	for _, s := range st.Stores {
		leaders += s.LeaderCount
		peers += s.RegionCount
	}
	return leaders, peers
}
