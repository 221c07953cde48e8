package cluster

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LabelTestNamespace marks namespaces created by NewNamespace; its value is the test's name,
// cut to fit a label value.
const LabelTestNamespace = "tidb-operator.tidbops.io/test"

// shared is the cluster of this test binary, set by SharedForTest.
var shared *Cluster

// SharedForTest starts one cluster for the whole test binary, runs its tests and stops the
// cluster again, then exits. Call it from TestMain:
//
//	func TestMain(m *testing.M) { cluster.SharedForTest(m, cluster.Options{Full: true}) }
//
// With -short no cluster is started and tests that need it (Shared, Namespace) are skipped, so
// pure unit tests in the same package still run quickly. When a test fails the work directory
// with every component's log is kept and its path printed. An interrupt (Ctrl-C, SIGTERM) stops
// the cluster before the binary exits.
func SharedForTest(m *testing.M, opts Options) {
	os.Exit(RunShared(m, opts))
}

// RunShared is SharedForTest without the exit: it returns the tests' exit code, for a
// TestMain that has its own clean-up to do after the cluster is stopped.
func RunShared(m *testing.M, opts Options) int {
	// testing.Short needs parsed flags; m.Run does not parse them a second time.
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return m.Run()
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type started struct {
		c   *Cluster
		err error
	}
	result := make(chan started, 1)
	go func() {
		c, err := Start(ctx, opts)
		result <- started{c, err}
	}()
	var c *Cluster
	select {
	case r := <-result:
		if r.err != nil {
			fmt.Fprintf(os.Stderr, "cluster: start shared test cluster: %v\n", r.err)
			return 1
		}
		c = r.c
	case sig := <-signals:
		// Start cleans up after itself once its context ends.
		cancel()
		if r := <-result; r.err == nil {
			_ = r.c.Stop()
		}
		fmt.Fprintf(os.Stderr, "cluster: interrupted (%v) while starting the shared test cluster\n", sig)
		return 1
	}
	shared = c
	t := c.Timings()
	fmt.Fprintf(os.Stderr, "cluster: shared test cluster up (API server %s, nodes ready %s); logs in %s\n",
		t.APIServer.Round(time.Millisecond), t.Ready.Round(time.Millisecond), c.LogDir())

	go func() {
		sig, ok := <-signals
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "cluster: %v received, stopping the shared test cluster (logs kept in %s)\n", sig, c.LogDir())
		c.KeepWorkDir()
		_ = c.Stop()
		os.Exit(1)
	}()

	code := m.Run()
	if code != 0 {
		c.KeepWorkDir()
		fmt.Fprintf(os.Stderr, "cluster: tests failed; component logs kept in %s\n", c.LogDir())
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "cluster: stop shared test cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Shared returns the cluster SharedForTest started. The test is skipped under -short and fails
// if TestMain did not call SharedForTest.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	if shared == nil {
		if testing.Short() {
			t.Skip("needs the shared test cluster, which -short does not start")
		}
		t.Fatal("no shared test cluster: call cluster.SharedForTest from TestMain")
	}
	return shared
}

// Namespace creates a namespace in the shared cluster for this test and deletes it when the
// test ends. It returns the namespace's name.
func Namespace(t testing.TB) string {
	t.Helper()
	return Shared(t).NewNamespace(t)
}

// NewNamespace creates a namespace named after the test, with a random suffix, and deletes it
// when the test ends. Deletion is not awaited: in an API-server-only cluster no namespace
// controller runs, so the namespace would stay Terminating forever.
func (c *Cluster) NewNamespace(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: namespacePrefix(t.Name()),
		Labels:       map[string]string{LabelTestNamespace: labelValue(t.Name())},
	}}
	if err := c.client.Create(ctx, ns); err != nil {
		t.Fatalf("create test namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := c.client.Delete(ctx, ns, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete test namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// namespacePrefix turns a test name into a GenerateName prefix: lower case, letters, digits and
// dashes only, short enough to leave room for the random suffix in a 63-character name.
func namespacePrefix(testName string) string {
	return sanitizeDNSLabel(testName, 40) + "-"
}

func sanitizeDNSLabel(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	out = strings.Trim(out, "-")
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "t-" + out
		out = strings.TrimRight(out, "-")
	}
	return out
}

// labelValue fits a test name into a label value (63 characters of letters, digits, '-', '_'
// and '.', starting and ending with a letter or digit).
func labelValue(s string) string {
	b := []byte(s)
	for i, ch := range b {
		ok := (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			ch == '-' || ch == '_' || ch == '.'
		if !ok {
			b[i] = '_'
		}
	}
	out := string(b)
	if len(out) > 63 {
		out = out[:63]
	}
	return strings.Trim(out, "-_.")
}
