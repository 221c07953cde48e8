package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Options says which pods a Runner runs and how.
type Options struct {
	// Image selects the pods to run: those owned by a Job whose first container (the main
	// container; a Job's sidecars come after it) uses this image. An image without a tag or
	// digest matches every tag of that repository. Required.
	Image string

	// BackupManager is the program run in place of the image's entrypoint: the path of a built
	// tidb-backup-manager (or, in the runner's own tests, of a stand-in). Required.
	BackupManager string

	// Env is added to every process's environment, after the container's own variables (an
	// entry here wins over the pod's of the same name). Of the test binary's own environment
	// only PATH is passed on (HOME and TMPDIR are folders of the pod's own, HOSTNAME its name),
	// so anything else a process needs goes here: NAME=value entries pointing the process
	// at what replaces the cluster's infrastructure, such as HTTP_PROXY for the TiDB simulator,
	// BACKUP_MANAGER_BR_PATH and BACKUP_MANAGER_TIKV_CTL_PATH for the br and tikv-ctl doubles
	// (standing in for the init containers that copy the tools), AWS_ENDPOINT_URL_S3,
	// STORAGE_EMULATOR_HOST, AWS_EC2_METADATA_DISABLED=true, or GOCOVERDIR for a binary built
	// with -cover. KUBECONFIG is the runner's and cannot be set here.
	Env []string

	// LogDir receives each run's stdout and stderr, in LogDir/<namespace>/<pod>.log (a restarted
	// container's later runs in <pod>.<restart>.log). Empty means a new temporary folder, which
	// is kept so that the paths in Runs stay readable.
	LogDir string

	// Logger receives one message per run started, refused or ended. Empty means they are
	// dropped. Secret values never reach it.
	Logger logr.Logger

	// Namespace limits the runner to the pods of one namespace; empty means every namespace.
	// Scenarios that run in parallel, each with its own storage servers and so its own Env,
	// each start a runner for their namespace.
	Namespace string
}

// Run is one start, or refused start, of a pod's main container.
type Run struct {
	// Namespace, Pod and UID identify the pod; Job is the Job owning it.
	Namespace string
	Pod       string
	UID       types.UID
	Job       string
	// ServiceAccount is the account whose token the process was given; empty when the pod does
	// not mount one (automountServiceAccountToken: false).
	ServiceAccount string
	// Restart counts the container's earlier runs in the same pod (restartPolicy OnFailure).
	Restart int32
	// Args are the arguments after the program, as the container spec gives them with $(VAR)
	// references expanded.
	Args []string
	// EnvNames are the names of the process's environment variables, in order. Values are left
	// out on purpose: they hold credentials.
	EnvNames []string
	// Started and Finished bound the process; Finished is zero while it runs. Duration is their
	// difference.
	Started  time.Time
	Finished time.Time
	Duration time.Duration
	// ExitCode is the process's exit status, 128 plus the signal when a signal ended it, or -1
	// while it runs and when it never started.
	ExitCode int
	// Stopped says why the runner stopped the process ("pod deleted", "runner stopped"); empty
	// when it ended by itself.
	Stopped string
	// Log is the file holding the process's stdout and stderr.
	Log string
	// Err is why the container was not started: a configuration error as the kubelet reports it
	// (CreateContainerConfigError: a Secret, ConfigMap or key missing), a ServiceAccount without
	// a token, a command the runner cannot run. Nil for runs that started.
	Err error
}

// Running says whether the process is still running.
func (r Run) Running() bool { return r.Err == nil && r.Finished.IsZero() }

// String is one line about the run, for failure messages.
func (r Run) String() string {
	head := fmt.Sprintf("%s/%s (job %s", r.Namespace, r.Pod, r.Job)
	if r.Restart > 0 {
		head += fmt.Sprintf(", restart %d", r.Restart)
	}
	head += ")"
	switch {
	case r.Err != nil:
		return fmt.Sprintf("%s not started: %v", head, r.Err)
	case r.Running():
		return fmt.Sprintf("%s running since %s: %s; log %s", head, r.Started.Format(time.TimeOnly), strings.Join(r.Args, " "), r.Log)
	}
	end := fmt.Sprintf("exit %d", r.ExitCode)
	if r.Stopped != "" {
		end += " (" + r.Stopped + ")"
	}
	return fmt.Sprintf("%s %s after %s: %s; log %s", head, end, r.Duration.Round(time.Millisecond), strings.Join(r.Args, " "), r.Log)
}

// Runner runs the main container of matching Job pods as local processes. Create it with Start
// and always Stop it.
type Runner struct {
	o       Options
	log     logr.Logger
	kube    kubernetes.Interface
	server  server
	workDir string

	ctx     context.Context
	cancel  context.CancelFunc
	factory informers.SharedInformerFactory
	wg      sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	pods    map[types.UID]*podRun
	runs    []*Run

	stopOnce sync.Once
}

// Start watches the pods of all namespaces through cfg (which must be allowed to read pods,
// Secrets, ConfigMaps and ServiceAccounts, request ServiceAccount tokens and write pod status:
// an administrator's configuration) and runs every matching pod once kwok has made it Running.
// ctx bounds the start, that is the first listing of pods; the runner then works until Stop.
func Start(ctx context.Context, cfg *rest.Config, o Options) (_ *Runner, retErr error) {
	if o.Image == "" {
		return nil, errors.New("jobrunner: Options.Image is required")
	}
	st, err := os.Stat(o.BackupManager)
	if err != nil {
		return nil, fmt.Errorf("jobrunner: Options.BackupManager: %w", err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("jobrunner: Options.BackupManager %s is not an executable file", o.BackupManager)
	}
	for i, kv := range o.Env {
		// The entry itself is not quoted: it may hold a credential.
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("jobrunner: Options.Env[%d] is not NAME=value", i)
		}
		if name == "KUBECONFIG" {
			return nil, errors.New("jobrunner: Options.Env must not set KUBECONFIG: the process acts as its pod's ServiceAccount")
		}
	}
	if o.LogDir == "" {
		if o.LogDir, err = os.MkdirTemp("", "jobrunner-logs-"); err != nil {
			return nil, fmt.Errorf("jobrunner: create log folder: %w", err)
		}
	} else if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("jobrunner: create log folder: %w", err)
	}
	srv, err := serverOf(cfg)
	if err != nil {
		return nil, fmt.Errorf("jobrunner: %w", err)
	}
	own := rest.CopyConfig(cfg)
	// Every pod costs a few reads and writes; client-go's default of 5 per second would make
	// the runner the slowest part of a test with many Jobs.
	own.QPS, own.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(own)
	if err != nil {
		return nil, fmt.Errorf("jobrunner: client: %w", err)
	}
	// The folder holds the pods' tokens: only this user may read it.
	workDir, err := os.MkdirTemp("", "jobrunner-")
	if err != nil {
		return nil, fmt.Errorf("jobrunner: create work folder: %w", err)
	}

	r := &Runner{
		o:       o,
		log:     o.Logger,
		kube:    kube,
		server:  srv,
		workDir: workDir,
		pods:    map[types.UID]*podRun{},
	}
	if r.log.GetSink() == nil {
		r.log = logr.Discard()
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	defer func() {
		if retErr != nil {
			r.Stop()
		}
	}()

	r.factory = informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(o.Namespace))
	pods := r.factory.Core().V1().Pods().Informer()
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.observe(obj) },
		UpdateFunc: func(_, obj any) { r.observe(obj) },
		DeleteFunc: r.forget,
	}); err != nil {
		return nil, fmt.Errorf("jobrunner: watch pods: %w", err)
	}
	r.factory.Start(r.ctx.Done())
	synced := make(chan bool, 1)
	go func() { synced <- cache.WaitForCacheSync(r.ctx.Done(), pods.HasSynced) }()
	select {
	case ok := <-synced:
		if !ok {
			return nil, errors.New("jobrunner: stopped before the first listing of pods")
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("jobrunner: first listing of pods: %w", ctx.Err())
	}
	r.log.Info("Running Job pods locally", "image", o.Image, "program", o.BackupManager, "logs", o.LogDir)
	return r, nil
}

// Runs returns every run so far, in the order they started (refused starts included), as
// copies.
func (r *Runner) Runs() []Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Run, 0, len(r.runs))
	for _, run := range r.runs {
		c := *run
		c.Args = append([]string(nil), run.Args...)
		c.EnvNames = append([]string(nil), run.EnvNames...)
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Started.Before(out[j].Started)
	})
	return out
}

// Summary lists the runs one per line, for failure messages.
func (r *Runner) Summary() string {
	runs := r.Runs()
	if len(runs) == 0 {
		return "jobrunner: nothing ran"
	}
	lines := make([]string, 0, len(runs))
	for _, run := range runs {
		lines = append(lines, run.String())
	}
	return strings.Join(lines, "\n")
}

// Stop kills every running process (SIGKILL to its group), reports those pods as failed if the
// API server still answers, stops watching and waits for all of it. The logs stay; the tokens
// and the processes' home folders are removed. Stop may be called more than once.
func (r *Runner) Stop() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		r.cancel()
		if r.factory != nil {
			r.factory.Shutdown()
		}
		r.wg.Wait()
		_ = os.RemoveAll(r.workDir)
	})
}

// observe handles an added or changed pod: it starts the pod's run the first time it finds the
// pod Running, and stops the run once the pod is being deleted.
func (r *Runner) observe(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || !r.wants(pod) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if p := r.pods[pod.UID]; p != nil {
		if pod.DeletionTimestamp != nil {
			p.requestStop(deletionGrace(pod), "pod deleted")
		}
		return
	}
	if !startable(pod) {
		return
	}
	p := newPodRun(r, pod)
	r.pods[pod.UID] = p
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		p.run(r.ctx, pod.DeepCopy())
	}()
}

// forget handles a pod removed from the API server: its process is stopped as for a deletion
// (normally that has happened already, when the deletion was requested).
func (r *Runner) forget(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.pods[pod.UID]; p != nil {
		p.requestStop(deletionGrace(pod), "pod deleted")
	}
}

// wants says whether the pod is one the runner runs: owned by a Job, main container of the
// image.
func (r *Runner) wants(pod *corev1.Pod) bool {
	return jobOf(pod) != "" && len(pod.Spec.Containers) > 0 && imageMatches(r.o.Image, pod.Spec.Containers[0].Image)
}

// startable says whether the pod's container would be running now: kwok has bound it to a node
// and made it Running, and it is not being deleted. Waiting for Running, rather than starting
// once the pod is scheduled, leaves kwok done with the pod (its remaining stages only act on
// Pending pods) before the runner writes anything.
func startable(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" && pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning
}

// jobOf is the name of the Job controlling the pod, or "".
func jobOf(pod *corev1.Pod) string {
	if ref := metav1.GetControllerOf(pod); ref != nil && ref.Kind == "Job" && ref.APIVersion == batchv1.SchemeGroupVersion.String() {
		return ref.Name
	}
	return ""
}

// imageMatches compares a pod's image with Options.Image: equal, or of the same repository when
// want has neither tag nor digest.
func imageMatches(want, got string) bool {
	if want == got {
		return true
	}
	return repository(want) == want && repository(got) == want
}

// repository is an image reference without its tag and digest.
func repository(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		image = image[:i]
	}
	return image
}

// Grace periods as the kubelet applies them: the deletion's, else the pod's, else the default,
// and never less than its minimum.
const (
	defaultGrace = 30 * time.Second
	minimumGrace = 2 * time.Second
)

func deletionGrace(pod *corev1.Pod) time.Duration {
	grace := defaultGrace
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return max(grace, minimumGrace)
}

// record adds a run to the list and returns it; later changes go through update.
func (r *Runner) record(run *Run) *Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, run)
	return run
}

// update changes a recorded run under the lock Runs reads with.
func (r *Runner) update(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}
