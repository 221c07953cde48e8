package controllers

// The operator's permissions. `make generate` turns these markers into
// manifests/base/cluster_role.yaml and manifests/base/role.yaml; rules for the same resource are
// merged there. One marker is one reason: the comment above it names the controller that needs it
// and what for, so a rule nobody can justify is easy to spot and remove. Verbs are the fewest that
// work: reads are get, list and watch because controller-runtime serves reads from informers; no
// wildcard appears anywhere.
//
// A rule marked "(later)" would belong to a controller that v1.6 runs and this operator will run
// but that is not written yet; it is granted ahead so that a deployment needs no new RBAC when the
// controller lands, and the e2e log of rules no test exercised names it until then.
//
// Creating a Role requires holding every permission it grants (the API server's escalation
// check), so the discovery Role the operator creates for each cluster (get on its own
// TidbCluster) is covered by the TidbCluster read rule below. If that Role ever grants more, the
// same permission must be added here first.

// Custom resources.

// tidbcluster: read the clusters it reconciles.
// +kubebuilder:rbac:groups=pingcap.com,resources=tidbclusters,verbs=get;list;watch
// tidbcluster: write status (members, stores, conditions) through the status subresource, once per reconcile, with an optimistic-lock update.
// +kubebuilder:rbac:groups=pingcap.com,resources=tidbclusters/status,verbs=update
// tidbcluster: child objects carry controller owner references with blockOwnerDeletion, which clusters running the OwnerReferencesPermissionEnforcement admission plugin (e.g. OpenShift) allow only to those who may update the owner's finalizers.
// +kubebuilder:rbac:groups=pingcap.com,resources=tidbclusters/finalizers,verbs=update

// backup, restore, compactBackup: read the requests; tidbcluster: watch Restores to keep gc.ratio-threshold = -1 in TiKV's configuration while a PiTR restore into the cluster is unfinished; backup adds and removes its backup-protection finalizer (merge patch); backupschedule sets spec.logTruncateUntil on its log backup after garbage collection (merge patch).
// +kubebuilder:rbac:groups=pingcap.com,resources=backups;restores;compactbackups,verbs=get;list;watch;update;patch
// backup, restore, compactBackup: record Scheduled, retries (backoffRetryStatus), failures the Job could not report, and the log-backup checkpoint, as small transactions on the status subresource.
// +kubebuilder:rbac:groups=pingcap.com,resources=backups/status;restores/status;compactbackups/status,verbs=update
// backup, restore, compactBackup: their Jobs carry controller owner references with blockOwnerDeletion (see tidbclusters/finalizers).
// +kubebuilder:rbac:groups=pingcap.com,resources=backups/finalizers;restores/finalizers;compactbackups/finalizers,verbs=update
// backupschedule: read schedules.
// +kubebuilder:rbac:groups=pingcap.com,resources=backupschedules,verbs=get;list;watch
// backupschedule: record the last backup, the log backup, the last compaction and the ScheduleValid condition.
// +kubebuilder:rbac:groups=pingcap.com,resources=backupschedules/status,verbs=update
// backupschedule: the Backups and CompactBackups it creates carry owner references with blockOwnerDeletion to the schedule.
// +kubebuilder:rbac:groups=pingcap.com,resources=backupschedules/finalizers,verbs=update
// backupschedule: create a Backup on every due cron tick, the log backup once and a CompactBackup every compactInterval, and delete Backups past maxBackups/maxReservedTime (through the API, so their cleanPolicy runs).
// +kubebuilder:rbac:groups=pingcap.com,resources=backups;compactbackups,verbs=create;delete

// Workloads of a cluster.

// tidbcluster: PD, TiKV and TiDB run as StatefulSets it creates, scales and upgrades (partition), and deletes to suspend a component.
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;delete
// tidbcluster: the per-cluster discovery service is a Deployment.
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update
// tidbcluster: client and headless peer Services of each component and of discovery.
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update
// tidbcluster: rendered configuration and start scripts of each component.
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update
// tidbcluster, tidbcluster-pod: watch member pods for readiness, upgrades and the user's pod annotations (evict-leader, graceful shutdown).
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// tidbcluster: keep the cluster-id, member-id and store-id labels on member pods in sync (merge patches).
// +kubebuilder:rbac:groups="",resources=pods,verbs=patch
// tidbcluster, tidbcluster-pod: delete a failed member's pod during failover and a TiDB pod on graceful-shutdown request.
// +kubebuilder:rbac:groups="",resources=pods,verbs=delete
// tidbcluster: mark the PVCs of scaled-in members (pvc-defer-deleting) and keep their labels in sync (merge patches).
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;patch
// tidbcluster: delete deferred PVCs before a scale-out reuses their ordinal, and PVCs of failed PD members.
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=delete
// tidbcluster: set the reclaim policy of bound volumes to spec.pvReclaimPolicy and label them, as v1.6 does (cluster scope or -cluster-permission-pv).
// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get;list;watch;patch
// tidbcluster: copy node topology labels to TiKV/TiFlash store labels and TiDB server labels (v1.6's -cluster-permission-node).
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// tidbcluster, backup: read a TLS cluster's client certificate Secret (<tc>-cluster-client-secret) to reach PD and TiDB (backup: PD's etcd for the log-backup checkpoint); read one by one, never cached cluster-wide.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// backup, restore, compactBackup, backupschedule: run backup-manager Jobs once each; delete a failed one to retry it (backup, compactBackup, clean and stop Jobs), a finished log-subcommand Job to run a new request of the same subcommand, and a schedule's previous Dumpling Job to release its volume.
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete

// Identity of the discovery service.

// tidbcluster: the discovery Deployment runs as its own ServiceAccount <tc>-discovery.
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;update
// tidbcluster: a Role and RoleBinding <tc>-discovery let discovery read its own TidbCluster.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update

// Reporting.

// every controller: events on the objects it acts on (events.k8s.io recorder).
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// The operator's own namespace (a Role: nothing here is needed cluster-wide).

// leader election: the replicas compete for the lease tidb-controller-manager in $NAMESPACE.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update,namespace=tidb-operator
// leader election: the elector reports leadership changes as core/v1 events in $NAMESPACE.
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch,namespace=tidb-operator
