package backupenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Azurite's built-in development account. The key is published in Azurite's and Azure's
// documentation; it is no secret, and Azurite accepts no other account unless configured to.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzureServer is Azurite's Blob service running for one test.
type AzureServer struct {
	// Endpoint is the account's service URL, "http://127.0.0.1:PORT/devstoreaccount1": Azurite
	// takes the account from the first path segment (there is no DNS for
	// devstoreaccount1.blob.127.0.0.1).
	Endpoint string
	// Account and Key are the shared-key credentials (AzuriteAccount, AzuriteKey); requests
	// are signed and checked with them.
	Account, Key string
	// DataDir is Azurite's workspace (its metadata database and blob extents).
	DataDir string

	clientOnce sync.Once
	client     *azblob.Client
	clientErr  error
}

// Azure starts Azurite's Blob service for the test, installing it first if needed (see
// hack/testservers.sh), and stops it when the test ends. Skipped under -short.
func Azure(t testing.TB, opts ...Option) *AzureServer {
	t.Helper()
	skipShort(t, "Azurite (Azure Blob)")
	bin := locateOrFail(t, kindAzure)
	dir := workDir(t, "azure", applyOptions(opts))
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatalf("backupenv: %v", err)
	}
	s := &AzureServer{Account: AzuriteAccount, Key: AzuriteKey, DataDir: data}
	_, port := start(t, serverSpec{
		name:    "azurite-blob",
		path:    bin,
		logPath: filepath.Join(dir, "azurite-blob.log"),
		args: func(port int) []string {
			return []string{
				"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", data,
				// The Go SDK may speak a newer service version than this Azurite knows; the
				// operations the backups use are the same in all of them.
				"--skipApiVersionCheck",
				// Telemetry would try to reach the Internet, which the test machines cannot.
				"--disableTelemetry",
				// Always take the account from the path, whatever the Host header says.
				"--disableProductStyleUrl",
				// The access log (one line a request) goes to the log file, which is only
				// shown when a test fails; so no --silent.
			}
		},
		ready: httpAnswers("/" + AzuriteAccount + "?comp=list"),
	})
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount)
	return s
}

// Client returns an azblob client for the account with its shared key, for tests to set up and
// inspect containers directly.
func (s *AzureServer) Client() *azblob.Client {
	s.clientOnce.Do(func() {
		var cred *azblob.SharedKeyCredential
		cred, s.clientErr = azblob.NewSharedKeyCredential(s.Account, s.Key)
		if s.clientErr == nil {
			s.client, s.clientErr = azblob.NewClientWithSharedKeyCredential(s.Endpoint+"/", cred, nil)
		}
	})
	if s.clientErr != nil {
		// Neither call does I/O; failing is a programming error such as a malformed key.
		panic(fmt.Sprintf("backupenv: azblob client for %s: %v", s.Endpoint, s.clientErr))
	}
	return s.client
}

// CreateContainer creates a container, failing the test if it cannot.
func (s *AzureServer) CreateContainer(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("backupenv: create Azure container %q: %v", name, err)
	}
}

// Env is the environment a process needs to reach the account with shared-key credentials
// (v1.6's variable names); the endpoint itself is passed as BR's --azblob.endpoint.
func (s *AzureServer) Env() []string {
	return []string{"AZURE_STORAGE_ACCOUNT=" + s.Account, "AZURE_STORAGE_KEY=" + s.Key}
}
