package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/features"
	"github.com/tidbops/tidb-operator/pkg/logging"
	"github.com/tidbops/tidb-operator/pkg/scheduler/options"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
)

func resetVerbosity(t *testing.T) {
	fs := flag.NewFlagSet("reset", flag.ContinueOnError)
	logging.AddFlags(fs)
	t.Cleanup(func() { _ = fs.Set("v", "0") })
}

func TestVersionFlags(t *testing.T) {
	for _, flagName := range []string{"-V", "--version"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"tidb-scheduler", flagName}, &out, &bytes.Buffer{}); err != nil {
			t.Fatalf("%s: %v", flagName, err)
		}
		if !strings.HasPrefix(out.String(), "TiDB Operator Version: ") {
			t.Fatalf("%s printed %q", flagName, out.String())
		}
	}
}

func TestStartUpErrors(t *testing.T) {
	cases := map[string]struct {
		args     []string // arguments after the program name
		wantCode int      // exit code, -1 when a message is expected instead
		wantMsg  string   // substring of the message
	}{
		"-h succeeds":             {[]string{"-h"}, 0, ""},
		"an unknown flag exits 2": {[]string{"-extender-port=1"}, 2, ""},
		"a bad port is explained": {[]string{"-port=0"}, -1, "invalid flags:\n-port must be a TCP port"},
		"a stray argument":        {[]string{"serve"}, -1, `unexpected argument "serve"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"tidb-scheduler"}, tc.args...), &bytes.Buffer{}, &bytes.Buffer{})
			var code exitCodeError
			if tc.wantCode >= 0 {
				if !errors.As(err, &code) || int(code) != tc.wantCode {
					t.Fatalf("error = %v, want exit code %d", err, tc.wantCode)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

// stubExtender is a linked-in extender that lets every node through.
type stubExtender struct{ server.Extender }

func TestTheChartCommandLineServesHealthzAndTheLinkedExtender(t *testing.T) {
	resetVerbosity(t)
	var gotStable *bool
	old := newExtender
	newExtender = func(o *options.Options, _ logr.Logger) (server.Extender, error) {
		on := o.Features.Enabled(features.StableScheduling)
		gotStable = &on
		return stubExtender{}, nil
	}
	t.Cleanup(func() { newExtender = old })

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"/usr/local/bin/tidb-scheduler", "-v=2", "-port=" + strconv.Itoa(port),
			"-features=StableScheduling=false", "-metrics-bind-address=0"}, &bytes.Buffer{}, &bytes.Buffer{})
	}()

	url := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz = %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The extender is mounted: a GET reaches the handler and is refused as the wrong method.
	resp, err := http.Get(url + server.PathFilter)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s = %d, want 405 from the mounted extender", server.PathFilter, resp.StatusCode)
	}
	if gotStable == nil || *gotStable {
		t.Fatalf("the extender was not given -features (StableScheduling seen: %v)", gotStable)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run() = %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestAnExtenderThatCannotBeBuiltStopsStartUp(t *testing.T) {
	resetVerbosity(t)
	old := newExtender
	newExtender = func(*options.Options, logr.Logger) (server.Extender, error) {
		return nil, errors.New("no in-cluster config")
	}
	t.Cleanup(func() { newExtender = old })

	err := run(context.Background(), []string{"tidb-scheduler", "-port=" + strconv.Itoa(freePort(t))}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || err.Error() != "building the scheduler extender: no in-cluster config" {
		t.Fatalf("error = %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
