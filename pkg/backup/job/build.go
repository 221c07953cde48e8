package job

import (
	"errors"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// This file holds what the backup, restore, clean and compact Jobs share. The builders are pure:
// they read the custom resource, the Target and the Settings, never the API server, so the
// controllers decide what to look up and the tests need no cluster.

// Settings are the operator-wide inputs.
type Settings struct {
	// BackupManagerImage runs the Job's main container (operator flag -tidb-backup-manager-image).
	BackupManagerImage string
}

// Target is what a Job needs to know about the TidbCluster it works on.
type Target struct {
	// Name and Namespace of the TidbCluster (spec.br.cluster, spec.br.clusterNamespace). The
	// TLS Secrets are <Name>-…-secret in the custom resource's own namespace, as in v1.6: a
	// Pod can only mount Secrets of its own namespace.
	Name, Namespace string
	// TiKVVersion is the TiKV version the cluster runs, e.g. "v8.5.0" (the tag of its TiKV
	// image: spec.tikv.version or spec.version); "" if unknown.
	TiKVVersion string
	// TiKVImage is the TiKV image, e.g. "pingcap/tikv:v8.5.0"; compaction copies tikv-ctl
	// out of it.
	TiKVImage string
	// ClusterTLS is spec.tlsCluster.enabled: the Job mounts <Name>-cluster-client-secret at
	// the cluster client TLS folder and passes --cluster-tls.
	ClusterTLS bool
	// TiDBClientTLS is spec.tidb.tlsClient.enabled (and the TidbCluster does not carry the
	// skip-tls-when-connect-tidb annotation): Jobs that log in to TiDB (spec.from, spec.to)
	// mount a client certificate and pass --client-tls.
	TiDBClientTLS bool
	// TiDBSkipClientCA is spec.tidb.tlsClient.skipInternalClientCA: such Jobs also pass
	// --skipClientCA, as v1.6 did.
	TiDBSkipClientCA bool
}

// TargetOf reads the Target from a TidbCluster. The TiKV version is the tag of the TiKV image
// the operator runs, the way v1.6 found it, so an explicit spec.tikv.image counts too.
func TargetOf(tc *v1alpha1.TidbCluster) Target {
	image := tc.TiKVImage()
	_, skipTiDBTLS := tc.Annotations[label.SkipTLSWhenConnectTiDBAnnKey]
	t := Target{
		Name:          tc.Name,
		Namespace:     tc.Namespace,
		TiKVVersion:   imageTag(image),
		TiKVImage:     image,
		ClusterTLS:    tc.IsTLSClusterEnabled(),
		TiDBClientTLS: tc.IsTiDBTLSClientEnabled() && !skipTiDBTLS,
	}
	if t.TiDBClientTLS {
		t.TiDBSkipClientCA = tc.Spec.TiDB.TLSClient.SkipInternalClientCA
	}
	return t
}

// Errors the builders wrap; the messages around them name the field to set.
var (
	// ErrNoToolImage: the BR image is unknown (no spec.toolImage and no TiKV version to tag
	// pingcap/br with).
	ErrNoToolImage = errors.New("no BR image")
	// ErrNoTiKVImage: the image to copy tikv-ctl from is unknown (no spec.tikvImage and no TiKV
	// image of the cluster).
	ErrNoTiKVImage = errors.New("no TiKV image")
)

// Paths and names inside the Job's pod. They are v1.6's; the backup-manager reads the same
// paths (brcmd.BRPath, brcmd.TiKVCtlPath, brcmd.ClusterTLSDir, manager.TiDBClientTLSDir), and
// a test pins the two copies together, since this package cannot import those.
const (
	brBinDir         = "/var/lib/br-bin"
	kvctlBinDir      = "/var/lib/kvctl-bin"
	clusterTLSDir    = "/var/lib/cluster-client-tls"
	tidbClientTLSDir = "/var/lib/tidb-client-tls"

	brBinVolume         = "br-bin"
	kvctlBinVolume      = "tikv-ctl-bin"
	clusterTLSVolume    = "cluster-client-tls"
	tidbClientTLSVolume = "tidb-client-tls"

	brInitContainer    = "br"
	kvctlInitContainer = "tikv-ctl"

	// defaultBRImage is tagged with the TiKV version when spec.toolImage is empty: BR must
	// match the cluster it works on.
	defaultBRImage = "pingcap/br"

	// maxJobName is the longest Job name Kubernetes accepts: the Job controller puts the name
	// into a label of its Pods, and label values have at most 63 characters.
	maxJobName = 63
)

// clusterClientSecret is the operator's client certificate for PD and TiKV (v1.6's name).
func clusterClientSecret(tc string) string { return tc + "-cluster-client-secret" }

// tidbClientSecret is the client certificate for TiDB's MySQL port when spec.from or spec.to
// names none (v1.6's name).
func tidbClientSecret(tc string) string { return tc + "-tidb-client-secret" }

// imageTag returns an image reference's tag: what follows the last ":" after the last "/", a
// digest left out; "" when it has none. "registry:5000/br" has no tag.
func imageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || i < strings.LastIndexByte(image, '/') {
		return ""
	}
	return image[i+1:]
}

// brImage is the image the br init container copies BR from: spec.toolImage, tagged with the
// TiKV version when it has neither tag nor digest (BR must match TiKV); else pingcap/br at the
// TiKV version.
func brImage(toolImage string, t Target) (string, error) {
	pinned := imageTag(toolImage) != "" || strings.Contains(toolImage, "@")
	switch {
	case toolImage != "" && (pinned || t.TiKVVersion == ""):
		return toolImage, nil
	case toolImage != "":
		return toolImage + ":" + t.TiKVVersion, nil
	case t.TiKVVersion != "":
		return defaultBRImage + ":" + t.TiKVVersion, nil
	default:
		return "", fmt.Errorf("%w: spec.toolImage is empty and the TiKV version of TidbCluster %s is unknown: set spec.toolImage to a BR image of the cluster's version, such as %s:v8.5.0",
			ErrNoToolImage, targetRef(t), defaultBRImage)
	}
}

func targetRef(t Target) string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "/" + t.Name
}

// podSpec is the part of a Backup, Restore or CompactBackup spec that shapes the Job's pod.
type podSpec struct {
	Resources         corev1.ResourceRequirements
	Env               []corev1.EnvVar
	Tolerations       []corev1.Toleration
	Affinity          *corev1.Affinity
	SecurityContext   *corev1.PodSecurityContext
	PriorityClassName string
	ImagePullSecrets  []corev1.LocalObjectReference
	// ServiceAccount is the custom resource's GetServiceAccount().
	ServiceAccount         string
	AdditionalVolumes      []corev1.Volume
	AdditionalVolumeMounts []corev1.VolumeMount
	// Locals are the local storages the backup-manager opens (spec.local and, for PiTR, the
	// full backup's), each with its field path.
	Locals []localStorage
}

// localStorage is a spec's local storage and where it sits in the spec.
type localStorage struct {
	local *v1alpha1.LocalStorageProvider
	field string
}

// localsOf lists the set local storages of the given providers, in order.
func localsOf(providers ...localStorage) []localStorage {
	var out []localStorage
	for _, p := range providers {
		if p.local != nil {
			out = append(out, p)
		}
	}
	return out
}

// jobParts is everything a Job is built from; each builder fills it and build assembles it.
type jobParts struct {
	kind  string // Backup, Restore or CompactBackup: the owner
	owner metav1.Object
	name  string
	// labels of the Job and, as in v1.6, of its Pods.
	labels map[string]string
	// container is the name of the main container; args its arguments.
	container string
	args      []string
	// env is what the operator generates; spec.Env is laid over it.
	env []corev1.EnvVar
	// volumes the operator adds (TLS, tool folders), before the spec's own, each with its
	// mount in the main container.
	volumes []volumeAndMount
	// inits are the init containers, which get their own mounts.
	inits        []corev1.Container
	backoffLimit int32
	spec         podSpec
}

// volumeAndMount is a volume of the pod and where the main container mounts it.
type volumeAndMount struct {
	volume corev1.Volume
	mount  corev1.VolumeMount
}

func secretVolume(name, secret, dir string) volumeAndMount {
	return volumeAndMount{
		volume: corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}},
		mount:  corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: dir},
	}
}

func emptyDirVolume(name, dir string) volumeAndMount {
	return volumeAndMount{
		volume: corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		mount:  corev1.VolumeMount{Name: name, MountPath: dir},
	}
}

// copyInit is an init container that copies one binary out of a tool image into the emptyDir
// the main container runs it from: the backup-manager image carries neither BR nor tikv-ctl,
// because they must match the cluster's version.
func copyInit(name, image, binary string, dir volumeAndMount, resources corev1.ResourceRequirements) corev1.Container {
	return corev1.Container{
		Name:    name,
		Image:   image,
		Command: []string{"/bin/sh", "-c"},
		Args:    []string{fmt.Sprintf("cp /%s %s/%s; echo '%s copy finished'", binary, dir.mount.MountPath, binary, copiedName(binary))},
		// Resources as the main container's, as in v1.6: namespaces whose quota demands
		// limits on every container admit the pod, and the pod asks for no more than the
		// main container anyway.
		Resources:       *resources.DeepCopy(),
		ImagePullPolicy: corev1.PullIfNotPresent,
		VolumeMounts:    []corev1.VolumeMount{dir.mount},
	}
}

// copiedName is how the init container's log line names the binary (v1.6's wording).
func copiedName(binary string) string {
	if binary == "br" {
		return "BR"
	}
	return binary
}

// clusterTLS is the cluster client certificate volume, mounted where BR looks for it.
func clusterTLS(tc string) (volumeAndMount, error) {
	if tc == "" {
		return volumeAndMount{}, errors.New("--cluster-tls needs the TidbCluster's name for its client certificate Secret: set spec.br.cluster")
	}
	return secretVolume(clusterTLSVolume, clusterClientSecret(tc), clusterTLSDir), nil
}

// tidbClientTLS is the TiDB client certificate volume: the Secret spec.from or spec.to names,
// else <tc>-tidb-client-secret.
func tidbClientTLS(tc string, access *v1alpha1.TiDBAccessConfig, field string) (volumeAndMount, error) {
	if access != nil && access.TLSClientSecretName != nil && *access.TLSClientSecretName != "" {
		return secretVolume(tidbClientTLSVolume, *access.TLSClientSecretName, tidbClientTLSDir), nil
	}
	if tc == "" {
		return volumeAndMount{}, fmt.Errorf("--client-tls needs a client certificate Secret: set %s.tlsClientSecretName or spec.br.cluster", field)
	}
	return secretVolume(tidbClientTLSVolume, tidbClientSecret(tc), tidbClientTLSDir), nil
}

// build assembles the Job.
func build(s Settings, p jobParts) (*batchv1.Job, error) {
	if s.BackupManagerImage == "" {
		return nil, errors.New("no tidb-backup-manager image: start the operator with -tidb-backup-manager-image")
	}
	if p.name == "" {
		return nil, errors.New("no Job name")
	}
	if len(p.name) > maxJobName {
		return nil, fmt.Errorf("the Job name %q is longer than %d characters, which Kubernetes refuses: give the %s a shorter name", p.name, maxJobName, p.kind)
	}
	vols, mounts, err := podVolumes(p)
	if err != nil {
		return nil, err
	}
	podLabels := make(map[string]string, len(p.labels))
	for k, v := range p.labels {
		podLabels[k] = v
	}
	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            p.name,
			Namespace:       p.owner.GetNamespace(),
			Labels:          p.labels,
			OwnerReferences: []metav1.OwnerReference{ownerReference(p.kind, p.owner)},
		},
		Spec: batchv1.JobSpec{
			// 0 unless the spec says otherwise (a Restore's spec.backoffLimit): the controllers
			// retry failed Jobs themselves (backoffRetryPolicy, maxRetryTimes) and record each
			// retry in the status, which a Job retrying on its own would hide.
			BackoffLimit: ptr.To(p.backoffLimit),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: p.spec.ServiceAccount,
					SecurityContext:    p.spec.SecurityContext,
					InitContainers:     p.inits,
					Containers: []corev1.Container{{
						Name:  p.container,
						Image: s.BackupManagerImage,
						// No command: the image's entrypoint is tidb-backup-manager.
						Args:            p.args,
						Env:             overrideEnv(p.env, p.spec.Env),
						Resources:       p.spec.Resources,
						VolumeMounts:    mounts,
						ImagePullPolicy: corev1.PullIfNotPresent,
					}},
					RestartPolicy:     corev1.RestartPolicyNever,
					Tolerations:       p.spec.Tolerations,
					Affinity:          p.spec.Affinity,
					ImagePullSecrets:  p.spec.ImagePullSecrets,
					PriorityClassName: p.spec.PriorityClassName,
					Volumes:           vols,
				},
			},
		},
	}, nil
}

// podVolumes lists the pod's volumes and the main container's mounts in v1.6's order (the
// operator's, then spec.additionalVolumes, then spec.local) and checks what the API server would
// refuse, naming the fields: two volumes of one name, a mount of no volume, two mounts at one
// path.
func podVolumes(p jobParts) ([]corev1.Volume, []corev1.VolumeMount, error) {
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	volumeField := map[string]string{} // volume name -> the field that defined it
	var mountFields []string           // the field each mount came from, by index
	addVolume := func(v corev1.Volume, field string) error {
		if prev, ok := volumeField[v.Name]; ok {
			return fmt.Errorf("%s and %s both define a volume named %q: rename one", prev, field, v.Name)
		}
		volumeField[v.Name] = field
		vols = append(vols, v)
		return nil
	}
	addMount := func(m corev1.VolumeMount, field string) {
		mounts = append(mounts, m)
		mountFields = append(mountFields, field)
	}
	for _, vm := range p.volumes {
		field := fmt.Sprintf("the operator's %s volume", vm.volume.Name)
		if err := addVolume(vm.volume, field); err != nil {
			return nil, nil, err
		}
		addMount(vm.mount, field)
	}
	for i, v := range p.spec.AdditionalVolumes {
		if err := addVolume(v, fmt.Sprintf("spec.additionalVolumes[%d]", i)); err != nil {
			return nil, nil, err
		}
	}
	for i, m := range p.spec.AdditionalVolumeMounts {
		addMount(m, fmt.Sprintf("spec.additionalVolumeMounts[%d]", i))
	}
	for _, l := range p.spec.Locals {
		// A PiTR restore whose log and full backup share one volume mounts it once.
		if prev, ok := volumeField[l.local.Volume.Name]; ok && sameLocal(p.spec.Locals, prev, l) {
			continue
		}
		if err := addVolume(l.local.Volume, l.field+".volume"); err != nil {
			return nil, nil, err
		}
		addMount(l.local.VolumeMount, l.field+".volumeMount")
	}
	pathField := map[string]string{}
	for i, m := range mounts {
		field := mountFields[i]
		if _, ok := volumeField[m.Name]; !ok {
			return nil, nil, fmt.Errorf("%s mounts the volume %q, which the pod does not have: name a volume of spec.additionalVolumes or spec.local.volume", field, m.Name)
		}
		if prev, ok := pathField[m.MountPath]; ok {
			return nil, nil, fmt.Errorf("%s and %s both mount at %s: choose another mountPath", prev, field, m.MountPath)
		}
		pathField[m.MountPath] = field
	}
	return vols, mounts, nil
}

// sameLocal reports whether the local storage l mounts exactly what the earlier one defining
// volume field prev mounts.
func sameLocal(locals []localStorage, prev string, l localStorage) bool {
	for _, o := range locals {
		if o.field+".volume" == prev {
			return equality.Semantic.DeepEqual(o.local.Volume, l.local.Volume) &&
				equality.Semantic.DeepEqual(o.local.VolumeMount, l.local.VolumeMount)
		}
	}
	return false
}

// tlsVolumes are the certificate volumes the options ask for: the cluster client certificate
// with --cluster-tls, the TiDB client certificate with --client-tls. They follow the options
// rather than the Target, so the pod always has what its arguments make the backup-manager read.
func tlsVolumes(c Common, clusterTLSOn bool, tc string, access *v1alpha1.TiDBAccessConfig, field string) ([]volumeAndMount, error) {
	var out []volumeAndMount
	if clusterTLSOn {
		v, err := clusterTLS(tc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if c.TLSClient {
		v, err := tidbClientTLS(tc, access, field)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// clusterName is the TidbCluster the Secrets are named after: the Target's, else spec.br.cluster.
func clusterName(t Target, br *v1alpha1.BRConfig) string {
	if t.Name != "" || br == nil {
		return t.Name
	}
	return br.Cluster
}

// ownerReference makes the custom resource the Job's controller, so deleting it deletes the
// Job, and the Job cannot outlive it.
func ownerReference(kind string, obj metav1.Object) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.SchemeGroupVersion.String(),
		Kind:               kind,
		Name:               obj.GetName(),
		UID:                obj.GetUID(),
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// jobError says which Job could not be built.
func jobError(job, kind string, obj metav1.Object, err error) error {
	return fmt.Errorf("build Job %s for %s %s/%s: %w", job, kind, obj.GetNamespace(), obj.GetName(), err)
}
