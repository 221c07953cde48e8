package builders

import (
	"testing"
)

// TestGoldenBasicCluster writes out the full objects of the basic cluster so reviewers can read
// them, and fails when any builder's output changes unintentionally.
func TestGoldenBasicCluster(t *testing.T) {
	tc := basicCluster(t)
	pdCM, err := PDConfigMap(tc)
	if err != nil {
		t.Fatal(err)
	}
	kvCM, err := TiKVConfigMap(tc)
	if err != nil {
		t.Fatal(err)
	}
	kvPiTRCM, err := TiKVConfigMapWith(tc, TiKVConfigOptions{PiTRRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	dbCM, err := TiDBConfigMap(tc)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := PDStatefulSet(tc, pdCM, StatefulSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := TiKVStatefulSet(tc, kvCM, StatefulSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := TiDBStatefulSet(tc, dbCM, StatefulSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, obj := range map[string]any{
		"basic-pd-configmap":   pdCM,
		"basic-tikv-configmap": kvCM,
		// While an unfinished PiTR Restore targets the cluster.
		"basic-tikv-configmap-pitr-restore": kvPiTRCM,
		"basic-tidb-configmap":              dbCM,
		"basic-pd-statefulset":              pd,
		"basic-tikv-statefulset":            kv,
		"basic-tidb-statefulset":            db,
		"basic-services":                    []any{PDService(tc), PDPeerService(tc), TiKVPeerService(tc), TiDBPeerService(tc), TiDBService(tc)},
		"basic-discovery":                   []any{DiscoveryDeployment(tc, "pingcap/tidb-operator:v1.6.3"), DiscoveryService(tc), DiscoveryServiceAccount(tc), DiscoveryRole(tc), DiscoveryRoleBinding(tc)},
	} {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, obj) })
	}
}
