package v1alpha1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Default base images, the same as the CRD defaults; used when a TidbCluster built in Go (rather
// than read from the API server) leaves baseImage empty.
const (
	DefaultPDBaseImage      = "pingcap/pd"
	DefaultTiKVBaseImage    = "pingcap/tikv"
	DefaultTiDBBaseImage    = "pingcap/tidb"
	DefaultTiFlashBaseImage = "pingcap/tiflash"
	DefaultTiCDCBaseImage   = "pingcap/ticdc"
	DefaultTiProxyBaseImage = "pingcap/tiproxy"
	DefaultPumpBaseImage    = "pingcap/tidb-binlog"

	// DefaultHelperImage runs the log tailers and other auxiliary containers.
	DefaultHelperImage = "busybox:1.26.2"

	// DefaultTimezone is the timezone of the components when spec.timezone is empty.
	DefaultTimezone = "UTC"

	// DefaultEvictLeaderTimeout bounds the wait for a TiKV store's leaders to move away before its
	// pod restarts, when spec.tikv.evictLeaderTimeout is unset or unparsable.
	DefaultEvictLeaderTimeout = 1500 * time.Minute

	// DefaultWaitLeaderTransferBackTimeout bounds the wait for leaders to return to an upgraded
	// TiKV store, when spec.tikv.waitLeaderTransferBackTimeout is unset.
	DefaultWaitLeaderTransferBackTimeout = 400 * time.Second

	// DefaultTiCDCGracefulShutdownTimeout bounds the drain of a TiCDC capture, when
	// spec.ticdc.gracefulShutdownTimeout is unset.
	DefaultTiCDCGracefulShutdownTimeout = 10 * time.Minute

	// defaultSpareVolReplaceReplicas is how many extra pods a volume replacement adds when
	// spareVolReplaceReplicas is unset.
	defaultSpareVolReplaceReplicas int32 = 1
)

// resolveImage picks a component's image the way v1.6 does: baseImage:version, where the
// component's version overrides the cluster's and an empty version leaves the tag off. The
// deprecated image field is used only when baseImage was explicitly emptied; when both are empty
// (an object that never went through CRD defaulting) the default base image stands in.
func resolveImage(image, baseImage, defaultBaseImage string, version *string, clusterVersion string) string {
	if baseImage == "" {
		if image != "" {
			return image
		}
		baseImage = defaultBaseImage
	}
	v := clusterVersion
	if version != nil {
		v = *version
	}
	if v == "" {
		return baseImage
	}
	return baseImage + ":" + v
}

// PDImage is the image of PD, or "" without spec.pd.
func (tc *TidbCluster) PDImage() string {
	pd := tc.Spec.PD
	if pd == nil {
		return ""
	}
	return resolveImage(pd.Image, pd.BaseImage, DefaultPDBaseImage, pd.Version, tc.Spec.Version)
}

// PDMSImage is the image of a PD micro-service.
func (tc *TidbCluster) PDMSImage(ms *PDMSSpec) string {
	if ms == nil {
		return ""
	}
	return resolveImage(ms.Image, ms.BaseImage, DefaultPDBaseImage, ms.Version, tc.Spec.Version)
}

// TiKVImage is the image of TiKV, or "" without spec.tikv.
func (tc *TidbCluster) TiKVImage() string {
	kv := tc.Spec.TiKV
	if kv == nil {
		return ""
	}
	return resolveImage(kv.Image, kv.BaseImage, DefaultTiKVBaseImage, kv.Version, tc.Spec.Version)
}

// TiDBImage is the image of TiDB, or "" without spec.tidb.
func (tc *TidbCluster) TiDBImage() string {
	db := tc.Spec.TiDB
	if db == nil {
		return ""
	}
	return resolveImage(db.Image, db.BaseImage, DefaultTiDBBaseImage, db.Version, tc.Spec.Version)
}

// TiFlashImage is the image of TiFlash, or "" without spec.tiflash.
func (tc *TidbCluster) TiFlashImage() string {
	f := tc.Spec.TiFlash
	if f == nil {
		return ""
	}
	return resolveImage(f.Image, f.BaseImage, DefaultTiFlashBaseImage, f.Version, tc.Spec.Version)
}

// TiCDCImage is the image of TiCDC, or "" without spec.ticdc.
func (tc *TidbCluster) TiCDCImage() string {
	c := tc.Spec.TiCDC
	if c == nil {
		return ""
	}
	return resolveImage(c.Image, c.BaseImage, DefaultTiCDCBaseImage, c.Version, tc.Spec.Version)
}

// TiProxyImage is the image of TiProxy, or "" without spec.tiproxy.
func (tc *TidbCluster) TiProxyImage() string {
	p := tc.Spec.TiProxy
	if p == nil {
		return ""
	}
	return resolveImage(p.Image, p.BaseImage, DefaultTiProxyBaseImage, p.Version, tc.Spec.Version)
}

// PumpImage is the image of Pump, or "" without spec.pump.
func (tc *TidbCluster) PumpImage() string {
	p := tc.Spec.Pump
	if p == nil {
		return ""
	}
	return resolveImage(p.Image, p.BaseImage, DefaultPumpBaseImage, p.Version, tc.Spec.Version)
}

// HelperImage is the image of the auxiliary containers: spec.helper.image, else the deprecated
// spec.tidb.slowLogTailer.image, else busybox.
func (tc *TidbCluster) HelperImage() string {
	if h := tc.Spec.Helper; h != nil && h.Image != nil && *h.Image != "" {
		return *h.Image
	}
	if db := tc.Spec.TiDB; db != nil && db.SlowLogTailer != nil && db.SlowLogTailer.Image != nil && *db.SlowLogTailer.Image != "" {
		return *db.SlowLogTailer.Image
	}
	return DefaultHelperImage
}

// HelperImagePullPolicy is the pull policy of the auxiliary containers, following the same
// fallbacks as HelperImage and ending at the cluster's policy.
func (tc *TidbCluster) HelperImagePullPolicy() corev1.PullPolicy {
	if h := tc.Spec.Helper; h != nil && h.ImagePullPolicy != nil && *h.ImagePullPolicy != "" {
		return *h.ImagePullPolicy
	}
	if db := tc.Spec.TiDB; db != nil && db.SlowLogTailer != nil && db.SlowLogTailer.ImagePullPolicy != nil && *db.SlowLogTailer.ImagePullPolicy != "" {
		return *db.SlowLogTailer.ImagePullPolicy
	}
	if tc.Spec.ImagePullPolicy != "" {
		return tc.Spec.ImagePullPolicy
	}
	return corev1.PullIfNotPresent
}

// PDReplicas is spec.pd.replicas, or 0 without spec.pd.
func (tc *TidbCluster) PDReplicas() int32 {
	if tc.Spec.PD == nil {
		return 0
	}
	return tc.Spec.PD.Replicas
}

// TiKVReplicas is spec.tikv.replicas, or 0 without spec.tikv.
func (tc *TidbCluster) TiKVReplicas() int32 {
	if tc.Spec.TiKV == nil {
		return 0
	}
	return tc.Spec.TiKV.Replicas
}

// TiDBReplicas is spec.tidb.replicas, or 0 without spec.tidb.
func (tc *TidbCluster) TiDBReplicas() int32 {
	if tc.Spec.TiDB == nil {
		return 0
	}
	return tc.Spec.TiDB.Replicas
}

// TiFlashReplicas is spec.tiflash.replicas, or 0 without spec.tiflash.
func (tc *TidbCluster) TiFlashReplicas() int32 {
	if tc.Spec.TiFlash == nil {
		return 0
	}
	return tc.Spec.TiFlash.Replicas
}

// PDStsDesiredReplicas is the replica count of PD's StatefulSet: the spec's replicas, plus one
// for each failed member auto-failover already removed from PD, plus the spare pods of a volume
// replacement in progress.
func (tc *TidbCluster) PDStsDesiredReplicas() int32 {
	if tc.Spec.PD == nil {
		return 0
	}
	n := tc.Spec.PD.Replicas
	for _, m := range tc.Status.PD.FailureMembers {
		if m.MemberDeleted {
			n++
		}
	}
	if tc.Status.PD.VolReplaceInProgress {
		n += spareReplicas(tc.Spec.PD.SpareVolReplaceReplicas)
	}
	return n
}

// TiKVStsDesiredReplicas is the replica count of TiKV's StatefulSet: the spec's replicas, plus
// one for each failure store, plus the spare pods of a volume replacement in progress.
func (tc *TidbCluster) TiKVStsDesiredReplicas() int32 {
	if tc.Spec.TiKV == nil {
		return 0
	}
	n := tc.Spec.TiKV.Replicas + int32(len(tc.Status.TiKV.FailureStores))
	if tc.Status.TiKV.VolReplaceInProgress {
		n += spareReplicas(tc.Spec.TiKV.SpareVolReplaceReplicas)
	}
	return n
}

// TiDBStsDesiredReplicas is the replica count of TiDB's StatefulSet: the spec's replicas plus one
// for each failure member.
func (tc *TidbCluster) TiDBStsDesiredReplicas() int32 {
	if tc.Spec.TiDB == nil {
		return 0
	}
	return tc.Spec.TiDB.Replicas + int32(len(tc.Status.TiDB.FailureMembers))
}

// TiFlashStsDesiredReplicas is the replica count of TiFlash's StatefulSet: the spec's replicas
// plus one for each failure store.
func (tc *TidbCluster) TiFlashStsDesiredReplicas() int32 {
	if tc.Spec.TiFlash == nil {
		return 0
	}
	return tc.Spec.TiFlash.Replicas + int32(len(tc.Status.TiFlash.FailureStores))
}

func spareReplicas(n *int32) int32 {
	if n == nil {
		return defaultSpareVolReplaceReplicas
	}
	return *n
}

// HasLocalPD reports whether this cluster runs PD itself.
func (tc *TidbCluster) HasLocalPD() bool { return tc.Spec.PD != nil }

// HasLocalTiDB reports whether this cluster runs TiDB itself.
func (tc *TidbCluster) HasLocalTiDB() bool { return tc.Spec.TiDB != nil }

// Heterogeneous reports whether this cluster joins another TidbCluster (spec.cluster): its
// components then register with that cluster's PD.
func (tc *TidbCluster) Heterogeneous() bool {
	return tc.Spec.Cluster != nil && tc.Spec.Cluster.Name != ""
}

// HeterogeneousWithoutLocalPD reports whether this cluster borrows another cluster's PD instead of
// running its own.
func (tc *TidbCluster) HeterogeneousWithoutLocalPD() bool {
	return tc.Heterogeneous() && !tc.HasLocalPD()
}

// ClusterRefNamespace is the namespace of the cluster spec.cluster refers to; the cluster's own
// namespace when the reference leaves it out. "" when there is no reference.
func (tc *TidbCluster) ClusterRefNamespace() string {
	if !tc.Heterogeneous() {
		return ""
	}
	if tc.Spec.Cluster.Namespace != "" {
		return tc.Spec.Cluster.Namespace
	}
	return tc.Namespace
}

// HasPDSource reports whether the PD-dependent components have a PD to talk to: a local PD, a
// referenced cluster, or external PD addresses. The CRD rejects clusters where this is false and a
// PD-dependent component is present.
func (tc *TidbCluster) HasPDSource() bool {
	return tc.HasLocalPD() || tc.Heterogeneous() || len(tc.Spec.PDAddresses) > 0
}

// NeedsPD reports whether any component that talks to PD is present.
func (tc *TidbCluster) NeedsPD() bool {
	s := &tc.Spec
	return s.TiKV != nil || s.TiDB != nil || s.TiFlash != nil || s.TiCDC != nil ||
		s.TiProxy != nil || s.Pump != nil || len(s.PDMS) > 0
}

// AcrossK8s reports whether the TiDB cluster spans Kubernetes clusters.
func (tc *TidbCluster) AcrossK8s() bool { return tc.Spec.AcrossK8s }

// NeedsDiscovery reports whether the discovery service runs: with a local PD, or across
// Kubernetes clusters.
func (tc *TidbCluster) NeedsDiscovery() bool { return tc.HasLocalPD() || tc.AcrossK8s() }

// IsPDMicroServiceMode reports whether PD runs as the API service of PD micro-services.
func (tc *TidbCluster) IsPDMicroServiceMode() bool {
	return tc.Spec.PD != nil && tc.Spec.PD.Mode == PDModeMicroService
}

// PDMS returns the spec of the named PD micro-service, or nil.
func (tc *TidbCluster) PDMS(name PDMSName) *PDMSSpec {
	for i := range tc.Spec.PDMS {
		if tc.Spec.PDMS[i].Name == name {
			return &tc.Spec.PDMS[i]
		}
	}
	return nil
}

// IsTLSClusterEnabled reports whether mutual TLS between components is on.
func (tc *TidbCluster) IsTLSClusterEnabled() bool {
	return tc.Spec.TLSCluster != nil && tc.Spec.TLSCluster.Enabled
}

// IsTiDBTLSClientEnabled reports whether TLS for MySQL clients is on.
func (tc *TidbCluster) IsTiDBTLSClientEnabled() bool {
	return tc.Spec.TiDB != nil && tc.Spec.TiDB.TLSClient != nil && tc.Spec.TiDB.TLSClient.Enabled
}

// Timezone is spec.timezone, or UTC.
func (tc *TidbCluster) Timezone() string {
	if tc.Spec.Timezone == "" {
		return DefaultTimezone
	}
	return tc.Spec.Timezone
}

// PVReclaimPolicy is spec.pvReclaimPolicy, or Retain.
func (tc *TidbCluster) PVReclaimPolicy() PVReclaimPolicy {
	if p := tc.Spec.PVReclaimPolicy; p != nil && *p != "" {
		return *p
	}
	return PVReclaimRetain
}

// StartScriptVersion is spec.startScriptVersion, or v1.
func (tc *TidbCluster) StartScriptVersion() StartScriptVersion {
	if tc.Spec.StartScriptVersion == "" {
		return StartScriptV1
	}
	return tc.Spec.StartScriptVersion
}

// ShouldSeparateSlowLog reports whether TiDB's slow-query log goes to a tailer sidecar (the
// default).
func (s *TiDBSpec) ShouldSeparateSlowLog() bool {
	return s.SeparateSlowLog == nil || *s.SeparateSlowLog
}

// ShouldExposeStatus reports whether the TiDB client Service also exposes the status port (the
// default).
func (s *TiDBServiceSpec) ShouldExposeStatus() bool {
	return s.ExposeStatus == nil || *s.ExposeStatus
}

// Condition returns the condition of the given type, or nil.
func (s *TidbClusterStatus) Condition(t TidbClusterConditionType) *TidbClusterCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// EvictLeaderTimeoutOrDefault is spec.tikv.evictLeaderTimeout, or 1500m when it is unset, not a
// duration or not positive (the CRD checks the syntax; objects built in Go are not checked).
func (s *TiKVSpec) EvictLeaderTimeoutOrDefault() time.Duration {
	if s.EvictLeaderTimeout == nil {
		return DefaultEvictLeaderTimeout
	}
	d, err := time.ParseDuration(*s.EvictLeaderTimeout)
	if err != nil || d <= 0 {
		return DefaultEvictLeaderTimeout
	}
	return d
}

// WaitLeaderTransferBackTimeoutOrDefault is spec.tikv.waitLeaderTransferBackTimeout, or 400s.
func (s *TiKVSpec) WaitLeaderTransferBackTimeoutOrDefault() time.Duration {
	if s.WaitLeaderTransferBackTimeout == nil {
		return DefaultWaitLeaderTransferBackTimeout
	}
	return s.WaitLeaderTransferBackTimeout.Duration
}

// GracefulShutdownTimeoutOrDefault is spec.ticdc.gracefulShutdownTimeout, or 10m.
func (s *TiCDCSpec) GracefulShutdownTimeoutOrDefault() time.Duration {
	if s.GracefulShutdownTimeout == nil {
		return DefaultTiCDCGracefulShutdownTimeout
	}
	return s.GracefulShutdownTimeout.Duration
}

// SuspendStatefulSet reports whether the component's StatefulSet should be deleted to suspend
// it: the component's own suspendAction when set, else the cluster's (v1.6's rule). component
// is "pd", "tikv" or "tidb"; other names and absent components report false.
func (tc *TidbCluster) SuspendStatefulSet(component string) bool {
	var own *SuspendAction
	switch component {
	case "pd":
		if tc.Spec.PD == nil {
			return false
		}
		own = tc.Spec.PD.SuspendAction
	case "tikv":
		if tc.Spec.TiKV == nil {
			return false
		}
		own = tc.Spec.TiKV.SuspendAction
	case "tidb":
		if tc.Spec.TiDB == nil {
			return false
		}
		own = tc.Spec.TiDB.SuspendAction
	default:
		return false
	}
	if own != nil {
		return own.SuspendStatefulSet
	}
	return tc.Spec.SuspendAction != nil && tc.Spec.SuspendAction.SuspendStatefulSet
}
