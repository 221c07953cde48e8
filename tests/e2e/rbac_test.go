package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/cluster"
	"github.com/tidbops/tidb-operator/tests/manifests"
)

// The operator of every scenario runs as the ServiceAccount the manifests deploy it with, holding
// exactly the generated ClusterRole and Role (manifests/base, generated from the markers in
// pkg/controllers/rbac.go). The files are read at test time, so a rule dropped from the markers
// makes a scenario fail with the refused request instead of passing under an admin identity.
const (
	rbacDir = "../../manifests/base"
	// operatorAccount is the ServiceAccount's name; its namespace is the scenario's.
	operatorAccount = "tidb-operator"
)

// generatedRBAC is the ClusterRole and Role as generated.
type generatedRBAC struct {
	clusterRole *rbacv1.ClusterRole
	role        *rbacv1.Role
}

var (
	rbacOnce sync.Once
	rbacErr  error
	rbac     generatedRBAC
)

func readManifest(name string, into any) error {
	path := filepath.Join(rbacDir, name)
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the generated RBAC: %w", err)
	}
	if err := yaml.UnmarshalStrict(raw, into); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// installClusterRole reads the generated roles and installs the ClusterRole, once per test binary.
func installClusterRole(t *testing.T, c client.Client) generatedRBAC {
	t.Helper()
	rbacOnce.Do(func() {
		cr, role := &rbacv1.ClusterRole{}, &rbacv1.Role{}
		if rbacErr = readManifest("cluster_role.yaml", cr); rbacErr != nil {
			return
		}
		if rbacErr = readManifest("role.yaml", role); rbacErr != nil {
			return
		}
		rbac = generatedRBAC{clusterRole: cr, role: role}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Create(ctx, cr.DeepCopy()); err != nil {
			rbacErr = fmt.Errorf("install ClusterRole %s: %w", cr.Name, err)
		}
	})
	if rbacErr != nil {
		t.Fatal(rbacErr)
	}
	return rbac
}

// grantOperatorRBAC installs the generated RBAC for the ServiceAccount of namespace ns (the
// ClusterRole bound cluster-wide, the Role and its binding in ns, as the base manifests do in the
// operator's namespace) and returns a copy of admin that acts as that account. It returns once
// the API server's authorizer has seen both bindings, so that no refusal in the scenario comes
// from bindings still on their way.
func grantOperatorRBAC(t *testing.T, cl *cluster.Cluster, admin *rest.Config, ns string) *rest.Config {
	t.Helper()
	c := cl.Client()
	gen := installClusterRole(t, c)
	subject := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: operatorAccount, Namespace: ns}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	role := gen.role.DeepCopy()
	role.Namespace = ns
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{subject},
	}
	// One binding per scenario, removed once its operator has stopped, so that bindings do not
	// pile up in the shared cluster. (The Role and RoleBinding go with the namespace.)
	clusterBinding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "tidb-operator-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: gen.clusterRole.Name},
		Subjects:   []rbacv1.Subject{subject},
	}
	for _, o := range []client.Object{role, binding, clusterBinding} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("install %T %s: %v", o, o.GetName(), err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Delete(ctx, clusterBinding); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete ClusterRoleBinding %s: %v", clusterBinding.Name, err)
		}
	})

	cfg := manifests.ServiceAccountConfig(admin, ns, operatorAccount)
	asOperator, err := client.New(cfg, client.Options{Scheme: testScheme()})
	if err != nil {
		t.Fatal(err)
	}
	// One request per binding that only it allows: listing TidbClusters (ClusterRole) and
	// reading a lease (Role), where "not found" means the read was authorized.
	ready := func(ctx context.Context) error {
		if err := asOperator.List(ctx, &v1alpha1.TidbClusterList{}, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("list TidbClusters: %w", err)
		}
		err := asOperator.Get(ctx, client.ObjectKey{Namespace: ns, Name: "no-such-lease"}, &coordinationv1.Lease{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get a lease: %w", err)
		}
		return nil
	}
	if err := poll(30*time.Second, ready); err != nil {
		t.Fatalf("the bindings of ServiceAccount %s/%s took no effect: %v", ns, operatorAccount, err)
	}
	return cfg
}

// rbacUse collects the operators' requests of all scenarios, to list the granted permissions
// none of them used when the last scenario ends.
var rbacUse struct {
	mu       sync.Mutex
	running  int
	rec      manifests.Recorder
	finished int
}

// recordOperator records the requests made with cfg, fails t for every one the API server
// refused, and, when the last running scenario ends, logs the permissions no scenario used.
func recordOperator(t *testing.T, cfg *rest.Config) {
	t.Helper()
	mine := &manifests.Recorder{}
	mine.Wrap(cfg)
	rbacUse.rec.Wrap(cfg)
	rbacUse.mu.Lock()
	rbacUse.running++
	rbacUse.mu.Unlock()
	t.Cleanup(func() {
		refused := map[manifests.Permission]int{}
		for _, r := range mine.Requests() {
			if r.Status == http.StatusForbidden {
				refused[manifests.Permission{Group: r.Group, Resource: r.ResourcePath(), Verb: r.Verb, Namespace: r.Namespace}]++
			}
		}
		for p, n := range refused {
			t.Errorf("refused %d time(s) to the operator's ServiceAccount: %s: the generated RBAC (pkg/controllers/rbac.go) lacks it", n, p)
		}

		rbacUse.mu.Lock()
		defer rbacUse.mu.Unlock()
		rbacUse.running--
		rbacUse.finished++
		if rbacUse.running > 0 {
			return
		}
		// The Role is granted in every scenario's namespace; counting a use in any of them is
		// what "used" means across scenarios. Informers start with a streaming list (a watch
		// with sendInitialEvents), which the recorder sees as a watch, and reads go through the
		// cache: a list or get below may still be needed where streaming lists are off.
		perms := append(manifests.Permissions(rbac.clusterRole.Rules, ""), manifests.Permissions(rbac.role.Rules, "")...)
		unused := manifests.Unexercised(perms, rbacUse.rec.Requests())
		t.Logf("%d of %d generated RBAC permissions were used by none of the %d scenarios run so far:", len(unused), len(perms), rbacUse.finished)
		for _, p := range unused {
			t.Logf("  not exercised: %s", p)
		}
	})
}
