package operator

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tidbops/tidb-operator/pkg/backup/job"
	"github.com/tidbops/tidb-operator/pkg/controllers/backup"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupschedule"
	"github.com/tidbops/tidb-operator/pkg/controllers/compactbackup"
	"github.com/tidbops/tidb-operator/pkg/controllers/restore"
	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster"
	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster/tasks"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
)

// Controller is one reconciler of the operator.
type Controller struct {
	// Name identifies the controller in logs and errors. Use v1.6's names (tidbcluster,
	// tidbcluster-pod, dmcluster, backup, compactBackup, restore, backupschedule,
	// tidbinitializer, tidbmonitor, tidb-ng-monitoring, tidb-dashboard) so dashboards built on
	// the controller label keep working.
	Name string
	// Setup registers the controller's watches and reconciler with the manager. It runs once,
	// before the manager starts; it must not block or talk to the API server.
	Setup func(mgr ctrl.Manager, opts *options.Options) error
}

// Controllers returns the controllers the operator runs, in v1.6's start order. Each controller
// package adds its entry here when it is written; the list is empty until then, and the manager
// still starts (leader election, metrics and probes work without controllers).
func Controllers() []Controller {
	return []Controller{
		{Name: tidbcluster.Name, Setup: func(mgr ctrl.Manager, o *options.Options) error {
			return tidbcluster.SetupWithManager(mgr, tidbcluster.Options{
				DiscoveryImage:          o.DiscoveryImage,
				RenderProbe:             o.RenderProbe,
				Resync:                  o.ResyncDuration,
				MaxConcurrentReconciles: o.Workers,
				ReadNodes:               o.ClusterScoped || o.ClusterPermissionNode,
				ReadPVs:                 o.ClusterScoped || o.ClusterPermissionPV,
				AutoFailover: tasks.FailoverConfig{
					Enabled: o.AutoFailover, TiKVPeriod: o.TiKVFailoverPeriod, TiDBPeriod: o.TiDBFailoverPeriod,
				},
			})
		}},
		{Name: backup.Name, Setup: func(mgr ctrl.Manager, o *options.Options) error {
			return backup.SetupWithManager(mgr, backup.Options{
				Settings:                backupSettings(o),
				CheckpointInterval:      o.LogBackupCheckpointInterval,
				MaxConcurrentReconciles: o.Workers,
			})
		}},
		{Name: compactbackup.Name, Setup: func(mgr ctrl.Manager, o *options.Options) error {
			return compactbackup.SetupWithManager(mgr, compactbackup.Options{
				Settings: backupSettings(o), MaxConcurrentReconciles: o.Workers,
			})
		}},
		{Name: restore.Name, Setup: func(mgr ctrl.Manager, o *options.Options) error {
			return restore.SetupWithManager(mgr, restore.Options{
				Settings: backupSettings(o), MaxConcurrentReconciles: o.Workers,
			})
		}},
		{Name: backupschedule.Name, Setup: func(mgr ctrl.Manager, o *options.Options) error {
			return backupschedule.SetupWithManager(mgr, backupschedule.Options{
				Resync: o.ResyncDuration, MaxConcurrentReconciles: o.Workers,
			})
		}},
	}
}

// backupSettings are the operator-wide inputs of every backup-family Job.
func backupSettings(o *options.Options) job.Settings {
	return job.Settings{BackupManagerImage: o.BackupManagerImage}
}
