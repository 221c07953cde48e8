package tidbcluster

import (
	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/controllers/tidbcluster/tasks"
	"github.com/tidbops/tidb-operator/pkg/task"
)

// buildRunner lists the steps of one reconcile. The main list stops at the first step that does
// not complete; the finally list always runs, so status keeps being refreshed while a step waits
// or fails, and is written once at the end.
func buildRunner(s *tasks.State, r *Reconciler) task.Runner {
	tc := s.Cluster
	has := func(present bool) task.Condition { return func() bool { return present } }
	notDeleting := func() bool { return !s.Deleting() }
	// active: the component is in the spec and not suspended in this reconcile.
	active := func(present bool, comp string) task.Condition {
		return func() bool { return present && !s.Skipped(comp) }
	}
	return task.Runner{
		Resync: r.Resync,
		Tasks: []task.Task{
			// A cluster being deleted: its children go with it through owner references.
			task.If("ForgetCluster", s.Deleting, tasks.ForgetCluster(s)),
			task.IfBreak("Deleting", s.Deleting),
			// Ask PD for members, leader and stores; failures mark status stale, nothing more.
			tasks.ObservePD(s),
			// Paused: nothing changes but status.
			task.IfBreak("Paused", s.Paused),
			// suspendAction: StatefulSets deleted TiDB → TiKV → PD, and back when removed.
			tasks.Suspend(s),
			// The discovery service PD pods bootstrap and join through.
			task.If("Discovery", has(tc.NeedsDiscovery()),
				// Each workload: the rendering replaces the live template only when the spec
				// asks for it (or the user does); see pkg/rollout.
				tasks.PlanRollout(s, label.DiscoveryComponent),
				tasks.Discovery(s),
				tasks.DiscoveryDeployment(s),
			),
			// PD: services, config, StatefulSet (scale-out, then scale-in one member at a time).
			task.If("PD", active(tc.Spec.PD != nil, label.PDComponent),
				tasks.PDServices(s),
				tasks.PlanRollout(s, label.PDComponent),
				tasks.PDConfigMap(s),
				tasks.PDStatefulSet(s),
				// TiKV and TiDB start only once a majority of PD is healthy.
				tasks.WaitForPDAvailable(s),
			),
			// TiKV: peer service, config, StatefulSet (scale-in through PD store deletion).
			task.If("TiKV", active(tc.Spec.TiKV != nil, label.TiKVComponent),
				// Again here: PD may be suspended while TiKV resumes.
				tasks.WaitForPDAvailable(s),
				tasks.TiKVServices(s),
				// An unfinished PiTR Restore into this cluster keeps TiKV's GC off in its config.
				tasks.ObservePiTRRestores(s),
				tasks.PlanRollout(s, label.TiKVComponent),
				tasks.TiKVConfigMap(s),
				// Node topology into store labels; never blocks what follows.
				tasks.TiKVStoreLabels(s),
				tasks.TiKVStatefulSet(s),
			),
			// TiDB starts once a TiKV store is Up.
			task.If("TiDB", active(tc.Spec.TiDB != nil, label.TiDBComponent),
				tasks.WaitForTiKVAvailable(s),
				tasks.TiDBServices(s),
				tasks.PlanRollout(s, label.TiDBComponent),
				tasks.TiDBConfigMap(s),
				// Node topology into TiDB server labels; never blocks what follows.
				tasks.TiDBServerLabels(s),
				tasks.TiDBStatefulSet(s),
			),
		},
		Finally: []task.Task{
			// StatefulSet status, phases, TiDB health and the Ready condition, in memory.
			task.If("Status", notDeleting, tasks.ComputeStatus(s)),
			// -auto-failover: a TiKV or TiDB pod in place of one down too long (records in status).
			task.If("Failover", func() bool { return r.AutoFailover.Enabled && !s.Deleting() && !s.Paused() }, tasks.Failover(s)),
			// cluster-id, member-id and store-id labels on pods and their claims.
			task.If("MetaLabels", func() bool { return !s.Deleting() && !s.Paused() }, tasks.SyncMetaLabels(s)),
			// The one status write, skipped when nothing changed.
			task.If("PersistStatus", notDeleting, tasks.WriteStatus(s)),
			// Come back early while PD cannot be read.
			tasks.RetryWhilePDUnreachable(s),
		},
	}
}
