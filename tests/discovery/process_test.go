package discovery

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/sim"
	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// TestDiscoveryProcessBootstrapsThenJoinsThroughTheSimulator runs the discovery service the way
// the discovery Deployment does: the operator binary, built from cmd/tidb-operator and started
// under the name tidb-discovery as a separate process, reading its TidbCluster from the real API
// server (KUBECONFIG) and reaching PD through the simulator as its HTTP proxy (HTTP_PROXY). The
// test plays the PD pods' start scripts over HTTP. pkg/discovery's own tests cover the decision
// logic with fakes; this one covers the wiring they cannot: flags, environment, the client that
// reads the TidbCluster, the PD client and its proxy, the listener, logging and shutdown.
func TestDiscoveryProcessBootstrapsThenJoinsThroughTheSimulator(t *testing.T) {
	cl := cluster.Shared(t)
	installCRDs(t)
	ns := cluster.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	bin := buildDiscoveryBinary(ctx, t)

	srv := sim.New(sim.Options{})
	simURL, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	admin := simapi.NewClient(simURL)

	const tc = "basic"
	storage := corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	if err := cl.Client().Create(ctx, &v1alpha1.TidbCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tc},
		Spec: v1alpha1.TidbClusterSpec{
			Version: "v8.5.0",
			PD: &v1alpha1.PDSpec{Replicas: 3, BaseImage: "pingcap/pd",
				ResourceRequirements: corev1.ResourceRequirements{Requests: storage}},
		},
	}); err != nil {
		t.Fatal(err)
	}

	port, proxyPort := freePort(t), freePort(t)
	proc := startDiscoveryProcess(t, bin, []string{"-port=" + strconv.Itoa(port), "-proxy-port=" + strconv.Itoa(proxyPort)},
		map[string]string{
			"TC_NAME":          tc,
			"MY_POD_NAMESPACE": ns,
			"KUBECONFIG":       cl.KubeconfigPath(),
			"HTTP_PROXY":       simURL,
		})
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	proc.waitServing(ctx, t, endpoint)

	peer := func(ordinal int) string {
		return fmt.Sprintf("%s-pd-%d.%s-pd-peer.%s.svc:2380", tc, ordinal, tc, ns)
	}
	client := func(ordinal int) string {
		return fmt.Sprintf("http://%s-pd-%d.%s-pd-peer.%s.svc:2379", tc, ordinal, tc, ns)
	}
	ask := func(path string) (int, string) {
		t.Helper()
		code, body, err := plainGet(ctx, endpoint+path)
		if err != nil {
			t.Fatalf("GET %s: %v\ndiscovery log:\n%s", path, err, proc.logs())
		}
		return code, body
	}
	askNew := func(ordinal int) (int, string) {
		t.Helper()
		return ask("/new/" + base64.StdEncoding.EncodeToString([]byte(peer(ordinal))))
	}
	expect := func(ordinal, wantCode int, want string) {
		t.Helper()
		code, body := askNew(ordinal)
		if code != wantCode || (want != "" && body != want) {
			t.Fatalf("pd-%d: got %d %q, want %d %q\ndiscovery log:\n%s", ordinal, code, body, wantCode, want, proc.logs())
		}
	}
	runPD := func(ordinal int) {
		t.Helper()
		name := fmt.Sprintf("%s-pd-%d", tc, ordinal)
		if err := admin.PutPod(ctx, simapi.Pod{Namespace: ns, Name: name, UID: "uid-" + name, Cluster: tc,
			Component: simapi.ComponentPD, Running: true, Ready: true, Image: "pingcap/pd:v8.5.0"}); err != nil {
			t.Fatal(err)
		}
	}

	// A path argument that is not base64 is refused as the caller's mistake, not retried.
	if code, body := ask("/new/%21%21not-base64%21%21"); code < 400 || code >= 500 {
		t.Fatalf("invalid base64: got %d %q, want a 4xx", code, body)
	}

	// No PD runs yet: the first two pods are told to retry (500), and the third question, which
	// completes spec.pd.replicas=3 as read from the API server, bootstraps the cluster alone.
	expect(0, http.StatusInternalServerError, "")
	expect(1, http.StatusInternalServerError, "")
	expect(2, http.StatusOK, "--initial-cluster="+tc+"-pd-2=http://"+peer(2))

	// The process looked for PD members through the simulator, at PD's Service address.
	calls, err := admin.Calls(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	pdService := tc + "-pd." + ns + ":2379"
	if !slices.ContainsFunc(calls, func(c simapi.Call) bool {
		return c.Method == http.MethodGet && c.Host == pdService && c.Path == "/pd/api/v1/members"
	}) {
		t.Fatalf("the discovery process never asked %s for PD members through the proxy; calls: %+v", pdService, calls)
	}

	// The bootstrapped member runs: a retrying pod joins it by its client URL.
	runPD(2)
	expect(0, http.StatusOK, "--join="+client(2))

	// With two members the last pod joins both; the member list is PD's, so compare as a set.
	runPD(0)
	code, body := askNew(1)
	got, ok := strings.CutPrefix(body, "--join=")
	joined := strings.Split(got, ",")
	slices.Sort(joined)
	if want := []string{client(0), client(2)}; code != http.StatusOK || !ok || !slices.Equal(joined, want) {
		t.Fatalf("pd-1: got %d %q, want 200 --join= of %v\ndiscovery log:\n%s", code, body, want, proc.logs())
	}

	// The pod that bootstrapped, restarted, joins the others instead of starting a second cluster.
	runPD(1)
	code, body = askNew(2)
	got, ok = strings.CutPrefix(body, "--join=")
	joined = strings.Split(got, ",")
	slices.Sort(joined)
	if want := []string{client(0), client(1)}; code != http.StatusOK || !ok || !slices.Equal(joined, want) {
		t.Fatalf("restarted pd-2: got %d %q, want 200 --join= of %v\ndiscovery log:\n%s", code, body, want, proc.logs())
	}

	// SIGTERM ends the process cleanly, as when the Deployment's pod is deleted.
	if err := proc.stop(10 * time.Second); err != nil {
		t.Fatalf("stop the discovery process: %v\ndiscovery log:\n%s", err, proc.logs())
	}

	logs := proc.logs()
	for _, want := range []string{"discovery service started", "--initial-cluster=", "--join="} {
		if !strings.Contains(logs, want) {
			t.Errorf("the discovery log does not mention %q:\n%s", want, logs)
		}
	}
	for _, s := range kubeconfigSecrets(t, cl.KubeconfigPath()) {
		if strings.Contains(logs, s.value) {
			t.Errorf("the discovery log contains the kubeconfig's %s", s.what)
		}
	}
	if strings.Contains(logs, "PRIVATE KEY") || strings.Contains(strings.ToLower(logs), "authorization: bearer") {
		t.Errorf("the discovery log contains credentials:\n%s", logs)
	}
}

// buildDiscoveryBinary builds cmd/tidb-operator of the root module as <tmp>/tidb-discovery, the
// name the image links it under, which selects the discovery mode.
func buildDiscoveryBinary(ctx context.Context, t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "tidb-operator")); err != nil {
		t.Fatalf("operator sources not found: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tidb-discovery")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tidb-operator")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tidb-operator: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// plainGet performs a GET without any proxy and without keep-alives, as a start script's wget
// would.
func plainGet(ctx context.Context, url string) (int, string, error) {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 15 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type discoveryProcess struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
	waitErr error
}

// startDiscoveryProcess starts bin with args and an environment made of the test's own, without
// any proxy settings, plus env. The process is stopped when the test ends and killed by the
// kernel if the test binary dies.
func startDiscoveryProcess(t *testing.T, bin string, args []string, env map[string]string) *discoveryProcess {
	t.Helper()
	var environ []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT":
			continue
		}
		environ = append(environ, kv)
	}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	p := &discoveryProcess{out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = environ
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.stop(10 * time.Second); err != nil && !t.Failed() {
			t.Errorf("stop the discovery process: %v", err)
		}
		if t.Failed() {
			t.Logf("discovery log:\n%s", p.logs())
		}
	})
	return p
}

func (p *discoveryProcess) logs() string { return p.out.String() }

// waitServing waits until the process answers HTTP on endpoint, failing early if it exits.
func (p *discoveryProcess) waitServing(ctx context.Context, t *testing.T, endpoint string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("the discovery process exited before serving (%v):\n%s", p.waitErr, p.logs())
		default:
		}
		if _, _, err := plainGet(ctx, endpoint+"/"); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("the discovery process does not serve %s: %v\n%s", endpoint, err, p.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit; after grace the process is killed and that is
// an error. Stopping a process that already ended reports how it ended.
func (p *discoveryProcess) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("no exit within " + grace.String() + " of SIGTERM; killed")
	}
}

type secret struct{ what, value string }

// kubeconfigSecrets lists the credentials in a kubeconfig in the forms a careless log line could
// carry them: as written, base64-encoded (how []byte fields marshal to JSON) and, for PEM keys,
// each line of the encoded body.
func kubeconfigSecrets(t *testing.T, path string) []secret {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []secret
	add := func(what, v string) {
		if len(v) >= 16 {
			out = append(out, secret{what, v}, secret{what + " (base64)", base64.StdEncoding.EncodeToString([]byte(v))})
		}
	}
	for name, a := range cfg.AuthInfos {
		add("token of user "+name, a.Token)
		add("password of user "+name, a.Password)
		add("client key of user "+name, string(a.ClientKeyData))
		for _, line := range strings.Split(string(a.ClientKeyData), "\n") {
			if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
				out = append(out, secret{"client key line of user " + name, line})
			}
		}
		if a.ClientKey != "" {
			if data, err := os.ReadFile(a.ClientKey); err == nil {
				add("client key file of user "+name, string(data))
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("the kubeconfig %s holds no credentials to look for", path)
	}
	return out
}
