package builders

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// buildSTS builds the StatefulSet of a component with its ConfigMap, the way the controller does.
func buildSTS(t *testing.T, tc *v1alpha1.TidbCluster, comp string, opts StatefulSetOptions) *appsv1.StatefulSet {
	t.Helper()
	sts, err := buildSTSErr(tc, comp, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sts
}

func buildSTSErr(tc *v1alpha1.TidbCluster, comp string, opts StatefulSetOptions) (*appsv1.StatefulSet, error) {
	switch comp {
	case "pd":
		cm, err := PDConfigMap(tc)
		if err != nil {
			return nil, err
		}
		return PDStatefulSet(tc, cm, opts)
	case "tikv":
		cm, err := TiKVConfigMap(tc)
		if err != nil {
			return nil, err
		}
		return TiKVStatefulSet(tc, cm, opts)
	default:
		cm, err := TiDBConfigMap(tc)
		if err != nil {
			return nil, err
		}
		return TiDBStatefulSet(tc, cm, opts)
	}
}

func container(t *testing.T, sts *appsv1.StatefulSet, name string) corev1.Container {
	t.Helper()
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q in %s", name, sts.Name)
	return corev1.Container{}
}

func envMap(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			out[e.Name] = "fieldRef:" + e.ValueFrom.FieldRef.FieldPath
		default:
			out[e.Name] = e.Value
		}
	}
	return out
}

func mountMap(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		out[m.Name] = m.MountPath
	}
	return out
}

func volumeByName(sts *appsv1.StatefulSet, name string) *corev1.Volume {
	for i := range sts.Spec.Template.Spec.Volumes {
		if sts.Spec.Template.Spec.Volumes[i].Name == name {
			return &sts.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

func portNames(c corev1.Container) map[string]int32 {
	out := map[string]int32{}
	for _, p := range c.Ports {
		out[p.Name] = p.ContainerPort
	}
	return out
}

func TestStatefulSetsMatchV16Layout(t *testing.T) {
	selector := func(comp string) map[string]string {
		return map[string]string{
			"app.kubernetes.io/name":       "tidb-cluster",
			"app.kubernetes.io/managed-by": "tidb-operator",
			"app.kubernetes.io/instance":   "basic",
			"app.kubernetes.io/component":  comp,
		}
	}
	cases := map[string]struct {
		comp       string            // component
		name       string            // StatefulSet name
		service    string            // governing (peer) Service
		replicas   int32             // replicas of the basic cluster
		image      string            // main container image
		command    []string          // main container command
		ports      map[string]int32  // container ports by name
		env        map[string]string // environment (fieldRef:<path> for downward API)
		mounts     map[string]string // volume mounts by volume name
		claims     []string          // volume claim templates
		promPort   string            // prometheus.io/port annotation
		cmFile     string            // path the config-file key is projected to
		scriptFile string            // path the startup-script key is projected to
		containers []string          // container names in order
		hasProbe   bool              // main container has a readiness probe by default
	}{
		"PD runs pd_start_script.sh with the v1.6 env, ports, mounts and data claim": {
			comp: "pd", name: "basic-pd", service: "basic-pd-peer", replicas: 3,
			image:   "pingcap/pd:v8.5.0",
			command: []string{"/bin/sh", "/usr/local/bin/pd_start_script.sh"},
			ports:   map[string]int32{"server": 2380, "client": 2379},
			env: map[string]string{
				"NAMESPACE": "fieldRef:metadata.namespace", "PEER_SERVICE_NAME": "basic-pd-peer",
				"SERVICE_NAME": "basic-pd", "SET_NAME": "basic-pd", "TZ": "UTC",
			},
			mounts: map[string]string{
				"annotations": "/etc/podinfo", "config": "/etc/pd", "startup-script": "/usr/local/bin", "pd": "/var/lib/pd",
			},
			claims: []string{"pd"}, promPort: "2379", cmFile: "pd.toml", scriptFile: "pd_start_script.sh",
			containers: []string{"pd"},
		},
		"TiKV runs tikv_start_script.sh with CLUSTER_NAME, HEADLESS_SERVICE_NAME and CAPACITY": {
			comp: "tikv", name: "basic-tikv", service: "basic-tikv-peer", replicas: 3,
			image:   "pingcap/tikv:v8.5.0",
			command: []string{"/bin/sh", "/usr/local/bin/tikv_start_script.sh"},
			ports:   map[string]int32{"server": 20160},
			env: map[string]string{
				"NAMESPACE": "fieldRef:metadata.namespace", "CLUSTER_NAME": "basic",
				"HEADLESS_SERVICE_NAME": "basic-tikv-peer", "CAPACITY": "0", "TZ": "UTC",
			},
			mounts: map[string]string{
				"annotations": "/etc/podinfo", "tikv": "/var/lib/tikv", "config": "/etc/tikv", "startup-script": "/usr/local/bin",
			},
			claims: []string{"tikv"}, promPort: "20180", cmFile: "tikv.toml", scriptFile: "tikv_start_script.sh",
			containers: []string{"tikv"},
		},
		"TiDB runs tidb_start_script.sh with a slow-log tailer and no data claim": {
			comp: "tidb", name: "basic-tidb", service: "basic-tidb-peer", replicas: 2,
			image:   "pingcap/tidb:v8.5.0",
			command: []string{"/bin/sh", "/usr/local/bin/tidb_start_script.sh"},
			ports:   map[string]int32{"server": 4000, "status": 10080},
			env: map[string]string{
				"CLUSTER_NAME": "basic", "TZ": "UTC", "BINLOG_ENABLED": "false",
				"SLOW_LOG_FILE": "/var/log/tidb/slowlog", "POD_NAME": "fieldRef:metadata.name",
				"NAMESPACE": "fieldRef:metadata.namespace", "HEADLESS_SERVICE_NAME": "basic-tidb-peer",
			},
			mounts: map[string]string{
				"annotations": "/etc/podinfo", "config": "/etc/tidb", "startup-script": "/usr/local/bin", "slowlog": "/var/log/tidb",
			},
			claims: nil, promPort: "10080", cmFile: "tidb.toml", scriptFile: "tidb_start_script.sh",
			containers: []string{"slowlog", "tidb"}, hasProbe: true,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t)
			sts := buildSTS(t, tc, c.comp, StatefulSetOptions{})
			if sts.Name != c.name || sts.Namespace != "demo" {
				t.Errorf("name %s/%s, want demo/%s", sts.Namespace, sts.Name, c.name)
			}
			if sts.Spec.ServiceName != c.service {
				t.Errorf("serviceName %q, want %q", sts.Spec.ServiceName, c.service)
			}
			if *sts.Spec.Replicas != c.replicas {
				t.Errorf("replicas %d, want %d", *sts.Spec.Replicas, c.replicas)
			}
			if !reflect.DeepEqual(sts.Labels, selector(c.comp)) || !reflect.DeepEqual(sts.Spec.Selector.MatchLabels, selector(c.comp)) {
				t.Errorf("labels %v / selector %v, want %v", sts.Labels, sts.Spec.Selector.MatchLabels, selector(c.comp))
			}
			if !reflect.DeepEqual(sts.Spec.Template.Labels, selector(c.comp)) {
				t.Errorf("pod labels %v", sts.Spec.Template.Labels)
			}
			if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
				t.Errorf("podManagementPolicy %q, want Parallel (the v1.6 default)", sts.Spec.PodManagementPolicy)
			}
			us := sts.Spec.UpdateStrategy
			if us.Type != appsv1.RollingUpdateStatefulSetStrategyType || us.RollingUpdate == nil || *us.RollingUpdate.Partition != c.replicas {
				t.Errorf("update strategy %+v, want RollingUpdate with partition %d", us, c.replicas)
			}
			ann := sts.Spec.Template.Annotations
			if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != c.promPort {
				t.Errorf("pod annotations %v", ann)
			}
			var names []string
			for _, ctr := range sts.Spec.Template.Spec.Containers {
				names = append(names, ctr.Name)
			}
			if !slices.Equal(names, c.containers) {
				t.Errorf("containers %v, want %v", names, c.containers)
			}
			main := container(t, sts, c.comp)
			if main.Image != c.image || !slices.Equal(main.Command, c.command) {
				t.Errorf("image %q command %v", main.Image, main.Command)
			}
			if main.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("imagePullPolicy %q", main.ImagePullPolicy)
			}
			if got := portNames(main); !reflect.DeepEqual(got, c.ports) {
				t.Errorf("ports %v, want %v", got, c.ports)
			}
			if got := envMap(main); !reflect.DeepEqual(got, c.env) {
				t.Errorf("env %v, want %v", got, c.env)
			}
			if got := mountMap(main); !reflect.DeepEqual(got, c.mounts) {
				t.Errorf("mounts %v, want %v", got, c.mounts)
			}
			var claims []string
			for _, p := range sts.Spec.VolumeClaimTemplates {
				claims = append(claims, p.Name)
			}
			if !slices.Equal(claims, c.claims) {
				t.Errorf("claims %v, want %v", claims, c.claims)
			}
			cfg := volumeByName(sts, "config")
			scr := volumeByName(sts, "startup-script")
			if cfg == nil || scr == nil {
				t.Fatal("config or startup-script volume missing")
			}
			wantCM, err := ConfigMapName(tc, c.comp, mustCM(t, tc, c.comp))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ConfigMap.Name != wantCM || cfg.ConfigMap.Items[0] != (corev1.KeyToPath{Key: "config-file", Path: c.cmFile}) {
				t.Errorf("config volume %+v, want ConfigMap %s key config-file -> %s", cfg.ConfigMap, wantCM, c.cmFile)
			}
			if scr.ConfigMap.Name != wantCM || scr.ConfigMap.Items[0] != (corev1.KeyToPath{Key: "startup-script", Path: c.scriptFile}) {
				t.Errorf("startup-script volume %+v", scr.ConfigMap)
			}
			ann2 := volumeByName(sts, "annotations")
			if ann2 == nil || ann2.DownwardAPI == nil || ann2.DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.annotations" {
				t.Errorf("annotations volume %+v", ann2)
			}
			if (main.ReadinessProbe != nil) != c.hasProbe {
				t.Errorf("readiness probe %+v, want present=%v", main.ReadinessProbe, c.hasProbe)
			}
		})
	}
}

func mustCM(t *testing.T, tc *v1alpha1.TidbCluster, comp string) *corev1.ConfigMap {
	t.Helper()
	var cm *corev1.ConfigMap
	var err error
	switch comp {
	case "pd":
		cm, err = PDConfigMap(tc)
	case "tikv":
		cm, err = TiKVConfigMap(tc)
	default:
		cm, err = TiDBConfigMap(tc)
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func TestDataClaimTemplates(t *testing.T) {
	fast := "fast"
	slow := "slow"
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiKV.StorageClassName = &fast
		tc.Spec.TiKV.StorageVolumes = []v1alpha1.StorageVolume{
			{Name: "raft", StorageSize: "5Gi", MountPath: "/var/lib/raft"},
			{Name: "wal", StorageSize: "1Gi", StorageClassName: &slow},
		}
		tc.Spec.TiDB.StorageVolumes = []v1alpha1.StorageVolume{{Name: "log", StorageSize: "2Gi", MountPath: "/var/log/extra"}}
	})
	kv := buildSTS(t, tc, "tikv", StatefulSetOptions{})
	type claim struct {
		name, size string
		class      *string
	}
	var got []claim
	for _, p := range kv.Spec.VolumeClaimTemplates {
		q := p.Spec.Resources.Requests[corev1.ResourceStorage]
		if !slices.Equal(p.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
			t.Errorf("claim %s access modes %v", p.Name, p.Spec.AccessModes)
		}
		got = append(got, claim{p.Name, q.String(), p.Spec.StorageClassName})
	}
	want := []claim{{"tikv", "100Gi", &fast}, {"tikv-raft", "5Gi", &fast}, {"tikv-wal", "1Gi", &slow}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TiKV claims %+v, want %+v", got, want)
	}
	m := mountMap(container(t, kv, "tikv"))
	if m["tikv-raft"] != "/var/lib/raft" {
		t.Errorf("storage volume with a mount path not mounted: %v", m)
	}
	if _, ok := m["tikv-wal"]; ok {
		t.Errorf("storage volume without a mount path must not be mounted: %v", m)
	}
	db := buildSTS(t, tc, "tidb", StatefulSetOptions{})
	if len(db.Spec.VolumeClaimTemplates) != 1 || db.Spec.VolumeClaimTemplates[0].Name != "tidb-log" {
		t.Errorf("TiDB claims %+v, want only tidb-log", db.Spec.VolumeClaimTemplates)
	}

	t.Run("a missing storage request is an error that says which field", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.PD.Requests = nil })
		_, err := buildSTSErr(tc, "pd", StatefulSetOptions{})
		if err == nil || !strings.Contains(err.Error(), "spec.pd.requests.storage") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("an unparsable storage size is an error", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
			tc.Spec.PD.StorageVolumes = []v1alpha1.StorageVolume{{Name: "x", StorageSize: "lots"}}
		})
		if _, err := buildSTSErr(tc, "pd", StatefulSetOptions{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestTiKVCapacity(t *testing.T) {
	cases := map[string]struct {
		limits corev1.ResourceList // spec.tikv.limits
		want   string              // CAPACITY
	}{
		"no limits means the whole disk":                  {nil, "0"},
		"a limit without storage means the whole disk":    {corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}, "0"},
		"a whole number of GiB is written in GB":          {corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("100Gi")}, "100GB"},
		"anything else is written in MB, rounded down":    {corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1536Mi")}, "1536MB"},
		"decimal units are converted to binary megabytes": {corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1G")}, "953MB"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := TiKVCapacity(c.limits); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiKV.Limits = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("50Gi"), corev1.ResourceCPU: resource.MustParse("4")}
	})
	kv := container(t, buildSTS(t, tc, "tikv", StatefulSetOptions{}), "tikv")
	if envMap(kv)["CAPACITY"] != "50GB" {
		t.Errorf("CAPACITY %q", envMap(kv)["CAPACITY"])
	}
	if _, ok := kv.Resources.Limits[corev1.ResourceStorage]; ok {
		t.Error("the storage limit must not reach the container resources")
	}
	if kv.Resources.Limits.Cpu().String() != "4" {
		t.Errorf("cpu limit lost: %v", kv.Resources.Limits)
	}
}

func TestStatefulSetOptionsAndStrategy(t *testing.T) {
	cases := map[string]struct {
		mutate        func(*v1alpha1.TidbCluster) // change to the basic cluster
		opts          StatefulSetOptions          // controller's choices
		wantReplicas  int32                       // spec.replicas
		wantPartition *int32                      // nil: OnDelete (no rollingUpdate)
		wantSlotsAnn  string                      // delete-slots annotation on the STS
	}{
		"by default replicas are the desired replicas and the partition holds every pod": {
			wantReplicas: 3, wantPartition: new(int32(3)),
		},
		"the controller can set replicas and lower the partition": {
			opts:         StatefulSetOptions{Replicas: new(int32(4)), Partition: new(int32(1))},
			wantReplicas: 4, wantPartition: new(int32(1)),
		},
		"failure stores add replicas": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Status.TiKV.FailureStores = map[string]v1alpha1.TiKVFailureStore{"7": {PodName: "basic-tikv-1"}}
			},
			wantReplicas: 4, wantPartition: new(int32(4)),
		},
		"delete slots are copied and counted into the partition": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Annotations = map[string]string{"tikv.tidb.pingcap.com/delete-slots": "[1,4]"}
			},
			wantReplicas: 3, wantPartition: new(int32(5)), wantSlotsAnn: "[1,4]",
		},
		"OnDelete has no partition": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiKV.StatefulSetUpdateStrategy = v1alpha1.OnDeleteStatefulSetStrategy
			},
			wantReplicas: 3,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t)
			if c.mutate != nil {
				c.mutate(tc)
			}
			sts := buildSTS(t, tc, "tikv", c.opts)
			if *sts.Spec.Replicas != c.wantReplicas {
				t.Errorf("replicas %d, want %d", *sts.Spec.Replicas, c.wantReplicas)
			}
			ru := sts.Spec.UpdateStrategy.RollingUpdate
			switch {
			case c.wantPartition == nil:
				if ru != nil || sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
					t.Errorf("strategy %+v, want OnDelete", sts.Spec.UpdateStrategy)
				}
			case ru == nil || *ru.Partition != *c.wantPartition:
				t.Errorf("strategy %+v, want partition %d", sts.Spec.UpdateStrategy, *c.wantPartition)
			}
			if got := sts.Annotations["delete-slots"]; got != c.wantSlotsAnn {
				t.Errorf("delete-slots %q, want %q", got, c.wantSlotsAnn)
			}
			spec, ok, err := LastAppliedSpec(sts)
			if err != nil || !ok || !reflect.DeepEqual(*spec, sts.Spec) {
				t.Errorf("last-applied annotation does not record the spec (ok=%v err=%v)", ok, err)
			}
		})
	}
	t.Run("a malformed delete-slots annotation is an error", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
			tc.Annotations = map[string]string{"pd.tidb.pingcap.com/delete-slots": "1,2"}
		})
		if _, err := buildSTSErr(tc, "pd", StatefulSetOptions{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestPodSettingsFollowClusterAndComponent(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.NodeSelector = map[string]string{"disk": "ssd", "zone": "a"}
		tc.Spec.TiKV.NodeSelector = map[string]string{"zone": "b"}
		tc.Spec.Annotations = map[string]string{"team": "db", "prometheus.io/port": "9999"}
		tc.Spec.TiKV.Annotations = map[string]string{"tidb.pingcap.com/restartedAt": "now"}
		tc.Spec.Labels = map[string]string{"env": "prod"}
		tc.Spec.TiKV.Labels = map[string]string{"app.kubernetes.io/component": "evil", "tier": "storage"}
		tc.Spec.Tolerations = []corev1.Toleration{{Key: "cluster"}}
		tc.Spec.TiKV.Tolerations = []corev1.Toleration{{Key: "tikv"}}
		tc.Spec.PriorityClassName = new("high")
		tc.Spec.SchedulerName = "tidb-scheduler"
		tc.Spec.TiKV.SchedulerName = new("custom")
		tc.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
		tc.Spec.ServiceAccount = "tidb"
		tc.Spec.TiKV.ServiceAccount = "tikv-sa"
		tc.Spec.TiKV.TerminationGracePeriodSeconds = new(int64(120))
		tc.Spec.TiKV.PodSecurityContext = &corev1.PodSecurityContext{RunAsUser: new(int64(1000))}
		tc.Spec.TiKV.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{}}
		tc.Spec.TiKV.HostNetwork = new(true)
		tc.Spec.TiKV.Env = []corev1.EnvVar{{Name: "EXTRA", Value: "1"}, {Name: "CLUSTER_NAME", Value: "hijack"}}
		tc.Spec.TiKV.InitContainers = []corev1.Container{{Name: "prepare", Image: "busybox"}}
		tc.Spec.TiKV.AdditionalVolumes = []corev1.Volume{{Name: "extra", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		tc.Spec.TiKV.AdditionalVolumeMounts = []corev1.VolumeMount{{Name: "extra", MountPath: "/extra"}}
		tc.Spec.TiKV.ReadinessProbe = &v1alpha1.Probe{PeriodSeconds: new(int32(5))}
		tc.Spec.TiKV.ImagePullPolicy = new(corev1.PullAlways)
	})
	sts := buildSTS(t, tc, "tikv", StatefulSetOptions{})
	spec := sts.Spec.Template.Spec
	if !reflect.DeepEqual(spec.NodeSelector, map[string]string{"disk": "ssd", "zone": "b"}) {
		t.Errorf("nodeSelector %v: the component's must merge over the cluster's", spec.NodeSelector)
	}
	ann := sts.Spec.Template.Annotations
	if ann["team"] != "db" || ann["tidb.pingcap.com/restartedAt"] != "now" || ann["prometheus.io/port"] != "9999" {
		t.Errorf("annotations %v: cluster and component annotations merge over the Prometheus ones", ann)
	}
	l := sts.Spec.Template.Labels
	if l["env"] != "prod" || l["tier"] != "storage" || l["app.kubernetes.io/component"] != "tikv" {
		t.Errorf("labels %v: user labels are added but cannot override the selector", l)
	}
	if len(spec.Tolerations) != 1 || spec.Tolerations[0].Key != "tikv" {
		t.Errorf("tolerations %v: the component's replace the cluster's", spec.Tolerations)
	}
	if spec.PriorityClassName != "high" || spec.SchedulerName != "custom" || spec.ServiceAccountName != "tikv-sa" {
		t.Errorf("priorityClass %q scheduler %q serviceAccount %q", spec.PriorityClassName, spec.SchedulerName, spec.ServiceAccountName)
	}
	if len(spec.ImagePullSecrets) != 1 || spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("imagePullSecrets %v", spec.ImagePullSecrets)
	}
	if *spec.TerminationGracePeriodSeconds != 120 || *spec.SecurityContext.RunAsUser != 1000 || spec.Affinity.PodAntiAffinity == nil {
		t.Errorf("grace %v securityContext %v affinity %v", spec.TerminationGracePeriodSeconds, spec.SecurityContext, spec.Affinity)
	}
	if !spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v dnsPolicy %q", spec.HostNetwork, spec.DNSPolicy)
	}
	main := container(t, sts, "tikv")
	env := envMap(main)
	if env["POD_NAME"] != "fieldRef:metadata.name" || env["EXTRA"] != "1" || env["CLUSTER_NAME"] != "basic" {
		t.Errorf("env %v: POD_NAME on the host network, user env appended, operator env kept", env)
	}
	if main.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("imagePullPolicy %q", main.ImagePullPolicy)
	}
	if len(spec.InitContainers) != 1 || spec.InitContainers[0].Name != "prepare" {
		t.Errorf("init containers %v", spec.InitContainers)
	}
	if volumeByName(sts, "extra") == nil || mountMap(main)["extra"] != "/extra" {
		t.Error("additional volume or mount missing")
	}
	p := main.ReadinessProbe
	if p == nil || p.TCPSocket == nil || p.TCPSocket.Port.IntValue() != 20160 || p.PeriodSeconds != 5 || p.InitialDelaySeconds != 10 {
		t.Errorf("readiness probe %+v, want TCP 20160 every 5s after 10s", p)
	}
}

func TestSysctlInitContainer(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.PD.Annotations = map[string]string{"tidb.pingcap.com/sysctl-init": "true"}
		tc.Spec.PD.PodSecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
			{Name: "net.core.somaxconn", Value: "32768"}, {Name: "net.ipv4.tcp_syncookies", Value: "0"},
		}}
	})
	sts := buildSTS(t, tc, "pd", StatefulSetOptions{})
	spec := sts.Spec.Template.Spec
	if len(spec.InitContainers) != 1 {
		t.Fatalf("init containers %v", spec.InitContainers)
	}
	ic := spec.InitContainers[0]
	want := []string{"sh", "-c", "sysctl -w net.core.somaxconn=32768 net.ipv4.tcp_syncookies=0"}
	if ic.Name != "init" || !slices.Equal(ic.Command, want) || ic.SecurityContext == nil || !*ic.SecurityContext.Privileged || ic.Image != "busybox:1.26.2" {
		t.Errorf("init container %+v", ic)
	}
	if len(spec.SecurityContext.Sysctls) != 0 {
		t.Errorf("sysctls %v must move to the init container", spec.SecurityContext.Sysctls)
	}
	if len(tc.Spec.PD.PodSecurityContext.Sysctls) != 2 {
		t.Error("the builder modified the TidbCluster")
	}
}

func TestTopologySpreadConstraintsAreCompleted(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TopologySpreadConstraints = []v1alpha1.TopologySpreadConstraint{{TopologyKey: "topology.kubernetes.io/zone"}}
		tc.Spec.TiDB.TopologySpreadConstraints = []v1alpha1.TopologySpreadConstraint{{
			TopologyKey: "kubernetes.io/hostname", MaxSkew: 2, MinDomains: new(int32(3)),
			MatchLabels: map[string]string{"pool": "a"},
		}}
	})
	cases := map[string]struct {
		comp string                            // component
		want []corev1.TopologySpreadConstraint // completed constraints
	}{
		"the cluster-level constraint gets the component's selector, skew 1 and DoNotSchedule": {
			comp: "pd",
			want: []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: ComponentLabels(tc, "pd")},
			}},
		},
		"a component-level constraint replaces the cluster's and keeps its skew, domains and labels": {
			comp: "tidb",
			want: []corev1.TopologySpreadConstraint{{
				MaxSkew: 2, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.DoNotSchedule,
				MinDomains:    new(int32(3)),
				LabelSelector: &metav1.LabelSelector{MatchLabels: mergeMaps(map[string]string{"pool": "a"}, ComponentLabels(tc, "tidb"))},
			}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := buildSTS(t, tc, c.comp, StatefulSetOptions{}).Spec.Template.Spec.TopologySpreadConstraints
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestAdditionalContainersAreMergedByName(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TiDB.AdditionalContainers = []corev1.Container{
			{
				Name:         "tidb",
				Env:          []corev1.EnvVar{{Name: "GODEBUG", Value: "madvdontneed=1"}, {Name: "TZ", Value: "Asia/Shanghai"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "plugins", MountPath: "/plugins"}},
				Lifecycle:    &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "10"}}}},
			},
			{Name: "proxy", Image: "envoy:1", Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: 9901}}},
		}
	})
	sts := buildSTS(t, tc, "tidb", StatefulSetOptions{})
	var names []string
	for _, c := range sts.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"slowlog", "tidb", "proxy"}) {
		t.Fatalf("containers %v: built ones keep their place, new ones are appended", names)
	}
	main := container(t, sts, "tidb")
	env := envMap(main)
	if env["GODEBUG"] != "madvdontneed=1" || env["TZ"] != "Asia/Shanghai" || env["CLUSTER_NAME"] != "basic" {
		t.Errorf("env %v: patched variables added or replaced by name, others kept", env)
	}
	m := mountMap(main)
	if m["plugins"] != "/plugins" || m["config"] != "/etc/tidb" {
		t.Errorf("mounts %v: merged, not replaced", m)
	}
	if main.Image != "pingcap/tidb:v8.5.0" || main.Lifecycle == nil || main.Lifecycle.PreStop == nil {
		t.Errorf("image %q lifecycle %+v: unset fields keep the built value, set ones apply", main.Image, main.Lifecycle)
	}
	if len(main.Command) != 2 || len(main.Ports) != 2 {
		t.Errorf("command %v ports %v must survive the merge", main.Command, main.Ports)
	}
	if c := container(t, sts, "proxy"); c.Image != "envoy:1" {
		t.Errorf("sidecar %+v", c)
	}
}

func TestMergePatchContainersReplacesScalarsAndKeepsOrder(t *testing.T) {
	base := []corev1.Container{
		{Name: "a", Image: "a:1", Args: []string{"x"}},
		{Name: "b", Image: "b:1"},
	}
	got, err := MergePatchContainers(base, []corev1.Container{{Name: "b", Image: "b:2"}, {Name: "c", Image: "c:1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.Container{
		{Name: "a", Image: "a:1", Args: []string{"x"}},
		{Name: "b", Image: "b:2"},
		{Name: "c", Image: "c:1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if base[1].Image != "b:1" {
		t.Error("the input was modified")
	}
}

func TestTiDBSlowLogAndProbe(t *testing.T) {
	cases := map[string]struct {
		mutate      func(*v1alpha1.TidbCluster) // change to the basic cluster
		wantSidecar bool                        // slowlog container present
		wantFile    string                      // SLOW_LOG_FILE
		wantProbe   []string                    // exec command; nil for the TCP probe on 4000
	}{
		"separateSlowLog false drops the tailer and the variable's value": {
			mutate:      func(tc *v1alpha1.TidbCluster) { tc.Spec.TiDB.SeparateSlowLog = new(false) },
			wantSidecar: false, wantFile: "",
		},
		"slowLogVolumeName points the log at a storage volume, in a file named after it as v1.6 does": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiDB.StorageVolumes = []v1alpha1.StorageVolume{{Name: "log", StorageSize: "1Gi", MountPath: "/var/log/slow"}}
				tc.Spec.TiDB.SlowLogVolumeName = "log"
			},
			wantSidecar: true, wantFile: "/var/log/slow/log",
		},
		"slowLogVolumeName may name an additional volume mount": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiDB.AdditionalVolumes = []corev1.Volume{{Name: "logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
				tc.Spec.TiDB.AdditionalVolumeMounts = []corev1.VolumeMount{{Name: "logs", MountPath: "/logs"}}
				tc.Spec.TiDB.SlowLogVolumeName = "logs"
			},
			wantSidecar: true, wantFile: "/logs/logs",
		},
		"a command probe curls the status port over https with the cluster certificate": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
				tc.Spec.TiDB.ReadinessProbe = &v1alpha1.Probe{Type: new(v1alpha1.CommandProbeType)}
			},
			wantSidecar: true, wantFile: "/var/log/tidb/slowlog",
			wantProbe: []string{"curl", "https://127.0.0.1:10080/status", "--fail", "--silent",
				"--cacert", "/var/lib/tidb-tls/ca.crt", "--cert", "/var/lib/tidb-tls/tls.crt", "--key", "/var/lib/tidb-tls/tls.key"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t, c.mutate)
			sts := buildSTS(t, tc, "tidb", StatefulSetOptions{})
			has := false
			for _, ctr := range sts.Spec.Template.Spec.Containers {
				if ctr.Name == "slowlog" {
					has = true
					if !strings.Contains(ctr.Command[2], "tail -n0 -F "+c.wantFile) {
						t.Errorf("tailer command %v", ctr.Command)
					}
					if mountMap(ctr)[ctr.VolumeMounts[0].Name] == "" {
						t.Error("tailer has no mount")
					}
				}
			}
			if has != c.wantSidecar {
				t.Errorf("slowlog sidecar present=%v, want %v", has, c.wantSidecar)
			}
			main := container(t, sts, "tidb")
			if got := envMap(main)["SLOW_LOG_FILE"]; got != c.wantFile {
				t.Errorf("SLOW_LOG_FILE %q, want %q", got, c.wantFile)
			}
			p := main.ReadinessProbe
			if c.wantProbe == nil {
				if p.TCPSocket == nil || p.TCPSocket.Port.IntValue() != 4000 {
					t.Errorf("probe %+v, want TCP 4000", p)
				}
			} else if p.Exec == nil || !slices.Equal(p.Exec.Command, c.wantProbe) {
				t.Errorf("probe %+v, want exec %v", p, c.wantProbe)
			}
		})
	}
	t.Run("an unknown slowLogVolumeName is an error", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) { tc.Spec.TiDB.SlowLogVolumeName = "nope" })
		if _, err := buildSTSErr(tc, "tidb", StatefulSetOptions{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestTLSVolumesAndConfig(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
		tc.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true}
		tc.Spec.PD.MountClusterClientSecret = new(true)
	})
	cases := map[string]struct {
		comp    string            // component
		secrets map[string]string // volume name -> secret name
		mounts  map[string]string // volume name -> mount path
		toml    []string          // lines the rendered config must contain
	}{
		"PD mounts its cluster certificate, the client certificate and TiDB's client certificate": {
			comp: "pd",
			secrets: map[string]string{
				"pd-tls": "basic-pd-cluster-secret", "cluster-client-tls": "basic-cluster-client-secret",
				"tidb-client-tls": "basic-tidb-client-secret",
			},
			mounts: map[string]string{
				"pd-tls": "/var/lib/pd-tls", "cluster-client-tls": "/var/lib/cluster-client-tls",
				"tidb-client-tls": "/var/lib/tidb-client-tls",
			},
			toml: []string{
				"cacert-path = '/var/lib/pd-tls/ca.crt'", "cert-path = '/var/lib/pd-tls/tls.crt'", "key-path = '/var/lib/pd-tls/tls.key'",
				"tidb-cacert-path = '/var/lib/tidb-client-tls/ca.crt'",
			},
		},
		"TiKV mounts its cluster certificate": {
			comp:    "tikv",
			secrets: map[string]string{"tikv-tls": "basic-tikv-cluster-secret"},
			mounts:  map[string]string{"tikv-tls": "/var/lib/tikv-tls"},
			toml:    []string{"ca-path = '/var/lib/tikv-tls/ca.crt'", "cert-path = '/var/lib/tikv-tls/tls.crt'", "key-path = '/var/lib/tikv-tls/tls.key'"},
		},
		"TiDB mounts its cluster and MySQL server certificates": {
			comp:    "tidb",
			secrets: map[string]string{"tidb-tls": "basic-tidb-cluster-secret", "tidb-server-tls": "basic-tidb-server-secret"},
			mounts:  map[string]string{"tidb-tls": "/var/lib/tidb-tls", "tidb-server-tls": "/var/lib/tidb-server-tls"},
			toml: []string{
				"cluster-ssl-ca = '/var/lib/tidb-tls/ca.crt'", "cluster-ssl-cert = '/var/lib/tidb-tls/tls.crt'",
				"ssl-ca = '/var/lib/tidb-server-tls/ca.crt'", "ssl-cert = '/var/lib/tidb-server-tls/tls.crt'", "ssl-key = '/var/lib/tidb-server-tls/tls.key'",
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			sts := buildSTS(t, tc, c.comp, StatefulSetOptions{})
			for vol, secret := range c.secrets {
				v := volumeByName(sts, vol)
				if v == nil || v.Secret == nil || v.Secret.SecretName != secret {
					t.Errorf("volume %s = %+v, want secret %s", vol, v, secret)
				}
			}
			m := mountMap(container(t, sts, c.comp))
			for vol, p := range c.mounts {
				if m[vol] != p {
					t.Errorf("mount %s at %q, want %q", vol, m[vol], p)
				}
			}
			cm := mustCM(t, tc, c.comp)
			for _, line := range c.toml {
				if !strings.Contains(cm.Data["config-file"], line) {
					t.Errorf("config lacks %q:\n%s", line, cm.Data["config-file"])
				}
			}
			if !strings.Contains(cm.Data["startup-script"], "https://") && c.comp != "tidb" {
				t.Errorf("start script does not use https:\n%s", cm.Data["startup-script"])
			}
		})
	}
	t.Run("TiDB without client authentication gets no CA", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
			tc.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true, DisableClientAuthn: true}
		})
		if cfg := mustCM(t, tc, "tidb").Data["config-file"]; strings.Contains(cfg, "ssl-ca") || !strings.Contains(cfg, "ssl-cert") {
			t.Errorf("config:\n%s", cfg)
		}
	})
	t.Run("without TLS nothing is mounted or set", func(t *testing.T) {
		tc := basicCluster(t)
		for _, comp := range []string{"pd", "tikv", "tidb"} {
			sts := buildSTS(t, tc, comp, StatefulSetOptions{})
			for _, v := range sts.Spec.Template.Spec.Volumes {
				if v.Secret != nil {
					t.Errorf("%s has secret volume %s", comp, v.Name)
				}
			}
			if cfg := mustCM(t, tc, comp).Data["config-file"]; strings.Contains(cfg, "security") {
				t.Errorf("%s config:\n%s", comp, cfg)
			}
		}
	})
}

func TestOwnerReferencesOnEveryObject(t *testing.T) {
	tc := basicCluster(t)
	var objs []metav1.Object
	for _, comp := range []string{"pd", "tikv", "tidb"} {
		objs = append(objs, buildSTS(t, tc, comp, StatefulSetOptions{}), mustCM(t, tc, comp))
	}
	objs = append(objs, PDService(tc), PDPeerService(tc), TiKVPeerService(tc), TiDBPeerService(tc), TiDBService(tc),
		DiscoveryDeployment(tc, "img"), DiscoveryService(tc), DiscoveryServiceAccount(tc), DiscoveryRole(tc), DiscoveryRoleBinding(tc))
	for _, o := range objs {
		refs := o.GetOwnerReferences()
		if len(refs) != 1 {
			t.Errorf("%s: %d owner references", o.GetName(), len(refs))
			continue
		}
		r := refs[0]
		if r.APIVersion != "pingcap.com/v1alpha1" || r.Kind != "TidbCluster" || r.Name != "basic" || r.UID != tc.UID ||
			r.Controller == nil || !*r.Controller || r.BlockOwnerDeletion == nil || !*r.BlockOwnerDeletion {
			t.Errorf("%s: owner reference %+v", o.GetName(), r)
		}
		if o.GetNamespace() != "demo" {
			t.Errorf("%s: namespace %q", o.GetName(), o.GetNamespace())
		}
	}
}

func TestBuildersAreDeterministic(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
		tc.Spec.Annotations = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}
		tc.Spec.NodeSelector = map[string]string{"a": "1", "b": "2", "c": "3"}
		tc.Spec.TiKV.Config = mustConfig(t, `{"a":{"b":1,"c":2,"d":3},"e":{"f":"g"},"h":[1,2],"i":1.5}`)
	})
	render := func() string {
		var b strings.Builder
		for _, comp := range []string{"pd", "tikv", "tidb"} {
			for _, o := range []any{mustCM(t, tc, comp), buildSTS(t, tc, comp, StatefulSetOptions{})} {
				y, err := yaml.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(y)
			}
		}
		return b.String()
	}
	first := render()
	for i := 0; i < 20; i++ {
		if render() != first {
			t.Fatalf("build %d differs from the first", i)
		}
	}
}

func TestTemplateEqual(t *testing.T) {
	tc := basicCluster(t)
	old := buildSTS(t, tc, "tidb", StatefulSetOptions{})
	same := buildSTS(t, tc, "tidb", StatefulSetOptions{Partition: new(int32(0))})
	if eq, err := TemplateEqual(same, old); err != nil || !eq {
		t.Errorf("a partition change is not a template change (eq=%v err=%v)", eq, err)
	}
	tc.Spec.TiDB.Annotations = map[string]string{"tidb.pingcap.com/restartedAt": "2026-01-01"}
	changed := buildSTS(t, tc, "tidb", StatefulSetOptions{})
	if eq, _ := TemplateEqual(changed, old); eq {
		t.Error("a new pod annotation must count as a template change (it is how users force a restart)")
	}
	delete(old.Annotations, label.LastAppliedConfigAnnKey)
	if eq, err := TemplateEqual(same, old); err != nil || eq {
		t.Error("without a record the templates must count as different")
	}
}

func TestTiKVLogTailers(t *testing.T) {
	cases := map[string]struct {
		mutate func(*v1alpha1.TidbCluster) // change to the basic cluster
		want   map[string]string           // tailer container -> file it tails
	}{
		"no tailers by default": {
			want: map[string]string{},
		},
		"both tailers read the data volume, before the tikv container": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiKV.SeparateRocksDBLog = new(true)
				tc.Spec.TiKV.SeparateRaftLog = new(true)
			},
			want: map[string]string{"rocksdblog": "/var/lib/tikv/rocksdb.info", "raftlog": "/var/lib/tikv/raftdb.info"},
		},
		"TiKV before 5.0 keeps its engine logs under db/ and raft/": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.Version = "v4.0.16"
				tc.Spec.TiKV.SeparateRocksDBLog = new(true)
				tc.Spec.TiKV.SeparateRaftLog = new(true)
			},
			want: map[string]string{"rocksdblog": "/var/lib/tikv/db/LOG", "raftlog": "/var/lib/tikv/raft/LOG"},
		},
		"a named storage volume holds the RocksDB log": {
			mutate: func(tc *v1alpha1.TidbCluster) {
				tc.Spec.TiKV.SeparateRocksDBLog = new(true)
				tc.Spec.TiKV.RocksDBLogVolumeName = "rocks"
				tc.Spec.TiKV.StorageVolumes = []v1alpha1.StorageVolume{{Name: "rocks", StorageSize: "1Gi", MountPath: "/rocks"}}
			},
			want: map[string]string{"rocksdblog": "/rocks/rocksdb.info"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
				if c.mutate != nil {
					c.mutate(tc)
				}
			})
			sts := buildSTS(t, tc, "tikv", StatefulSetOptions{})
			ctrs := sts.Spec.Template.Spec.Containers
			if ctrs[len(ctrs)-1].Name != "tikv" {
				t.Errorf("the tikv container must come last, got %v", ctrs)
			}
			got := map[string]string{}
			for _, ctr := range ctrs[:len(ctrs)-1] {
				f := strings.TrimSuffix(strings.Fields(ctr.Command[2])[1], ";")
				got[ctr.Name] = f
				if ctr.Image != "busybox:1.26.2" || len(ctr.VolumeMounts) != 1 || !strings.HasPrefix(f, ctr.VolumeMounts[0].MountPath+"/") {
					t.Errorf("tailer %+v", ctr)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("tailers %v, want %v", got, c.want)
			}
		})
	}
	t.Run("an unknown log volume is an error", func(t *testing.T) {
		tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
			tc.Spec.TiKV.SeparateRaftLog = new(true)
			tc.Spec.TiKV.RaftLogVolumeName = "nope"
		})
		if _, err := buildSTSErr(tc, "tikv", StatefulSetOptions{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestVolumeMountOrderFollowsV16(t *testing.T) {
	tc := basicCluster(t, func(tc *v1alpha1.TidbCluster) {
		tc.Spec.TLSCluster = &v1alpha1.TLSCluster{Enabled: true}
		tc.Spec.TiDB.TLSClient = &v1alpha1.TiDBTLSClient{Enabled: true}
		for _, cs := range []*v1alpha1.ComponentSpec{&tc.Spec.PD.ComponentSpec, &tc.Spec.TiKV.ComponentSpec, &tc.Spec.TiDB.ComponentSpec} {
			cs.AdditionalVolumes = []corev1.Volume{{Name: "extra", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			cs.AdditionalVolumeMounts = []corev1.VolumeMount{{Name: "extra", MountPath: "/extra"}}
		}
		sv := []v1alpha1.StorageVolume{{Name: "sv", StorageSize: "1Gi", MountPath: "/sv"}}
		tc.Spec.PD.StorageVolumes, tc.Spec.TiKV.StorageVolumes, tc.Spec.TiDB.StorageVolumes = sv, sv, sv
	})
	cases := map[string]struct {
		comp string   // component
		want []string // volume mount names of the main container, in order
	}{
		"PD: fixed mounts, TLS, storage volumes, additional mounts": {
			comp: "pd", want: []string{"annotations", "config", "startup-script", "pd", "pd-tls", "tidb-client-tls", "pd-sv", "extra"},
		},
		"TiKV: fixed mounts, additional mounts, TLS, storage volumes": {
			comp: "tikv", want: []string{"annotations", "tikv", "config", "startup-script", "extra", "tikv-tls", "tikv-sv"},
		},
		"TiDB: fixed mounts, TLS, storage volumes, additional mounts, slow log": {
			comp: "tidb", want: []string{"annotations", "config", "startup-script", "tidb-tls", "tidb-server-tls", "tidb-sv", "extra", "slowlog"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, m := range container(t, buildSTS(t, tc, c.comp, StatefulSetOptions{}), c.comp).VolumeMounts {
				got = append(got, m.Name)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("mounts %v, want %v", got, c.want)
			}
		})
	}
}
