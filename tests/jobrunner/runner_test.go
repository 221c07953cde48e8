package jobrunner

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/tests/cluster"
)

// Bounds of the waits. kwok takes up to six seconds per stage of a pod's start (created, init
// containers running and done, ready), and the tests run in parallel on a small machine.
const (
	runTimeout = 90 * time.Second
	jobTimeout = 90 * time.Second
	poll       = 250 * time.Millisecond
)

// testEnv is one test's namespace and runner.
type testEnv struct {
	t     *testing.T
	ns    string
	c     client.Client
	r     *Runner
	image string
}

// newTestEnv creates a namespace and a runner for it. Each test's Jobs use an image of their
// own (tagged with the namespace), so that the runners of parallel tests, which all watch every
// namespace, never run each other's pods.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	cl := cluster.Shared(t)
	ns := cl.NewNamespace(t)
	e := &testEnv{t: t, ns: ns, c: cl.Client(), image: "example.com/jobrunner-helper:" + ns}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := Start(ctx, cl.Config(), Options{
		Image:         e.image,
		BackupManager: helperBinary(t),
		Env:           []string{"JOBRUNNER_TEST_EXTRA=from-options"},
		LogDir:        filepath.Join(cl.LogDir(), "jobs"),
		Logger:        testr.NewWithOptions(t, testr.Options{LogTimestamp: true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runs:\n%s", r.Summary())
			for _, run := range r.Runs() {
				if run.Log != "" {
					out, _ := os.ReadFile(run.Log)
					t.Logf("log of %s:\n%s", run.Pod, out)
				}
			}
		}
		r.Stop()
	})
	return e
}

func (e *testEnv) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (e *testEnv) create(objs ...client.Object) {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	for _, o := range objs {
		o.SetNamespace(e.ns)
		if err := e.c.Create(ctx, o); err != nil {
			e.t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// serviceAccount creates a ServiceAccount; with configMap set it may get exactly that ConfigMap
// and nothing else.
func (e *testEnv) serviceAccount(name, configMap string) {
	e.t.Helper()
	e.create(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if configMap == "" {
		return
	}
	e.create(
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}, ResourceNames: []string{configMap},
			}},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: e.ns}},
		},
	)
}

// job is a Job running the helper once (backoffLimit 0, restartPolicy Never) as account.
func (e *testEnv) job(name, account string, args []string, env ...corev1.EnvVar) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To(int32(0)),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy:      corev1.RestartPolicyNever,
				ServiceAccountName: account,
				Containers: []corev1.Container{{
					Name:  "backup",
					Image: e.image,
					Args:  args,
					Env:   append([]corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: field("metadata.namespace")}}, env...),
				}},
			}},
		},
	}
}

// waitJob waits for the Job's condition typ to be True, failing on the other final condition.
func (e *testEnv) waitJob(name string, typ batchv1.JobConditionType) *batchv1.Job {
	e.t.Helper()
	job := &batchv1.Job{}
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), poll, jobTimeout, true, func(ctx context.Context) (bool, error) {
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, job); err != nil {
			last = err.Error()
			return false, nil //nolint:nilerr // not created yet: poll again
		}
		last = fmt.Sprintf("status %+v", job.Status)
		for _, c := range job.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			if c.Type == typ {
				return true, nil
			}
			if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Type != typ {
				return false, fmt.Errorf("Job %s is %s (%s: %s), want %s", name, c.Type, c.Reason, c.Message, typ)
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("Job %s %s: %v; last seen: %s", name, typ, err, last)
	}
	return job
}

// pod returns the one pod of the Job.
func (e *testEnv) pod(ctx context.Context, jobName string) (*corev1.Pod, error) {
	var pods corev1.PodList
	if err := e.c.List(ctx, &pods, client.InNamespace(e.ns), client.MatchingLabels{batchv1.JobNameLabel: jobName}); err != nil {
		return nil, err
	}
	if len(pods.Items) != 1 {
		return nil, fmt.Errorf("Job %s has %d pods", jobName, len(pods.Items))
	}
	return &pods.Items[0], nil
}

func (e *testEnv) mustPod(jobName string) *corev1.Pod {
	e.t.Helper()
	ctx, cancel := e.ctx()
	defer cancel()
	pod, err := e.pod(ctx, jobName)
	if err != nil {
		e.t.Fatal(err)
	}
	return pod
}

// runsOf returns the runs of the Job's pods.
func (e *testEnv) runsOf(jobName string) []Run {
	var out []Run
	for _, run := range e.r.Runs() {
		if run.Namespace == e.ns && run.Job == jobName {
			out = append(out, run)
		}
	}
	return out
}

// waitRun waits until a run of the Job satisfies ok.
func (e *testEnv) waitRun(jobName string, what string, ok func(Run) bool) Run {
	e.t.Helper()
	var found Run
	err := wait.PollUntilContextTimeout(context.Background(), poll, runTimeout, true, func(context.Context) (bool, error) {
		for _, run := range e.runsOf(jobName) {
			if ok(run) {
				found = run
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("Job %s: no run %s: %v\nruns:\n%s", jobName, what, err, e.r.Summary())
	}
	return found
}

// report is what tests/cmd/jobhelper prints (its Report type; a main package cannot be
// imported).
type report struct {
	Args       []string          `json:"args"`
	Subcommand string            `json:"subcommand"`
	User       string            `json:"user"`
	ConfigMap  string            `json:"configMap"`
	Env        map[string]string `json:"env"`
	ChildPID   int               `json:"childPid"`
	Error      string            `json:"error"`
}

// readReport waits for the helper's report line in the run's log.
func (e *testEnv) readReport(run Run) report {
	e.t.Helper()
	var rep report
	err := wait.PollUntilContextTimeout(context.Background(), poll, runTimeout, true, func(context.Context) (bool, error) {
		f, err := os.Open(run.Log)
		if err != nil {
			return false, nil
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "{") {
				return true, json.Unmarshal(sc.Bytes(), &rep)
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("report of %s: %v", run.Pod, err)
	}
	if rep.Error != "" {
		e.t.Fatalf("the helper in %s failed: %s", run.Pod, rep.Error)
	}
	return rep
}

func digest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func mainStatus(pod *corev1.Pod) corev1.ContainerStatus {
	for _, st := range pod.Status.ContainerStatuses {
		if st.Name == pod.Spec.Containers[0].Name {
			return st
		}
	}
	return corev1.ContainerStatus{}
}

// A Job whose program exits 0 completes: the runner started it with the container's arguments
// and environment (Secret and ConfigMap keys, field references, $(VAR) references), as the
// pod's ServiceAccount with its RBAC permissions, kept the pod Running while it ran (kwok's own
// completion is off), and reported the exit as a kubelet does.
func TestJobCompletesWhenItsProgramExitsZero(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.serviceAccount("reader", "allowed")
	e.create(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "allowed"}, Data: map[string]string{"region": "us-west-2"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, Data: map[string][]byte{"password": []byte(secretValue)}},
	)
	// Longer than kwok's pod-complete would take (one to six seconds after Ready), to show that
	// it does not.
	const runFor = 8 * time.Second
	args := []string{
		"--exit=0", "--sleep=" + runFor.String(), "--configmap=allowed",
		"--report-env=PASSWORD,REGION,OPTIONAL,POD_NAMESPACE,COMPOSED,JOBRUNNER_TEST_EXTRA",
	}
	job := e.job("ok", "reader", args,
		corev1.EnvVar{Name: "PASSWORD", ValueFrom: secretKey("creds", "password", false)},
		corev1.EnvVar{Name: "REGION", ValueFrom: configMapKey("allowed", "region", false)},
		corev1.EnvVar{Name: "OPTIONAL", ValueFrom: secretKey("absent", "password", true)},
		corev1.EnvVar{Name: "POD_NAME", ValueFrom: field("metadata.name")},
		corev1.EnvVar{Name: "COMPOSED", Value: "$(POD_NAME)@$(POD_NAMESPACE)"},
	)
	// As the operator's Jobs: the image's entrypoint named as the command, and an init
	// container (copying br) that kwok alone takes care of.
	job.Spec.Template.Spec.Containers[0].Command = []string{"/tidb-backup-manager"}
	job.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "br", Image: "pingcap/br:v8.5.0", Command: []string{"cp", "/br", "/var/lib/br/br"}}}
	e.create(job)

	run := e.waitRun("ok", "started", func(r Run) bool { return r.Err == nil })
	// While the program runs, the pod stays Running and Ready.
	for time.Since(run.Started) < runFor-time.Second {
		pod := e.mustPod("ok")
		if pod.Status.Phase != corev1.PodRunning {
			t.Fatalf("pod %s is %s %.1fs into the run; kwok or someone finished it: %+v", pod.Name, pod.Status.Phase, time.Since(run.Started).Seconds(), pod.Status)
		}
		time.Sleep(poll)
	}
	e.waitJob("ok", batchv1.JobComplete)

	pod := e.mustPod("ok")
	if pod.Status.Phase != corev1.PodSucceeded {
		t.Errorf("pod phase %s, want Succeeded", pod.Status.Phase)
	}
	st := mainStatus(pod)
	term := st.State.Terminated
	if term == nil || term.ExitCode != 0 || term.Reason != reasonCompleted {
		t.Fatalf("main container state %+v, want terminated with exit 0, Completed", st.State)
	}
	// The runner's times, not kwok's (kwok writes one instant for both).
	if took := term.FinishedAt.Sub(term.StartedAt.Time); took < runFor-time.Second {
		t.Errorf("terminated state spans %s, want about %s", took, runFor)
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionFalse {
			t.Errorf("Ready is %s after the end", c.Status)
		}
	}

	runs := e.runsOf("ok")
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1:\n%s", len(runs), e.r.Summary())
	}
	run = runs[0]
	if run.ExitCode != 0 || run.Running() || run.Pod != pod.Name || run.ServiceAccount != "reader" || run.Duration < runFor-time.Second {
		t.Errorf("run %s", run)
	}
	if strings.Join(run.Args, " ") != strings.Join(args, " ") {
		t.Errorf("run args %q, want %q (the command dropped)", run.Args, args)
	}
	for _, name := range []string{"PASSWORD", "REGION", "KUBECONFIG", "HOME", "JOBRUNNER_TEST_EXTRA"} {
		if !strings.Contains(" "+strings.Join(run.EnvNames, " ")+" ", " "+name+" ") {
			t.Errorf("environment %v lacks %s", run.EnvNames, name)
		}
	}
	if strings.Contains(fmt.Sprintf("%+v", run), secretValue) || strings.Contains(e.r.Summary(), secretValue) {
		t.Error("the run's record holds the secret value")
	}

	rep := e.readReport(run)
	if want := "system:serviceaccount:" + e.ns + ":reader"; rep.User != want {
		t.Errorf("the program acted as %q, want %q", rep.User, want)
	}
	if rep.ConfigMap != "ok" {
		t.Errorf("reading the ConfigMap the Role allows: %s", rep.ConfigMap)
	}
	want := map[string]string{
		"PASSWORD":             digest(secretValue),
		"REGION":               digest("us-west-2"),
		"OPTIONAL":             "",
		"POD_NAMESPACE":        digest(e.ns),
		"COMPOSED":             digest(pod.Name + "@" + e.ns),
		"JOBRUNNER_TEST_EXTRA": digest("from-options"),
	}
	for k, v := range want {
		if rep.Env[k] != v {
			t.Errorf("env %s: got %q, want %q", k, rep.Env[k], v)
		}
	}
}

// A Job whose program exits non-zero fails (backoffLimit 0), with the exit code and, for
// FallbackToLogsOnError, the end of the log in the pod's status; a ServiceAccount without a
// Role is refused by the API server.
func TestJobFailsWhenItsProgramExitsNonZero(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.serviceAccount("nobody", "")
	e.create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "allowed"}})
	job := e.job("fail", "nobody", []string{"backup", "--exit=3", "--configmap=allowed"})
	job.Spec.Template.Spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	e.create(job)

	e.waitJob("fail", batchv1.JobFailed)
	pod := e.mustPod("fail")
	if pod.Status.Phase != corev1.PodFailed {
		t.Errorf("pod phase %s, want Failed", pod.Status.Phase)
	}
	term := mainStatus(pod).State.Terminated
	if term == nil || term.ExitCode != 3 || term.Reason != reasonError {
		t.Fatalf("main container state %+v, want terminated with exit 3, Error", mainStatus(pod).State)
	}
	if !strings.Contains(term.Message, `"configMap":"forbidden"`) {
		t.Errorf("termination message %q does not end the log", term.Message)
	}
	runs := e.runsOf("fail")
	if len(runs) != 1 || runs[0].ExitCode != 3 {
		t.Fatalf("runs:\n%s", e.r.Summary())
	}
	rep := e.readReport(runs[0])
	if want := "system:serviceaccount:" + e.ns + ":nobody"; rep.User != want {
		t.Errorf("the program acted as %q, want %q", rep.User, want)
	}
	if rep.ConfigMap != "forbidden" {
		t.Errorf("reading a ConfigMap without a Role: %s, want forbidden", rep.ConfigMap)
	}
	if rep.Subcommand != "backup" {
		t.Errorf("subcommand %q, want backup", rep.Subcommand)
	}
}

// A required Secret key that is missing keeps the container from starting, as
// CreateContainerConfigError, until the key appears; then it runs.
func TestMissingSecretKeyHoldsTheContainerUntilItAppears(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.serviceAccount("runner", "")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, Data: map[string][]byte{"user": []byte("root")}}
	e.create(secret)
	e.create(e.job("late", "runner", []string{"--report-env=PASSWORD"},
		corev1.EnvVar{Name: "PASSWORD", ValueFrom: secretKey("creds", "password", false)}))

	wantMsg := "couldn't find key password in Secret " + e.ns + "/creds"
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), poll, runTimeout, true, func(ctx context.Context) (bool, error) {
		var err error
		if pod, err = e.pod(ctx, "late"); err != nil {
			return false, nil //nolint:nilerr // not created yet: poll again
		}
		reason, msg := waitingReason(pod)
		return reason == reasonConfigError && msg == wantMsg, nil
	})
	if err != nil {
		t.Fatalf("the container is not waiting with %s %q: %v; status %+v", reasonConfigError, wantMsg, err, pod.Status)
	}
	// Held, not run, and kwok leaves it so.
	time.Sleep(3 * time.Second)
	pod = e.mustPod("late")
	if reason, _ := waitingReason(pod); reason != reasonConfigError || pod.Status.Phase != corev1.PodRunning {
		t.Errorf("pod %s with %q, want still Running with the container waiting: %+v", pod.Status.Phase, reason, pod.Status)
	}
	for _, run := range e.runsOf("late") {
		if run.Err == nil {
			t.Fatalf("the container ran although its Secret key is missing: %s", run)
		}
		if !isConfigError(run.Err) {
			t.Errorf("refusal %v is not a configuration error", run.Err)
		}
	}

	ctx, cancel := e.ctx()
	defer cancel()
	secret.Data["password"] = []byte(secretValue)
	if err := e.c.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	e.waitJob("late", batchv1.JobComplete)
	run := e.waitRun("late", "that ended", func(r Run) bool { return r.Err == nil && !r.Running() })
	if rep := e.readReport(run); rep.Env["PASSWORD"] != digest(secretValue) {
		t.Errorf("PASSWORD arrived as %q", rep.Env["PASSWORD"])
	}
}

// Deleting the pod stops its process group: SIGTERM, then SIGKILL once the grace period is
// over, for the program and what it started.
func TestDeletingThePodStopsItsProcessGroup(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.serviceAccount("runner", "")
	const grace = 3
	job := e.job("stuck", "runner", []string{"--sleep=5m", "--child", "--ignore-sigterm"})
	job.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To(int64(grace))
	e.create(job)

	run := e.waitRun("stuck", "started", func(r Run) bool { return r.Err == nil })
	rep := e.readReport(run)
	if rep.ChildPID == 0 {
		t.Fatal("the helper started no child")
	}
	ctx, cancel := e.ctx()
	defer cancel()
	pod := e.mustPod("stuck")
	deleted := time.Now()
	if err := e.c.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	run = e.waitRun("stuck", "that ended", func(r Run) bool { return r.UID == pod.UID && !r.Running() })
	took := run.Finished.Sub(deleted)
	if run.ExitCode != 128+int(syscall.SIGKILL) || run.Stopped != "pod deleted" {
		t.Errorf("run %s, want exit %d, stopped because the pod was deleted", run, 128+int(syscall.SIGKILL))
	}
	if took < grace*time.Second-500*time.Millisecond || took > grace*time.Second+10*time.Second {
		t.Errorf("stopped %s after the deletion, want about the %ds grace period", took, grace)
	}
	out, err := os.ReadFile(run.Log)
	if err != nil || !strings.Contains(string(out), "SIGTERM received") {
		t.Errorf("the program did not get SIGTERM first (%v):\n%s", err, out)
	}
	if err := wait.PollUntilContextTimeout(context.Background(), poll, 10*time.Second, true, func(context.Context) (bool, error) {
		return !alive(rep.ChildPID), nil
	}); err != nil {
		t.Errorf("the program's child %d outlived it", rep.ChildPID)
	}
}

// alive says whether a process exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// An OnFailure pod's failed container runs again in the same pod; the Job completes when the
// second run succeeds, and the status counts the restart.
func TestOnFailurePodRestartsItsContainer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.serviceAccount("runner", "")
	marker := filepath.Join(t.TempDir(), "failed-once")
	job := e.job("flaky", "runner", []string{"--fail-once=" + marker})
	job.Spec.BackoffLimit = ptr.To(int32(2))
	job.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	e.create(job)

	e.waitJob("flaky", batchv1.JobComplete)
	runs := e.runsOf("flaky")
	if len(runs) != 2 || runs[0].ExitCode != 1 || runs[1].ExitCode != 0 || runs[0].UID != runs[1].UID || runs[1].Restart != 1 {
		t.Fatalf("runs, want exit 1 then exit 0 in the same pod:\n%s", e.r.Summary())
	}
	if runs[0].Log == runs[1].Log {
		t.Errorf("both runs logged to %s", runs[0].Log)
	}
	st := mainStatus(e.mustPod("flaky"))
	if st.RestartCount != 1 || st.LastTerminationState.Terminated == nil || st.LastTerminationState.Terminated.ExitCode != 1 {
		t.Errorf("container status %+v, want one restart after exit 1", st)
	}
	if st.State.Terminated == nil || st.State.Terminated.ExitCode != 0 {
		t.Errorf("container state %+v, want terminated with exit 0", st.State)
	}
}
