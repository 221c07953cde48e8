package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tidbops/tidb-operator/tests/brdouble"
)

// controls are the test's instructions from the environment (see package tests/brdouble).
type controls struct {
	fail      string
	hang, die bool
	delay     time.Duration
	hangMax   time.Duration
	only      []string
	record    string
	// etcd makes log start|stop|pause|resume keep the task in PD's etcd too.
	etcd bool
}

func readControls(lookup func(string) (string, bool)) controls {
	get := func(k string) string { v, _ := lookup(k); return v }
	c := controls{
		fail:    get(brdouble.EnvFail),
		hang:    get(brdouble.EnvHang) != "",
		die:     get(brdouble.EnvDie) != "",
		delay:   brdouble.DefaultStepDelay,
		hangMax: brdouble.DefaultHangMax,
		record:  get(brdouble.EnvRecord),
		etcd:    brdouble.EtcdEnabled(get(brdouble.EnvEtcd)),
	}
	if d, err := time.ParseDuration(get(brdouble.EnvStepDelay)); err == nil && d >= 0 {
		c.delay = d
	}
	if d, err := time.ParseDuration(get(brdouble.EnvHangMax)); err == nil && d > 0 {
		c.hangMax = d
	}
	for _, p := range strings.Split(get(brdouble.EnvOnly), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.only = append(c.only, p)
		}
	}
	return c
}

// appliesTo reports whether FAIL, HANG and DIE are meant for this command path.
func (c controls) appliesTo(commandPath string) bool {
	if len(c.only) == 0 {
		return true
	}
	for _, p := range c.only {
		if strings.HasPrefix(commandPath, p) {
			return true
		}
	}
	return false
}

// errFailed is the error BRDOUBLE_FAIL injects; its text is the variable's value.
type errFailed struct{ msg string }

func (e errFailed) Error() string { return e.msg }

// stepper paces one command's progress and applies the controls once, after its first
// progress step, which is when a real failure would show up in a Job's log.
type stepper struct {
	ctl         controls
	commandPath string
	applied     bool
}

// after is called after each progress line: the first time it applies the controls, every
// time it waits the step delay. It returns errInterrupted when the run is signalled.
func (s *stepper) after(ctx context.Context) error {
	if !s.applied {
		s.applied = true
		if s.ctl.appliesTo(s.commandPath) {
			switch {
			case s.ctl.die:
				// Output is unbuffered, so the lines before this are already out.
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // SIGKILL cannot be caught; wait for it to land.
			case s.ctl.fail != "":
				return errFailed{s.ctl.fail}
			case s.ctl.hang:
				return hang(ctx, s.ctl.hangMax)
			}
		}
	}
	return sleep(ctx, s.ctl.delay)
}

// hang blocks until the run is signalled, the parent process goes away (so a double whose
// backup-manager was SIGKILLed does not linger), or max passes.
func hang(ctx context.Context, max time.Duration) error {
	parent := os.Getppid()
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return errInterrupted
		case <-deadline.C:
			return errors.New("brdouble: BRDOUBLE_HANG lasted BRDOUBLE_HANG_MAX without a signal: " + errInterrupted.Error())
		case <-tick.C:
			if os.Getppid() != parent {
				return errInterrupted
			}
		}
	}
}

// sleep waits d unless the run is signalled first.
func sleep(ctx context.Context, d time.Duration) error {
	if ctx.Err() != nil {
		return errInterrupted
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errInterrupted
	case <-t.C:
		return nil
	}
}
