package checkpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	cases := map[string]struct {
		value   []byte
		want    uint64
		wantErr bool
	}{
		"eight bytes are a big-endian TSO": {binary.BigEndian.AppendUint64(nil, 456789<<18|3), 456789<<18 | 3, false},
		"zero is a valid TSO":              {make([]byte, 8), 0, false},
		"the largest TSO":                  {[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1<<64 - 1, false},
		"an empty value is refused":        {nil, 0, true},
		"seven bytes are refused":          {make([]byte, 7), 0, true},
		"nine bytes are refused":           {make([]byte, 9), 0, true},
		"a decimal string is refused":      {[]byte("4567890123"), 0, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(tc.value)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Decode(%x) = %d, %v; want %d, error %v", tc.value, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestKeyAndEndpoint(t *testing.T) {
	if got := Key("log-1"); got != "/tidb/br-stream/checkpoint/log-1" {
		t.Errorf("Key = %q", got)
	}
	if got := Endpoint("basic", "tidb"); got != "basic-pd.tidb:2379" {
		t.Errorf("Endpoint = %q", got)
	}
}

// unreachable is an address that refuses connections: a port that was just free.
func unreachable(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestCheckpointFailsFastAndNamesWhatItRead(t *testing.T) {
	r := NewReader(Options{DialTimeout: 200 * time.Millisecond, RequestTimeout: 5 * time.Second})
	defer func() { _ = r.Close() }()
	ep := unreachable(t)
	start := time.Now()
	_, err := r.Checkpoint(context.Background(), ep, nil, "log-1")
	if err == nil {
		t.Fatal("read from a refusing endpoint succeeded")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s: the dial timeout did not apply", took)
	}
	if !strings.Contains(err.Error(), ep) || !strings.Contains(err.Error(), `"log-1"`) {
		t.Errorf("error does not name the endpoint and the task: %v", err)
	}
	if errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("a connection error is not a missing checkpoint: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the dial timeout is not wrapped: %v", err)
	}
	if _, err := r.Checkpoint(context.Background(), "", nil, "log-1"); err == nil {
		t.Error("an empty endpoint was accepted")
	}
}

func TestReaderCachesReplacesAndClosesClients(t *testing.T) {
	r := NewReader(Options{DialTimeout: 50 * time.Millisecond, IdleTimeout: -1})
	ep := unreachable(t)
	ctx := context.Background()
	_, _ = r.Checkpoint(ctx, ep, nil, "a")
	first := r.clients[ep]
	_, _ = r.Checkpoint(ctx, ep, nil, "b")
	if r.clients[ep] != first || first == nil {
		t.Fatal("a second call to the same endpoint made a new client")
	}
	// Same content in a fresh config keeps the client; other content replaces it.
	_, _ = r.Checkpoint(ctx, ep, &tls.Config{ServerName: "pd"}, "a")
	withTLS := r.clients[ep]
	if withTLS == first || !first.shut {
		t.Fatal("turning TLS on did not replace and close the plain client")
	}
	_, _ = r.Checkpoint(ctx, ep, &tls.Config{ServerName: "pd"}, "a")
	if r.clients[ep] != withTLS {
		t.Fatal("an equal TLS config made a new client")
	}
	_, _ = r.Checkpoint(ctx, ep, &tls.Config{ServerName: "pd", RootCAs: x509.NewCertPool()}, "a")
	if r.clients[ep] == withTLS {
		t.Fatal("other CAs kept the old client")
	}
	last := r.clients[ep]
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if !last.shut || len(r.clients) != 0 {
		t.Fatal("Close left a client open")
	}
	if _, err := r.Checkpoint(ctx, ep, nil, "a"); !errors.Is(err, errClosed) {
		t.Fatalf("a call after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

func TestIdleClientsAreClosed(t *testing.T) {
	r := NewReader(Options{DialTimeout: 20 * time.Millisecond, IdleTimeout: 100 * time.Millisecond})
	defer func() { _ = r.Close() }()
	ep := unreachable(t)
	_, _ = r.Checkpoint(context.Background(), ep, nil, "a")
	r.mu.Lock()
	c := r.clients[ep]
	r.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		gone, shut := r.clients[ep] == nil, c.shut
		r.mu.Unlock()
		if gone && shut {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an idle client was not closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestARetiredClientOutlivesItsCalls(t *testing.T) {
	r := NewReader(Options{IdleTimeout: -1})
	defer func() { _ = r.Close() }()
	ep := unreachable(t)
	c, err := r.acquire(ep, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A call with another TLS config replaces the client while the first call still runs.
	c2, err := r.acquire(ep, &tls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.shut {
		t.Fatal("a client in use was closed under its call")
	}
	r.release(c)
	if !c.shut {
		t.Fatal("a retired client was not closed when its last call ended")
	}
	r.release(c2)
	if c2.shut {
		t.Fatal("the current client was closed")
	}
}
