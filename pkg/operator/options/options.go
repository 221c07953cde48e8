package options

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/tidbops/tidb-operator/pkg/features"
)

// Defaults of v1.6 that other packages refer to by name.
const (
	DefaultWorkers                = 5
	DefaultFailoverPeriod         = 5 * time.Minute
	DefaultPodHardRecoveryPeriod  = 24 * time.Hour
	DefaultResyncDuration         = 30 * time.Second
	DefaultBackupManagerImage     = "pingcap/tidb-backup-manager:latest"
	DefaultDiscoveryImage         = "pingcap/tidb-operator:latest"
	DefaultLeaseDuration          = 15 * time.Second
	DefaultRenewDeadline          = 10 * time.Second
	DefaultRetryPeriod            = 2 * time.Second
	DefaultLeaderResourceLock     = "leases"
	DefaultMetricsBindAddress     = ":6060"
	DefaultHealthProbeBindAddress = ":8081"
	// DefaultLogBackupCheckpointInterval is v1.6's fixed checkpoint tracking period.
	DefaultLogBackupCheckpointInterval = time.Minute
)

// leaderElectionJitter mirrors client-go's JitterFactor: the renew deadline must exceed this
// multiple of the retry period or client-go refuses to start the elector.
const leaderElectionJitter = 1.2

// Options is everything tidb-operator is told on its command line.
type Options struct {
	// PrintVersion (-V, -version) prints the build and exits.
	PrintVersion bool

	// Workers (-workers) is how many objects each controller reconciles at once.
	Workers int

	// ClusterScoped (-cluster-scoped) watches every namespace; false limits the operator to
	// $NAMESPACE.
	ClusterScoped bool
	// ClusterPermissionNode, ClusterPermissionPV and ClusterPermissionSC
	// (-cluster-permission-node/-pv/-sc) say the operator may read Nodes, PersistentVolumes and
	// StorageClasses even when it is not cluster scoped (those kinds are cluster-wide).
	ClusterPermissionNode bool
	ClusterPermissionPV   bool
	ClusterPermissionSC   bool

	// AutoFailover (-auto-failover) turns on failover; TiKV and TiDB have it so far.
	AutoFailover bool
	// The failover periods are how long a member or store must be unhealthy before it counts as
	// failed.
	PDFailoverPeriod       time.Duration // -pd-failover-period
	TiKVFailoverPeriod     time.Duration // -tikv-failover-period
	TiDBFailoverPeriod     time.Duration // -tidb-failover-period
	TiFlashFailoverPeriod  time.Duration // -tiflash-failover-period
	DMMasterFailoverPeriod time.Duration // -dm-master-failover-period
	DMWorkerFailoverPeriod time.Duration // -dm-worker-failover-period

	// DetectNodeFailure (-detect-node-failure) enables the experimental node-failure detection
	// for stateful failover.
	DetectNodeFailure bool
	// PodHardRecoveryPeriod (-pod-hard-recovery-period): with node-failure detection, after this
	// long a pod on a failed node is treated as host-down whatever else is known.
	PodHardRecoveryPeriod time.Duration

	// ResyncDuration (-resync-duration) is how often every watched object is reconciled again
	// even without a change; status from PD and the other components is refreshed this way.
	ResyncDuration time.Duration

	// TestMode (-test-mode) adds the short pauses the end-to-end tests rely on.
	TestMode bool

	// BackupManagerImage (-tidb-backup-manager-image) runs backup, restore and clean Jobs.
	BackupManagerImage string
	// DiscoveryImage (-tidb-discovery-image) runs each cluster's discovery Deployment.
	DiscoveryImage string
	// RenderProbe changes the operator's own rendering of pod templates (a comment in the
	// start scripts, an annotation on discovery pods), as a new operator version might. Only
	// tests set it, to prove that such a change rolls nothing by itself; no flag sets it.
	RenderProbe string

	// Selector (-selector) is a label selector; only custom resources matching it are managed.
	Selector string

	// Leader election (-leader-lease-duration, -leader-renew-deadline, -leader-retry-period,
	// -leader-resource-lock).
	LeaseDuration      time.Duration
	RenewDeadline      time.Duration
	RetryPeriod        time.Duration
	LeaderResourceLock string

	// KubeClientQPS and KubeClientBurst (-kube-client-qps, -kube-client-burst) throttle the
	// API client. Zero keeps the client's own setting, which differs from v1.6: controller-runtime
	// turns client-side throttling off and relies on the API server's priority and fairness,
	// where client-go alone would have used 5 QPS / 10 burst. A QPS without a burst gets
	// client-go's burst of 10.
	KubeClientQPS   float64
	KubeClientBurst int

	// Features (-features) are the feature gates.
	Features *features.Gates

	// Flags that v1.6 did not have.

	// Kubeconfig (-kubeconfig) points at a kubeconfig when running outside the cluster; empty
	// falls back to $KUBECONFIG, then the in-cluster configuration.
	Kubeconfig string
	// MetricsBindAddress (-metrics-bind-address) serves /metrics and /debug/pprof; v1.6 always
	// used :6060, which stays the default.
	MetricsBindAddress string
	// HealthProbeBindAddress (-health-probe-bind-address) serves /healthz and /readyz.
	HealthProbeBindAddress string
	// LogBackupCheckpointInterval (-log-backup-checkpoint-interval) is how often the checkpoint
	// of each running log backup is read from PD's etcd into status.logCheckpointTs; v1.6
	// always used a minute, which stays the default.
	LogBackupCheckpointInterval time.Duration
}

// New returns the options at their v1.6 defaults.
func New() *Options {
	return &Options{
		Workers:                DefaultWorkers,
		ClusterScoped:          true,
		AutoFailover:           true,
		PDFailoverPeriod:       DefaultFailoverPeriod,
		TiKVFailoverPeriod:     DefaultFailoverPeriod,
		TiDBFailoverPeriod:     DefaultFailoverPeriod,
		TiFlashFailoverPeriod:  DefaultFailoverPeriod,
		DMMasterFailoverPeriod: DefaultFailoverPeriod,
		DMWorkerFailoverPeriod: DefaultFailoverPeriod,
		PodHardRecoveryPeriod:  DefaultPodHardRecoveryPeriod,
		ResyncDuration:         DefaultResyncDuration,
		BackupManagerImage:     DefaultBackupManagerImage,
		DiscoveryImage:         DefaultDiscoveryImage,
		LeaseDuration:          DefaultLeaseDuration,
		RenewDeadline:          DefaultRenewDeadline,
		RetryPeriod:            DefaultRetryPeriod,
		LeaderResourceLock:     DefaultLeaderResourceLock,
		Features:               features.New(),
		MetricsBindAddress:     DefaultMetricsBindAddress,
		HealthProbeBindAddress: DefaultHealthProbeBindAddress,

		LogBackupCheckpointInterval: DefaultLogBackupCheckpointInterval,
	}
}

// AddFlags registers every option on fs, using the current field values as defaults. Go's flag
// package accepts both -name and --name, as v1.6 did.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.PrintVersion, "V", o.PrintVersion, "Print the version and exit")
	fs.BoolVar(&o.PrintVersion, "version", o.PrintVersion, "Print the version and exit")
	fs.IntVar(&o.Workers, "workers", o.Workers, "The number of objects each controller reconciles concurrently")

	fs.BoolVar(&o.ClusterScoped, "cluster-scoped", o.ClusterScoped, "Manage TiDB clusters in all namespaces; false limits the operator to $NAMESPACE")
	fs.BoolVar(&o.ClusterPermissionNode, "cluster-permission-node", o.ClusterPermissionNode, "The operator may read Nodes even when not cluster scoped (needed to sync node labels to stores)")
	fs.BoolVar(&o.ClusterPermissionPV, "cluster-permission-pv", o.ClusterPermissionPV, "The operator may read and update PersistentVolumes even when not cluster scoped")
	fs.BoolVar(&o.ClusterPermissionSC, "cluster-permission-sc", o.ClusterPermissionSC, "The operator may read StorageClasses even when not cluster scoped")

	fs.BoolVar(&o.AutoFailover, "auto-failover", o.AutoFailover, "Add TiKV and TiDB pods in place of ones down for longer than their failover period (PD, TiFlash and DM failover are not implemented yet)")
	fs.DurationVar(&o.PDFailoverPeriod, "pd-failover-period", o.PDFailoverPeriod, "How long a PD member may be unhealthy before it counts as failed")
	fs.DurationVar(&o.TiKVFailoverPeriod, "tikv-failover-period", o.TiKVFailoverPeriod, "How long a TiKV store may be down before it counts as failed")
	fs.DurationVar(&o.TiDBFailoverPeriod, "tidb-failover-period", o.TiDBFailoverPeriod, "How long a TiDB member may be unhealthy before it counts as failed")
	fs.DurationVar(&o.TiFlashFailoverPeriod, "tiflash-failover-period", o.TiFlashFailoverPeriod, "How long a TiFlash store may be down before it counts as failed")
	fs.DurationVar(&o.DMMasterFailoverPeriod, "dm-master-failover-period", o.DMMasterFailoverPeriod, "How long a DM-master member may be unhealthy before it counts as failed")
	fs.DurationVar(&o.DMWorkerFailoverPeriod, "dm-worker-failover-period", o.DMWorkerFailoverPeriod, "How long a DM-worker member may be unhealthy before it counts as failed")

	fs.BoolVar(&o.DetectNodeFailure, "detect-node-failure", o.DetectNodeFailure, "Experimental: detect node failures and fail over the stateful pods on them")
	fs.DurationVar(&o.PodHardRecoveryPeriod, "pod-hard-recovery-period", o.PodHardRecoveryPeriod, "With -detect-node-failure, after this long a pod on a failed node is recovered unconditionally")
	fs.DurationVar(&o.ResyncDuration, "resync-duration", o.ResyncDuration, "How often every watched object is reconciled again without a change")
	fs.BoolVar(&o.TestMode, "test-mode", o.TestMode, "Add the pauses the end-to-end tests rely on; never use in production")

	fs.StringVar(&o.BackupManagerImage, "tidb-backup-manager-image", o.BackupManagerImage, "The image run by backup, restore and clean Jobs")
	fs.StringVar(&o.DiscoveryImage, "tidb-discovery-image", o.DiscoveryImage, "The image of each cluster's discovery service")
	fs.StringVar(&o.Selector, "selector", o.Selector, "Only manage custom resources matching this label selector (e.g. key1=value1,key2!=value2)")

	fs.DurationVar(&o.LeaseDuration, "leader-lease-duration", o.LeaseDuration, "How long non-leaders wait before trying to take over leadership")
	fs.DurationVar(&o.RenewDeadline, "leader-renew-deadline", o.RenewDeadline, "How long the leader keeps trying to renew its lease before giving up")
	fs.DurationVar(&o.RetryPeriod, "leader-retry-period", o.RetryPeriod, "How long leader-election clients wait between attempts")
	fs.StringVar(&o.LeaderResourceLock, "leader-resource-lock", o.LeaderResourceLock, "The kind of object used as the leader-election lock (only \"leases\" is supported)")

	fs.Float64Var(&o.KubeClientQPS, "kube-client-qps", o.KubeClientQPS, "Maximum queries per second to the Kubernetes API server; 0 keeps the client default")
	fs.IntVar(&o.KubeClientBurst, "kube-client-burst", o.KubeClientBurst, "Maximum burst of queries to the Kubernetes API server; 0 keeps the client default")

	if o.Features == nil {
		o.Features = features.New()
	}
	fs.Var(o.Features, features.FlagName, features.FlagUsage)

	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to a kubeconfig, for running outside the cluster (default: $KUBECONFIG, then in-cluster)")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address serving /metrics and /debug/pprof")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "Address serving /healthz and /readyz; \"0\" turns the probes off")
	fs.DurationVar(&o.LogBackupCheckpointInterval, "log-backup-checkpoint-interval", o.LogBackupCheckpointInterval, "How often the checkpoint of each running log backup is read from PD into the Backup's status")
}

// Validate reports every invalid option at once, each naming its flag.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if o.Workers < 1 {
		bad("-workers must be at least 1, got %d", o.Workers)
	}
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{
		{"pd-failover-period", o.PDFailoverPeriod},
		{"tikv-failover-period", o.TiKVFailoverPeriod},
		{"tidb-failover-period", o.TiDBFailoverPeriod},
		{"tiflash-failover-period", o.TiFlashFailoverPeriod},
		{"dm-master-failover-period", o.DMMasterFailoverPeriod},
		{"dm-worker-failover-period", o.DMWorkerFailoverPeriod},
		{"pod-hard-recovery-period", o.PodHardRecoveryPeriod},
		{"resync-duration", o.ResyncDuration},
		{"leader-lease-duration", o.LeaseDuration},
		{"leader-renew-deadline", o.RenewDeadline},
		{"leader-retry-period", o.RetryPeriod},
		{"log-backup-checkpoint-interval", o.LogBackupCheckpointInterval},
	} {
		if d.value <= 0 {
			bad("-%s must be a positive duration, got %s", d.flag, d.value)
		}
	}
	if o.LeaseDuration > 0 && o.RenewDeadline > 0 && o.LeaseDuration <= o.RenewDeadline {
		bad("-leader-lease-duration (%s) must be longer than -leader-renew-deadline (%s)", o.LeaseDuration, o.RenewDeadline)
	}
	if o.RenewDeadline > 0 && o.RetryPeriod > 0 && float64(o.RenewDeadline) <= leaderElectionJitter*float64(o.RetryPeriod) {
		bad("-leader-renew-deadline (%s) must be longer than %.1f × -leader-retry-period (%s)", o.RenewDeadline, leaderElectionJitter, o.RetryPeriod)
	}
	if o.LeaderResourceLock != DefaultLeaderResourceLock {
		// client-go dropped the endpoints and configmaps locks; saying so beats its terse error
		// after start-up.
		bad("-leader-resource-lock %q is not supported: only %q locks exist in current Kubernetes clients", o.LeaderResourceLock, DefaultLeaderResourceLock)
	}
	if o.BackupManagerImage == "" {
		bad("-tidb-backup-manager-image must not be empty")
	}
	if o.DiscoveryImage == "" {
		bad("-tidb-discovery-image must not be empty")
	}
	if _, err := labels.Parse(o.Selector); err != nil {
		bad("-selector %q is not a valid label selector: %w", o.Selector, err)
	}
	if o.KubeClientQPS < 0 {
		bad("-kube-client-qps must not be negative, got %g", o.KubeClientQPS)
	}
	if o.KubeClientBurst < 0 {
		bad("-kube-client-burst must not be negative, got %d", o.KubeClientBurst)
	}
	if o.MetricsBindAddress == "" {
		bad("-metrics-bind-address must not be empty; use \"0\" to turn metrics off")
	}
	if o.Features == nil {
		bad("feature gates are not initialised")
	}
	return errors.Join(errs...)
}

// LabelSelector returns the parsed -selector (everything when it is empty). Call Validate first.
func (o *Options) LabelSelector() (labels.Selector, error) {
	s, err := labels.Parse(o.Selector)
	if err != nil {
		return nil, fmt.Errorf("-selector %q: %w", o.Selector, err)
	}
	return s, nil
}
