package label

import (
	"k8s.io/apimachinery/pkg/labels"
)

// Well-known Kubernetes label keys used on every object the operator manages.
const (
	NameLabelKey      = "app.kubernetes.io/name"
	ManagedByLabelKey = "app.kubernetes.io/managed-by"
	InstanceLabelKey  = "app.kubernetes.io/instance"
	ComponentLabelKey = "app.kubernetes.io/component"
	UsedByLabelKey    = "app.kubernetes.io/used-by"
	NamespaceLabelKey = "app.kubernetes.io/namespace"
	AppLabelKey       = "app.kubernetes.io/app"
)

// TiDB-specific label keys on pods, PVCs, PVs, Jobs and CRs.
const (
	ClusterIDLabelKey           = "tidb.pingcap.com/cluster-id"
	MemberIDLabelKey            = "tidb.pingcap.com/member-id"
	StoreIDLabelKey             = "tidb.pingcap.com/store-id"
	PodNameLabelKey             = "tidb.pingcap.com/pod-name"
	InitializerLabelKey         = "tidb.pingcap.com/initializer"
	BackupLabelKey              = "tidb.pingcap.com/backup"
	BackupScheduleLabelKey      = "tidb.pingcap.com/backup-schedule"
	BackupScheduleGroupLabelKey = "tidb.pingcap.com/backup-schedule-group"
	RestoreLabelKey             = "tidb.pingcap.com/restore"
	WarmUpPodLabelKey           = "tidb.pingcap.com/warm-up-pod"
)

// Values of app.kubernetes.io/name.
const (
	TiDBClusterName      = "tidb-cluster"
	DMClusterName        = "dm-cluster"
	NGMonitoringName     = "tidb-ng-monitoring"
	TiDBDashboardName    = "tidb-dashboard"
	BackupName           = "backup"
	RestoreName          = "restore"
	BackupScheduleName   = "backup-schedule"
	TiDBClusterGroupName = "tidb-cluster-group"
)

// Values of app.kubernetes.io/managed-by.
const (
	TiDBOperator           = "tidb-operator"
	BackupOperator         = "backup-operator"
	RestoreOperator        = "restore-operator"
	BackupScheduleOperator = "backup-schedule-operator"
)

// Values of app.kubernetes.io/component.
const (
	PDComponent             = "pd"
	TiKVComponent           = "tikv"
	TiDBComponent           = "tidb"
	TiFlashComponent        = "tiflash"
	TiCDCComponent          = "ticdc"
	TiProxyComponent        = "tiproxy"
	PumpComponent           = "pump"
	DiscoveryComponent      = "discovery"
	TSOComponent            = "tso"
	SchedulingComponent     = "scheduling"
	DMMasterComponent       = "dm-master"
	DMWorkerComponent       = "dm-worker"
	MonitorComponent        = "monitor"
	NGMonitoringComponent   = "ng-monitoring"
	TiDBDashboardComponent  = "tidb-dashboard"
	BackupComponent         = "backup"
	RestoreComponent        = "restore"
	CleanComponent          = "clean"
	InitializerComponent    = "initializer"
	BackupScheduleComponent = "backup-schedule"
	WarmUpComponent         = "warmup"
)

// Values of app.kubernetes.io/used-by on Services.
const (
	UsedByPeer    = "peer"
	UsedByEndUser = "end-user"
)

// Annotations on the TidbCluster.
const (
	ForceUpgradeAnnKey                   = "tidb.pingcap.com/force-upgrade"
	PDCheckQuorumBeforeUpgradeAnnKey     = "tidb.pingcap.com/pd-check-quorum-before-upgrade"
	TiKVCheckStoresUpBeforeUpgradeAnnKey = "tidb.pingcap.com/tikv-check-all-stores-up-before-upgrade"
	TiKVRestartWithoutFlushLogAnnKey     = "tidb.pingcap.com/tikv-restart-without-flush-log-backup"
	HATopologyKeyAnnKey                  = "pingcap.com/ha-topology-key"
	AutoFailureRecoveryAnnKey            = "app.kubernetes.io/auto-failure-recovery"
	TiKVVolumesReadyAnnKey               = "tidb.pingcap.com/tikv-volumes-ready"
	SkipTLSWhenConnectTiDBAnnKey         = "tidb.tidb.pingcap.com/skip-tls-when-connect-tidb"
	// DeleteSlotsAnnKeySuffix follows "<component>.": pd.tidb.pingcap.com/delete-slots and so on.
	DeleteSlotsAnnKeySuffix = ".tidb.pingcap.com/delete-slots"
	// ConfigMapNameBeforeDeleteAnnKeyPrefix is followed by the component name.
	ConfigMapNameBeforeDeleteAnnKeyPrefix = "tidb.pingcap.com/configmap-name-before-delete-"
)

// Annotations on pods.
const (
	EvictLeaderAnnKey                = "tidb.pingcap.com/evict-leader"
	EvictLeaderForResizeAnnKey       = "tidb.pingcap.com/evict-leader-for-resize"
	TiKVEvictLeaderExpirationAnnKey  = "tidb.pingcap.com/tikv-evict-leader-expiration-time"
	PDTransferLeaderAnnKey           = "tidb.pingcap.com/pd-transfer-leader"
	PDEvictLeaderExpirationAnnKey    = "tidb.pingcap.com/pd-evict-leader-expiration-time"
	TiDBGracefulShutdownAnnKey       = "tidb.pingcap.com/tidb-graceful-shutdown"
	ReplaceVolumeAnnKey              = "tidb.pingcap.com/replace-volume"
	EvictLeaderBeginTimeAnnKey       = "evictLeaderBeginTime"
	TiKVEvictLeaderEndAtAnnKey       = "tidb.pingcap.com/tikv-evict-leader-end-at"
	ScaleInTimeAnnKey                = "tidb.pingcap.com/scale-in-time"
	TiKVNoActiveStoreSinceAnnKey     = "tidb.pingcap.com/tikv-no-active-store-since"
	TiCDCGracefulShutdownBeginAnnKey = "tidb.pingcap.com/ticdc-graceful-shutdown-begin-time"
	SysctlInitAnnKey                 = "tidb.pingcap.com/sysctl-init"
)

// Values of the evict-leader, transfer-leader and graceful-shutdown pod annotations.
const (
	AnnValNone      = "none"
	AnnValDeletePod = "delete-pod"
)

// Annotations on PVCs and StatefulSets.
const (
	PVCDeferDeletingAnnKey       = "tidb.pingcap.com/pvc-defer-deleting"
	PodSchedulingAnnKey          = "tidb.pingcap.com/pod-scheduling"
	LastAppliedConfigAnnKey      = "pingcap.com/last-applied-configuration"
	OwnerGenerationAnnKey        = "tidb.pingcap.com/owner-generation"
	StatefulSetDeleteSlotsAnnKey = "delete-slots"
)

// Finalizers.
const (
	BackupProtectionFinalizer  = "tidb.pingcap.com/backup-protection"
	RestoreProtectionFinalizer = "tidb.pingcap.com/restore-protection"
	MonitorProtectionFinalizer = "tidb.pingcap.com/monitor-protection"
)

// Label is a label set with builder methods, used for object labels and selectors alike.
type Label map[string]string

// New returns the labels every TidbCluster object carries, before instance and component.
func New() Label {
	return Label{NameLabelKey: TiDBClusterName, ManagedByLabelKey: TiDBOperator}
}

// Instance sets app.kubernetes.io/instance.
func (l Label) Instance(name string) Label { l[InstanceLabelKey] = name; return l }

// Component sets app.kubernetes.io/component.
func (l Label) Component(name string) Label { l[ComponentLabelKey] = name; return l }

// UsedBy sets app.kubernetes.io/used-by.
func (l Label) UsedBy(v string) Label { l[UsedByLabelKey] = v; return l }

// PD, TiKV, TiDB and friends set the component label.
func (l Label) PD() Label        { return l.Component(PDComponent) }
func (l Label) TiKV() Label      { return l.Component(TiKVComponent) }
func (l Label) TiDB() Label      { return l.Component(TiDBComponent) }
func (l Label) TiFlash() Label   { return l.Component(TiFlashComponent) }
func (l Label) TiCDC() Label     { return l.Component(TiCDCComponent) }
func (l Label) TiProxy() Label   { return l.Component(TiProxyComponent) }
func (l Label) Pump() Label      { return l.Component(PumpComponent) }
func (l Label) Discovery() Label { return l.Component(DiscoveryComponent) }

// Copy returns an independent copy.
func (l Label) Copy() Label {
	out := make(Label, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// Labels returns the set as a plain map.
func (l Label) Labels() map[string]string { return map[string]string(l) }

// Selector returns a selector matching exactly these labels.
func (l Label) Selector() labels.Selector { return labels.SelectorFromSet(labels.Set(l)) }

// IsManagedByTiDBOperator reports whether labels mark an object as the operator's.
func IsManagedByTiDBOperator(l map[string]string) bool { return l[ManagedByLabelKey] == TiDBOperator }
