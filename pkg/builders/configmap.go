package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/imagever"
	"github.com/tidbops/tidb-operator/pkg/tomlconfig"
)

// ConfigMapName is the name a component's ConfigMap must have: "<tc>-<component>" with
// configUpdateStrategy InPlace, "<tc>-<component>-<hash>" with RollingUpdate, where the hash is
// the first 7 hex digits of the SHA-256 of the JSON of cm.Data. A changed configuration then gets
// a new ConfigMap, the pod template's volume points at it, and the pods roll.
func ConfigMapName(tc *v1alpha1.TidbCluster, component string, cm *corev1.ConfigMap) (string, error) {
	base := MemberName(tc.Name, component)
	if configUpdateStrategy(tc, component) != v1alpha1.ConfigUpdateStrategyRollingUpdate {
		return base, nil
	}
	var data map[string]string
	if cm != nil {
		data = cm.Data
	}
	// encoding/json sorts map keys, so the digest depends on the contents only.
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("hash ConfigMap data of %s: %w", base, err)
	}
	sum := sha256.Sum256(b)
	return base + "-" + hex.EncodeToString(sum[:])[:7], nil
}

func componentSpecOf(tc *v1alpha1.TidbCluster, component string) *v1alpha1.ComponentSpec {
	switch component {
	case label.PDComponent:
		if tc.Spec.PD != nil {
			return &tc.Spec.PD.ComponentSpec
		}
	case label.TiKVComponent:
		if tc.Spec.TiKV != nil {
			return &tc.Spec.TiKV.ComponentSpec
		}
	case label.TiDBComponent:
		if tc.Spec.TiDB != nil {
			return &tc.Spec.TiDB.ComponentSpec
		}
	case label.DiscoveryComponent:
		if tc.Spec.Discovery != nil {
			return &tc.Spec.Discovery.ComponentSpec
		}
	}
	return nil
}

func configUpdateStrategy(tc *v1alpha1.TidbCluster, component string) v1alpha1.ConfigUpdateStrategy {
	return settings(tc, componentSpecOf(tc, component), component).configUpdateStrategy()
}

func componentConfigMap(tc *v1alpha1.TidbCluster, component string, config *v1alpha1.Config, script string, overrides []tomlconfig.Override) (*corev1.ConfigMap, error) {
	text, err := tomlconfig.Render(config, overrides...)
	if err != nil {
		return nil, fmt.Errorf("spec.%s.config: %w", component, err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: objectMeta(tc, "", ComponentLabels(tc, component).Labels()),
		Data: map[string]string{
			ConfigFileKey:    text,
			StartupScriptKey: script,
		},
	}
	cm.Name, err = ConfigMapName(tc, component, cm)
	if err != nil {
		return nil, err
	}
	return cm, nil
}

func tlsOverrides(dir, caKey, certKey, keyKey string) []tomlconfig.Override {
	return []tomlconfig.Override{
		{Key: caKey, Value: path.Join(dir, tlsCAKey)},
		{Key: certKey, Value: path.Join(dir, tlsCertKey)},
		{Key: keyKey, Value: path.Join(dir, tlsKeyKey)},
	}
}

func clusterTLSDir(component string) string { return "/var/lib/" + component + "-tls" }

// skipTLSWhenConnectTiDB is the TidbCluster annotation that makes PD's dashboard talk to TiDB
// without TLS; only its presence matters.
func skipTLSWhenConnectTiDB(tc *v1alpha1.TidbCluster) bool {
	_, ok := tc.Annotations[label.SkipTLSWhenConnectTiDBAnnKey]
	return ok
}

// pdDashboardUsesTiDBClientTLS says whether PD's dashboard connects to TiDB with a client
// certificate (TiDB serves MySQL over TLS, the cluster did not opt out, and PD has a dashboard).
func pdDashboardUsesTiDBClientTLS(tc *v1alpha1.TidbCluster) bool {
	return tc.IsTiDBTLSClientEnabled() && !skipTLSWhenConnectTiDB(tc) && imagever.AtLeast(tc.PDImage(), 4, 0)
}

// PDConfigMap is PD's ConfigMap: pd.toml rendered from spec.pd.config with the certificate paths
// set when tlsCluster is on (security.*), the dashboard's TiDB client certificate when TiDB serves
// TLS (dashboard.tidb-*), dashboard.internal-proxy when set, and the start script.
func PDConfigMap(tc *v1alpha1.TidbCluster) (*corev1.ConfigMap, error) {
	if tc.Spec.PD == nil {
		return nil, fmt.Errorf("spec.pd is not set")
	}
	var o []tomlconfig.Override
	if tc.IsTLSClusterEnabled() {
		o = append(o, tlsOverrides(clusterTLSDir("pd"), "security.cacert-path", "security.cert-path", "security.key-path")...)
	}
	if pdDashboardUsesTiDBClientTLS(tc) {
		o = append(o, tlsOverrides(tidbClientTLSMountPath, "dashboard.tidb-cacert-path", "dashboard.tidb-cert-path", "dashboard.tidb-key-path")...)
	}
	if p := tc.Spec.PD.EnableDashboardInternalProxy; p != nil {
		o = append(o, tomlconfig.Override{Key: "dashboard.internal-proxy", Value: *p})
	}
	return componentConfigMap(tc, label.PDComponent, tc.Spec.PD.Config, PDStartScript(tc), o)
}

// TiKVConfigOptions are the inputs of TiKV's ConfigMap that do not come from the TidbCluster.
type TiKVConfigOptions struct {
	// PiTRRestore: an unfinished PiTR Restore targets the cluster. TiKV's configuration then
	// disables GC (gc.ratio-threshold = -1.0, whatever spec.tikv.config says), so that a TiKV
	// restarting during the log restore keeps GC off, as v1.6 does (applyPiTRConfigOverride);
	// BR sets the same value online while it runs.
	PiTRRestore bool
}

// PiTRRestoreGCRatioThreshold is the gc.ratio-threshold of TiKV while an unfinished PiTR Restore
// targets the cluster: a negative value disables TiKV's GC.
const PiTRRestoreGCRatioThreshold = -1.0

// pitrRestoreOverlay is the setting TiKVConfigOptions.PiTRRestore adds, after every other one.
func pitrRestoreOverlay() tomlconfig.Override {
	return tomlconfig.Override{Key: "gc.ratio-threshold", Value: PiTRRestoreGCRatioThreshold}
}

// TiKVConfigMap is TiKV's ConfigMap without inputs from outside the cluster: TiKVConfigMapWith
// with zero options.
func TiKVConfigMap(tc *v1alpha1.TidbCluster) (*corev1.ConfigMap, error) {
	return TiKVConfigMapWith(tc, TiKVConfigOptions{})
}

// TiKVConfigMapWith is TiKV's ConfigMap: tikv.toml from spec.tikv.config with security.* set when
// tlsCluster is on, gc.ratio-threshold = -1.0 with o.PiTRRestore, and the start script. With
// configUpdateStrategy RollingUpdate the overlay changes the hashed name, so TiKV rolls to it
// (and back when it goes), as in v1.6.
func TiKVConfigMapWith(tc *v1alpha1.TidbCluster, o TiKVConfigOptions) (*corev1.ConfigMap, error) {
	if tc.Spec.TiKV == nil {
		return nil, fmt.Errorf("spec.tikv is not set")
	}
	var ov []tomlconfig.Override
	if tc.IsTLSClusterEnabled() {
		ov = append(ov, tlsOverrides(clusterTLSDir("tikv"), "security.ca-path", "security.cert-path", "security.key-path")...)
	}
	// TiKV before 4.0 read these two as integers and later versions as duration strings that also
	// accept a bare number; v1.6 writes a numeric string unquoted so both understand it.
	for _, k := range []string{"wait-for-lock-timeout", "wake-up-delay-duration"} {
		if n, ok := numericString(tc.Spec.TiKV.Config, "pessimistic-txn", k); ok {
			ov = append(ov, tomlconfig.Override{Key: "pessimistic-txn." + k, Value: n})
		}
	}
	if o.PiTRRestore {
		ov = append(ov, pitrRestoreOverlay())
	}
	return componentConfigMap(tc, label.TiKVComponent, tc.Spec.TiKV.Config, TiKVStartScript(tc), ov)
}

// TiDBConfigMap is TiDB's ConfigMap: tidb.toml from spec.tidb.config with security.cluster-ssl-*
// when tlsCluster is on, security.ssl-* (MySQL server certificate; no CA when client
// authentication is off) when tlsClient is on, security.auth-token-jwks with token-based
// authentication, and the start script.
func TiDBConfigMap(tc *v1alpha1.TidbCluster) (*corev1.ConfigMap, error) {
	db := tc.Spec.TiDB
	if db == nil {
		return nil, fmt.Errorf("spec.tidb is not set")
	}
	var o []tomlconfig.Override
	if tc.IsTLSClusterEnabled() {
		o = append(o, tlsOverrides(clusterTLSDir("tidb"), "security.cluster-ssl-ca", "security.cluster-ssl-cert", "security.cluster-ssl-key")...)
	}
	if tc.IsTiDBTLSClientEnabled() {
		if !db.TLSClient.DisableClientAuthn {
			o = append(o, tomlconfig.Override{Key: "security.ssl-ca", Value: path.Join(tidbServerTLSMountPath, tlsCAKey)})
		}
		o = append(o,
			tomlconfig.Override{Key: "security.ssl-cert", Value: path.Join(tidbServerTLSMountPath, tlsCertKey)},
			tomlconfig.Override{Key: "security.ssl-key", Value: path.Join(tidbServerTLSMountPath, tlsKeyKey)})
	}
	if db.TokenBasedAuthEnabled != nil && *db.TokenBasedAuthEnabled {
		o = append(o, tomlconfig.Override{Key: "security.auth-token-jwks", Value: path.Join(tidbAuthTokenMountPath, tidbAuthTokenJWKSFile)})
	}
	return componentConfigMap(tc, label.TiDBComponent, db.Config, TiDBStartScript(tc), o)
}

// numericString returns table.key of the user's configuration as an integer when it is a string
// holding one.
func numericString(c *v1alpha1.Config, table, key string) (int64, bool) {
	doc, err := tomlconfig.FromConfig(c)
	if err != nil {
		return 0, false
	}
	t, ok := doc[table].(map[string]any)
	if !ok {
		return 0, false
	}
	s, ok := t[key].(string)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// HasPiTRRestoreOverlay reports whether a rendered TiKV ConfigMap disables GC the way an
// unfinished PiTR Restore makes it (gc.ratio-threshold = -1, as a float or an integer), whether
// the overlay or the user's own configuration put it there. A ConfigMap that cannot be parsed
// does not.
func HasPiTRRestoreOverlay(cm *corev1.ConfigMap) bool {
	if cm == nil {
		return false
	}
	doc, err := tomlconfig.Parse(cm.Data[ConfigFileKey])
	if err != nil {
		return false
	}
	gc, ok := doc["gc"].(map[string]any)
	if !ok {
		return false
	}
	switch v := gc["ratio-threshold"].(type) {
	case float64:
		return v == PiTRRestoreGCRatioThreshold
	case int64:
		return float64(v) == PiTRRestoreGCRatioThreshold
	}
	return false
}

// ConfigMapInUse is the name of the ConfigMap whose configuration file a component's StatefulSet
// mounts (its "config" volume), "" when sts is nil or mounts none.
func ConfigMapInUse(sts *appsv1.StatefulSet) string {
	if sts == nil {
		return ""
	}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name == "config" && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}
