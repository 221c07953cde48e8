package backupenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

// GCSServer is a fake-gcs-server serving the GCS JSON and XML APIs over plain HTTP on loopback,
// inside the test process, for one test.
type GCSServer struct {
	// Endpoint is what cloud.google.com/go/storage's option.WithEndpoint needs (together with
	// option.WithoutAuthentication): "http://127.0.0.1:PORT/storage/v1/".
	Endpoint string
	// EmulatorHost is the value for STORAGE_EMULATOR_HOST, "127.0.0.1:PORT": with it set, the
	// Go SDK (and BR) talk to the server without credentials and without any other option.
	EmulatorHost string
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string
	// DataDir is the folder holding the objects when the server was started WithDir; empty
	// when they are kept in memory.
	DataDir string

	server *fakestorage.Server

	clientOnce sync.Once
	client     *storage.Client
	clientErr  error
}

// GCS starts a fake GCS server for the test and stops it when the test ends. Objects are kept
// in memory unless WithDir is given, in which case they are files under that folder and
// survive a restart. The server's access log is written to the test log when the test fails.
//
// Unlike the other servers it runs under -short too: it is in-process, needs no install and
// starts in milliseconds.
func GCS(t testing.TB, opts ...Option) *GCSServer {
	t.Helper()
	o := applyOptions(opts)
	dir := workDir(t, "gcs", o)
	logPath := filepath.Join(dir, "fake-gcs-server.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("backupenv: open GCS log: %v", err)
	}

	// The listener is opened first and handed to an http.Server of our own (NoListener), so
	// the port is known before the fake server is configured and no other process can take
	// it in between. PublicHost and ExternalURL must name that address: the XML API (which
	// the Go SDK uses for reads) only answers requests for PublicHost, and ExternalURL is
	// where resumable uploads are told to continue.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = logFile.Close()
		t.Fatalf("backupenv: listen for GCS: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	hostPort := fmt.Sprintf("127.0.0.1:%d", port)
	s := &GCSServer{
		URL:          "http://" + hostPort,
		Endpoint:     "http://" + hostPort + "/storage/v1/",
		EmulatorHost: hostPort,
	}
	fo := fakestorage.Options{
		Scheme:      "http",
		Host:        "127.0.0.1",
		Port:        uint16(port),
		NoListener:  true,
		PublicHost:  hostPort,
		ExternalURL: s.URL,
		Writer:      logFile,
	}
	if o.dir != "" {
		s.DataDir = filepath.Join(dir, "data")
		if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
			_ = l.Close()
			_ = logFile.Close()
			t.Fatalf("backupenv: %v", err)
		}
		fo.StorageRoot = s.DataDir
	}
	fake, err := fakestorage.NewServerWithOptions(fo)
	if err != nil {
		_ = l.Close()
		_ = logFile.Close()
		t.Fatalf("backupenv: start fake GCS server: %v", err)
	}
	s.server = fake
	hs := &http.Server{Handler: fake.HTTPHandler(), ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	t.Cleanup(func() {
		if s.client != nil {
			_ = s.client.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			_ = hs.Close()
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("backupenv: GCS server: %v", err)
		}
		fake.Stop()
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("backupenv: last lines of %s:\n%s", logPath, tailFile(logPath, logTailLines))
		}
	})
	t.Logf("backupenv: fake GCS server on %s (log %s)", hostPort, logPath)
	return s
}

// Client returns a cloud.google.com/go/storage client for the server, going through real HTTP
// like any other process would, for tests to set up and inspect buckets directly.
func (s *GCSServer) Client() *storage.Client {
	s.clientOnce.Do(func() {
		s.client, s.clientErr = storage.NewClient(context.Background(),
			option.WithEndpoint(s.Endpoint), option.WithoutAuthentication())
	})
	if s.clientErr != nil {
		// Creating a client without credentials does no I/O; failing here is a programming
		// error, like a malformed endpoint.
		panic(fmt.Sprintf("backupenv: GCS client for %s: %v", s.Endpoint, s.clientErr))
	}
	return s.client
}

// CreateBucket creates a bucket, failing the test if it cannot.
func (s *GCSServer) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Through the API rather than the fake's Go methods, which panic on error.
	if err := s.Client().Bucket(name).Create(ctx, "backupenv", nil); err != nil {
		t.Fatalf("backupenv: create GCS bucket %q: %v", name, err)
	}
}

// Env is the environment a process needs to reach the server with the Go SDK (or BR).
func (s *GCSServer) Env() []string {
	return []string{"STORAGE_EMULATOR_HOST=" + s.EmulatorHost}
}

// Fake returns the fake-gcs-server itself, for what the GCS API cannot do (seeding objects with
// given metadata, inspecting the backend).
func (s *GCSServer) Fake() *fakestorage.Server {
	return s.server
}
