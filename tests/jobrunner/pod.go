package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// Timing of a pod's life cycle.
const (
	// retryInterval is how often a container that cannot be created yet (a missing Secret) is
	// tried again. The kubelet retries on every sync of the pod, with a back-off; a short fixed
	// interval keeps tests that create the Secret late quick.
	retryInterval = 2 * time.Second
	// restartBackoff and maxRestartBackoff shape the wait before a failed container of an
	// OnFailure pod runs again: doubling from 1s up to 10s, where the kubelet starts at 10s
	// and goes up to five minutes, which no test should wait for.
	restartBackoff    = time.Second
	maxRestartBackoff = 10 * time.Second
	// statusTimeout bounds one status write, retries on conflicts included.
	statusTimeout = 30 * time.Second
	// stopStatusTimeout bounds the status write after Stop, when the API server may be gone.
	stopStatusTimeout = 5 * time.Second
)

// Container state reasons for a container that cannot be started yet.
const reasonContainerCreating = "ContainerCreating"

// programName is the image's entrypoint; a Job that names it as its command is run as one that
// relies on the entrypoint.
const programName = "tidb-backup-manager"

// startError is a container the runner will never be able to start (the command is not the
// backup-manager), unlike a configuration error, which may go away.
type startError struct{ msg string }

func (e *startError) Error() string { return e.msg }

// stopCause says why execute ended a process.
type stopCause int

const (
	notStopped stopCause = iota
	stoppedByDeletion
	stoppedByRunner
)

// podRun is the kubelet's work for one pod: start the main container's program, restart it if
// the pod says so, stop it when the pod is deleted, report how it ended.
type podRun struct {
	r         *Runner
	namespace string
	name      string
	uid       types.UID
	job       string
	log       logr.Logger

	stopCh chan struct{}
	mu     sync.Mutex
	// grace and why are set once, when stopCh is closed.
	grace time.Duration
	why   string
}

func newPodRun(r *Runner, pod *corev1.Pod) *podRun {
	return &podRun{
		r:         r,
		namespace: pod.Namespace,
		name:      pod.Name,
		uid:       pod.UID,
		job:       jobOf(pod),
		log:       r.log.WithValues("pod", pod.Namespace+"/"+pod.Name),
		stopCh:    make(chan struct{}),
	}
}

// requestStop asks the pod's process to stop within grace; only the first request counts, as
// only the first deletion's grace period does.
func (p *podRun) requestStop(grace time.Duration, why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stopCh:
		return
	default:
	}
	p.grace, p.why = grace, why
	close(p.stopCh)
}

func (p *podRun) stopRequest() (time.Duration, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.grace, p.why
}

// run is the pod's whole life here; it returns when the pod is done, deleted, or the runner
// stops.
func (p *podRun) run(ctx context.Context, pod *corev1.Pod) {
	dir := filepath.Join(p.r.workDir, p.namespace, p.name)
	// The folder holds the token: it goes with the pod, as the kubelet removes its volumes.
	defer func() { _ = os.RemoveAll(dir) }()
	var (
		restarts int32
		previous *ending
		refused  string
	)
	for {
		l, err := p.prepare(ctx, pod, dir)
		if err != nil {
			now := time.Now()
			var se *startError
			if errors.As(err, &se) {
				p.r.record(p.refusal(restarts, now, err))
				p.log.Info("Cannot run the container", "reason", err.Error())
				end := ending{code: exitStartFailed, reason: reasonStartError, message: err.Error(), started: now, finished: now}
				p.writeStatus(ctx, func(pod *corev1.Pod) { setTerminated(pod, end, restarts, now) })
				return
			}
			// Report each new reason once; the kubelet too records an event per failed sync,
			// but the status only changes with the reason.
			if msg := err.Error(); msg != refused {
				refused = msg
				p.r.record(p.refusal(restarts, now, err))
				p.log.Info("Cannot start the container yet; retrying", "reason", msg)
				reason := reasonContainerCreating
				if isConfigError(err) {
					reason = reasonConfigError
				}
				p.writeStatus(ctx, func(pod *corev1.Pod) { setWaiting(pod, reason, msg, now) })
			}
			if !p.sleep(ctx, retryInterval) {
				return
			}
			if pod, err = p.fresh(ctx, pod); err != nil {
				return
			}
			continue
		}
		refused = ""

		end, cause := p.execute(ctx, pod, l, restarts, previous)
		switch {
		case cause == stoppedByRunner:
			// The API server may be on its way down too: try once, briefly, so that a Job
			// of a cluster that stays up does not wait forever for a pod nobody runs.
			wctx, cancel := context.WithTimeout(context.Background(), stopStatusTimeout)
			p.writeStatus(wctx, func(pod *corev1.Pod) { setTerminated(pod, end, restarts, time.Now()) })
			cancel()
			return
		case cause == notStopped && end.code != 0 && pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure:
			restarts++
			previous = &end
			if !p.sleep(ctx, backoff(restarts)) {
				// Deleted while waiting to restart: report the last run, as the kubelet does
				// for a container that is not running when its pod goes.
				if ctx.Err() == nil {
					p.writeStatus(ctx, func(pod *corev1.Pod) { setTerminated(pod, end, restarts-1, time.Now()) })
				}
				return
			}
			if pod, err = p.fresh(ctx, pod); err != nil {
				return
			}
		default:
			// Ended by itself or because the pod is being deleted: the kubelet reports the
			// final state in both cases (kwok may have removed the pod already).
			p.writeStatus(ctx, func(pod *corev1.Pod) { setTerminated(pod, end, restarts, time.Now()) })
			return
		}
	}
}

// refusal is the Run recorded for a start that did not happen.
func (p *podRun) refusal(restarts int32, now time.Time, err error) *Run {
	return &Run{
		Namespace: p.namespace, Pod: p.name, UID: p.uid, Job: p.job,
		Restart: restarts, Started: now, Finished: now, ExitCode: -1, Err: err,
	}
}

func backoff(restarts int32) time.Duration {
	d := restartBackoff
	for i := int32(1); i < restarts && d < maxRestartBackoff; i++ {
		d *= 2
	}
	return min(d, maxRestartBackoff)
}

// sleep waits for d; false means the pod is being deleted or the runner stops.
func (p *podRun) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stopCh:
		return false
	case <-ctx.Done():
		return false
	}
}

// fresh reads the pod again, for the next start; an error means it is gone.
func (p *podRun) fresh(ctx context.Context, old *corev1.Pod) (*corev1.Pod, error) {
	pod, err := p.r.kube.CoreV1().Pods(p.namespace).Get(ctx, p.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, err
	case err != nil:
		// A passing API-server hiccup: go on with what we know.
		return old, nil //nolint:nilerr // the pod as last seen is still the best answer
	case pod.UID != p.uid:
		return nil, fmt.Errorf("pod %s/%s was replaced", p.namespace, p.name)
	}
	return pod, nil
}

// launch is everything one start of the program needs.
type launch struct {
	argv     []string
	args     []string
	env      []string
	envNames []string
	account  string
	token    *podToken
	dir      string
}

// prepare resolves the container as the kubelet would before starting it: command and
// arguments, environment, the ServiceAccount's token. Its errors are startErrors (never
// retried), configErrors, or errors of the API server (both retried).
func (p *podRun) prepare(ctx context.Context, pod *corev1.Pod, dir string) (*launch, error) {
	c := &pod.Spec.Containers[0]
	vars, err := containerEnv(ctx, apiSources{p.r}, pod, c)
	if err != nil {
		return nil, err
	}
	var cenv environ
	for _, v := range vars {
		cenv.set(v.name, v.value)
	}
	args, err := commandArgs(c, cenv.lookup)
	if err != nil {
		return nil, err
	}

	home, tmp := filepath.Join(dir, "home"), filepath.Join(dir, "tmp")
	for _, d := range []string{home, tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create the container's folders: %w", err)
		}
	}
	// What an image and the runtime would provide, then the container's variables, then the
	// test's, then the runner's own.
	var env environ
	env.set("PATH", os.Getenv("PATH"))
	env.set("HOME", home)
	env.set("TMPDIR", tmp)
	env.set("HOSTNAME", pod.Name)
	for _, v := range vars {
		env.set(v.name, v.value)
	}
	for _, kv := range p.r.o.Env {
		name, value, _ := strings.Cut(kv, "=")
		env.set(name, value)
	}

	l := &launch{argv: append([]string{p.r.o.BackupManager}, args...), args: args, dir: home}
	account := serviceAccountOf(pod)
	mount, err := p.mountsToken(ctx, pod, account)
	if err != nil {
		return nil, err
	}
	if mount {
		l.account = account
		l.token = &podToken{kube: p.r.kube, namespace: pod.Namespace, account: account, file: filepath.Join(dir, "token")}
		if err := l.token.refresh(ctx); err != nil {
			return nil, err
		}
		kubeconfig := filepath.Join(dir, "kubeconfig")
		if err := writeKubeconfig(kubeconfig, p.r.server, l.token.file); err != nil {
			return nil, err
		}
		env.set("KUBECONFIG", kubeconfig)
	}
	l.env, l.envNames = env.list()
	return l, nil
}

// commandArgs is the program's arguments: the container's command after the entrypoint and its
// args, with $(VAR) expanded from the container's environment as the kubelet does. A command
// other than the backup-manager cannot be run here.
func commandArgs(c *corev1.Container, lookup func(string) (string, bool)) ([]string, error) {
	var args []string
	if len(c.Command) > 0 {
		if path.Base(c.Command[0]) != programName {
			return nil, &startError{msg: fmt.Sprintf("container %s runs %q, and the jobrunner runs only %s", c.Name, c.Command[0], programName)}
		}
		args = append(args, c.Command[1:]...)
	}
	args = append(args, c.Args...)
	for i := range args {
		args[i] = expand(args[i], lookup)
	}
	return args, nil
}

// serviceAccountOf is the pod's ServiceAccount, "default" when it names none.
func serviceAccountOf(pod *corev1.Pod) string {
	switch {
	case pod.Spec.ServiceAccountName != "":
		return pod.Spec.ServiceAccountName
	case pod.Spec.DeprecatedServiceAccount != "":
		return pod.Spec.DeprecatedServiceAccount
	}
	return "default"
}

// mountsToken says whether the kubelet would give the container a token: the pod's
// automountServiceAccountToken, else the ServiceAccount's, else yes. A missing ServiceAccount
// is retried: the kubelet's token volume fails and the container waits in ContainerCreating.
func (p *podRun) mountsToken(ctx context.Context, pod *corev1.Pod, account string) (bool, error) {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken, nil
	}
	sa, err := p.r.kube.CoreV1().ServiceAccounts(pod.Namespace).Get(ctx, account, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("get ServiceAccount %s/%s: %w", pod.Namespace, account, err)
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken, nil
	}
	return true, nil
}

// execute runs the program once and reports how it ended.
func (p *podRun) execute(ctx context.Context, pod *corev1.Pod, l *launch, restarts int32, previous *ending) (ending, stopCause) {
	logPath := p.logPath(restarts)
	started := time.Now()
	run := p.r.record(&Run{
		Namespace: p.namespace, Pod: p.name, UID: p.uid, Job: p.job, ServiceAccount: l.account,
		Restart: restarts, Args: l.args, EnvNames: l.envNames, Started: started, ExitCode: -1, Log: logPath,
	})
	proc, err := startProcess(l.argv, l.env, l.dir, logPath)
	if err != nil {
		p.r.update(func() { run.Err, run.Finished = err, started })
		p.log.Error(err, "Cannot start the program")
		return ending{code: exitStartFailed, reason: reasonStartError, message: err.Error(), started: started, finished: started}, notStopped
	}
	p.log.Info("Started", "restart", restarts, "args", l.args, "serviceAccount", l.account, "log", logPath)
	if previous != nil {
		p.writeStatus(ctx, func(pod *corev1.Pod) { setRestarted(pod, *previous, restarts, started) })
	}

	var renew <-chan time.Time
	if l.token != nil {
		t := time.NewTimer(time.Until(l.token.renewAt(started)))
		defer t.Stop()
		renew = t.C
	}
	var (
		cause  = notStopped
		kill   <-chan time.Time
		stopCh = p.stopCh
		done   = ctx.Done()
	)
	for running := true; running; {
		select {
		case <-proc.done:
			running = false
		case <-renew:
			// Replaced as the kubelet rotates a projected token; a failure leaves the old
			// token in place until it expires, and is tried again in a minute.
			next := time.Minute
			if err := l.token.refresh(ctx); err != nil {
				p.log.Error(err, "Cannot renew the token")
			} else {
				next = time.Until(l.token.renewAt(time.Now()))
			}
			renew = time.After(next)
		case <-stopCh:
			stopCh = nil
			grace, why := p.stopRequest()
			cause = stoppedByDeletion
			p.r.update(func() { run.Stopped = why })
			p.log.Info("Stopping", "why", why, "grace", grace)
			proc.signalGroup(syscall.SIGTERM)
			kill = time.After(grace)
		case <-kill:
			kill = nil
			proc.signalGroup(syscall.SIGKILL)
		case <-done:
			done = nil
			cause = stoppedByRunner
			p.r.update(func() { run.Stopped = "runner stopped" })
			proc.signalGroup(syscall.SIGKILL)
		}
	}
	// Whatever the program left running goes with it, as a container's processes go when its
	// main process ends.
	proc.signalGroup(syscall.SIGKILL)

	finished := time.Now()
	code := proc.exitCode()
	end := ending{code: code, reason: reasonCompleted, started: started, finished: finished}
	if code != 0 {
		end.reason = reasonError
		if pod.Spec.Containers[0].TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
			end.message = logTail(logPath, logMessageLines, logMessageBytes)
		}
	}
	p.r.update(func() {
		run.Finished, run.Duration, run.ExitCode = finished, finished.Sub(started), int(code)
	})
	p.log.Info("Ended", "exitCode", code, "took", finished.Sub(started).Round(time.Millisecond), "log", logPath)
	return end, cause
}

// logPath is where a run's output goes: LogDir/<namespace>/<pod>.log, or <pod>.<restart>.log
// for a restarted container.
func (p *podRun) logPath(restarts int32) string {
	name := p.name + ".log"
	if restarts > 0 {
		name = p.name + "." + strconv.Itoa(int(restarts)) + ".log"
	}
	return filepath.Join(p.r.o.LogDir, p.namespace, name)
}

// errPodGone ends a status write for a pod that no longer exists (or is another pod by now).
var errPodGone = errors.New("pod gone")

// writeStatus changes the pod's status through the status subresource, as the kubelet does,
// from a fresh copy and again on conflicts (kwok writes status too). A finished pod is never
// changed again, and a pod that is gone is not an error: kwok removes deleted pods at once.
func (p *podRun) writeStatus(ctx context.Context, change func(*corev1.Pod)) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	pods := p.r.kube.CoreV1().Pods(p.namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(ctx, p.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && pod.UID != p.uid) {
			return errPodGone
		}
		if err != nil {
			return err
		}
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			return nil
		}
		change(pod)
		_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		if apierrors.IsNotFound(err) {
			return errPodGone
		}
		return err
	})
	if err != nil && !errors.Is(err, errPodGone) {
		p.log.Error(err, "Cannot write the pod's status")
	}
}

// apiSources reads the Secrets and ConfigMaps of containerEnv straight from the API server:
// every start needs the current values, and a Secret created late must be seen.
type apiSources struct{ r *Runner }

func (s apiSources) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return s.r.kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (s apiSources) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return s.r.kube.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}
