// Package builders holds the pure functions that turn a TidbCluster into the Kubernetes objects
// the operator keeps in sync for PD, TiKV, TiDB and the discovery service: Services, ConfigMaps
// (TOML configuration and start scripts), StatefulSets, and the discovery Deployment with its RBAC.
//
// Nothing here talks to an API server or reads the clock; the same TidbCluster always gives the
// same objects, byte for byte (maps serialise sorted, slices are built in a fixed order), so a
// reconcile can compare them with what exists and stay quiet when nothing changed.
//
// The objects follow TiDB Operator v1.6 (names, labels, ports, environment, volumes and their
// order, mount paths and start-script behaviour), because a later step takes over clusters that
// v1.6 created without restarting their pods. Where this package has to differ, the comment at the
// spot says why.
//
// Typical use by the TidbCluster controller, per component:
//
//	cm, err := builders.PDConfigMap(tc)              // name already hashed for RollingUpdate
//	sts, err := builders.PDStatefulSet(tc, cm, builders.StatefulSetOptions{Partition: p})
//	svc := builders.PDService(tc); peer := builders.PDPeerService(tc)
//	same, err := builders.TemplateEqual(sts, existing) // v1.6's last-applied comparison
//	builders.SetLastAppliedConfiguration(sts)        // after changing sts.Spec
//
// TiDBService returns nil when spec.tidb.service is unset; the discovery objects come from
// DiscoveryDeployment, DiscoveryService, DiscoveryServiceAccount, DiscoveryRole and
// DiscoveryRoleBinding.
package builders
