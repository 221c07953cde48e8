package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
	"github.com/tidbops/tidb-operator/tests/backupenv"
	"github.com/tidbops/tidb-operator/tests/brdouble"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/jobrunner"
)

// The backup scenarios run every Job pod the operator creates as a real tidb-backup-manager
// process (tests/jobrunner): with the pod's arguments and environment, as the pod's
// ServiceAccount (tidb-backup-manager, from examples/backup-rbac), with the br and tikv-ctl
// doubles in place of the tools the init containers would copy, against a real S3 server.
// The pod's outcome, and so the Job's, is the process's exit code.

const (
	// backupBucket is the S3 bucket of every scenario (each has its own S3 server).
	backupBucket = "e2e-backups"
	// s3Secret holds the S3 server's credentials in the scenario's namespace.
	s3Secret = "s3-secret"
	// backupTimeout bounds one Job's way from creation to an outcome: the pod is scheduled,
	// kwok makes it Running (init containers take up to ~20 s), the process runs.
	backupTimeout = 2 * time.Minute
	// checkpointInterval is the operator's -log-backup-checkpoint-interval here.
	checkpointInterval = 2 * time.Second
)

// backupEnv is a scenario's operator and namespace plus what backups need.
type backupEnv struct {
	*env
	s3     *backupenv.S3Server
	runner *jobrunner.Runner
	// record is the br double's log of every run (tests/brdouble Record lines).
	record string
}

// newBackupEnv starts the operator for a new namespace, an S3 server with the bucket and the
// credentials Secret, the backup-manager's identity from examples/backup-rbac, and a runner
// for the namespace's Job pods.
func newBackupEnv(t *testing.T) *backupEnv {
	t.Helper()
	be := startBackupEnv(t, backupEnvOptions{})
	be.s3.CreateBucket(t, backupBucket)
	be.createSecret(s3Secret, map[string]string{"access_key": be.s3.AccessKey, "secret_key": be.s3.SecretKey})
	return be
}

// backupEnvOptions vary startBackupEnv.
type backupEnvOptions struct {
	// Namespace is the scenario's namespace; empty means a generated one.
	Namespace string
	// S3 configures the S3 server.
	S3 []backupenv.Option
	// Env is added to every Job process's environment, after the defaults.
	Env []string
	// S3ForAWS sends the Job processes' requests for AWS S3 (specs without spec.s3.endpoint,
	// as in the examples) to the S3 server, through the SDK's AWS_ENDPOINT_URL_S3: the
	// server stands in for AWS on the network the pods would see.
	S3ForAWS bool
}

// startBackupEnv is newBackupEnv without the bucket and the Secret.
func startBackupEnv(t *testing.T, o backupEnvOptions) *backupEnv {
	t.Helper()
	e := newEnvIn(t, o.Namespace, func(o *options.Options) { o.LogBackupCheckpointInterval = checkpointInterval })
	be := &backupEnv{env: e}
	be.applyFile("../../examples/backup-rbac/backup-rbac.yaml")
	be.s3 = backupenv.S3(t, o.S3...)
	if o.S3ForAWS {
		o.Env = append(o.Env, "AWS_ENDPOINT_URL_S3="+be.s3.Endpoint)
	}

	cl := cluster.Shared(t)
	br, tikvCtl := brdouble.Build(t)
	be.record = filepath.Join(t.TempDir(), "brdouble.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runner, err := jobrunner.Start(ctx, cl.Config(), jobrunner.Options{
		Image:         repositoryOf(options.DefaultBackupManagerImage),
		BackupManager: cl.Binary(t, "./cmd/tidb-backup-manager"),
		Namespace:     e.ns,
		Env: append([]string{
			// PD's HTTP API and its etcd (through CONNECT) are the simulator's.
			"HTTP_PROXY=" + simulator.URL(), "HTTPS_PROXY=" + simulator.URL(),
			"BACKUP_MANAGER_BR_PATH=" + br, "BACKUP_MANAGER_TIKV_CTL_PATH=" + tikvCtl,
			brdouble.EnvEtcd + "=1", brdouble.EnvRecord + "=" + be.record,
			brdouble.EnvStepDelay + "=50ms",
			// Nothing may reach for a cloud's instance metadata from this machine.
			"AWS_EC2_METADATA_DISABLED=true",
		}, o.Env...),
		LogDir: filepath.Join(cl.LogDir(), "jobs"),
	})
	if err != nil {
		t.Fatal(err)
	}
	be.runner = runner
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Job pods run in %s:\n%s", e.ns, runner.Summary())
		}
		be.releaseBackups()
		runner.Stop()
	})
	return be
}

func repositoryOf(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

// releaseBackups deletes the scenario's Backups and takes their finalizers off, so the
// namespace can go when the test ends without the operator.
func (be *backupEnv) releaseBackups() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list := &v1alpha1.BackupList{}
	if err := be.c.List(ctx, list, client.InNamespace(be.ns)); err != nil {
		return
	}
	for i := range list.Items {
		bk := &list.Items[i]
		_ = be.c.Delete(ctx, bk)
		_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &v1alpha1.Backup{}
			if err := be.c.Get(ctx, client.ObjectKeyFromObject(bk), cur); err != nil {
				return client.IgnoreNotFound(err)
			}
			cur.Finalizers = nil
			return client.IgnoreNotFound(be.c.Update(ctx, cur))
		})
	}
}

// applyFile creates every document of a manifest file in the scenario's namespace, unchanged
// but for the namespace.
func (be *backupEnv) applyFile(path string) {
	be.t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		be.t.Fatal(err)
	}
	ctx, cancel := be.ctx()
	defer cancel()
	for _, doc := range strings.Split(string(raw), "\n---") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			be.t.Fatalf("%s: %v", path, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		obj.SetNamespace(be.ns)
		if err := be.c.Create(ctx, obj); err != nil {
			be.t.Fatalf("%s: create %s %s: %v", path, obj.GetKind(), obj.GetName(), err)
		}
	}
}

func (be *backupEnv) createSecret(name string, data map[string]string) {
	be.t.Helper()
	ctx, cancel := be.ctx()
	defer cancel()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: be.ns, Name: name}, StringData: data}
	if err := be.c.Create(ctx, s); err != nil {
		be.t.Fatalf("create Secret %s: %v", name, err)
	}
}

// createCluster creates a small TidbCluster "basic" and waits until it is Ready.
func (be *backupEnv) createCluster() {
	be.t.Helper()
	be.create(basicCluster(be.t, 1, 1, 1))
	be.waitReady("basic", readyTimeout)
}

// s3Storage is the scenario's S3 server at prefix.
func (be *backupEnv) s3Storage(prefix string) *v1alpha1.S3StorageProvider {
	return &v1alpha1.S3StorageProvider{
		Provider:   v1alpha1.S3StorageProviderTypeAWS,
		Region:     be.s3.Region,
		Endpoint:   be.s3.Endpoint,
		Bucket:     backupBucket,
		Prefix:     prefix,
		SecretName: s3Secret,
	}
}

// snapshotBackup is a full BR backup of "basic" to prefix, changed by mutate.
func (be *backupEnv) snapshotBackup(name, prefix string, mutate ...func(*v1alpha1.Backup)) *v1alpha1.Backup {
	bk := &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{Namespace: be.ns, Name: name},
		Spec: v1alpha1.BackupSpec{
			Type:            v1alpha1.BackupTypeFull,
			StorageProvider: v1alpha1.StorageProvider{S3: be.s3Storage(prefix)},
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			ToolImage:       "pingcap/br:v8.5.0",
		},
	}
	for _, m := range mutate {
		m(bk)
	}
	return bk
}

func (be *backupEnv) createObject(obj client.Object) {
	be.t.Helper()
	ctx, cancel := be.ctx()
	defer cancel()
	obj.SetNamespace(be.ns)
	if err := be.c.Create(ctx, obj); err != nil {
		be.t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

func (be *backupEnv) backup(ctx context.Context, name string) (*v1alpha1.Backup, error) {
	bk := &v1alpha1.Backup{}
	err := be.c.Get(ctx, client.ObjectKey{Namespace: be.ns, Name: name}, bk)
	return bk, err
}

// waitBackup polls the Backup until check passes.
func (be *backupEnv) waitBackup(name, what string, timeout time.Duration, check func(*v1alpha1.Backup) error) *v1alpha1.Backup {
	be.t.Helper()
	var bk *v1alpha1.Backup
	be.eventually("Backup "+name+" "+what, timeout, func(ctx context.Context) error {
		var err error
		if bk, err = be.backup(ctx, name); err != nil {
			return err
		}
		return check(bk)
	})
	return bk
}

// inPhase passes in the given phase and fails at once (through t) in a phase that cannot lead
// there.
func inPhase(want v1alpha1.BackupConditionType) func(*v1alpha1.Backup) error {
	return func(bk *v1alpha1.Backup) error {
		if bk.Status.Phase == want {
			return nil
		}
		return fmt.Errorf("phase %q, conditions %s", bk.Status.Phase, backupConditions(bk))
	}
}

func backupConditions(bk *v1alpha1.Backup) string {
	var parts []string
	for _, c := range bk.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, ", ")
}

// waitGone waits until the object no longer exists.
func (be *backupEnv) waitGone(obj client.Object, timeout time.Duration) {
	be.t.Helper()
	be.eventually(fmt.Sprintf("%T %s deleted", obj, obj.GetName()), timeout, func(ctx context.Context) error {
		err := be.c.Get(ctx, client.ObjectKey{Namespace: be.ns, Name: obj.GetName()}, obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there, finalizers %v", obj.GetFinalizers())
	})
}

// objects lists the keys under prefix in the scenario's bucket.
func (be *backupEnv) objects(ctx context.Context, prefix string) ([]string, error) {
	out, err := be.s3.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(backupBucket), Prefix: aws.String(prefix + "/")})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys, nil
}

// job reads a Job of the scenario.
func (be *backupEnv) job(ctx context.Context, name string) (*batchv1.Job, error) {
	j := &batchv1.Job{}
	err := be.c.Get(ctx, client.ObjectKey{Namespace: be.ns, Name: name}, j)
	return j, err
}

// runsOf lists the runner's finished runs of a Job's pods, in start order.
func (be *backupEnv) runsOf(job string) []jobrunner.Run {
	var out []jobrunner.Run
	for _, r := range be.runner.Runs() {
		if r.Job == job {
			out = append(out, r)
		}
	}
	return out
}

// noOverlap fails when two of the runs were running at the same time.
func noOverlap(runs []jobrunner.Run) error {
	sorted := append([]jobrunner.Run(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Started.Before(sorted[j].Started) })
	for i := 1; i < len(sorted); i++ {
		prev := sorted[i-1]
		if prev.Finished.IsZero() || sorted[i].Started.Before(prev.Finished) {
			return fmt.Errorf("%s (%s) started before %s (%s) ended", sorted[i].Pod, sorted[i].Started.Format(time.RFC3339Nano), prev.Pod, prev.Finished.Format(time.RFC3339Nano))
		}
	}
	return nil
}

// objectEvents lists the events about one object of the scenario.
func (be *backupEnv) objectEvents(ctx context.Context, kind, name string) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := be.c.List(ctx, list, client.InNamespace(be.ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, ev := range list.Items {
		if ev.Regarding.Kind == kind && ev.Regarding.Name == name {
			out = append(out, ev)
		}
	}
	return out, nil
}

// errNotYet marks a poll that should go on.
var errNotYet = errors.New("not yet")

func objKey(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
