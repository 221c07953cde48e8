package builders

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// OwnerReference makes the TidbCluster the controlling owner, so its deletion collects the object
// and the controller can find the cluster from the object.
func OwnerReference(tc *v1alpha1.TidbCluster) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.SchemeGroupVersion.String(),
		Kind:               "TidbCluster",
		Name:               tc.Name,
		UID:                tc.UID,
		Controller:         new(true),
		BlockOwnerDeletion: new(true),
	}
}

func objectMeta(tc *v1alpha1.TidbCluster, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       tc.Namespace,
		Labels:          labels,
		OwnerReferences: []metav1.OwnerReference{OwnerReference(tc)},
	}
}

// podSettings is a component's pod-level settings with the cluster-level fallbacks applied, the way
// v1.6's component accessor resolves them.
type podSettings struct {
	tc   *v1alpha1.TidbCluster
	comp *v1alpha1.ComponentSpec
	name string // component label value
}

func settings(tc *v1alpha1.TidbCluster, comp *v1alpha1.ComponentSpec, name string) podSettings {
	if comp == nil {
		comp = &v1alpha1.ComponentSpec{}
	}
	return podSettings{tc: tc, comp: comp, name: name}
}

func (s podSettings) imagePullPolicy() corev1.PullPolicy {
	if p := s.comp.ImagePullPolicy; p != nil && *p != "" {
		return *p
	}
	if s.tc.Spec.ImagePullPolicy != "" {
		return s.tc.Spec.ImagePullPolicy
	}
	return corev1.PullIfNotPresent
}

func (s podSettings) hostNetwork() bool {
	if s.comp.HostNetwork != nil {
		return *s.comp.HostNetwork
	}
	return s.tc.Spec.HostNetwork != nil && *s.tc.Spec.HostNetwork
}

func (s podSettings) dnsPolicy() corev1.DNSPolicy {
	p := corev1.DNSClusterFirst
	switch {
	case s.comp.DNSPolicy != "":
		p = s.comp.DNSPolicy
	case s.tc.Spec.DNSPolicy != "":
		p = s.tc.Spec.DNSPolicy
	}
	// A pod on the host network resolves cluster names only with this policy, and the start
	// scripts need cluster DNS.
	if s.hostNetwork() {
		p = corev1.DNSClusterFirstWithHostNet
	}
	return p
}

// annotations are the cluster's pod annotations with the component's merged over them.
func (s podSettings) annotations() map[string]string {
	return mergeMaps(s.tc.Spec.Annotations, s.comp.Annotations)
}

func (s podSettings) labels() map[string]string {
	return mergeMaps(s.tc.Spec.Labels, s.comp.Labels)
}

func (s podSettings) podSecurityContext() *corev1.PodSecurityContext {
	if s.comp.PodSecurityContext != nil {
		return s.comp.PodSecurityContext.DeepCopy()
	}
	return s.tc.Spec.PodSecurityContext.DeepCopy()
}

func (s podSettings) updateStrategy() appsv1.StatefulSetUpdateStrategyType {
	if s.comp.StatefulSetUpdateStrategy != "" {
		return appsv1.StatefulSetUpdateStrategyType(s.comp.StatefulSetUpdateStrategy)
	}
	if s.tc.Spec.StatefulSetUpdateStrategy != "" {
		return appsv1.StatefulSetUpdateStrategyType(s.tc.Spec.StatefulSetUpdateStrategy)
	}
	return appsv1.RollingUpdateStatefulSetStrategyType
}

// podManagementPolicy defaults to Parallel, as in v1.6: members of a new cluster must start
// together so that the discovery service can bootstrap PD.
func (s podSettings) podManagementPolicy() appsv1.PodManagementPolicyType {
	p := s.comp.PodManagementPolicy
	if p == "" {
		p = s.tc.Spec.PodManagementPolicy
	}
	if p == v1alpha1.OrderedReadyPodManagement {
		return appsv1.OrderedReadyPodManagement
	}
	return appsv1.ParallelPodManagement
}

func (s podSettings) configUpdateStrategy() v1alpha1.ConfigUpdateStrategy {
	if p := s.comp.ConfigUpdateStrategy; p != nil && *p != "" {
		return *p
	}
	if s.tc.Spec.ConfigUpdateStrategy != "" {
		return s.tc.Spec.ConfigUpdateStrategy
	}
	return v1alpha1.ConfigUpdateStrategyInPlace
}

// topologySpreadConstraints completes the user's constraints: each gets whenUnsatisfiable
// DoNotSchedule and a label selector for this component's pods of this cluster (plus the user's
// matchLabels), so the spread is counted per component.
func (s podSettings) topologySpreadConstraints() []corev1.TopologySpreadConstraint {
	in := s.tc.Spec.TopologySpreadConstraints
	if len(s.comp.TopologySpreadConstraints) > 0 {
		in = s.comp.TopologySpreadConstraints
	}
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.TopologySpreadConstraint, 0, len(in))
	for _, c := range in {
		sel := mergeMaps(c.MatchLabels, ComponentLabels(s.tc, s.name))
		tsc := corev1.TopologySpreadConstraint{
			MaxSkew:            1,
			TopologyKey:        c.TopologyKey,
			WhenUnsatisfiable:  corev1.DoNotSchedule,
			LabelSelector:      &metav1.LabelSelector{MatchLabels: sel},
			MinDomains:         c.MinDomains,
			NodeAffinityPolicy: c.NodeAffinityPolicy,
		}
		if c.MaxSkew > 0 {
			tsc.MaxSkew = c.MaxSkew
		}
		out = append(out, tsc)
	}
	return out
}

func (s podSettings) serviceAccount(compSA string) string {
	if compSA != "" {
		return compSA
	}
	return s.tc.Spec.ServiceAccount
}

// podSpec fills the pod-level fields every component shares. Containers, volumes and the service
// account are the caller's.
func (s podSettings) podSpec() corev1.PodSpec {
	spec := corev1.PodSpec{
		SchedulerName:                 s.tc.Spec.SchedulerName,
		Affinity:                      s.tc.Spec.Affinity.DeepCopy(),
		NodeSelector:                  mergeMaps(s.tc.Spec.NodeSelector, s.comp.NodeSelector),
		HostNetwork:                   s.hostNetwork(),
		RestartPolicy:                 corev1.RestartPolicyAlways,
		Tolerations:                   slices.Clone(s.tc.Spec.Tolerations),
		SecurityContext:               s.podSecurityContext(),
		TopologySpreadConstraints:     s.topologySpreadConstraints(),
		DNSPolicy:                     s.dnsPolicy(),
		DNSConfig:                     s.tc.Spec.DNSConfig.DeepCopy(),
		ImagePullSecrets:              slices.Clone(s.tc.Spec.ImagePullSecrets),
		TerminationGracePeriodSeconds: s.comp.TerminationGracePeriodSeconds,
	}
	if s.comp.SchedulerName != nil && *s.comp.SchedulerName != "" {
		spec.SchedulerName = *s.comp.SchedulerName
	}
	if s.comp.Affinity != nil {
		spec.Affinity = s.comp.Affinity.DeepCopy()
	}
	if len(s.comp.Tolerations) > 0 {
		spec.Tolerations = slices.Clone(s.comp.Tolerations)
	}
	if s.comp.DNSConfig != nil {
		spec.DNSConfig = s.comp.DNSConfig.DeepCopy()
	}
	if len(s.comp.ImagePullSecrets) > 0 {
		spec.ImagePullSecrets = slices.Clone(s.comp.ImagePullSecrets)
	}
	if p := s.comp.PriorityClassName; p != nil {
		spec.PriorityClassName = *p
	} else if p := s.tc.Spec.PriorityClassName; p != nil {
		spec.PriorityClassName = *p
	}
	return spec
}

// sysctlInit turns podSecurityContext.sysctls into a privileged init container when the component
// carries the annotation tidb.pingcap.com/sysctl-init: "true" (for kubelets that do not allow
// the unsafe sysctls), and then removes them from the pod security context.
func (s podSettings) sysctlInit(spec *corev1.PodSpec, res corev1.ResourceRequirements) []corev1.Container {
	if s.annotations()[label.SysctlInitAnnKey] != "true" {
		return nil
	}
	sc := spec.SecurityContext
	if sc == nil || len(sc.Sysctls) == 0 {
		return nil
	}
	cmd := "sysctl -w"
	for _, sy := range sc.Sysctls {
		cmd += fmt.Sprintf(" %s=%s", sy.Name, sy.Value)
	}
	sc.Sysctls = []corev1.Sysctl{}
	return []corev1.Container{{
		Name:            "init",
		Image:           s.tc.HelperImage(),
		Command:         []string{"sh", "-c", cmd},
		SecurityContext: &corev1.SecurityContext{Privileged: new(true)},
		// Same resources as the main container: an init container's requests count in
		// scheduling anyway, and this keeps the pod's effective requests unchanged.
		Resources: res,
	}}
}

// containerResources drops the storage request and limit, which size the PVC, not the container.
func containerResources(r corev1.ResourceRequirements) corev1.ResourceRequirements {
	out := corev1.ResourceRequirements{Claims: slices.Clone(r.Claims)}
	strip := func(in corev1.ResourceList) corev1.ResourceList {
		if in == nil {
			return nil
		}
		l := corev1.ResourceList{}
		for k, v := range in {
			if k != corev1.ResourceStorage {
				l[k] = v.DeepCopy()
			}
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	out.Requests = strip(r.Requests)
	out.Limits = strip(r.Limits)
	return out
}

// claimTemplate is a ReadWriteOnce volume claim template of the given size.
func claimTemplate(name string, size resource.Quantity, storageClass *string) corev1.PersistentVolumeClaim {
	return corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: storageClass,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: size},
			},
		},
	}
}

// dataClaimTemplate is the claim of a component's data volume, named like the component.
func dataClaimTemplate(component string, req corev1.ResourceList, storageClass *string) (corev1.PersistentVolumeClaim, error) {
	size, ok := req[corev1.ResourceStorage]
	if !ok {
		return corev1.PersistentVolumeClaim{}, fmt.Errorf("spec.%s.requests.storage is required: it sizes the %s data volume", component, component)
	}
	return claimTemplate(component, size, storageClass), nil
}

// storageVolumes builds the claim templates and mounts of spec.<component>.storageVolumes:
// claim "<component>-<name>", mounted only when a mount path is given.
func storageVolumes(component string, vols []v1alpha1.StorageVolume, defaultClass *string) ([]corev1.PersistentVolumeClaim, []corev1.VolumeMount, error) {
	var claims []corev1.PersistentVolumeClaim
	var mounts []corev1.VolumeMount
	for _, v := range vols {
		size, err := resource.ParseQuantity(v.StorageSize)
		if err != nil {
			return nil, nil, fmt.Errorf("spec.%s.storageVolumes[%s].storageSize %q: %w", component, v.Name, v.StorageSize, err)
		}
		class := defaultClass
		if v.StorageClassName != nil {
			class = v.StorageClassName
		}
		name := component + "-" + v.Name
		claims = append(claims, claimTemplate(name, size, class))
		if v.MountPath != "" {
			mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: v.MountPath})
		}
	}
	return claims, mounts, nil
}

// annotationsVolume exposes the pod's annotations at /etc/podinfo/annotations; the start scripts
// source the file (runmode=debug keeps the container idle).
func annotationsVolume() (corev1.Volume, corev1.VolumeMount) {
	return corev1.Volume{
			Name: "annotations",
			VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
				Items: []corev1.DownwardAPIVolumeFile{{
					Path:     "annotations",
					FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"},
				}},
			}},
		}, corev1.VolumeMount{
			Name: "annotations", ReadOnly: true, MountPath: podInfoMountPath,
		}
}

// configVolumes are the "config" and "startup-script" volumes projecting one key each of the
// component's ConfigMap.
func configVolumes(cmName, configFile, scriptFile string) []corev1.Volume {
	one := func(name, key, path string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cmName},
			Items:                []corev1.KeyToPath{{Key: key, Path: path}},
		}}}
	}
	return []corev1.Volume{
		one("config", ConfigFileKey, configFile),
		one("startup-script", StartupScriptKey, scriptFile),
	}
}

func secretVolume(name, secret string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
}

// appendEnv adds the user's variables after the operator's, skipping names the operator already
// set: the start scripts depend on those values.
func appendEnv(base, user []corev1.EnvVar) []corev1.EnvVar {
	seen := map[string]bool{}
	for _, e := range base {
		seen[e.Name] = true
	}
	for _, e := range user {
		if !seen[e.Name] {
			base = append(base, *e.DeepCopy())
			seen[e.Name] = true
		}
	}
	return base
}

// prometheusAnnotations let a Prometheus scrape the component's metrics endpoint.
func prometheusAnnotations(port int32) map[string]string {
	return map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/path":   "/metrics",
		"prometheus.io/port":   fmt.Sprint(port),
	}
}

// mergeMaps returns a new map with the later maps' entries winning; nil when all are empty.
func mergeMaps(ms ...map[string]string) map[string]string {
	var out map[string]string
	for _, m := range ms {
		if len(m) == 0 {
			continue
		}
		if out == nil {
			out = make(map[string]string)
		}
		maps.Copy(out, m)
	}
	return out
}

// deleteSlots reads the TidbCluster annotation "<component>.tidb.pingcap.com/delete-slots" (a JSON
// array of ordinals). v1.6 copies it to the StatefulSet annotation "delete-slots" for Advanced
// StatefulSet, and counts the slots into the partition.
func deleteSlots(tc *v1alpha1.TidbCluster, component string) (string, int32, error) {
	v, ok := tc.Annotations[component+label.DeleteSlotsAnnKeySuffix]
	if !ok {
		return "", 0, nil
	}
	var slots []int32
	if strings.TrimSpace(v) != "" {
		if err := json.Unmarshal([]byte(v), &slots); err != nil {
			return "", 0, fmt.Errorf("annotation %s%s must be a JSON array of ordinals: %w", component, label.DeleteSlotsAnnKeySuffix, err)
		}
	}
	return v, int32(len(slots)), nil
}

// StatefulSetOptions carries the values the controller decides rather than the spec.
type StatefulSetOptions struct {
	// Replicas of the StatefulSet; nil means the component's desired replicas
	// (tc.<Component>StsDesiredReplicas(): spec replicas plus failover and spare pods).
	Replicas *int32
	// Partition of the RollingUpdate strategy; nil means replicas plus the delete slots, so that,
	// as in v1.6, no pod moves to a new template until the upgrader lowers the partition.
	Partition *int32
}

// statefulSet assembles the parts every component's StatefulSet shares.
func statefulSet(tc *v1alpha1.TidbCluster, s podSettings, desired int32, opts StatefulSetOptions,
	tmpl corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim) (*appsv1.StatefulSet, error) {
	slotsAnn, slots, err := deleteSlots(tc, s.name)
	if err != nil {
		return nil, err
	}
	replicas := desired
	if opts.Replicas != nil {
		replicas = *opts.Replicas
	}
	strategy := appsv1.StatefulSetUpdateStrategy{Type: s.updateStrategy()}
	if strategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		strategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		partition := replicas + slots
		if opts.Partition != nil {
			partition = *opts.Partition
		}
		strategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &partition}
	}
	sel := ComponentLabels(tc, s.name)
	meta := objectMeta(tc, MemberName(tc.Name, s.name), sel.Copy().Labels())
	if slotsAnn != "" {
		meta.Annotations = map[string]string{label.StatefulSetDeleteSlotsAnnKey: slotsAnn}
	}
	sts := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: meta,
		Spec: appsv1.StatefulSetSpec{
			Replicas:             &replicas,
			Selector:             &metav1.LabelSelector{MatchLabels: sel.Copy().Labels()},
			Template:             tmpl,
			VolumeClaimTemplates: claims,
			ServiceName:          PeerServiceName(tc.Name, s.name),
			PodManagementPolicy:  s.podManagementPolicy(),
			UpdateStrategy:       strategy,
		},
	}
	if err := SetLastAppliedConfiguration(sts); err != nil {
		return nil, err
	}
	return sts, nil
}

// podTemplateMeta is the pod template metadata: the component's selector labels over the user's
// labels (the selector must keep matching), and the Prometheus annotations under the user's.
func podTemplateMeta(tc *v1alpha1.TidbCluster, s podSettings, metricsPort int32) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Labels:      mergeMaps(s.labels(), ComponentLabels(tc, s.name)),
		Annotations: mergeMaps(prometheusAnnotations(metricsPort), s.annotations()),
	}
}

// finishPodSpec adds what every component does the same way after its main container is built:
// user volumes, user init containers, sidecars, and the additionalContainers patch.
func finishPodSpec(s podSettings, spec *corev1.PodSpec, vols []corev1.Volume, containers []corev1.Container, mainRes corev1.ResourceRequirements) error {
	spec.Volumes = append(vols, deepCopyVolumes(s.comp.AdditionalVolumes)...)
	merged, err := MergePatchContainers(containers, s.comp.AdditionalContainers)
	if err != nil {
		return err
	}
	spec.Containers = merged
	inits := s.sysctlInit(spec, mainRes)
	for _, c := range s.comp.InitContainers {
		inits = append(inits, *c.DeepCopy())
	}
	spec.InitContainers = inits
	return nil
}

func deepCopyVolumes(in []corev1.Volume) []corev1.Volume {
	var out []corev1.Volume
	for _, v := range in {
		out = append(out, *v.DeepCopy())
	}
	return out
}

func deepCopyMounts(in []corev1.VolumeMount) []corev1.VolumeMount {
	var out []corev1.VolumeMount
	for _, m := range in {
		out = append(out, *m.DeepCopy())
	}
	return out
}

// readinessProbe is the TCP probe PD and TiKV get only when spec.<component>.readinessProbe is set.
func tcpReadinessProbe(p *v1alpha1.Probe, port int32) *corev1.Probe {
	if p == nil {
		return nil
	}
	probe := &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intOrString(port)}},
		InitialDelaySeconds: 10,
	}
	applyProbeTiming(probe, p)
	return probe
}

func applyProbeTiming(probe *corev1.Probe, p *v1alpha1.Probe) {
	if p == nil {
		return
	}
	if p.InitialDelaySeconds != nil {
		probe.InitialDelaySeconds = *p.InitialDelaySeconds
	}
	if p.PeriodSeconds != nil {
		probe.PeriodSeconds = *p.PeriodSeconds
	}
}

// SpecPodMetadata is the pod annotations and labels a component's spec asks for (the cluster's
// with the component's merged over them), without those the operator adds itself.
func SpecPodMetadata(tc *v1alpha1.TidbCluster, component string) (annotations, labels map[string]string) {
	s := settings(tc, componentSpecOf(tc, component), component)
	return s.annotations(), s.labels()
}
