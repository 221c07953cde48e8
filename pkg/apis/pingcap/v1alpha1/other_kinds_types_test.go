package v1alpha1_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

// The manifests below are written the way v1.6 users write them (field names, nesting, the
// free-form config in both its TOML-string and map forms). Each must decode without unknown
// fields and encode back to the same document, which proves every field exists in our types
// with the v1.6 JSON name and a shape that keeps the value.

const tidbInitializerManifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "TidbInitializer",
  "metadata": {"name": "demo-init", "namespace": "demo"},
  "spec": {
    "image": "tnir/mysqlclient",
    "imagePullPolicy": "IfNotPresent",
    "imagePullSecrets": [{"name": "registry"}],
    "cluster": {"namespace": "demo", "name": "demo", "clusterDomain": "cluster.local"},
    "initSql": "create database app;",
    "initSqlConfigMap": "tidb-initsql",
    "passwordSecret": "tidb-secret",
    "permitHost": "172.6.5.8",
    "resources": {"limits": {"cpu": "1", "memory": "500Mi"}, "requests": {"cpu": "100m", "memory": "50Mi"}},
    "timezone": "Asia/Shanghai",
    "tlsClientSecretName": "demo-tidb-client-secret",
    "nodeSelector": {"disktype": "ssd"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "tidb", "effect": "NoSchedule"}],
    "podSecurityContext": {"runAsUser": 1000, "fsGroup": 2000}
  },
  "status": {
    "phase": "Completed",
    "succeeded": 1,
    "startTime": "2024-01-02T03:04:05Z",
    "completionTime": "2024-01-02T03:05:05Z",
    "conditions": [{"type": "Complete", "status": "True", "lastProbeTime": "2024-01-02T03:05:05Z", "lastTransitionTime": "2024-01-02T03:05:05Z"}]
  }
}`

const tidbMonitorManifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "TidbMonitor",
  "metadata": {"name": "basic", "namespace": "demo"},
  "spec": {
    "clusters": [{"name": "basic"}, {"name": "other", "namespace": "prod", "clusterDomain": "cluster.local"}],
    "dm": {
      "clusters": [{"name": "basic-dm"}],
      "initializer": {"baseImage": "pingcap/dm-monitor-initializer", "version": "v8.5.0"}
    },
    "prometheus": {
      "baseImage": "prom/prometheus",
      "version": "v2.27.1",
      "imagePullPolicy": "IfNotPresent",
      "requests": {"cpu": "250m", "memory": "1Gi"},
      "limits": {"memory": "4Gi"},
      "logLevel": "info",
      "reserveDays": 12,
      "retentionTime": "15d",
      "disableCompaction": true,
      "service": {"type": "NodePort", "portName": "http-prometheus", "loadBalancerSourceRanges": ["10.0.0.0/8"]},
      "ingress": {
        "hosts": ["prometheus.example.com"],
        "annotations": {"kubernetes.io/ingress.class": "nginx"},
        "tls": [{"hosts": ["prometheus.example.com"], "secretName": "prometheus-tls"}]
      },
      "config": {
        "configMapRef": {"name": "custom-prometheus", "namespace": "demo"},
        "ruleConfigRef": {"name": "extra-rules"},
        "commandOptions": ["--log.format=json"]
      },
      "remoteWrite": [{
        "url": "http://thanos-receive:19291/api/v1/receive",
        "name": "receive",
        "remoteTimeout": "30s",
        "headers": {"X-Scope-OrgID": "tenant-a"},
        "writeRelabelConfigs": [{"sourceLabels": ["__name__"], "separator": ";", "regex": "up", "action": "keep", "modulus": 4, "targetLabel": "t", "replacement": "$1"}],
        "basicAuth": {"username": {"name": "rw-auth", "key": "user"}, "password": {"name": "rw-auth", "key": "password"}},
        "bearerToken": "token",
        "bearerTokenFile": "/var/run/token",
        "tlsConfig": {"ca": {"configMap": {"name": "ca", "key": "ca.crt"}}, "cert": {"secret": {"name": "client", "key": "tls.crt"}}, "keySecret": {"name": "client", "key": "tls.key"}, "serverName": "receive", "caFile": "/etc/ca.crt"},
        "proxyUrl": "http://proxy:3128",
        "queueConfig": {"capacity": 2500, "minShards": 1, "maxShards": 200, "maxSamplesPerSend": 500, "batchSendDeadline": 5000000000, "maxRetries": 10, "minBackoff": 30000000, "maxBackoff": 100000000},
        "metadataConfig": {"send": true, "sendInterval": "1m"}
      }],
      "additionalVolumeMounts": [{"name": "extra", "mountPath": "/extra"}]
    },
    "grafana": {
      "baseImage": "grafana/grafana",
      "version": "7.5.11",
      "logLevel": "info",
      "username": "admin",
      "password": "admin",
      "usernameSecret": {"name": "grafana-auth", "key": "user"},
      "passwordSecret": {"name": "grafana-auth", "key": "password"},
      "envs": {"GF_AUTH_ANONYMOUS_ENABLED": "true"},
      "service": {"type": "ClusterIP", "port": 3000},
      "ingress": {"hosts": ["grafana.example.com"]}
    },
    "initializer": {"baseImage": "pingcap/tidb-monitor-initializer", "version": "v8.5.0", "envs": {"TZ": "UTC"}},
    "reloader": {"baseImage": "pingcap/tidb-monitor-reloader", "version": "v1.0.1", "service": {"type": "NodePort"}},
    "prometheusReloader": {"baseImage": "quay.io/prometheus-operator/prometheus-config-reloader", "version": "v0.49.0"},
    "thanos": {
      "baseImage": "thanosio/thanos",
      "version": "v0.17.2",
      "objectStorageConfig": {"name": "thanos-objstore", "key": "objectstorage.yaml"},
      "objectStorageConfigFile": "/etc/objstore.yaml",
      "tracingConfig": {"name": "thanos-tracing", "key": "tracing.yaml"},
      "tracingConfigFile": "/etc/tracing.yaml",
      "grpcServerTlsConfig": {"certFile": "/tls/tls.crt", "keyFile": "/tls/tls.key", "caFile": "/tls/ca.crt"},
      "logLevel": "info",
      "logFormat": "logfmt",
      "minTime": "-2h",
      "routePrefix": "/",
      "additionalVolumeMounts": [{"name": "tls", "mountPath": "/tls", "readOnly": true}]
    },
    "persistent": true,
    "storageClassName": "local-storage",
    "storage": "10Gi",
    "pvReclaimPolicy": "Delete",
    "imagePullPolicy": "IfNotPresent",
    "imagePullSecrets": [{"name": "registry"}],
    "nodeSelector": {"monitoring": "true"},
    "annotations": {"a": "b"},
    "labels": {"team": "db"},
    "tolerations": [{"key": "monitoring", "operator": "Exists"}],
    "podSecurityContext": {"fsGroup": 2000},
    "kubePrometheusURL": "http://prometheus-k8s.monitoring:9090",
    "alertmanagerURL": "http://alertmanager.monitoring:9093",
    "alertManagerRulesVersion": "v8.5.0",
    "additionalContainers": [{"name": "sidecar", "image": "busybox"}],
    "additionalVolumes": [{"name": "extra", "emptyDir": {}}],
    "clusterScoped": true,
    "externalLabels": {"cluster": "east"},
    "replicaExternalLabelName": "replica",
    "replicas": 2,
    "shards": 2,
    "timezone": "UTC",
    "enableAlertRules": true
  },
  "status": {
    "deploymentStorageStatus": {"pvName": "pv-1"},
    "statefulSet": {"replicas": 2, "readyReplicas": 2, "currentRevision": "basic-monitor-1"}
  }
}`

const tidbDashboardManifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "TidbDashboard",
  "metadata": {"name": "basic", "namespace": "demo"},
  "spec": {
    "baseImage": "pingcap/tidb-dashboard",
    "version": "latest",
    "clusters": [{"name": "basic"}],
    "requests": {"storage": "10Gi", "cpu": "100m"},
    "limits": {"memory": "1Gi"},
    "storageClassName": "standard",
    "storageVolumes": [{"name": "log", "storageSize": "1Gi", "mountPath": "/var/log/dashboard"}],
    "pvReclaimPolicy": "Retain",
    "pathPrefix": "/dashboard",
    "service": {"type": "NodePort", "annotations": {"a": "b"}, "port": 12333},
    "telemetry": false,
    "experimental": true,
    "listenOnLocalhostOnly": false,
    "disableKeyVisualizer": true,
    "imagePullPolicy": "Always",
    "nodeSelector": {"zone": "a"},
    "env": [{"name": "TZ", "value": "UTC"}],
    "topologySpreadConstraints": [{"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1}],
    "readinessProbe": {"type": "tcp", "initialDelaySeconds": 10, "periodSeconds": 5},
    "suspendAction": {"suspendStatefulSet": true},
    "terminationGracePeriodSeconds": 30,
    "statefulSetUpdateStrategy": "RollingUpdate",
    "podManagementPolicy": "Parallel"
  },
  "status": {
    "synced": true,
    "phase": "Normal",
    "statefulSet": {"replicas": 1, "readyReplicas": 1}
  }
}`

const tidbNGMonitoringManifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "TidbNGMonitoring",
  "metadata": {"name": "basic", "namespace": "demo"},
  "spec": {
    "clusters": [{"name": "basic", "namespace": "demo"}],
    "pvReclaimPolicy": "Retain",
    "clusterDomain": "cluster.local",
    "nodeSelector": {"zone": "a"},
    "annotations": {"a": "b"},
    "ngMonitoring": {
      "baseImage": "pingcap/ng-monitoring",
      "version": "v8.5.0",
      "requests": {"storage": "10Gi"},
      "storageClassName": "standard",
      "storageVolumes": [{"name": "extra", "storageSize": "1Gi"}],
      "retentionPeriod": "7",
      "config": {"storage": {"path": "/var/lib/ng-monitoring"}, "log": {"level": "INFO"}},
      "additionalVolumeMounts": [{"name": "x", "mountPath": "/x"}]
    }
  },
  "status": {
    "ngMonitoring": {"synced": true, "phase": "Normal", "statefulSet": {"replicas": 1}}
  }
}`

const dmClusterManifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "DMCluster",
  "metadata": {"name": "basic", "namespace": "demo"},
  "spec": {
    "version": "v8.5.0",
    "configUpdateStrategy": "RollingUpdate",
    "pvReclaimPolicy": "Retain",
    "imagePullPolicy": "IfNotPresent",
    "enablePVReclaim": false,
    "tlsCluster": {"enabled": true},
    "tlsClientSecretNames": ["mysql-tls", "tidb-tls"],
    "timezone": "UTC",
    "schedulerName": "default-scheduler",
    "suspendAction": {"suspendStatefulSet": true},
    "discovery": {"address": "http://basic-discovery.demo:10261", "livenessProbe": {"type": "tcp"}, "requests": {"cpu": "10m"}},
    "master": {
      "baseImage": "pingcap/dm",
      "maxFailoverCount": 0,
      "replicas": 3,
      "storageSize": "10Gi",
      "storageClassName": "standard",
      "dataSubDir": "data",
      "requests": {"cpu": "1"},
      "startUpScriptVersion": "v1",
      "config": "[log]\nlevel = \"info\"\n",
      "service": {"type": "NodePort", "externalTrafficPolicy": "Local", "masterNodePort": 30020}
    },
    "worker": {
      "baseImage": "pingcap/dm",
      "maxFailoverCount": 0,
      "replicas": 1,
      "storageSize": "100Gi",
      "recoverFailover": true,
      "failover": {"recoverByUID": "8a1f"},
      "config": {"keepalive-ttl": 15}
    }
  },
  "status": {
    "conditions": [{"type": "Ready", "status": "True", "lastUpdateTime": "2024-01-02T03:04:05Z", "lastTransitionTime": "2024-01-02T03:04:05Z", "reason": "Ready", "message": "DM cluster is fully up and running"}],
    "master": {
      "synced": true,
      "phase": "Normal",
      "image": "pingcap/dm:v8.5.0",
      "statefulSet": {"replicas": 3, "readyReplicas": 3},
      "members": {"basic-dm-master-0": {"name": "basic-dm-master-0", "id": "1234", "clientURL": "http://basic-dm-master-0.basic-dm-master-peer.demo:8261", "health": true, "lastTransitionTime": "2024-01-02T03:04:05Z"}},
      "leader": {"name": "basic-dm-master-0", "id": "1234", "clientURL": "http://basic-dm-master-0.basic-dm-master-peer.demo:8261", "health": true},
      "failureMembers": {"basic-dm-master-2": {"podName": "basic-dm-master-2", "memberID": "99", "pvcUID": "u-1", "memberDeleted": true, "createdAt": "2024-01-02T03:04:05Z"}},
      "unjoinedMembers": {"basic-dm-master-3": {"podName": "basic-dm-master-3", "pvcUID": "u-2", "pvcUIDSet": {"u-2": {}}, "createdAt": "2024-01-02T03:04:05Z"}},
      "volumes": {"dm-master": {"name": "dm-master", "boundCount": 3, "currentCount": 3, "modifiedCount": 0, "currentCapacity": "10Gi", "modifiedCapacity": "10Gi", "currentStorageClass": "standard", "modifiedStorageClass": "standard"}}
    },
    "worker": {
      "synced": true,
      "phase": "Scale",
      "image": "pingcap/dm:v8.5.0",
      "failoverUID": "8a1f",
      "members": {"basic-dm-worker-0": {"name": "basic-dm-worker-0", "addr": "basic-dm-worker-0.basic-dm-worker-peer.demo:8262", "stage": "bound", "lastTransitionTime": "2024-01-02T03:04:05Z"}},
      "failureMembers": {"basic-dm-worker-1": {"podName": "basic-dm-worker-1", "createdAt": "2024-01-02T03:04:05Z"}}
    }
  }
}`

const tidbClusterAutoScalerManifest = `{
  "apiVersion": "pingcap.com/v1alpha1",
  "kind": "TidbClusterAutoScaler",
  "metadata": {"name": "auto-scaling-demo", "namespace": "demo"},
  "spec": {
    "cluster": {"name": "auto-scaling-demo"},
    "tikv": {
      "resources": {"storage_small": {"cpu": "1", "memory": "2Gi", "storage": "10Gi", "count": 3}},
      "rules": {"cpu": {"max_threshold": 0.8, "min_threshold": 0.2, "resource_types": ["storage_small"]}, "storage": {"max_threshold": 0.9}},
      "scaleInIntervalSeconds": 500,
      "scaleOutIntervalSeconds": 300
    },
    "tidb": {
      "external": {"endpoint": {"host": "scaler.demo", "port": 8443, "path": "/replicas", "tlsSecret": {"name": "scaler-tls", "namespace": "demo"}}, "maxReplicas": 10}
    }
  },
  "status": {
    "tikv": {"storage_small": {"lastAutoScalingTimestamp": "2024-01-02T03:04:05Z"}}
  }
}`

// decodeStrict decodes a manifest and fails on any field our types do not have, the way an
// API server with a structural schema would prune it.
func decodeStrict(t *testing.T, manifest string, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(manifest)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decoding the manifest: %v", err)
	}
}

// normalise turns a JSON document into generic values without empty objects, empty lists and
// nulls, which the encoder adds for zero-valued structs and which carry no information.
func normalise(t *testing.T, doc []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("re-reading JSON: %v", err)
	}
	return prune(v)
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = prune(e)
			if out[i] == nil {
				// keep an empty element so positions still line up
				out[i] = map[string]any{}
			}
		}
		return out
	default:
		return v
	}
}

// firstDifference names the first path at which two generic JSON values differ.
func firstDifference(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path
		}
		for k := range w {
			if d := firstDifference(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
		for k, v := range g {
			if _, ok := w[k]; !ok && !isZeroScalar(v) {
				return path + "." + k + " (added)"
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for i := range w {
			if d := firstDifference(path+"[]", w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(want, got) {
			return path
		}
		return ""
	}
}

// isZeroScalar reports whether v is 0, false, "" or the quantity "0", which the encoder writes
// for fields that have no omitempty (or are structs, such as resource.Quantity) and which mean
// the same as an absent field.
func isZeroScalar(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == 0
	case bool:
		return !x
	case string:
		return x == "" || x == "0"
	}
	return false
}

func TestV16ManifestsRoundTrip(t *testing.T) {
	cases := map[string]struct {
		// manifest is a v1.6-style object as users write it.
		manifest string
		// obj is an empty object of the kind the manifest holds.
		obj runtime.Object
	}{
		"a TidbInitializer with its Job status keeps every field":                       {manifest: tidbInitializerManifest, obj: &v1alpha1.TidbInitializer{}},
		"a TidbMonitor with Thanos, remote write and DM keeps every field":              {manifest: tidbMonitorManifest, obj: &v1alpha1.TidbMonitor{}},
		"a TidbDashboard with resources and pod settings keeps every field":             {manifest: tidbDashboardManifest, obj: &v1alpha1.TidbDashboard{}},
		"a TidbNGMonitoring with a map config keeps every field":                        {manifest: tidbNGMonitoringManifest, obj: &v1alpha1.TidbNGMonitoring{}},
		"a DMCluster with TOML and map configs and full status keeps every field":       {manifest: dmClusterManifest, obj: &v1alpha1.DMCluster{}},
		"a TidbClusterAutoScaler with rules and an external endpoint keeps every field": {manifest: tidbClusterAutoScalerManifest, obj: &v1alpha1.TidbClusterAutoScaler{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			decodeStrict(t, tc.manifest, tc.obj)
			out, err := json.Marshal(tc.obj)
			if err != nil {
				t.Fatalf("encoding: %v", err)
			}
			want, got := normalise(t, []byte(tc.manifest)), normalise(t, out)
			if d := firstDifference("", want, got); d != "" {
				t.Errorf("round trip changed %s\nwant %v\ngot  %v", d, want, got)
			}
		})
	}
}

func TestManifestsLandInTheRightFields(t *testing.T) {
	cases := map[string]struct {
		// manifest is the document to decode.
		manifest string
		// obj is an empty object of the manifest's kind.
		obj any
		// check inspects the decoded object and reports what is wrong, if anything.
		check func(obj any) string
	}{
		"the initializer's Job status is inline next to its phase": {
			manifest: tidbInitializerManifest, obj: &v1alpha1.TidbInitializer{},
			check: func(obj any) string {
				ti := obj.(*v1alpha1.TidbInitializer)
				if ti.Status.Succeeded != 1 || ti.Status.Phase != v1alpha1.InitializePhaseCompleted {
					return "status.succeeded or status.phase not decoded"
				}
				if len(ti.Status.Conditions) != 1 || ti.Status.Conditions[0].Type != batchv1.JobComplete {
					return "job conditions not decoded"
				}
				if ti.Spec.InitSQL == nil || *ti.Spec.InitSQL != "create database app;" {
					return "initSql not decoded"
				}
				return ""
			},
		},
		"the monitor's container resources are inline and queue durations are nanoseconds": {
			manifest: tidbMonitorManifest, obj: &v1alpha1.TidbMonitor{},
			check: func(obj any) string {
				tm := obj.(*v1alpha1.TidbMonitor)
				if q := tm.Spec.Prometheus.Requests[corev1.ResourceMemory]; q.Cmp(resource.MustParse("1Gi")) != 0 {
					return "prometheus.requests.memory not decoded into the inline resources"
				}
				qc := tm.Spec.Prometheus.RemoteWrite[0].QueueConfig
				if qc.BatchSendDeadline != 5*time.Second || qc.MinBackoff != 30*time.Millisecond {
					return "queue durations not read as nanoseconds"
				}
				tls := tm.Spec.Prometheus.RemoteWrite[0].TLSConfig
				if tls.CA.ConfigMap == nil || tls.CA.ConfigMap.Key != "ca.crt" || tls.CAFile != "/etc/ca.crt" {
					return "inline safe TLS config not decoded"
				}
				if tm.Spec.PVReclaimPolicy == nil || *tm.Spec.PVReclaimPolicy != v1alpha1.PVReclaimDelete {
					return "pvReclaimPolicy not decoded"
				}
				return ""
			},
		},
		"the dashboard's storage request is the inline requests.storage": {
			manifest: tidbDashboardManifest, obj: &v1alpha1.TidbDashboard{},
			check: func(obj any) string {
				td := obj.(*v1alpha1.TidbDashboard)
				if q := td.Spec.Requests[corev1.ResourceStorage]; q.Cmp(resource.MustParse("10Gi")) != 0 {
					return "requests.storage not decoded"
				}
				if td.Spec.Version == nil || *td.Spec.Version != "latest" || td.Spec.ReadinessProbe == nil {
					return "inline component fields not decoded"
				}
				return ""
			},
		},
		"the ng-monitoring config written as a map stays a map": {
			manifest: tidbNGMonitoringManifest, obj: &v1alpha1.TidbNGMonitoring{},
			check: func(obj any) string {
				tngm := obj.(*v1alpha1.TidbNGMonitoring)
				m, ok, err := tngm.Spec.NGMonitoring.Config.Map()
				if err != nil || !ok {
					return "config is not a map"
				}
				if _, ok := m["storage"]; !ok {
					return "config lost its storage section"
				}
				if tngm.Spec.NGMonitoring.NodeSelector != nil || tngm.Spec.NodeSelector["zone"] != "a" {
					return "cluster-level pod settings went to the wrong level"
				}
				return ""
			},
		},
		"the DM master config written as TOML stays TOML and the worker's as a map": {
			manifest: dmClusterManifest, obj: &v1alpha1.DMCluster{},
			check: func(obj any) string {
				dc := obj.(*v1alpha1.DMCluster)
				if doc, ok := dc.Spec.Master.Config.TOML(); !ok || doc != "[log]\nlevel = \"info\"\n" {
					return "master config is not the TOML string"
				}
				if _, ok, err := dc.Spec.Worker.Config.Map(); err != nil || !ok {
					return "worker config is not a map"
				}
				svc := dc.Spec.Master.Service
				if svc == nil || svc.Type != corev1.ServiceTypeNodePort || svc.MasterNodePort == nil || *svc.MasterNodePort != 30020 {
					return "master service not decoded"
				}
				if dc.Spec.Discovery.Address == "" || dc.Spec.Discovery.LivenessProbe == nil {
					return "discovery not decoded"
				}
				if dc.Status.Master.Leader == nil || !dc.Status.Master.Leader.Health {
					return "master leader not decoded"
				}
				if dc.Status.Worker.Members["basic-dm-worker-0"].Stage != v1alpha1.WorkerStageBound {
					return "worker stage not decoded"
				}
				return ""
			},
		},
		"the autoscaler keeps its snake-case rule names and fractional thresholds": {
			manifest: tidbClusterAutoScalerManifest, obj: &v1alpha1.TidbClusterAutoScaler{},
			check: func(obj any) string {
				ta := obj.(*v1alpha1.TidbClusterAutoScaler)
				rule := ta.Spec.TiKV.Rules[corev1.ResourceCPU]
				if rule.MaxThreshold != 0.8 || rule.MinThreshold == nil || *rule.MinThreshold != 0.2 {
					return "cpu thresholds not decoded"
				}
				if got := ta.Spec.TiKV.Resources["storage_small"].Storage; got == nil || got.Cmp(resource.MustParse("10Gi")) != 0 {
					return "resource storage not decoded"
				}
				if ta.Spec.TiDB.External.Endpoint.TLSSecret == nil || ta.Spec.TiDB.External.MaxReplicas != 10 {
					return "external endpoint not decoded"
				}
				return ""
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			decodeStrict(t, tc.manifest, tc.obj)
			if problem := tc.check(tc.obj); problem != "" {
				t.Error(problem)
			}
		})
	}
}

func TestOtherKindsAreRegistered(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatalf("AddToScheme: %v", err)
	}
	for _, kind := range []string{
		"TidbInitializer", "TidbMonitor", "TidbDashboard", "TidbNGMonitoring", "DMCluster", "TidbClusterAutoScaler",
	} {
		for _, k := range []string{kind, kind + "List"} {
			gvk := schema.GroupVersionKind{Group: "pingcap.com", Version: "v1alpha1", Kind: k}
			if !scheme.Recognizes(gvk) {
				t.Errorf("%s is not registered", k)
			}
		}
	}
}
