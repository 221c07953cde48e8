package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
	"github.com/tidbops/tidb-operator/pkg/backup/brrun"
	"github.com/tidbops/tidb-operator/pkg/backup/cli"
	"github.com/tidbops/tidb-operator/pkg/backup/storage"
)

// Environment variables the backup-manager reads besides the storage credentials.
const (
	// EnvBRPath and EnvTiKVCtlPath override where the init containers put the tools; tests
	// point them at the doubles.
	EnvBRPath      = "BACKUP_MANAGER_BR_PATH"
	EnvTiKVCtlPath = "BACKUP_MANAGER_TIKV_CTL_PATH"
	// EnvProgressInterval is how often, at most, progress is written to the custom resource (a
	// Go duration; 2s by default).
	EnvProgressInterval = "BACKUP_MANAGER_PROGRESS_INTERVAL"
	// EnvTiDBTLSDir overrides TiDBClientTLSDir, where the TiDB client certificate (ca.crt,
	// tls.crt, tls.key) is read from: tests point it at generated certificates, and a Job
	// that mounts the Secret elsewhere can name its folder.
	EnvTiDBTLSDir = "BACKUP_MANAGER_TIDB_TLS_DIR"
	// EnvTiDBPassword is v1.6's name for the password of spec.from / spec.to, sourced by the
	// operator from the Secret's "password" key.
	EnvTiDBPassword = "BACKUP_MANAGER_PASSWORD"
	// envGCSKey holds a GCS service account's JSON; v1.6's entrypoint wrote it to a file for BR.
	envGCSKey         = "GCS_SERVICE_ACCOUNT_JSON_KEY"
	envGoogleCredFile = "GOOGLE_APPLICATION_CREDENTIALS"
)

// TiDBClientTLSDir is where the Job mounts the client certificate for TiDB's MySQL port.
const TiDBClientTLSDir = "/var/lib/tidb-client-tls"

const (
	defaultProgressInterval = 2 * time.Second
	// statusWriteTimeout bounds one status write or storage read, so that a hung API server or
	// store fails the Job instead of holding it forever.
	statusWriteTimeout = 30 * time.Second
	// childGrace is how long BR gets between SIGTERM and SIGKILL; stopBudget is what the
	// writes after SIGTERM share (see afterStop). Together they stay under the 30 seconds a
	// pod gets by default.
	childGrace = 10 * time.Second
	stopBudget = 15 * time.Second
)

// Manager runs the subcommands. Its fields are what a test replaces.
type Manager struct {
	Client client.Client
	Log    logr.Logger
	// LookupEnv reads the Job's environment; Environ is the child's starting environment.
	LookupEnv storage.Env
	Environ   func() []string
	// BRPath and TiKVCtlPath are the tools the init containers copied in.
	BRPath      string
	TiKVCtlPath string
	// Out is the pod log the children's output is streamed to.
	Out   io.Writer
	Clock clock.Clock
	// ProgressInterval is the least time between two progress writes.
	ProgressInterval time.Duration
	// Grace is how long a child gets between SIGTERM and SIGKILL.
	Grace time.Duration
	// TempDir holds files made for the children (the GCS key file).
	TempDir string
	// TiDBTLSDir holds the TiDB client certificate; TiDBClientTLSDir when empty.
	TiDBTLSDir string

	// stop is the shared deadline of the writes after SIGTERM. A pointer, because each run
	// works on a copy of the Manager that must share it.
	stop *stopDeadline
}

type stopDeadline struct {
	once     sync.Once
	deadline time.Time
}

var _ cli.Runner = (*Manager)(nil)

// New is the cli.NewRunner of the real binary: a client for the API server named by the
// kubeconfig flag (in-cluster when empty) that reads without a cache, because every read is a
// fresh copy for a status transaction.
func New(env cli.Env) (cli.Runner, error) {
	cfg, err := restConfig(env.Kubeconfig)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register Kubernetes types: %w", err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register pingcap.com types: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("client for the API server: %w", err)
	}
	m := &Manager{
		Client:           c,
		Log:              env.Logger,
		LookupEnv:        os.LookupEnv,
		Environ:          os.Environ,
		BRPath:           brcmd.BRPath,
		TiKVCtlPath:      brcmd.TiKVCtlPath,
		Out:              os.Stdout,
		Clock:            clock.RealClock{},
		ProgressInterval: defaultProgressInterval,
		Grace:            childGrace,
		TempDir:          os.TempDir(),
		stop:             &stopDeadline{},
	}
	if p, ok := os.LookupEnv(EnvBRPath); ok && p != "" {
		m.BRPath = p
	}
	if p, ok := os.LookupEnv(EnvTiKVCtlPath); ok && p != "" {
		m.TiKVCtlPath = p
	}
	if p, ok := os.LookupEnv(EnvTiDBTLSDir); ok && p != "" {
		m.TiDBTLSDir = p
	}
	if v, ok := os.LookupEnv(EnvProgressInterval); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s=%q is not a duration such as 2s", EnvProgressInterval, v)
		}
		m.ProgressInterval = d
	}
	return m, nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := config.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster configuration: %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}

// childEnv is the environment BR and tikv-ctl run with: the Job's, plus what v1.6's image
// entrypoint added (BR logging to the terminal, the GCS key as a file). The returned function
// removes the files it made; the key must not outlive the tool.
func (m *Manager) childEnv() ([]string, func(), error) {
	env := m.Environ()
	if _, ok := m.LookupEnv("BR_LOG_TO_TERM"); !ok {
		env = append(env, "BR_LOG_TO_TERM=1")
	}
	key, hasKey := m.LookupEnv(envGCSKey)
	if _, hasFile := m.LookupEnv(envGoogleCredFile); !hasKey || key == "" || hasFile {
		return env, func() {}, nil
	}
	// CreateTemp makes a new file readable by this user only, never following a planted link.
	f, err := os.CreateTemp(m.TempDir, "google-credentials-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("make a file for the GCS key from %s: %w", envGCSKey, err)
	}
	remove := func() { _ = os.Remove(f.Name()) }
	_, werr := f.WriteString(key)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		remove()
		return nil, nil, fmt.Errorf("write the GCS key from %s to a file for BR: %w", envGCSKey, werr)
	}
	return append(env, envGoogleCredFile+"="+f.Name()), remove, nil
}

// tool is one run of BR or tikv-ctl.
type tool struct {
	path string
	args []string
	// secrets are values that must not reach the pod log or the status should the tool print
	// them (BR echoes storage URLs in its errors); the environment's credentials are added.
	secrets []string
	// quiet keeps stdout out of the pod log (base64ify prints the storage with its
	// credentials); the handler still sees it.
	quiet bool
}

// credentialVars are the environment variables whose values are secrets.
var credentialVars = []string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_CLIENT_SECRET", EnvTiDBPassword,
}

// secretsOf lists the secret values the Job's environment holds, for redaction: the
// credential variables and the private key inside a GCS service account key.
func (m *Manager) secretsOf() []string {
	var out []string
	for _, name := range credentialVars {
		if v, ok := m.LookupEnv(name); ok && v != "" {
			out = append(out, v)
		}
	}
	if v, ok := m.LookupEnv(envGCSKey); ok && v != "" {
		var key struct {
			PrivateKey string `json:"private_key"`
		}
		if json.Unmarshal([]byte(v), &key) == nil && key.PrivateKey != "" {
			out = append(out, key.PrivateKey)
			// A PEM key is printed line by line, if at all.
			for _, line := range strings.Split(key.PrivateKey, "\n") {
				if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
					out = append(out, line)
				}
			}
		}
	}
	return out
}

// runTool runs BR or tikv-ctl, sending each output line (with secrets redacted) to the
// handlers and collecting what a failure message needs. The returned error carries that
// message.
func (m *Manager) runTool(ctx context.Context, t tool, onStdout, onStderr func(string)) error {
	path, args := t.path, t.args
	env, removeFiles, err := m.childEnv()
	if err != nil {
		return err
	}
	defer removeFiles()
	out := &brlog.Output{}
	h := brrun.Handlers{
		Stdout: func(line string) {
			out.Stdout(line)
			if onStdout != nil {
				onStdout(line)
			}
		},
		Stderr: func(line string) {
			out.Stderr(line)
			if onStderr != nil {
				onStderr(line)
			}
		},
	}
	logArgs := brcmd.Redact(args)
	m.Log.Info("running", "tool", filepath.Base(path), "args", logArgs)
	cmd := brrun.Command{
		Path: path, Args: args, Env: env, LogArgs: logArgs,
		Redact:      brlog.SecretRedactor(append(m.secretsOf(), t.secrets...)...),
		QuietStdout: t.quiet,
	}
	err = brrun.Run(ctx, cmd, h, m.Out, m.Grace)
	if err == nil {
		return nil
	}
	if errors.Is(err, brrun.ErrInterrupted) {
		return &interruptedError{tool: filepath.Base(path), err: err}
	}
	if msg := out.Message(); msg != "" {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// runBR runs BR and writes its progress lines through record: the first at once, then at
// most one per ProgressInterval, and the last when BR ends, so `kubectl get -w` moves without a
// write per line.
func (m *Manager) runBR(ctx context.Context, args []string, secrets []string, record func(context.Context, brlog.Progress, metav1.Time) error) error {
	w := startLatest(func(p brlog.Progress) {
		if err := record(ctx, p, metav1.NewTime(m.Clock.Now())); err != nil {
			m.Log.Error(err, "could not record progress", "step", p.Step, "progress", p.Percent)
		}
	})
	th := brlog.NewThrottle(m.ProgressInterval, m.Clock, w.put)
	err := m.runTool(ctx, tool{path: m.BRPath, args: args, secrets: secrets}, func(line string) {
		if p, ok := brlog.ParseProgress(line); ok {
			th.Offer(p)
		}
	}, nil)
	th.Flush()
	w.stop()
	return err
}

// interruptedError is a tool stopped because the Job's pod was told to stop.
type interruptedError struct {
	tool string
	err  error
}

func (e *interruptedError) Error() string {
	return fmt.Sprintf("tidb-backup-manager was stopped (SIGTERM: the Job's pod was deleted or evicted) while %s ran; %s was stopped: %v", e.tool, e.tool, e.err)
}

func (e *interruptedError) Unwrap() error { return e.err }

// reasonFor is the condition reason of a failed step: an interruption (SIGTERM, seen as the
// cancelled context or a stopped tool) is told apart from the step's own failure, since only
// the latter says something about the data, the storage or the cluster.
func reasonFor(ctx context.Context, err error, failed string) string {
	var ie *interruptedError
	if errors.As(err, &ie) || ctx.Err() != nil {
		return reasonInterrupted
	}
	return failed
}

// reasonInterrupted is the reason of a run stopped by SIGTERM.
const reasonInterrupted = "Interrupted"

// afterStop is the context for the writes that must happen even once ctx was cancelled:
// setting the GC life time back, recording the outcome. While ctx is live each gets
// statusWriteTimeout; once it is cancelled they all share one deadline, stopBudget from the
// first of them, so that BR's grace period plus these writes end within a pod's default
// 30-second termination grace period.
func (m *Manager) afterStop(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
	}
	m.stop.once.Do(func() {
		m.stop.deadline = m.Clock.Now().Add(stopBudget)
	})
	return context.WithDeadline(context.WithoutCancel(ctx), m.stop.deadline)
}

// latest keeps the newest value of a stream of reports and writes it from one goroutine, so a
// slow API server never blocks the reader of BR's output (BR would block on a full pipe).
type latest[T any] struct {
	mu      sync.Mutex
	pending *T
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

func startLatest[T any](write func(T)) *latest[T] {
	l := &latest[T]{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for range l.wake {
			l.mu.Lock()
			v := l.pending
			l.pending = nil
			l.mu.Unlock()
			if v != nil {
				write(*v)
			}
		}
	}()
	return l
}

// put replaces the pending value. After stop it drops the value: a report racing with the
// end of the tool has nothing to say that the final status does not.
func (l *latest[T]) put(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.pending = &v
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// stop waits until what was put has been written. The writer drains the last wake-up before
// it exits, so nothing put before stop is lost.
func (l *latest[T]) stop() {
	l.mu.Lock()
	l.closed = true
	close(l.wake)
	l.mu.Unlock()
	<-l.done
}

// statusMessage is an error as a condition message: bounded, since status must stay small and
// the pod log has the rest, and cut on a character boundary.
func statusMessage(err error) string {
	s := strings.TrimSpace(err.Error())
	const limit = 4096
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …"
}
