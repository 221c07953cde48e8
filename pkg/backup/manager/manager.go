package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
	// statusWriteTimeout bounds a status write made after the Job was told to stop, so that
	// the interruption is recorded within the pod's termination grace period.
	statusWriteTimeout = 10 * time.Second
	// childGrace is how long BR gets between SIGTERM and SIGKILL.
	childGrace = 10 * time.Second
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
	}
	if p, ok := os.LookupEnv(EnvBRPath); ok && p != "" {
		m.BRPath = p
	}
	if p, ok := os.LookupEnv(EnvTiKVCtlPath); ok && p != "" {
		m.TiKVCtlPath = p
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
// entrypoint added (BR logging to the terminal, the GCS key as a file).
func (m *Manager) childEnv() ([]string, error) {
	env := m.Environ()
	if _, ok := m.LookupEnv("BR_LOG_TO_TERM"); !ok {
		env = append(env, "BR_LOG_TO_TERM=1")
	}
	key, hasKey := m.LookupEnv(envGCSKey)
	if _, hasFile := m.LookupEnv(envGoogleCredFile); hasKey && key != "" && !hasFile {
		path := filepath.Join(m.TempDir, "google-credentials.json")
		if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
			return nil, fmt.Errorf("write the GCS key from %s to a file for BR: %w", envGCSKey, err)
		}
		env = append(env, envGoogleCredFile+"="+path)
	}
	return env, nil
}

// runTool runs BR or tikv-ctl, sending each output line to the handlers and collecting what a
// failure message needs. The returned error carries that message.
func (m *Manager) runTool(ctx context.Context, path string, args []string, onStdout, onStderr func(string)) error {
	env, err := m.childEnv()
	if err != nil {
		return err
	}
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
	err = brrun.Run(ctx, brrun.Command{Path: path, Args: args, Env: env, LogArgs: logArgs}, h, m.Out, m.Grace)
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
func (m *Manager) runBR(ctx context.Context, args []string, record func(context.Context, brlog.Progress, metav1.Time) error) error {
	w := startLatest(func(p brlog.Progress) {
		if err := record(ctx, p, metav1.NewTime(m.Clock.Now())); err != nil {
			m.Log.Error(err, "could not record progress", "step", p.Step, "progress", p.Percent)
		}
	})
	th := brlog.NewThrottle(m.ProgressInterval, m.Clock, w.put)
	err := m.runTool(ctx, m.BRPath, args, func(line string) {
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

// reasonFor is the condition reason of a failed tool run: an interruption is told apart from
// the tool's own failure, since only the latter says something about the data or the cluster.
func reasonFor(err error, failed string) string {
	var ie *interruptedError
	if errors.As(err, &ie) {
		return "Interrupted"
	}
	return failed
}

// afterStop is the context for writes that must happen even when ctx was cancelled (recording
// an interruption), bounded so the pod still ends within its grace period.
func afterStop(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), statusWriteTimeout)
}

// latest keeps the newest value of a stream of reports and writes it from one goroutine, so a
// slow API server never blocks the reader of BR's output (BR would block on a full pipe).
type latest[T any] struct {
	mu      sync.Mutex
	pending *T
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

func (l *latest[T]) put(v T) {
	l.mu.Lock()
	l.pending = &v
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// stop waits until what was put has been written. The writer drains the last wake-up before
// it exits, so nothing put before stop is lost; put must not be called after it.
func (l *latest[T]) stop() {
	close(l.wake)
	<-l.done
}

// oneLine shortens an error for a condition message: the first lines, bounded, since status
// must stay small and the pod log has the rest.
func oneLine(err error) string {
	s := err.Error()
	const limit = 4096
	if len(s) > limit {
		s = s[:limit] + " …"
	}
	return strings.TrimSpace(s)
}
