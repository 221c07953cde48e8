package job_test

import (
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brcmd"
	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/backup/manager"
	"github.com/tidbops/tidb-operator/pkg/builders"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the builders' output")

// checkGolden compares obj, as YAML, with testdata/<name>.golden.yaml (rewritten with -update).
func checkGolden(t *testing.T, name string, obj any) {
	t.Helper()
	got, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/backup/job/ -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (rerun with -update if the change is intended):\n%s", name, file, got)
	}
}

// The operator-wide settings and the cluster every fixture works on.
var (
	settings = job.Settings{BackupManagerImage: "pingcap/tidb-backup-manager:v1.6.3"}
	target   = job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.0", TiKVImage: "pingcap/tikv:v8.5.0"}
	// tlsTarget is a cluster with TLS between its components and for MySQL clients.
	tlsTarget = job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.0", TiKVImage: "pingcap/tikv:v8.5.0",
		ClusterTLS: true, TiDBClientTLS: true, TiDBSkipClientCA: true}
)

func s3Storage() v1alpha1.StorageProvider {
	return v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{
		Provider: v1alpha1.S3StorageProviderTypeAWS, Region: "us-west-2", Bucket: "backups", Prefix: "basic/demo",
		SecretName: "s3-secret",
	}}
}

func gcsStorage() v1alpha1.StorageProvider {
	return v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{
		ProjectID: "my-project", Location: "us-west1", Bucket: "backups", Prefix: "basic/demo",
		StorageClass: "NEARLINE", ObjectACL: "private", BucketACL: "private", SecretName: "gcs-secret",
	}}
}

func azblobStorage() v1alpha1.StorageProvider {
	return v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{
		Container: "backups", Prefix: "basic/demo", SecretName: "azblob-secret",
	}}
}

func localStorage() v1alpha1.StorageProvider {
	return v1alpha1.StorageProvider{Local: &v1alpha1.LocalStorageProvider{
		Volume: corev1.Volume{Name: "nfs", VolumeSource: corev1.VolumeSource{
			NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports/backups"},
		}},
		VolumeMount: corev1.VolumeMount{Name: "nfs", MountPath: "/nfs"},
		Prefix:      "basic/demo",
	}}
}

// newBackup is the Backup demo of the basic cluster, a snapshot to S3, changed by mutate.
func newBackup(mutate ...func(*v1alpha1.Backup)) *v1alpha1.Backup {
	bk := &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "tidb", Name: "demo", UID: "0b2f3c9e-7d1a-4e55-9a6b-2f8d1c3e4a10",
			// Never copied into the Job.
			Labels:      map[string]string{"team": "dba"},
			Annotations: map[string]string{"note": "nightly"},
		},
		Spec: v1alpha1.BackupSpec{
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			StorageProvider: s3Storage(),
		},
	}
	for _, m := range mutate {
		m(bk)
	}
	return bk
}

// newRestore is the Restore demo into the basic cluster, a snapshot from S3, changed by mutate.
func newRestore(mutate ...func(*v1alpha1.Restore)) *v1alpha1.Restore {
	rs := &v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "tidb", Name: "demo", UID: "6a0c5e1d-2b3f-4c7a-8d9e-1f2a3b4c5d6e",
			Labels: map[string]string{"team": "dba"},
		},
		Spec: v1alpha1.RestoreSpec{
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			StorageProvider: s3Storage(),
		},
	}
	for _, m := range mutate {
		m(rs)
	}
	return rs
}

// newCompact is the CompactBackup demo of the basic cluster's log backup on S3, changed by
// mutate.
func newCompact(mutate ...func(*v1alpha1.CompactBackup)) *v1alpha1.CompactBackup {
	cb := &v1alpha1.CompactBackup{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "tidb", Name: "compact-demo", UID: "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
			Labels: map[string]string{"team": "dba"},
		},
		Spec: v1alpha1.CompactSpec{
			BR:              &v1alpha1.BRConfig{Cluster: "basic"},
			StorageProvider: s3Storage(),
			StartTs:         "449000000000000000",
			EndTs:           "449100000000000000",
			Concurrency:     4,
		},
	}
	for _, m := range mutate {
		m(cb)
	}
	return cb
}

// podFields sets every pod field a spec can carry, to show they reach the Job.
type podFields struct {
	resources   corev1.ResourceRequirements
	env         []corev1.EnvVar
	tolerations []corev1.Toleration
	affinity    *corev1.Affinity
	security    *corev1.PodSecurityContext
	priority    string
	pullSecrets []corev1.LocalObjectReference
	account     string
	volumes     []corev1.Volume
	mounts      []corev1.VolumeMount
}

func allPodFields() podFields {
	return podFields{
		resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")},
		},
		env:         []corev1.EnvVar{{Name: "TZ", Value: "Asia/Shanghai"}},
		tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "backup", Effect: corev1.TaintEffectNoSchedule}},
		affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: "node-role", Operator: corev1.NodeSelectorOpIn, Values: []string{"backup"}}}}},
		}}},
		security:    &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), RunAsNonRoot: ptr.To(true), FSGroup: ptr.To[int64](1000)},
		priority:    "backup-low",
		pullSecrets: []corev1.LocalObjectReference{{Name: "registry"}},
		account:     "backup-sa",
		volumes: []corev1.Volume{{Name: "ca-bundle", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ca-bundle"}}}}},
		mounts: []corev1.VolumeMount{{Name: "ca-bundle", MountPath: "/etc/ssl/custom", ReadOnly: true}},
	}
}

// jobCase is one Job the tests build.
type jobCase struct {
	// golden names testdata/<golden>.golden.yaml; empty for a Job without one.
	golden string
	build  func() (*batchv1.Job, error)
	// opts is what the main container's arguments must parse back to.
	opts job.Options
	// specEnv are the variables the custom resource's spec.env adds.
	specEnv []string
}

// allCases are the Jobs of every builder.
func allCases() map[string]jobCase {
	out := map[string]jobCase{}
	for _, cases := range []map[string]jobCase{backupCases(), restoreCases(), compactCases()} {
		for name, c := range cases {
			out[name] = c
		}
	}
	return out
}

func sortedNames(cases map[string]jobCase) []string {
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mustBuild builds a case's Job.
func mustBuild(t *testing.T, c jobCase) *batchv1.Job {
	t.Helper()
	j, err := c.build()
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestGolden(t *testing.T) {
	cases := allCases()
	for _, name := range sortedNames(cases) {
		c := cases[name]
		if c.golden == "" {
			continue
		}
		t.Run(name, func(t *testing.T) { checkGolden(t, c.golden, mustBuild(t, c)) })
	}
}

// TestArgsParseBack shows the backup-manager reads each Job's arguments as exactly the options
// the operator meant.
func TestArgsParseBack(t *testing.T) {
	cases := allCases()
	for _, name := range sortedNames(cases) {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			j := mustBuild(t, c)
			main := j.Spec.Template.Spec.Containers[0]
			if len(main.Command) != 0 {
				t.Errorf("command = %q, want none: the image's entrypoint runs tidb-backup-manager", main.Command)
			}
			got, err := job.Parse(main.Args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", main.Args, err)
			}
			if !reflect.DeepEqual(got, c.opts) {
				t.Fatalf("Parse(%q)\n got  %+v\n want %+v", main.Args, got, c.opts)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("the backup-manager would refuse %q: %v", main.Args, err)
			}
		})
	}
}

// credentialVars are the variables whose values are secrets.
var credentialVars = map[string]bool{
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"GCS_SERVICE_ACCOUNT_JSON_KEY": true,
	"AZURE_STORAGE_KEY":            true, "AZURE_CLIENT_ID": true, "AZURE_CLIENT_SECRET": true, "AZURE_TENANT_ID": true,
	manager.EnvTiDBPassword: true,
}

// TestNoCredentialValues shows credentials reach the Pods only as Secret references.
func TestNoCredentialValues(t *testing.T) {
	cases := allCases()
	for _, name := range sortedNames(cases) {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			j := mustBuild(t, c)
			pod := j.Spec.Template.Spec
			for _, ctr := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
				for _, e := range ctr.Env {
					if !credentialVars[e.Name] {
						continue
					}
					if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						t.Errorf("container %s: %s = %+v, want only a secretKeyRef", ctr.Name, e.Name, e)
					}
				}
				if len(ctr.EnvFrom) != 0 {
					t.Errorf("container %s has envFrom %+v: whole Secrets must not be imported", ctr.Name, ctr.EnvFrom)
				}
			}
		})
	}
}

// TestCommonShape checks what every Job has, whichever builder made it.
func TestCommonShape(t *testing.T) {
	cases := allCases()
	for _, name := range sortedNames(cases) {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			j := mustBuild(t, c)
			ref := j.OwnerReferences
			if len(ref) != 1 || ref[0].APIVersion != "pingcap.com/v1alpha1" || !*ref[0].Controller || !*ref[0].BlockOwnerDeletion || ref[0].UID == "" {
				t.Errorf("owner references = %+v, want the custom resource as the one controller", ref)
			}
			if j.Namespace != "tidb" {
				t.Errorf("namespace = %q, want the custom resource's", j.Namespace)
			}
			if !reflect.DeepEqual(j.Labels, j.Spec.Template.Labels) {
				t.Errorf("pod labels %v differ from the Job's %v", j.Spec.Template.Labels, j.Labels)
			}
			if _, ok := j.Labels["team"]; ok || len(j.Annotations) != 0 {
				t.Errorf("the custom resource's metadata was copied: labels %v, annotations %v", j.Labels, j.Annotations)
			}
			pod := j.Spec.Template.Spec
			if pod.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("restartPolicy = %q", pod.RestartPolicy)
			}
			main := pod.Containers[0]
			if len(pod.Containers) != 1 || main.Image != settings.BackupManagerImage || main.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("containers = %+v, want one running %s", pod.Containers, settings.BackupManagerImage)
			}
			if e := main.Env; len(e) == 0 || !hasEnv(e, "BR_LOG_TO_TERM", "1") {
				t.Errorf("env %+v lacks BR_LOG_TO_TERM=1", e)
			}
			if main.Name != job.CommandClean && !hasInit(pod, "br", "cp /br "+brcmd.BRPath+"; echo 'BR copy finished'") {
				t.Errorf("no init container copying br to %s: %+v", brcmd.BRPath, pod.InitContainers)
			}
			for _, init := range pod.InitContainers {
				for _, m := range init.VolumeMounts {
					if !hasMount(main, m.Name, m.MountPath) {
						t.Errorf("init container %s fills %s, which the main container does not mount", init.Name, m.MountPath)
					}
				}
			}
		})
	}
}

func hasEnv(env []corev1.EnvVar, name, value string) bool {
	for _, e := range env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

func hasInit(pod corev1.PodSpec, name, script string) bool {
	for _, c := range pod.InitContainers {
		if c.Name == name && reflect.DeepEqual(c.Command, []string{"/bin/sh", "-c"}) && reflect.DeepEqual(c.Args, []string{script}) {
			return true
		}
	}
	return false
}

func hasMount(c corev1.Container, volume, dir string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == volume && m.MountPath == dir {
			return true
		}
	}
	return false
}

func volumeNamed(pod corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

// TestPathsMatchTheBackupManager pins the paths and names the Jobs use to the ones the
// backup-manager and the TidbCluster builders use; this package cannot import them, so they are
// written twice.
func TestPathsMatchTheBackupManager(t *testing.T) {
	bk := newBackup(func(bk *v1alpha1.Backup) {
		bk.Spec.From = &v1alpha1.TiDBAccessConfig{Host: "basic-tidb", SecretName: "tidb-secret"}
	})
	j, err := job.BackupJob(bk, tlsTarget, settings, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pod := j.Spec.Template.Spec
	main := pod.Containers[0]
	if !hasMount(main, "br-bin", path.Dir(brcmd.BRPath)) {
		t.Errorf("br-bin is not mounted at %s, where the backup-manager runs br", path.Dir(brcmd.BRPath))
	}
	if !hasMount(main, "cluster-client-tls", brcmd.ClusterTLSDir) {
		t.Errorf("the cluster client certificate is not mounted at brcmd.ClusterTLSDir %s", brcmd.ClusterTLSDir)
	}
	if !hasMount(main, "tidb-client-tls", manager.TiDBClientTLSDir) {
		t.Errorf("the TiDB client certificate is not mounted at manager.TiDBClientTLSDir %s", manager.TiDBClientTLSDir)
	}
	if v := volumeNamed(pod, "cluster-client-tls"); v == nil || v.Secret.SecretName != builders.ClusterClientTLSSecretName("basic") {
		t.Errorf("cluster client TLS volume = %+v, want Secret %s", v, builders.ClusterClientTLSSecretName("basic"))
	}
	if v := volumeNamed(pod, "tidb-client-tls"); v == nil || v.Secret.SecretName != builders.TiDBClientTLSSecretName("basic") {
		t.Errorf("TiDB client TLS volume = %+v, want Secret %s", v, builders.TiDBClientTLSSecretName("basic"))
	}
	found := false
	for _, e := range main.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == "tidb-secret" {
			found = e.Name == manager.EnvTiDBPassword && e.ValueFrom.SecretKeyRef.Key == "password"
		}
	}
	if !found {
		t.Errorf("the password is not in %s from key password: %+v", manager.EnvTiDBPassword, main.Env)
	}

	cj, err := job.CompactJob(newCompact(), target, settings)
	if err != nil {
		t.Fatal(err)
	}
	cpod := cj.Spec.Template.Spec
	if !hasMount(cpod.Containers[0], "tikv-ctl-bin", path.Dir(brcmd.TiKVCtlPath)) ||
		!hasInit(cpod, "tikv-ctl", "cp /tikv-ctl "+brcmd.TiKVCtlPath+"; echo 'tikv-ctl copy finished'") {
		t.Errorf("tikv-ctl is not copied to %s: %+v", brcmd.TiKVCtlPath, cpod)
	}
}

func TestTargetOf(t *testing.T) {
	tc := func(mutate func(*v1alpha1.TidbCluster)) *v1alpha1.TidbCluster {
		c := &v1alpha1.TidbCluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: "tidb", Name: "basic"},
			Spec: v1alpha1.TidbClusterSpec{
				Version: "v8.5.0",
				TiKV:    &v1alpha1.TiKVSpec{BaseImage: "pingcap/tikv"},
				TiDB:    &v1alpha1.TiDBSpec{BaseImage: "pingcap/tidb"},
			},
		}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	cases := map[string]struct {
		tc   *v1alpha1.TidbCluster
		want job.Target
	}{
		"the cluster's version": {tc(nil),
			job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.0", TiKVImage: "pingcap/tikv:v8.5.0"}},
		"spec.tikv.version wins": {tc(func(c *v1alpha1.TidbCluster) { c.Spec.TiKV.Version = ptr.To("v8.5.1") }),
			job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.1", TiKVImage: "pingcap/tikv:v8.5.1"}},
		"a private registry with a port": {tc(func(c *v1alpha1.TidbCluster) { c.Spec.TiKV.BaseImage = "registry:5000/pingcap/tikv" }),
			job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.0", TiKVImage: "registry:5000/pingcap/tikv:v8.5.0"}},
		"no version": {tc(func(c *v1alpha1.TidbCluster) { c.Spec.Version = "" }),
			job.Target{Name: "basic", Namespace: "tidb", TiKVImage: "pingcap/tikv"}},
		"TLS everywhere, the internal clients skipping the CA": {tc(func(c *v1alpha1.TidbCluster) {
			c.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
			c.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true, SkipInternalClientCA: true}
		}), job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.0", TiKVImage: "pingcap/tikv:v8.5.0",
			ClusterTLS: true, TiDBClientTLS: true, TiDBSkipClientCA: true}},
		"client TLS that the cluster tells the operator to skip": {tc(func(c *v1alpha1.TidbCluster) {
			c.Annotations = map[string]string{label.SkipTLSWhenConnectTiDBAnnKey: "true"}
			c.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true, SkipInternalClientCA: true}
		}), job.Target{Name: "basic", Namespace: "tidb", TiKVVersion: "v8.5.0", TiKVImage: "pingcap/tikv:v8.5.0"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := job.TargetOf(c.tc); got != c.want {
				t.Fatalf("TargetOf = %+v\nwant       %+v", got, c.want)
			}
		})
	}
}

// TestBRImage shows which image the br init container copies BR from.
func TestBRImage(t *testing.T) {
	cases := map[string]struct {
		toolImage, version, want string
	}{
		"pingcap/br at the TiKV version":      {"", "v8.5.0", "pingcap/br:v8.5.0"},
		"a tool image without a tag":          {"example.com/br", "v8.5.0", "example.com/br:v8.5.0"},
		"a registry port is not a tag":        {"registry:5000/pingcap/br", "v8.5.0", "registry:5000/pingcap/br:v8.5.0"},
		"a tagged tool image as it is":        {"example.com/br:v8.5.0-hotfix", "v8.5.0", "example.com/br:v8.5.0-hotfix"},
		"a digest as it is":                   {"example.com/br@sha256:0123abcd", "v8.5.0", "example.com/br@sha256:0123abcd"},
		"no version to add to the tool image": {"example.com/br", "", "example.com/br"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tg := target
			tg.TiKVVersion = c.version
			j, err := job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.ToolImage = c.toolImage }), tg, settings, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := j.Spec.Template.Spec.InitContainers[0].Image; got != c.want {
				t.Fatalf("br image = %q, want %q", got, c.want)
			}
		})
	}
}

// TestBuildErrors shows each builder refuses what cannot run, naming the field to fix.
func TestBuildErrors(t *testing.T) {
	noVersion := target
	noVersion.TiKVVersion, noVersion.TiKVImage = "", ""
	cases := map[string]struct {
		build   func() (*batchv1.Job, error)
		is      error    // errors.Is target, if any
		wantErr []string // substrings of the message
	}{
		"a backup without tool image or TiKV version": {
			func() (*batchv1.Job, error) { return job.BackupJob(newBackup(), noVersion, settings, "", nil) },
			job.ErrNoToolImage, []string{"build Job backup-demo for Backup tidb/demo", "spec.toolImage is empty", "TidbCluster tidb/basic"},
		},
		"a restore without tool image or TiKV version": {
			func() (*batchv1.Job, error) { return job.RestoreJob(newRestore(), noVersion, settings, nil) },
			job.ErrNoToolImage, []string{"build Job restore-demo for Restore tidb/demo", "spec.toolImage is empty"},
		},
		"a compaction without tool image or TiKV version": {
			func() (*batchv1.Job, error) {
				return job.CompactJob(newCompact(func(cb *v1alpha1.CompactBackup) { cb.Spec.TikvImage = "pingcap/tikv:v8.5.0" }), noVersion, settings)
			},
			job.ErrNoToolImage, []string{"build Job compact-demo for CompactBackup tidb/compact-demo", "spec.toolImage is empty"},
		},
		"a compaction without TiKV image": {
			func() (*batchv1.Job, error) {
				return job.CompactJob(newCompact(func(cb *v1alpha1.CompactBackup) { cb.Spec.ToolImage = "pingcap/br:v8.5.0" }), noVersion, settings)
			},
			job.ErrNoTiKVImage, []string{"spec.tikvImage is empty"},
		},
		"no backup-manager image": {
			func() (*batchv1.Job, error) { return job.BackupJob(newBackup(), target, job.Settings{}, "", nil) },
			nil, []string{"-tidb-backup-manager-image"},
		},
		"a Dumpling backup": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.BR = nil }), target, settings, "", nil)
			},
			nil, []string{"spec.br is not set"},
		},
		"a Lightning restore": {
			func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) { rs.Spec.BR = nil }), target, settings, nil)
			},
			nil, []string{"spec.br is not set"},
		},
		"GCS without a project": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Spec.StorageProvider = gcsStorage()
					bk.Spec.Gcs.ProjectID = ""
				}), target, settings, "", nil)
			},
			nil, []string{"spec.gcs.projectId is empty"},
		},
		"a TiDB login without its Secret": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) { bk.Spec.From = &v1alpha1.TiDBAccessConfig{Host: "basic-tidb"} }), target, settings, "", nil)
			},
			nil, []string{"spec.from.secretName is empty"},
		},
		"a restore login without its Secret": {
			func() (*batchv1.Job, error) {
				return job.RestoreJob(newRestore(func(rs *v1alpha1.Restore) { rs.Spec.To = &v1alpha1.TiDBAccessConfig{Host: "basic-tidb"} }), target, settings, nil)
			},
			nil, []string{"spec.to.secretName is empty"},
		},
		"options for another Backup": {
			func() (*batchv1.Job, error) {
				o := job.BackupOptionsFor(newBackup(func(bk *v1alpha1.Backup) { bk.Name = "other" }), target, "")
				return job.BackupJob(newBackup(), target, settings, "", o)
			},
			nil, []string{"the options are for Backup tidb/other"},
		},
		"options the backup-manager refuses": {
			func() (*batchv1.Job, error) {
				bk := newBackup(func(bk *v1alpha1.Backup) { bk.Spec.Mode = v1alpha1.BackupModeLog })
				return job.BackupJob(bk, target, settings, "", job.BackupOptionsFor(bk, target, v1alpha1.LogTruncateCommand))
			},
			nil, []string{"--subcommand=log-truncate needs --truncate-until"},
		},
		"an additional volume named like the operator's": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Spec.AdditionalVolumes = []corev1.Volume{{Name: "br-bin"}}
				}), target, settings, "", nil)
			},
			nil, []string{`the operator's br-bin volume and spec.additionalVolumes[0] both define a volume named "br-bin"`},
		},
		"a local mount of another volume": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Spec.StorageProvider = localStorage()
					bk.Spec.Local.VolumeMount.Name = "typo"
				}), target, settings, "", nil)
			},
			nil, []string{`spec.local.volumeMount mounts the volume "typo"`},
		},
		"an additional mount over the BR folder": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Spec.AdditionalVolumes = []corev1.Volume{{Name: "tools"}}
					bk.Spec.AdditionalVolumeMounts = []corev1.VolumeMount{{Name: "tools", MountPath: "/var/lib/br-bin"}}
				}), target, settings, "", nil)
			},
			nil, []string{"the operator's br-bin volume and spec.additionalVolumeMounts[0] both mount at /var/lib/br-bin"},
		},
		"a name Kubernetes refuses": {
			func() (*batchv1.Job, error) {
				return job.BackupJob(newBackup(func(bk *v1alpha1.Backup) {
					bk.Name = strings.Repeat("n", 50)
					bk.Spec.Mode = v1alpha1.BackupModeLog
				}), target, settings, "", nil)
			},
			nil, []string{"is longer than 63 characters", "give the Backup a shorter name"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			j, err := c.build()
			if err == nil {
				t.Fatalf("built %s, want an error", j.Name)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestBuildersDoNotAliasTheSpec shows a Job can be changed without changing the custom resource.
func TestBuildersDoNotAliasTheSpec(t *testing.T) {
	f := allPodFields()
	bk := newBackup(func(bk *v1alpha1.Backup) {
		bk.Spec.Resources, bk.Spec.Env, bk.Spec.Tolerations = f.resources, f.env, f.tolerations
		bk.Spec.AdditionalVolumes, bk.Spec.AdditionalVolumeMounts = f.volumes, f.mounts
	})
	before := bk.DeepCopy()
	j, err := job.BackupJob(bk, target, settings, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pod := &j.Spec.Template.Spec
	pod.Containers[0].Env[len(pod.Containers[0].Env)-1].Value = "changed"
	pod.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("9")
	pod.InitContainers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("9Gi")
	pod.Tolerations[0].Key = "changed"
	pod.Volumes[len(pod.Volumes)-1].Name = "changed"
	j.Spec.Template.Labels["extra"] = "x"
	if !reflect.DeepEqual(bk, before) {
		t.Fatal("changing the Job changed the Backup")
	}
	if _, ok := j.Labels["extra"]; ok {
		t.Fatal("the Job and its pod template share one label map")
	}
	if cpu := pod.InitContainers[0].Resources.Requests.Cpu(); cpu.String() != "1" {
		t.Fatalf("changing the main container's CPU request made the init container's %s: they share their resources", cpu)
	}
	if mem := pod.Containers[0].Resources.Limits.Memory(); mem.String() != "4Gi" {
		t.Fatalf("changing the init container's memory limit made the main container's %s: they share their resources", mem)
	}
}
