package rollout

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	pdConfig = "[log]\nlevel = \"info\"\n\n[replication]\nmax-replicas = 3\nlocation-labels = [\"zone\", \"host\"]\n"
	pdScript = "#!/bin/sh\nset -e\nexec /pd-server --config=/etc/pd/pd.toml --data-dir=/var/lib/pd\n"
)

func strPtr(s string) *string { return &s }

// pdWorkload is a small PD workload as the operator renders it: the main container "pd", its
// configuration and start script from the ConfigMap basic-pd-6f4b, a TLS secret and one claim.
// Each call returns a fresh copy.
func pdWorkload() Workload {
	return Workload{
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{
				Labels:      map[string]string{"app.kubernetes.io/component": "pd", "app.kubernetes.io/instance": "basic"},
				Annotations: map[string]string{"prometheus.io/port": "2379", "prometheus.io/scrape": "true"},
			},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name:    "pd",
					Image:   "pingcap/pd:v8.5.1",
					Command: []string{"/bin/sh", "/usr/local/bin/pd_start_script.sh"},
					Env: []corev1.EnvVar{
						{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
						{Name: "PEER_SERVICE_NAME", Value: "basic-pd-peer"},
						{Name: "TZ", Value: "UTC"},
					},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("1"),
							corev1.ResourceMemory: resource.MustParse("2Gi"),
						},
						Limits: corev1.ResourceList{
							corev1.ResourceMemory: resource.MustParse("4Gi"),
						},
					},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "config", MountPath: "/etc/pd", ReadOnly: true},
						{Name: "startup-script", MountPath: "/usr/local/bin", ReadOnly: true},
						{Name: "pd", MountPath: "/var/lib/pd"},
						{Name: "tls", MountPath: "/var/lib/pd-tls", ReadOnly: true},
					},
				}},
				Volumes: []corev1.Volume{
					{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "basic-pd-6f4b"},
						Items:                []corev1.KeyToPath{{Key: "config-file", Path: "pd.toml"}},
					}}},
					{Name: "startup-script", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "basic-pd-6f4b"},
						Items:                []corev1.KeyToPath{{Key: "startup-script", Path: "pd_start_script.sh"}},
					}}},
					{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "basic-pd-cluster-secret"}}},
				},
			},
		},
		Config: &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "basic-pd-6f4b", Namespace: "default"},
			Data:       map[string]string{"config-file": pdConfig, "startup-script": pdScript},
		},
		Claims: []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "pd"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: strPtr("local-storage"),
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				},
			},
		}},
	}
}

// pdFacets compares the main container "pd", its image and its configuration file, and the
// annotation and label the spec asks for.
func pdFacets() Facets {
	return Facets{
		Container:   "pd",
		Image:       true,
		ConfigKey:   "config-file",
		Annotations: map[string]string{"prometheus.io/port": "2379"},
		Labels:      map[string]string{"app.kubernetes.io/component": "pd"},
	}
}

func pdContainer(w *Workload) *corev1.Container { return &w.Template.Spec.Containers[0] }

func volume(w *Workload, name string) *corev1.Volume {
	for i := range w.Template.Spec.Volumes {
		if w.Template.Spec.Volumes[i].Name == name {
			return &w.Template.Spec.Volumes[i]
		}
	}
	panic("no volume " + name)
}

// renameConfigMap makes w mount and carry the ConfigMap name, as a template that TiDB Operator
// v1.6 rendered does (with another hash of the start script).
func renameConfigMap(w *Workload, name string) {
	volume(w, "config").ConfigMap.Name = name
	volume(w, "startup-script").ConfigMap.Name = name
	if w.Config != nil {
		w.Config.Name = name
	}
}

type mismatchCase struct {
	name string
	// facets, desired and live change the defaults (pdFacets, pdWorkload) when not nil.
	facets  func(*Facets)
	desired func(*Workload)
	live    func(*Workload)
	want    []string
}

func runMismatchCases(t *testing.T, cases []mismatchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, desired, live := pdFacets(), pdWorkload(), pdWorkload()
			if c.facets != nil {
				c.facets(&f)
			}
			if c.desired != nil {
				c.desired(&desired)
			}
			if c.live != nil {
				c.live(&live)
			}
			got := Mismatches(f, desired, live)
			if len(got) == 0 && len(c.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Mismatches =\n  %q\nwant\n  %q", got, c.want)
			}
		})
	}
}

func TestALiveWorkloadThatDiffersInWhatTheSpecDecidesIsAMismatch(t *testing.T) {
	runMismatchCases(t, []mismatchCase{
		{
			name: "another image of the main container",
			live: func(w *Workload) { pdContainer(w).Image = "pingcap/pd:v8.1.0" },
			want: []string{"image pingcap/pd:v8.1.0, spec asks for pingcap/pd:v8.5.1"},
		},
		{
			name: "other resource requests",
			live: func(w *Workload) {
				pdContainer(w).Resources.Requests[corev1.ResourceMemory] = resource.MustParse("8Gi")
			},
			want: []string{"resources of container pd"},
		},
		{
			name: "a resource limit the spec does not ask for",
			live: func(w *Workload) { pdContainer(w).Resources.Limits[corev1.ResourceCPU] = resource.MustParse("2") },
			want: []string{"resources of container pd"},
		},
		{
			name: "no resources although the spec asks for some",
			live: func(w *Workload) { pdContainer(w).Resources = corev1.ResourceRequirements{} },
			want: []string{"resources of container pd"},
		},
		{
			name: "another value of an environment variable",
			live: func(w *Workload) { pdContainer(w).Env[2].Value = "Asia/Shanghai" },
			want: []string{"env TZ"},
		},
		{
			name: "another field reference of an environment variable",
			live: func(w *Workload) { pdContainer(w).Env[0].ValueFrom.FieldRef.FieldPath = "metadata.name" },
			want: []string{"env NAMESPACE"},
		},
		{
			name: "a literal value where the spec gives a field reference",
			live: func(w *Workload) {
				pdContainer(w).Env[0] = corev1.EnvVar{Name: "NAMESPACE", Value: "default"}
			},
			want: []string{"env NAMESPACE"},
		},
		{
			name: "an environment variable the spec asks for is missing",
			live: func(w *Workload) { c := pdContainer(w); c.Env = c.Env[:2] },
			want: []string{"env TZ"},
		},
		{
			name: "an environment variable the spec does not ask for",
			live: func(w *Workload) {
				c := pdContainer(w)
				c.Env = append(c.Env, corev1.EnvVar{Name: "GODEBUG", Value: "madvdontneed=1"})
			},
			want: []string{"env GODEBUG"},
		},
		{
			name: "an envFrom the spec does not ask for",
			live: func(w *Workload) {
				pdContainer(w).EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "extra-env"}}}}
			},
			want: []string{"envFrom of container pd"},
		},
		{
			name: "another mount path",
			live: func(w *Workload) { pdContainer(w).VolumeMounts[2].MountPath = "/data" },
			want: []string{"volumeMount pd"},
		},
		{
			name: "another sub path of a mount",
			live: func(w *Workload) { pdContainer(w).VolumeMounts[0].SubPath = "pd.toml" },
			want: []string{"volumeMount config"},
		},
		{
			name: "a missing mount",
			live: func(w *Workload) { c := pdContainer(w); c.VolumeMounts = c.VolumeMounts[:3] },
			want: []string{"volumeMount tls"},
		},
		{
			name: "an extra container",
			live: func(w *Workload) {
				w.Template.Spec.Containers = append(w.Template.Spec.Containers, corev1.Container{Name: "slowlog", Image: "busybox:1.36"})
			},
			want: []string{"container slowlog"},
		},
		{
			name: "a missing side container",
			desired: func(w *Workload) {
				w.Template.Spec.Containers = append(w.Template.Spec.Containers, corev1.Container{Name: "slowlog", Image: "busybox:1.36"})
			},
			want: []string{"container slowlog"},
		},
		{
			name: "an init container the spec does not ask for",
			live: func(w *Workload) {
				w.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox:1.36"}}
			},
			want: []string{"initContainer init"},
		},
		{
			name: "a missing init container",
			desired: func(w *Workload) {
				w.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox:1.36"}}
			},
			want: []string{"initContainer init"},
		},
		{
			name: "another secret as the source of a volume",
			live: func(w *Workload) { volume(w, "tls").Secret.SecretName = "other-secret" },
			want: []string{"volume tls"},
		},
		{
			name: "another kind of source of a volume",
			live: func(w *Workload) {
				volume(w, "tls").VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
			},
			want: []string{"volume tls"},
		},
		{
			name: "another ConfigMap as the source of a volume that is not the configuration or start script",
			desired: func(w *Workload) {
				w.Template.Spec.Volumes = append(w.Template.Spec.Volumes, corev1.Volume{Name: "extra", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "user-a"}}}})
			},
			live: func(w *Workload) {
				w.Template.Spec.Volumes = append(w.Template.Spec.Volumes, corev1.Volume{Name: "extra", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "user-b"}}}})
			},
			want: []string{"volume extra"},
		},
		{
			name: "a missing volume",
			live: func(w *Workload) { w.Template.Spec.Volumes = w.Template.Spec.Volumes[:2] },
			want: []string{"volume tls"},
		},
		{
			name: "another node selector",
			live: func(w *Workload) { w.Template.Spec.NodeSelector = map[string]string{"disktype": "ssd"} },
			want: []string{"nodeSelector"},
		},
		{
			name: "tolerations the spec does not ask for",
			live: func(w *Workload) {
				w.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "pd", Effect: corev1.TaintEffectNoSchedule}}
			},
			want: []string{"tolerations"},
		},
		{
			name: "an affinity the spec does not ask for",
			live: func(w *Workload) {
				w.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
					PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
						Weight: 100,
						PodAffinityTerm: corev1.PodAffinityTerm{
							TopologyKey:   "kubernetes.io/hostname",
							LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/component": "pd"}},
						},
					}},
				}}
			},
			want: []string{"affinity"},
		},
		{
			name: "topology spread constraints the spec does not ask for",
			live: func(w *Workload) {
				w.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule}}
			},
			want: []string{"topologySpreadConstraints"},
		},
		{
			name: "another priority class",
			live: func(w *Workload) { w.Template.Spec.PriorityClassName = "system-cluster-critical" },
			want: []string{"priorityClassName"},
		},
		{
			name: "host networking the spec does not ask for",
			live: func(w *Workload) { w.Template.Spec.HostNetwork = true },
			want: []string{"hostNetwork"},
		},
		{
			name: "another value of an annotation the spec asks for",
			live: func(w *Workload) { w.Template.Annotations["prometheus.io/port"] = "2380" },
			want: []string{"pod annotation prometheus.io/port"},
		},
		{
			name:   "a missing annotation the spec asks for",
			facets: func(f *Facets) { f.Annotations["backup.example.com/exclude"] = "true" },
			want:   []string{"pod annotation backup.example.com/exclude"},
		},
		{
			name: "another value of a label the spec asks for",
			live: func(w *Workload) { w.Template.Labels["app.kubernetes.io/component"] = "tikv" },
			want: []string{"pod label app.kubernetes.io/component"},
		},
		{
			name:   "a missing label the spec asks for",
			facets: func(f *Facets) { f.Labels["team"] = "storage" },
			want:   []string{"pod label team"},
		},
		{
			name: "another size of a claim",
			live: func(w *Workload) {
				w.Claims[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("5Gi")
			},
			want: []string{"volumeClaimTemplate pd"},
		},
		{
			name: "another storage class of a claim",
			live: func(w *Workload) { w.Claims[0].Spec.StorageClassName = strPtr("ebs-gp3") },
			want: []string{"volumeClaimTemplate pd"},
		},
		{
			name: "the default storage class where the spec names one",
			live: func(w *Workload) { w.Claims[0].Spec.StorageClassName = nil },
			want: []string{"volumeClaimTemplate pd"},
		},
		{
			name: "a missing claim",
			live: func(w *Workload) { w.Claims = nil },
			want: []string{"volumeClaimTemplate pd"},
		},
		{
			name: "a configuration with other settings, named by the live ConfigMap",
			live: func(w *Workload) {
				renameConfigMap(w, "basic-pd")
				w.Config.Data["config-file"] = "[log]\nlevel = \"debug\"\n\n[replication]\nmax-replicas = 3\nlocation-labels = [\"zone\", \"host\"]\n"
			},
			want: []string{"configuration (config-file of ConfigMap basic-pd)"},
		},
		{
			name: "a configuration with a setting the spec does not ask for",
			live: func(w *Workload) {
				w.Config.Data["config-file"] = pdConfig + "\n[schedule]\nleader-schedule-limit = 8\n"
			},
			want: []string{"configuration (config-file of ConfigMap basic-pd-6f4b)"},
		},
		{
			name: "a configuration that is not TOML",
			live: func(w *Workload) { w.Config.Data["config-file"] = "log.level: info\n" },
			want: []string{"configuration (config-file of ConfigMap basic-pd-6f4b)"},
		},
		{
			name: "a live ConfigMap that does not exist, named by the live template",
			live: func(w *Workload) { renameConfigMap(w, "basic-pd"); w.Config = nil },
			want: []string{"ConfigMap basic-pd is missing"},
		},
		{
			name: "a live template without the main container",
			live: func(w *Workload) { w.Template.Spec.Containers[0].Name = "pd-server" },
			want: []string{"container pd is missing"},
		},
		{
			name: "several differences, reported in the order of the facets",
			live: func(w *Workload) {
				pdContainer(w).Image = "pingcap/pd:v8.1.0"
				pdContainer(w).Env[2].Value = "Asia/Shanghai"
				pdContainer(w).Env[1].Value = "other-peer"
				w.Template.Spec.HostNetwork = true
				w.Template.Spec.NodeSelector = map[string]string{"disktype": "ssd"}
				w.Claims[0].Spec.StorageClassName = strPtr("ebs-gp3")
				w.Config.Data["config-file"] = ""
			},
			want: []string{
				"image pingcap/pd:v8.1.0, spec asks for pingcap/pd:v8.5.1",
				"env PEER_SERVICE_NAME",
				"env TZ",
				"nodeSelector",
				"hostNetwork",
				"volumeClaimTemplate pd",
				"configuration (config-file of ConfigMap basic-pd-6f4b)",
			},
		},
	})
}

func TestASecondMountOfTheSameVolumeMissingFromTheLiveContainerIsAMismatch(t *testing.T) {
	runMismatchCases(t, []mismatchCase{
		{
			name: "an additional mount of the data volume under another path",
			desired: func(w *Workload) {
				c := pdContainer(w)
				c.VolumeMounts = append([]corev1.VolumeMount{{Name: "pd", MountPath: "/var/log/pd", SubPath: "log"}}, c.VolumeMounts...)
			},
			want: []string{"volumeMount pd"},
		},
	})
}

func TestALiveWorkloadThatDiffersOnlyInTheOperatorsRenderingIsNoMismatch(t *testing.T) {
	runMismatchCases(t, []mismatchCase{
		{
			name: "the same workload",
		},
		{
			name: "other ConfigMap names of the configuration and start script volumes",
			live: func(w *Workload) { renameConfigMap(w, "basic-pd") },
		},
		{
			name: "other items of the configuration and start script volumes",
			live: func(w *Workload) {
				volume(w, "startup-script").ConfigMap.Items[0].Path = "start.sh"
				volume(w, "config").ConfigMap.Items = nil
			},
		},
		{
			name: "the environment in another order",
			live: func(w *Workload) {
				e := pdContainer(w).Env
				e[0], e[1], e[2] = e[2], e[0], e[1]
			},
		},
		{
			name: "a field reference with apiVersion v1 where the rendering omits it",
			live: func(w *Workload) { pdContainer(w).Env[0].ValueFrom.FieldRef.APIVersion = "v1" },
		},
		{
			name:    "a field reference without apiVersion where the rendering says v1",
			desired: func(w *Workload) { pdContainer(w).Env[0].ValueFrom.FieldRef.APIVersion = "v1" },
		},
		{
			name:    "empty resource lists where the rendering has none",
			desired: func(w *Workload) { pdContainer(w).Resources = corev1.ResourceRequirements{} },
			live: func(w *Workload) {
				pdContainer(w).Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{}, Claims: []corev1.ResourceClaim{}}
			},
		},
		{
			name: "the same quantities written differently",
			live: func(w *Workload) {
				pdContainer(w).Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1000m")
				pdContainer(w).Resources.Requests[corev1.ResourceMemory] = resource.MustParse("2048Mi")
				w.Claims[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("10240Mi")
			},
		},
		{
			name: "empty lists and maps where the rendering has none",
			live: func(w *Workload) {
				pdContainer(w).EnvFrom = []corev1.EnvFromSource{}
				w.Template.Spec.NodeSelector = map[string]string{}
				w.Template.Spec.Tolerations = []corev1.Toleration{}
				w.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{}
				w.Template.Spec.InitContainers = []corev1.Container{}
			},
		},
		{
			name: "no lists and maps where the rendering has empty ones",
			desired: func(w *Workload) {
				pdContainer(w).EnvFrom = []corev1.EnvFromSource{}
				w.Template.Spec.NodeSelector = map[string]string{}
				w.Template.Spec.Tolerations = []corev1.Toleration{}
			},
		},
		{
			name: "a configuration with other indentation, spacing, comments and key order but the same settings",
			live: func(w *Workload) {
				w.Config.Data["config-file"] = "# rendered by TiDB Operator v1.6\n[replication]\n    location-labels = [ \"zone\",\"host\" ]\n    max-replicas   =   3\n\n\n[log]\n  level=\"info\"\n"
			},
		},
		{
			name: "a configuration written with dotted keys instead of tables",
			live: func(w *Workload) {
				w.Config.Data["config-file"] = "log.level = \"info\"\nreplication.max-replicas = 3\nreplication.location-labels = [\"zone\", \"host\"]\n"
			},
		},
		{
			name:   "another image when the image is not the spec's",
			facets: func(f *Facets) { f.Image = false },
			live:   func(w *Workload) { pdContainer(w).Image = "pingcap/pd:v8.1.0" },
		},
		{
			name: "another start script in the ConfigMap",
			live: func(w *Workload) {
				w.Config.Data["startup-script"] = "#!/bin/sh\n# v1.6 start script\nset -euo pipefail\nexec /pd-server --name=${POD_NAME} --config=/etc/pd/pd.toml\n"
			},
		},
		{
			name: "another command, probe and image pull policy of the main container",
			live: func(w *Workload) {
				c := pdContainer(w)
				c.Command = []string{"/bin/sh", "/usr/local/bin/start.sh"}
				c.ImagePullPolicy = corev1.PullAlways
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{}}}
			},
		},
		{
			name: "volumes, mounts and containers in another order",
			live: func(w *Workload) {
				v := w.Template.Spec.Volumes
				v[0], v[2] = v[2], v[0]
				m := pdContainer(w).VolumeMounts
				m[0], m[3] = m[3], m[0]
			},
		},
		{
			name: "annotations and labels the spec does not ask for",
			live: func(w *Workload) {
				w.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:00:00Z"
				w.Template.Labels["pod-template-hash"] = "abc"
				delete(w.Template.Annotations, "prometheus.io/scrape")
			},
		},
		{
			name:   "no configuration compared when the workload has none",
			facets: func(f *Facets) { f.ConfigKey = "" },
			live:   func(w *Workload) { w.Config = nil },
		},
		{
			name: "other access modes of a claim",
			live: func(w *Workload) {
				w.Claims[0].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}
			},
		},
	})
}
