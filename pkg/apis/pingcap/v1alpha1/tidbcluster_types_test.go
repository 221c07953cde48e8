package v1alpha1

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func TestComponentImages(t *testing.T) {
	cases := map[string]struct {
		// spec is the cluster spec under test.
		spec TidbClusterSpec
		// image reads the image of one component.
		image func(*TidbCluster) string
		// want is the expected image.
		want string
	}{
		"the cluster version tags the base image": {
			spec:  TidbClusterSpec{Version: "v8.5.2", PD: &PDSpec{BaseImage: "pingcap/pd"}},
			image: (*TidbCluster).PDImage,
			want:  "pingcap/pd:v8.5.2",
		},
		"a component version overrides the cluster version": {
			spec: TidbClusterSpec{Version: "v8.5.2", TiKV: &TiKVSpec{
				BaseImage: "registry.local/tikv", ComponentSpec: ComponentSpec{Version: ptr("v8.5.3")},
			}},
			image: (*TidbCluster).TiKVImage,
			want:  "registry.local/tikv:v8.5.3",
		},
		"an empty component version leaves the tag off even when the cluster has one": {
			spec:  TidbClusterSpec{Version: "v8.5.2", TiDB: &TiDBSpec{BaseImage: "pingcap/tidb", ComponentSpec: ComponentSpec{Version: ptr("")}}},
			image: (*TidbCluster).TiDBImage,
			want:  "pingcap/tidb",
		},
		"no version at all leaves the tag off": {
			spec:  TidbClusterSpec{TiFlash: &TiFlashSpec{BaseImage: "pingcap/tiflash"}},
			image: (*TidbCluster).TiFlashImage,
			want:  "pingcap/tiflash",
		},
		"the deprecated image is used when baseImage was emptied": {
			spec:  TidbClusterSpec{Version: "v8.5.2", TiCDC: &TiCDCSpec{ComponentSpec: ComponentSpec{Image: "old/ticdc:v4.0.0"}}},
			image: (*TidbCluster).TiCDCImage,
			want:  "old/ticdc:v4.0.0",
		},
		"baseImage wins over the deprecated image": {
			spec:  TidbClusterSpec{Version: "v8.5.2", Pump: &PumpSpec{BaseImage: "pingcap/tidb-binlog", ComponentSpec: ComponentSpec{Image: "old/pump:v1"}}},
			image: (*TidbCluster).PumpImage,
			want:  "pingcap/tidb-binlog:v8.5.2",
		},
		"an undefaulted spec falls back to the default base image": {
			spec:  TidbClusterSpec{Version: "v1.1.0", TiProxy: &TiProxySpec{}},
			image: (*TidbCluster).TiProxyImage,
			want:  "pingcap/tiproxy:v1.1.0",
		},
		"a missing component has no image": {
			spec:  TidbClusterSpec{Version: "v8.5.2"},
			image: (*TidbCluster).TiKVImage,
			want:  "",
		},
		"a PD micro-service resolves like PD": {
			spec: TidbClusterSpec{Version: "v8.5.2", PDMS: []PDMSSpec{{Name: PDMSTSO, BaseImage: "pingcap/pd"}}},
			image: func(tc *TidbCluster) string {
				return tc.PDMSImage(tc.PDMS(PDMSTSO))
			},
			want: "pingcap/pd:v8.5.2",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cluster := &TidbCluster{Spec: tc.spec}
			if got := tc.image(cluster); got != tc.want {
				t.Errorf("image = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHelperImage(t *testing.T) {
	cases := map[string]struct {
		// spec is the cluster spec under test.
		spec TidbClusterSpec
		// wantImage and wantPolicy are the expected helper image and pull policy.
		wantImage  string
		wantPolicy corev1.PullPolicy
	}{
		"defaults to busybox and the cluster's policy": {
			spec:       TidbClusterSpec{ImagePullPolicy: corev1.PullAlways},
			wantImage:  "busybox:1.26.2",
			wantPolicy: corev1.PullAlways,
		},
		"an undefaulted spec pulls if not present": {
			spec:       TidbClusterSpec{},
			wantImage:  "busybox:1.26.2",
			wantPolicy: corev1.PullIfNotPresent,
		},
		"the deprecated slow log tailer image is still honoured": {
			spec: TidbClusterSpec{TiDB: &TiDBSpec{SlowLogTailer: &TiDBSlowLogTailerSpec{
				Image: ptr("old/busybox:1"), ImagePullPolicy: ptr(corev1.PullNever),
			}}},
			wantImage:  "old/busybox:1",
			wantPolicy: corev1.PullNever,
		},
		"spec.helper wins over the slow log tailer": {
			spec: TidbClusterSpec{
				Helper: &HelperSpec{Image: ptr("new/busybox:2"), ImagePullPolicy: ptr(corev1.PullAlways)},
				TiDB:   &TiDBSpec{SlowLogTailer: &TiDBSlowLogTailerSpec{Image: ptr("old/busybox:1")}},
			},
			wantImage:  "new/busybox:2",
			wantPolicy: corev1.PullAlways,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cluster := &TidbCluster{Spec: tc.spec}
			if got := cluster.HelperImage(); got != tc.wantImage {
				t.Errorf("HelperImage() = %q, want %q", got, tc.wantImage)
			}
			if got := cluster.HelperImagePullPolicy(); got != tc.wantPolicy {
				t.Errorf("HelperImagePullPolicy() = %q, want %q", got, tc.wantPolicy)
			}
		})
	}
}

func TestDesiredReplicas(t *testing.T) {
	cases := map[string]struct {
		// cluster is the object under test.
		cluster TidbCluster
		// want lists the expected PD, TiKV, TiDB and TiFlash StatefulSet replicas.
		want [4]int32
		// wantSpec lists the expected spec replicas of the same components.
		wantSpec [4]int32
	}{
		"no components means no replicas": {
			cluster: TidbCluster{},
		},
		"without failures the spec replicas stand": {
			cluster: TidbCluster{Spec: TidbClusterSpec{
				PD: &PDSpec{Replicas: 3}, TiKV: &TiKVSpec{Replicas: 4}, TiDB: &TiDBSpec{Replicas: 2}, TiFlash: &TiFlashSpec{Replicas: 1},
			}},
			want:     [4]int32{3, 4, 2, 1},
			wantSpec: [4]int32{3, 4, 2, 1},
		},
		"only PD failure members already deleted from PD add a pod": {
			cluster: TidbCluster{
				Spec: TidbClusterSpec{PD: &PDSpec{Replicas: 3}},
				Status: TidbClusterStatus{PD: PDStatus{FailureMembers: map[string]PDFailureMember{
					"basic-pd-0": {MemberDeleted: true},
					"basic-pd-1": {MemberDeleted: false},
				}}},
			},
			want:     [4]int32{4, 0, 0, 0},
			wantSpec: [4]int32{3, 0, 0, 0},
		},
		"every store and member failure adds a pod": {
			cluster: TidbCluster{
				Spec: TidbClusterSpec{TiKV: &TiKVSpec{Replicas: 3}, TiDB: &TiDBSpec{Replicas: 2}, TiFlash: &TiFlashSpec{Replicas: 2}},
				Status: TidbClusterStatus{
					TiKV:    TiKVStatus{FailureStores: map[string]TiKVFailureStore{"1": {}, "4": {}}},
					TiDB:    TiDBStatus{FailureMembers: map[string]TiDBFailureMember{"basic-tidb-1": {}}},
					TiFlash: TiFlashStatus{FailureStores: map[string]TiKVFailureStore{"9": {}}},
				},
			},
			want:     [4]int32{0, 5, 3, 3},
			wantSpec: [4]int32{0, 3, 2, 2},
		},
		"a volume replacement adds one spare pod by default": {
			cluster: TidbCluster{
				Spec:   TidbClusterSpec{PD: &PDSpec{Replicas: 3}, TiKV: &TiKVSpec{Replicas: 3, SpareVolReplaceReplicas: ptr[int32](2)}},
				Status: TidbClusterStatus{PD: PDStatus{VolReplaceInProgress: true}, TiKV: TiKVStatus{VolReplaceInProgress: true}},
			},
			want:     [4]int32{4, 5, 0, 0},
			wantSpec: [4]int32{3, 3, 0, 0},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &tc.cluster
			got := [4]int32{c.PDStsDesiredReplicas(), c.TiKVStsDesiredReplicas(), c.TiDBStsDesiredReplicas(), c.TiFlashStsDesiredReplicas()}
			if got != tc.want {
				t.Errorf("desired StatefulSet replicas = %v, want %v", got, tc.want)
			}
			gotSpec := [4]int32{c.PDReplicas(), c.TiKVReplicas(), c.TiDBReplicas(), c.TiFlashReplicas()}
			if gotSpec != tc.wantSpec {
				t.Errorf("spec replicas = %v, want %v", gotSpec, tc.wantSpec)
			}
		})
	}
}

func TestClusterTopology(t *testing.T) {
	cases := map[string]struct {
		// spec is the cluster spec under test (namespace "ns").
		spec TidbClusterSpec
		// The expected answers of the topology helpers.
		heterogeneous, withoutLocalPD, hasPDSource, needsPD, needsDiscovery bool
		// refNamespace is the expected ClusterRefNamespace().
		refNamespace string
	}{
		"a plain cluster runs its own PD": {
			spec:        TidbClusterSpec{PD: &PDSpec{Replicas: 3}, TiKV: &TiKVSpec{Replicas: 3}},
			hasPDSource: true, needsPD: true, needsDiscovery: true,
		},
		"a TiFlash-only cluster joins another cluster's PD in its own namespace": {
			spec:          TidbClusterSpec{Cluster: &TidbClusterRef{Name: "basic"}, TiFlash: &TiFlashSpec{Replicas: 1}},
			heterogeneous: true, withoutLocalPD: true, hasPDSource: true, needsPD: true,
			refNamespace: "ns",
		},
		"a reference may name another namespace": {
			spec:          TidbClusterSpec{Cluster: &TidbClusterRef{Name: "basic", Namespace: "other"}, TiDB: &TiDBSpec{}},
			heterogeneous: true, withoutLocalPD: true, hasPDSource: true, needsPD: true,
			refNamespace: "other",
		},
		"a reference without a name does not count": {
			spec:    TidbClusterSpec{Cluster: &TidbClusterRef{}, TiKV: &TiKVSpec{}},
			needsPD: true,
		},
		"external PD addresses are a PD source": {
			spec:        TidbClusterSpec{PDAddresses: []string{"http://pd.example:2379"}, TiKV: &TiKVSpec{}},
			hasPDSource: true, needsPD: true,
		},
		"PD micro-services need a PD": {
			spec:    TidbClusterSpec{PDMS: []PDMSSpec{{Name: PDMSScheduling}}},
			needsPD: true,
		},
		"across Kubernetes clusters discovery runs without a local PD": {
			spec:          TidbClusterSpec{AcrossK8s: true, Cluster: &TidbClusterRef{Name: "first"}, TiKV: &TiKVSpec{}},
			heterogeneous: true, withoutLocalPD: true, hasPDSource: true, needsPD: true, needsDiscovery: true,
			refNamespace: "ns",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &TidbCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns"}, Spec: tc.spec}
			got := []bool{c.Heterogeneous(), c.HeterogeneousWithoutLocalPD(), c.HasPDSource(), c.NeedsPD(), c.NeedsDiscovery()}
			want := []bool{tc.heterogeneous, tc.withoutLocalPD, tc.hasPDSource, tc.needsPD, tc.needsDiscovery}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("[Heterogeneous WithoutLocalPD HasPDSource NeedsPD NeedsDiscovery] = %v, want %v", got, want)
			}
			if got := c.ClusterRefNamespace(); got != tc.refNamespace {
				t.Errorf("ClusterRefNamespace() = %q, want %q", got, tc.refNamespace)
			}
		})
	}
}

func TestSpecDefaults(t *testing.T) {
	empty := &TidbCluster{Spec: TidbClusterSpec{TiKV: &TiKVSpec{}, TiDB: &TiDBSpec{}, TiCDC: &TiCDCSpec{}}}
	if got := empty.Timezone(); got != "UTC" {
		t.Errorf("Timezone() = %q, want UTC", got)
	}
	if got := empty.PVReclaimPolicy(); got != "Retain" {
		t.Errorf("PVReclaimPolicy() = %q, want Retain", got)
	}
	if got := empty.StartScriptVersion(); got != StartScriptV1 {
		t.Errorf("StartScriptVersion() = %q, want v1", got)
	}
	if !empty.Spec.TiDB.ShouldSeparateSlowLog() {
		t.Error("the slow log is separated unless turned off")
	}
	if !(&TiDBServiceSpec{}).ShouldExposeStatus() {
		t.Error("the status port is exposed unless turned off")
	}
	if empty.IsTLSClusterEnabled() || empty.IsTiDBTLSClientEnabled() || empty.IsPDMicroServiceMode() {
		t.Error("TLS and PD micro-service mode are off unless turned on")
	}
	if got := empty.Spec.TiKV.EvictLeaderTimeoutOrDefault(); got != 1500*time.Minute {
		t.Errorf("EvictLeaderTimeoutOrDefault() = %v, want 1500m", got)
	}
	if got := empty.Spec.TiKV.WaitLeaderTransferBackTimeoutOrDefault(); got != 400*time.Second {
		t.Errorf("WaitLeaderTransferBackTimeoutOrDefault() = %v, want 400s", got)
	}
	if got := empty.Spec.TiCDC.GracefulShutdownTimeoutOrDefault(); got != 10*time.Minute {
		t.Errorf("GracefulShutdownTimeoutOrDefault() = %v, want 10m", got)
	}

	set := &TidbCluster{Spec: TidbClusterSpec{
		Timezone:           "Asia/Shanghai",
		PVReclaimPolicy:    ptr[PVReclaimPolicy]("Delete"),
		StartScriptVersion: StartScriptV2,
		TLSCluster:         &TLSCluster{Enabled: true},
		PD:                 &PDSpec{Mode: PDModeMicroService},
		TiKV: &TiKVSpec{
			EvictLeaderTimeout:            ptr("30m"),
			WaitLeaderTransferBackTimeout: &metav1.Duration{Duration: time.Minute},
		},
		TiDB:  &TiDBSpec{SeparateSlowLog: ptr(false), TLSClient: &TiDBTLSClient{Enabled: true}},
		TiCDC: &TiCDCSpec{GracefulShutdownTimeout: &metav1.Duration{Duration: 2 * time.Minute}},
	}}
	if got := set.Timezone(); got != "Asia/Shanghai" {
		t.Errorf("Timezone() = %q", got)
	}
	if got := set.PVReclaimPolicy(); got != "Delete" {
		t.Errorf("PVReclaimPolicy() = %q, want Delete", got)
	}
	if got := set.StartScriptVersion(); got != StartScriptV2 {
		t.Errorf("StartScriptVersion() = %q, want v2", got)
	}
	if set.Spec.TiDB.ShouldSeparateSlowLog() {
		t.Error("separateSlowLog: false must turn the tailer off")
	}
	if !set.IsTLSClusterEnabled() || !set.IsTiDBTLSClientEnabled() || !set.IsPDMicroServiceMode() {
		t.Error("TLS and PD micro-service mode must follow the spec")
	}
	if got := set.Spec.TiKV.EvictLeaderTimeoutOrDefault(); got != 30*time.Minute {
		t.Errorf("EvictLeaderTimeoutOrDefault() = %v, want 30m", got)
	}
	set.Spec.TiKV.EvictLeaderTimeout = ptr("soon")
	if got := set.Spec.TiKV.EvictLeaderTimeoutOrDefault(); got != 1500*time.Minute {
		t.Errorf("an unparsable evictLeaderTimeout gave %v, want the 1500m default", got)
	}
	if got := set.Spec.TiKV.WaitLeaderTransferBackTimeoutOrDefault(); got != time.Minute {
		t.Errorf("WaitLeaderTransferBackTimeoutOrDefault() = %v, want 1m", got)
	}
	if got := set.Spec.TiCDC.GracefulShutdownTimeoutOrDefault(); got != 2*time.Minute {
		t.Errorf("GracefulShutdownTimeoutOrDefault() = %v, want 2m", got)
	}
}

func TestStatusCondition(t *testing.T) {
	s := &TidbClusterStatus{Conditions: []TidbClusterCondition{
		{Type: "Other", Status: corev1.ConditionFalse},
		{Type: TidbClusterReady, Status: corev1.ConditionTrue, Reason: ReasonReady},
	}}
	c := s.Condition(TidbClusterReady)
	if c == nil || c.Reason != ReasonReady {
		t.Fatalf("Condition(Ready) = %+v, want the Ready condition", c)
	}
	c.Message = "changed"
	if s.Conditions[1].Message != "changed" {
		t.Error("Condition must return a pointer into the status so callers can update it")
	}
	if s.Condition("Missing") != nil {
		t.Error("Condition of an absent type must be nil")
	}
	if !UpgradePhase.IsUpgradingOrScaling() || !ScalePhase.IsUpgradingOrScaling() || NormalPhase.IsUpgradingOrScaling() || SuspendPhase.IsUpgradingOrScaling() {
		t.Error("only Upgrade and Scale hold dependants back")
	}
}

// v16Manifest is a TidbCluster as TiDB Operator v1.6 users write and v1.6 writes back (status
// included), touching every kind of field: cluster-level pod settings, each component with its
// own extras, both config forms, and the map- and list-shaped status.
const v16Manifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "TidbCluster",
  "metadata": {"name": "basic", "namespace": "tidb", "labels": {"app.kubernetes.io/instance": "basic"},
    "annotations": {"tidb.pingcap.com/pd-min-ready-seconds": "10"}},
  "spec": {
    "version": "v8.5.2",
    "timezone": "Asia/Shanghai",
    "pvReclaimPolicy": "Retain",
    "imagePullPolicy": "IfNotPresent",
    "imagePullSecrets": [{"name": "regcred"}],
    "configUpdateStrategy": "RollingUpdate",
    "enableDynamicConfiguration": true,
    "enablePVReclaim": false,
    "enablePVCReplace": true,
    "paused": false,
    "recoveryMode": false,
    "schedulerName": "tidb-scheduler",
    "serviceAccount": "tidb",
    "clusterDomain": "cluster.local",
    "acrossK8s": false,
    "preferIPv6": false,
    "startScriptVersion": "v2",
    "startScriptV2FeatureFlags": ["WaitForDnsNameIpMatch"],
    "statefulSetUpdateStrategy": "RollingUpdate",
    "podManagementPolicy": "Parallel",
    "hostNetwork": false,
    "priorityClassName": "tidb-high",
    "nodeSelector": {"disk": "ssd"},
    "annotations": {"team": "db"},
    "labels": {"env": "prod"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "tidb", "effect": "NoSchedule"}],
    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
      "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app.kubernetes.io/instance": "basic"}}}}]}},
    "dnsPolicy": "ClusterFirst",
    "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
    "podSecurityContext": {"runAsUser": 1000, "fsGroup": 2000, "sysctls": [{"name": "net.core.somaxconn", "value": "32768"}]},
    "topologySpreadConstraints": [{"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1}],
    "tlsCluster": {"enabled": true},
    "suspendAction": {"suspendStatefulSet": false},
    "services": [{"name": "pd", "type": "ClusterIP"}],
    "pdAddresses": ["http://other-pd.tidb.svc:2379"],
    "cluster": {"name": "first", "namespace": "tidb", "clusterDomain": "cluster.local"},
    "helper": {"image": "alpine:3.20", "imagePullPolicy": "IfNotPresent"},
    "discovery": {"limits": {"cpu": "200m", "memory": "256Mi"}, "requests": {"cpu": "50m"},
      "livenessProbe": {"type": "tcp", "initialDelaySeconds": 10, "periodSeconds": 5}},
    "pd": {
      "baseImage": "pingcap/pd", "replicas": 3, "maxFailoverCount": 3, "mode": "ms",
      "requests": {"storage": "10Gi", "cpu": "1"}, "limits": {"memory": "4Gi"},
      "storageClassName": "local-storage", "dataSubDir": "data", "startTimeout": 30, "initWaitTime": 0,
      "enableDashboardInternalProxy": true, "mountClusterClientSecret": true, "spareVolReplaceReplicas": 1,
      "startUpScriptVersion": "v1", "tlsClientSecretName": "basic-pd-dashboard",
      "service": {"type": "NodePort", "port": 2379, "portName": "client", "annotations": {"a": "b"},
        "loadBalancerSourceRanges": ["10.0.0.0/8"]},
      "storageVolumes": [{"name": "log", "storageSize": "1Gi", "mountPath": "/var/log/pd"}],
      "readinessProbe": {"type": "tcp"},
      "env": [{"name": "GOMAXPROCS", "value": "2"}],
      "additionalContainers": [{"name": "pd", "resources": {}}],
      "additionalVolumes": [{"name": "extra", "emptyDir": {}}],
      "additionalVolumeMounts": [{"name": "extra", "mountPath": "/extra"}],
      "terminationGracePeriodSeconds": 60,
      "config": {"log": {"level": "info"}, "replication": {"location-labels": ["zone", "host"], "max-replicas": 3},
        "schedule": {"leader-schedule-limit": 4, "tolerant-size-ratio": 2.5}}
    },
    "pdms": [
      {"name": "tso", "baseImage": "pingcap/pd", "replicas": 2, "startTimeout": 30, "config": "[log]\nlevel = \"warn\"\n"},
      {"name": "scheduling", "baseImage": "pingcap/pd", "replicas": 1, "startTimeout": 30}
    ],
    "tikv": {
      "baseImage": "pingcap/tikv", "replicas": 3, "maxFailoverCount": 3, "privileged": false,
      "requests": {"storage": "100Gi"}, "storageClassName": "local-storage", "dataSubDir": "d",
      "evictLeaderTimeout": "3m", "waitLeaderTransferBackTimeout": "6m40s",
      "separateRocksDBLog": true, "separateRaftLog": true, "rocksDBLogVolumeName": "rocksdblog", "raftLogVolumeName": "raftlog",
      "logTailer": {"limits": {"cpu": "100m"}},
      "recoverFailover": true, "failover": {"recoverByUID": "7b8c"},
      "mountClusterClientSecret": true, "enableNamedStatusPort": true,
      "storeLabels": ["rack"], "scalePolicy": {"scaleInParallelism": 2, "scaleOutParallelism": 3},
      "spareVolReplaceReplicas": 1,
      "storageVolumes": [{"name": "rocksdblog", "storageSize": "1Gi", "storageClassName": "fast"}],
      "suspendAction": {"suspendStatefulSet": true},
      "config": "[storage]\nreserve-space = \"0MB\"\n[raftstore]\nsync-log = true\n"
    },
    "tidb": {
      "baseImage": "pingcap/tidb", "replicas": 2, "maxFailoverCount": 3,
      "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "exposeStatus": false,
        "mysqlNodePort": 30020, "statusNodePort": 30040, "loadBalancerClass": "lb",
        "additionalPorts": [{"name": "extra", "port": 4001, "targetPort": 4000, "protocol": "TCP"}]},
      "binlogEnabled": false, "separateSlowLog": true, "slowLogVolumeName": "slowlog",
      "slowLogTailer": {"image": "busybox:1.36", "imagePullPolicy": "Always", "limits": {"cpu": "100m"}},
      "tlsClient": {"enabled": true, "disableClientAuthn": true, "skipInternalClientCA": true},
      "tokenBasedAuthEnabled": true, "plugins": ["audit-1"],
      "lifecycle": {"preStop": {"exec": {"command": ["sleep", "10"]}}},
      "initializer": {"createPassword": true},
      "bootstrapSQLConfigMapName": "bootstrap-sql",
      "scalePolicy": {"scaleInParallelism": 1, "scaleOutParallelism": 1},
      "customizedStartupProbe": {"image": "probe:1", "binaryName": "/probe", "args": ["--x"],
        "initialDelaySeconds": 1, "timeoutSeconds": 2, "periodSeconds": 3, "successThreshold": 1, "failureThreshold": 5},
      "arguments": ["--log-slow-query=/var/log/slow.log"],
      "storageVolumes": [{"name": "slowlog", "storageSize": "1Gi"}],
      "config": {"log": {"slow-threshold": 300}, "performance": {"max-procs": 0}}
    },
    "tiflash": {
      "baseImage": "pingcap/tiflash", "replicas": 1, "maxFailoverCount": 0, "privileged": false,
      "storageClaims": [{"resources": {"requests": {"storage": "100Gi"}}, "storageClassName": "local-storage"}],
      "config": {"config": "[flash]\noverlap_threshold = 0.6\n", "proxy": {"log-level": "info"}},
      "logTailer": {"limits": {"memory": "64Mi"}}, "initializer": {"requests": {"cpu": "10m"}},
      "recoverFailover": false, "failover": {"recoverByUID": "a1"},
      "scalePolicy": {"scaleInParallelism": 1, "scaleOutParallelism": 1}
    },
    "ticdc": {
      "baseImage": "pingcap/ticdc", "replicas": 2, "gracefulShutdownTimeout": "10m0s",
      "tlsClientSecretNames": ["kafka-tls"], "storageClassName": "std",
      "storageVolumes": [{"name": "sort-dir", "storageSize": "10Gi", "mountPath": "/var/lib/sort-dir"}],
      "config": {"per-table-memory-quota": 10485760}
    },
    "tiproxy": {
      "baseImage": "pingcap/tiproxy", "replicas": 2, "sslEnableTiDB": true, "certLayout": "v1",
      "tlsClientSecretName": "tiproxy-tidb", "storageClassName": "std",
      "config": {"proxy": {"max-connections": 1000}}
    },
    "pump": {
      "baseImage": "pingcap/tidb-binlog", "replicas": 1, "requests": {"storage": "20Gi"},
      "storageClassName": "std", "setTimeZone": true, "config": {"gc": 7}
    }
  },
  "status": {
    "clusterID": "7301234567890123456",
    "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "TiDB cluster is fully up and running",
      "lastUpdateTime": "2025-01-02T03:04:05Z", "lastTransitionTime": "2025-01-02T03:04:05Z"}],
    "pd": {
      "synced": true, "phase": "Normal", "image": "pingcap/pd:v8.5.2", "volReplaceInProgress": false,
      "statefulSet": {"replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 3,
        "currentRevision": "basic-pd-6d8f", "updateRevision": "basic-pd-6d8f", "collisionCount": 0, "observedGeneration": 4, "availableReplicas": 3},
      "members": {"basic-pd-0": {"name": "basic-pd-0", "id": "123", "clientURL": "http://basic-pd-0.basic-pd-peer.tidb.svc:2379",
        "health": true, "lastTransitionTime": "2025-01-02T03:00:00Z"}},
      "peerMembers": {"first-pd-0": {"name": "first-pd-0", "id": "9", "clientURL": "http://first-pd-0.first-pd-peer.tidb.svc:2379", "health": false}},
      "leader": {"name": "basic-pd-0", "id": "123", "clientURL": "http://basic-pd-0.basic-pd-peer.tidb.svc:2379", "health": true,
        "lastTransitionTime": "2025-01-02T03:00:00Z"},
      "failureMembers": {"basic-pd-2": {"podName": "basic-pd-2", "memberID": "77", "pvcUID": "u1", "pvcUIDSet": {"u1": {}},
        "memberDeleted": true, "hostDown": false, "createdAt": "2025-01-02T03:00:00Z"}},
      "unjoinedMembers": {"basic-pd-3": {"podName": "basic-pd-3", "pvcUIDSet": {"u2": {}}, "createdAt": "2025-01-02T03:00:00Z"}},
      "volumes": {"pd": {"name": "pd", "boundCount": 3, "currentCount": 3, "modifiedCount": 0,
        "currentCapacity": "10Gi", "modifiedCapacity": "10Gi", "currentStorageClass": "local-storage", "modifiedStorageClass": "local-storage",
        "resizedCount": 3, "resizedCapacity": "10Gi"}},
      "conditions": [{"type": "LeaderEvicting", "status": "False", "reason": "Done", "message": "", "lastTransitionTime": "2025-01-02T03:00:00Z", "observedGeneration": 4}]
    },
    "pdms": {"tso": {"name": "tso", "synced": true, "phase": "Normal", "members": ["http://basic-tso-0.basic-tso-peer.tidb.svc:2379"],
      "image": "pingcap/pd:v8.5.2", "statefulSet": {"replicas": 2}}},
    "tikv": {
      "synced": true, "phase": "Upgrade", "bootStrapped": true, "image": "pingcap/tikv:v8.5.2", "failoverUID": "7b8c",
      "statefulSet": {"replicas": 4, "readyReplicas": 4},
      "stores": {"1": {"id": "1", "podName": "basic-tikv-0", "ip": "basic-tikv-0.basic-tikv-peer.tidb.svc", "leaderCount": 10,
        "state": "Up", "lastTransitionTime": "2025-01-02T03:00:00Z", "leaderCountBeforeUpgrade": 12}},
      "peerStores": {"5": {"id": "5", "podName": "first-tikv-0", "ip": "first-tikv-0.first-tikv-peer.tidb.svc", "leaderCount": 0, "state": "Up"}},
      "tombstoneStores": {"4": {"id": "4", "podName": "basic-tikv-3", "ip": "x", "leaderCount": 0, "state": "Tombstone"}},
      "failureStores": {"2": {"podName": "basic-tikv-1", "storeID": "2", "pvcUIDSet": {"u3": {}}, "storeDeleted": true, "hostDown": true,
        "createdAt": "2025-01-02T03:00:00Z"}},
      "evictLeader": {"basic-tikv-0": {"podCreateTime": "2025-01-02T03:00:00Z", "beginTime": "2025-01-02T03:01:00Z", "value": "delete-pod"}}
    },
    "tidb": {
      "phase": "Normal", "image": "pingcap/tidb:v8.5.2", "passwordInitialized": true, "resignDDLOwnerRetryCount": 1,
      "members": {"basic-tidb-0": {"name": "basic-tidb-0", "health": true, "node": "node-1", "lastTransitionTime": "2025-01-02T03:00:00Z"}},
      "failureMembers": {"basic-tidb-1": {"podName": "basic-tidb-1", "createdAt": "2025-01-02T03:00:00Z"}}
    },
    "tiflash": {"synced": true, "phase": "Scale", "failoverUID": "a1",
      "stores": {"9": {"id": "9", "podName": "basic-tiflash-0", "ip": "y", "leaderCount": 0, "state": "Up"}}},
    "ticdc": {"synced": true, "phase": "Normal",
      "captures": {"basic-ticdc-0": {"podName": "basic-ticdc-0", "id": "c1", "version": "v8.5.2", "isOwner": true, "ready": true}}},
    "tiproxy": {"synced": true, "phase": "Normal",
      "members": {"basic-tiproxy-0": {"name": "basic-tiproxy-0", "health": true, "info": "ok"}}},
    "pump": {"phase": "Normal", "members": [{"nodeId": "basic-pump-0:8250", "host": "basic-pump-0.basic-pump:8250", "state": "online"}]}
  }
}`

func TestV16ManifestRoundTrip(t *testing.T) {
	var tc TidbCluster
	if err := json.Unmarshal([]byte(v16Manifest), &tc); err != nil {
		t.Fatalf("a v1.6 manifest must decode: %v", err)
	}
	out, err := json.Marshal(&tc)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var want, got map[string]any
	if err := json.Unmarshal([]byte(v16Manifest), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	// Every value written must come back unchanged ...
	for _, d := range missingFrom(want, got, "") {
		t.Errorf("lost or changed on round trip: %s", d)
	}
	// ... and nothing may be added except empty values (such as creationTimestamp: null or an
	// empty status of an absent component). Zero values written explicitly (paused: false) may
	// be dropped, since reading them back gives the same object.
	for _, d := range missingFrom(got, want, "") {
		t.Errorf("added on round trip: %s", d)
	}

	// Spot-check that the typed view is right, not just the bytes.
	if tc.Spec.PD.Replicas != 3 || tc.Spec.PD.Mode != PDModeMicroService || tc.Spec.PD.Requests.Storage().String() != "10Gi" {
		t.Errorf("pd decoded wrong: %+v", tc.Spec.PD)
	}
	if doc, ok := tc.Spec.TiKV.Config.TOML(); !ok || doc == "" {
		t.Error("the TOML form of tikv.config must be kept as TOML")
	}
	if m, ok, err := tc.Spec.TiDB.Config.Map(); err != nil || !ok || m["log"] == nil {
		t.Errorf("the map form of tidb.config must be kept as a map: %v %v %v", m, ok, err)
	}
	if tc.Spec.TiKV.WaitLeaderTransferBackTimeoutOrDefault() != 400*time.Second {
		t.Errorf("waitLeaderTransferBackTimeout decoded to %v", tc.Spec.TiKV.WaitLeaderTransferBackTimeout)
	}
	if tc.PDMS(PDMSScheduling) == nil || tc.PDMS(PDMSScheduling).Replicas != 1 {
		t.Error("pdms scheduling entry lost")
	}
	if s := tc.Status.TiKV.Stores["1"]; s.LeaderCountBeforeUpgrade == nil || *s.LeaderCountBeforeUpgrade != 12 {
		t.Errorf("tikv store decoded wrong: %+v", s)
	}
	if tc.Status.PD.Leader == nil || !tc.Status.PD.Leader.Health {
		t.Errorf("pd leader decoded wrong: %+v", tc.Status.PD.Leader)
	}
	if c := tc.Status.Condition(TidbClusterReady); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("Ready condition decoded wrong: %+v", c)
	}
	if _, ok := tc.Status.PD.FailureMembers["basic-pd-2"].PVCUIDSet["u1"]; !ok {
		t.Error("pvcUIDSet lost its member")
	}
	if got := tc.TiKVStsDesiredReplicas(); got != 4 {
		t.Errorf("TiKVStsDesiredReplicas() = %d, want 4 (3 + one failure store)", got)
	}
}

func TestRoundTripCheckerNoticesLoss(t *testing.T) {
	// The round-trip test is only worth something if its comparison fails on a real loss.
	want := map[string]any{"a": map[string]any{"b": "x", "c": []any{1.0, map[string]any{"d": true}}}}
	got := map[string]any{"a": map[string]any{"b": "x", "c": []any{1.0, map[string]any{}}}, "e": nil, "f": false}
	diffs := missingFrom(want, got, "")
	if len(diffs) != 1 || diffs[0] != ".a.c[1].d: want true, got <missing>" {
		t.Errorf("missingFrom = %q, want exactly the lost .a.c[1].d", diffs)
	}
	changed := map[string]any{"a": map[string]any{"b": "y", "c": []any{1.0, map[string]any{"d": true}}}}
	if diffs := missingFrom(want, changed, ""); len(diffs) != 1 || diffs[0] != ".a.b: want x, got y" {
		t.Errorf("missingFrom = %q, want exactly the changed .a.b", diffs)
	}
	if extra := missingFrom(got, want, ""); len(extra) != 0 {
		t.Errorf("null and zero values must not count as additions: %q", extra)
	}
}

// missingFrom lists the non-empty values of want that are absent from, or different in, got.
func missingFrom(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				if !isEmpty(w[k]) {
					out = append(out, fmt.Sprintf("%s.%s: want %v, got <missing>", path, k, w[k]))
				}
				continue
			}
			out = append(out, missingFrom(w[k], gv, path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, w, got)}
		}
		var out []string
		for i := range w {
			out = append(out, missingFrom(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if isEmpty(want) && isEmpty(got) {
			return nil
		}
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
		}
		return nil
	}
}

// isEmpty reports whether a decoded JSON value carries nothing a reader could tell from the field
// being absent: null, false, 0, "", or an object or list of such values. Fields marked omitempty
// drop these on the way out, and absent optional fields read as them on the way in.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case map[string]any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	}
	return false
}
