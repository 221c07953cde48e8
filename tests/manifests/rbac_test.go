package manifests

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/operator"
	"github.com/tidbops/tidb-operator/pkg/operator/options"
)

// applyRBAC installs the generated ServiceAccount, ClusterRole, Role and bindings for real.
func applyRBAC(ctx context.Context, t *testing.T, c client.Client) (*rbacv1.ClusterRole, *rbacv1.Role) {
	t.Helper()
	objs := built(t, devDir)
	ensureNamespace(ctx, t, c, objs)
	var rbac []*unstructured.Unstructured
	for _, k := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		rbac = append(rbac, mustFind(t, objs, k, operatorName))
	}
	apply(ctx, t, c, rbac, false)
	return typed[rbacv1.ClusterRole](t, rbac[1]), typed[rbacv1.Role](t, rbac[3])
}

// The operator, run with the generated ServiceAccount's permissions instead of an admin's, does
// everything it tries: no request is refused. With today's controller list that is leader
// election and the informers of the registered controllers; as controllers are added to
// operator.Controllers() this test covers them too. It then lists the granted permissions no
// request used.
func TestOperatorRunsWithTheGeneratedServiceAccount(t *testing.T) {
	cl := withCRDs(t)
	admin := cl.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cr, role := applyRBAC(ctx, t, admin)

	rec := &Recorder{}
	cfg := ServiceAccountConfig(cl.Config(), operatorNS, operatorName)
	rec.Wrap(cfg)

	opts := options.New()
	opts.MetricsBindAddress = "0"
	opts.HealthProbeBindAddress = "0"
	// Short leases so the standby test below does not wait long for a takeover.
	opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = 4*time.Second, 3*time.Second, time.Second
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- operator.Run(runCtx, operator.Config{
			Options:     opts,
			Environment: operator.Environment{Namespace: operatorNS},
			RestConfig:  cfg,
			Controllers: operator.Controllers(),
			Logger:      testr.New(t),
		})
	}()

	// Leadership is the first thing the operator needs; it proves the Role covers the lease.
	var lease coordinationv1.Lease
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-done:
			return false, errors.Join(errors.New("the operator stopped"), err)
		default:
		}
		err := admin.Get(ctx, client.ObjectKey{Namespace: operatorNS, Name: "tidb-controller-manager"}, &lease)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", err
	})
	if err != nil {
		stop()
		t.Fatalf("the operator did not take the leader lease as the ServiceAccount: %v", err)
	}
	// Give the controllers a cluster to work on: examples/basic in a fresh namespace. Nothing
	// answers for PD here, so the operator gets as far as v1.6 would before PD is up: discovery
	// (ServiceAccount, Role, RoleBinding, Deployment, Service), PD's Services, ConfigMap and
	// StatefulSet, status and events.
	if len(operator.Controllers()) > 0 {
		exerciseControllers(ctx, t, cl.NewNamespace(t), admin)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("operator: %v", err)
	}

	requests := rec.Requests()
	if len(requests) == 0 {
		t.Fatal("no API request was recorded")
	}
	refused := map[Permission]int{}
	for _, r := range requests {
		if r.Status == http.StatusForbidden {
			refused[Permission{Group: r.Group, Resource: r.ResourcePath(), Verb: r.Verb, Namespace: r.Namespace}]++
		}
	}
	for p, n := range refused {
		t.Errorf("refused %d time(s): %s: the generated RBAC lacks this permission, or the operator asks for more than it should "+
			"(creating a Role needs every permission the Role grants; see pkg/controllers/rbac.go)", n, p)
	}

	perms := append(Permissions(cr.Rules, ""), Permissions(role.Rules, role.Namespace)...)
	unused := Unexercised(perms, requests)
	t.Logf("%d of %d granted permissions were not exercised by this test (candidates for removal, or for a test):", len(unused), len(perms))
	for _, p := range unused {
		t.Logf("  not exercised: %s", p)
	}
	if slices.ContainsFunc(unused, func(p Permission) bool { return p.Resource == "leases" && p.Verb == "update" }) {
		t.Error("lease updates were not recorded although the operator renewed its lease: the recorder misses requests")
	}
}

// The discovery Role the operator creates for every cluster (read its own TidbCluster) is within
// what the operator holds, so the API server's escalation check lets it through; a Role granting
// more than the operator holds is refused, which is what keeps the operator's RBAC a real bound.
func TestOperatorCanGrantTheDiscoveryRoleAndNothingMore(t *testing.T) {
	cl := withCRDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	applyRBAC(ctx, t, cl.Client())
	ns := cl.NewNamespace(t)
	asOperator, err := client.New(ServiceAccountConfig(cl.Config(), operatorNS, operatorName), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	role := func(name string, rule rbacv1.PolicyRule) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: []rbacv1.PolicyRule{rule}}
	}
	discovery := role("basic-discovery", rbacv1.PolicyRule{
		APIGroups: []string{"pingcap.com"}, Resources: []string{"tidbclusters"}, ResourceNames: []string{"basic"}, Verbs: []string{"get"},
	})
	if err := asOperator.Create(ctx, discovery); err != nil {
		t.Errorf("the operator cannot create the discovery Role: %v", err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "basic-discovery"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "basic-discovery"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "basic-discovery", Namespace: ns}},
	}
	if err := asOperator.Create(ctx, binding); err != nil {
		t.Errorf("the operator cannot bind the discovery Role: %v", err)
	}
	tooMuch := role("too-much", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}})
	if err := asOperator.Create(ctx, tooMuch); !apierrors.IsForbidden(err) {
		t.Errorf("creating a Role that lists Secrets was not refused: %v", err)
	}
}

// exerciseControllers creates the basic example cluster in ns and waits until the operator has
// created its PD StatefulSet, the deepest point it reaches without a PD to talk to.
func exerciseControllers(ctx context.Context, t *testing.T, ns string, admin client.Client) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := readObjects(filepath.Join(root, "examples", "basic", "tidb-cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tc := objs[0]
	tc.SetNamespace(ns)
	if err := admin.Create(ctx, tc); err != nil {
		t.Fatalf("create TidbCluster %s/%s: %v", ns, tc.GetName(), err)
	}
	key := client.ObjectKey{Namespace: ns, Name: tc.GetName() + "-pd"}
	err = wait.PollUntilContextTimeout(ctx, time.Second, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		err := admin.Get(ctx, key, &appsv1.StatefulSet{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Errorf("the operator, running as the ServiceAccount, did not create StatefulSet %s: %v", key, err)
	}
	// A few more reconciles (status writes, events) before the operator stops.
	time.Sleep(5 * time.Second)
}
