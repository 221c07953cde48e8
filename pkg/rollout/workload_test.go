package rollout

import (
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestTheConfigMapOfATemplateIsTheOneMountedAsItsConfigVolume(t *testing.T) {
	cases := []struct {
		name    string
		volumes []corev1.Volume
		want    string
	}{
		{
			name:    "the config volume's ConfigMap is named",
			volumes: pdWorkload().Template.Spec.Volumes,
			want:    "basic-pd-6f4b",
		},
		{
			name: "the config volume is found wherever it is listed",
			volumes: []corev1.Volume{
				{Name: "startup-script", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "script-cm"}}}},
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "config-cm"}}}},
			},
			want: "config-cm",
		},
		{
			name: "a template without a config volume mounts none, even with other ConfigMaps",
			volumes: []corev1.Volume{
				{Name: "startup-script", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "script-cm"}}}},
			},
			want: "",
		},
		{
			name: "a config volume that is not a ConfigMap mounts none",
			volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
			want: "",
		},
		{
			name: "a template without volumes mounts none",
			want: "",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Volumes: c.volumes}}
			if got := ConfigMapName(&tpl); got != c.want {
				t.Errorf("ConfigMapName = %q, want %q", got, c.want)
			}
		})
	}
}

func TestDifferencesNameWhatTheRenderingWouldChange(t *testing.T) {
	tlsVolume := corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "basic-pd-cluster-secret"}}}
	cases := []struct {
		name          string
		desired, live func(*Workload)
		want          []string
	}{
		{
			name: "equal workloads differ in nothing",
		},
		{
			name: "an inserted volume is one difference named by the volume",
			desired: func(w *Workload) {
				// Inserted first: the volumes that follow shift but are matched by name.
				w.Template.Spec.Volumes = append([]corev1.Volume{{Name: "slowlog", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}, w.Template.Spec.Volumes...)
			},
			want: []string{"spec.volumes[slowlog]"},
		},
		{
			name: "a removed volume is named by the volume",
			live: func(w *Workload) { w.Template.Spec.Volumes = w.Template.Spec.Volumes[:2] },
			want: []string{"spec.volumes[tls]"},
		},
		{
			name:    "a volume the live template has in addition is named by the volume",
			desired: func(w *Workload) { w.Template.Spec.Volumes = w.Template.Spec.Volumes[:2] },
			live: func(w *Workload) {
				w.Template.Spec.Volumes = append(w.Template.Spec.Volumes[:2:2], tlsVolume)
			},
			want: []string{"spec.volumes[tls]"},
		},
		{
			name: "an inserted container is one difference named by the container",
			desired: func(w *Workload) {
				w.Template.Spec.Containers = append([]corev1.Container{{Name: "slowlog", Image: "busybox:1.36"}}, w.Template.Spec.Containers...)
			},
			want: []string{"spec.containers[slowlog]"},
		},
		{
			name:    "a changed ConfigMap name is the path of the name",
			desired: func(w *Workload) { volume(w, "config").ConfigMap.Name = "basic-pd-7a1c" },
			want:    []string{"spec.volumes[config].configMap.name"},
		},
		{
			name:    "a field of the main container is the path of the field",
			desired: func(w *Workload) { pdContainer(w).Image = "pingcap/pd:v8.5.2" },
			want:    []string{"spec.containers[pd].image"},
		},
		{
			name: "a changed resource quantity is the path of the quantity",
			desired: func(w *Workload) {
				pdContainer(w).Resources.Requests[corev1.ResourceMemory] = resource.MustParse("3Gi")
			},
			want: []string{"spec.containers[pd].resources.requests.memory"},
		},
		{
			name:    "a changed environment variable is the path of its value",
			desired: func(w *Workload) { pdContainer(w).Env[2].Value = "Asia/Shanghai" },
			want:    []string{"spec.containers[pd].env[TZ].value"},
		},
		{
			name: "the same entries in another order are named as an order change",
			live: func(w *Workload) {
				e := pdContainer(w).Env
				e[0], e[2] = e[2], e[0]
			},
			want: []string{"spec.containers[pd].env (order)"},
		},
		{
			name:    "a changed list of strings is the path of the list",
			desired: func(w *Workload) { pdContainer(w).Command = []string{"/bin/sh", "/usr/local/bin/start.sh"} },
			want:    []string{"spec.containers[pd].command"},
		},
		{
			name:    "a field missing on one side is its path",
			desired: func(w *Workload) { w.Template.Spec.PriorityClassName = "tidb-critical" },
			want:    []string{"spec.priorityClassName"},
		},
		{
			name:    "an annotation key with dots is bracketed",
			desired: func(w *Workload) { w.Template.Annotations["prometheus.io/port"] = "12379" },
			want:    []string{"metadata.annotations[prometheus.io/port]"},
		},
		{
			name:    "an annotation key with dots and no slash is bracketed",
			desired: func(w *Workload) { w.Template.Annotations["config.hash"] = "abc" },
			want:    []string{"metadata.annotations[config.hash]"},
		},
		{
			name:    "a label key with a slash is bracketed",
			desired: func(w *Workload) { w.Template.Labels["tidb.pingcap.com/member"] = "pd" },
			want:    []string{"metadata.labels[tidb.pingcap.com/member]"},
		},
		{
			name:    "a plain annotation key is joined with a dot",
			desired: func(w *Workload) { w.Template.Annotations["checksum"] = "abc" },
			want:    []string{"metadata.annotations.checksum"},
		},
		{
			name:    "a changed start script is the ConfigMap key",
			desired: func(w *Workload) { w.Config.Data["startup-script"] = pdScript + "# v2\n" },
			want:    []string{"configmap startup-script"},
		},
		{
			name: "a configuration with other text but the same settings is named as such",
			live: func(w *Workload) {
				w.Config.Data["config-file"] = "[replication]\n  max-replicas = 3\n  location-labels = [\"zone\",\"host\"]\n[log]\n  level = \"info\"\n"
			},
			want: []string{"configmap config-file (text only, same settings)"},
		},
		{
			name:    "a configuration with other settings is the ConfigMap key",
			desired: func(w *Workload) { w.Config.Data["config-file"] = pdConfig + "[schedule]\nleader-schedule-limit = 8\n" },
			want:    []string{"configmap config-file"},
		},
		{
			name:    "a ConfigMap key present on one side only is the key",
			desired: func(w *Workload) { w.Config.Data["tls-ca"] = "-----BEGIN CERTIFICATE-----" },
			want:    []string{"configmap tls-ca"},
		},
		{
			name: "a missing live ConfigMap is the ConfigMap",
			live: func(w *Workload) { w.Config = nil },
			want: []string{"configmap"},
		},
		{
			name:    "a ConfigMap the rendering no longer has is the ConfigMap",
			desired: func(w *Workload) { w.Config = nil },
			want:    []string{"configmap"},
		},
		{
			name:    "no ConfigMap on either side differs in nothing",
			desired: func(w *Workload) { w.Config = nil },
			live:    func(w *Workload) { w.Config = nil },
		},
		{
			name: "the claims are not part of the differences",
			live: func(w *Workload) { w.Claims = nil },
		},
		{
			name: "the differences are sorted",
			desired: func(w *Workload) {
				w.Config.Data["startup-script"] = pdScript + "# v2\n"
				w.Template.Spec.PriorityClassName = "tidb-critical"
				pdContainer(w).Image = "pingcap/pd:v8.5.2"
				volume(w, "startup-script").ConfigMap.Name = "basic-pd-7a1c"
				volume(w, "config").ConfigMap.Name = "basic-pd-7a1c"
				w.Template.Annotations["prometheus.io/port"] = "12379"
			},
			want: []string{
				"configmap startup-script",
				"metadata.annotations[prometheus.io/port]",
				"spec.containers[pd].image",
				"spec.priorityClassName",
				"spec.volumes[config].configMap.name",
				"spec.volumes[startup-script].configMap.name",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			desired, live := pdWorkload(), pdWorkload()
			if c.desired != nil {
				c.desired(&desired)
			}
			if c.live != nil {
				c.live(&live)
			}
			got := Differences(desired, live)
			if len(got) == 0 && len(c.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Differences =\n  %q\nwant\n  %q", got, c.want)
			}
		})
	}
}

func TestDifferencesAreCutToEightEntriesAndACountOfTheRest(t *testing.T) {
	annotations := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("metadata.annotations.a%02d", i)
		}
		return out
	}
	cases := []struct {
		name string
		n    int
		want []string
	}{
		{name: "seven differences are all listed", n: 7, want: annotations(7)},
		{name: "eight differences are all listed", n: 8, want: annotations(8)},
		{name: "nine differences list eight and one more", n: 9, want: append(annotations(8), "1 more")},
		{name: "twenty differences list the first eight in order and twelve more", n: 20, want: append(annotations(8), "12 more")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			desired, live := pdWorkload(), pdWorkload()
			// Added in reverse so that the sorting, not the insertion, gives the order.
			for i := c.n - 1; i >= 0; i-- {
				desired.Template.Annotations[fmt.Sprintf("a%02d", i)] = "x"
			}
			got := Differences(desired, live)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Differences =\n  %q\nwant\n  %q", got, c.want)
			}
		})
	}
}

func TestTheCutCountsConfigMapKeysAndTemplatePathsTogether(t *testing.T) {
	desired, live := pdWorkload(), pdWorkload()
	for i := 0; i < 5; i++ {
		desired.Template.Annotations[fmt.Sprintf("a%d", i)] = "x"
		desired.Config.Data[fmt.Sprintf("k%d", i)] = "x"
	}
	want := []string{
		"configmap k0", "configmap k1", "configmap k2", "configmap k3", "configmap k4",
		"metadata.annotations.a0", "metadata.annotations.a1", "metadata.annotations.a2",
		"2 more",
	}
	if got := Differences(desired, live); !reflect.DeepEqual(got, want) {
		t.Errorf("Differences =\n  %q\nwant\n  %q", got, want)
	}
}
