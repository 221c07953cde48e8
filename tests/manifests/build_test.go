package manifests

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

const (
	baseDir       = "manifests/base"
	devDir        = "manifests/overlays/dev"
	operatorNS    = "tidb-operator"
	operatorName  = "tidb-operator"
	operatorImage = "ghcr.io/tidbops/tidb-operator"
	backupImage   = "ghcr.io/tidbops/tidb-backup-manager"
)

// operatorLabels are the labels v1.6 users select the controller manager by.
var operatorLabels = map[string]string{
	"app.kubernetes.io/name":      "tidb-operator",
	"app.kubernetes.io/component": "controller-manager",
}

// typed converts an object of the build into its Go type.
func typed[T any](t testing.TB, o *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return out
}

func TestBaseKustomizationListsTheV16Files(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, baseDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
		Images    []struct {
			Name string `json:"name"`
		} `json:"images"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"custom_resource_definition.yaml", "deployment.yaml", "cluster_role.yaml",
		"cluster_role_binding.yaml", "role.yaml", "role_binding.yaml", "service_account.yaml",
		"pod_disruption_budget.yaml",
	}
	if !reflect.DeepEqual(k.Resources, want) {
		t.Errorf("resources = %v, want %v", k.Resources, want)
	}
	var images []string
	for _, im := range k.Images {
		images = append(images, im.Name)
	}
	if !reflect.DeepEqual(images, []string{operatorImage, backupImage}) {
		t.Errorf("images block names %v, want the operator and backup-manager images", images)
	}
}

// expand resolves $(VAR) references in a container argument from the container's literal env,
// as the kubelet does.
func expand(arg string, env []corev1.EnvVar) string {
	return regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).ReplaceAllStringFunc(arg, func(ref string) string {
		name := ref[2 : len(ref)-1]
		for _, e := range env {
			if e.Name == name && e.ValueFrom == nil {
				return e.Value
			}
		}
		return ref
	})
}

// flagValues returns the value of every --name=value argument after expansion.
func flagValues(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, a := range append(slices.Clone(c.Command[1:]), c.Args...) {
		a = expand(a, c.Env)
		name, value, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if ok {
			out[name] = value
		}
	}
	return out
}

func TestOperatorDeployment(t *testing.T) {
	for _, dir := range []string{baseDir, devDir} {
		t.Run(dir, func(t *testing.T) {
			objs := built(t, dir)
			d := typed[appsv1.Deployment](t, mustFind(t, objs, "Deployment", operatorName))
			if d.Namespace != operatorNS {
				t.Errorf("namespace = %q, want %q", d.Namespace, operatorNS)
			}
			for k, v := range operatorLabels {
				if d.Labels[k] != v || d.Spec.Selector.MatchLabels[k] != v || d.Spec.Template.Labels[k] != v {
					t.Errorf("label %s=%s missing on the Deployment, its selector or its pods", k, v)
				}
			}
			pod := d.Spec.Template.Spec
			if pod.ServiceAccountName != operatorName {
				t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, operatorName)
			}
			if sc := pod.SecurityContext; sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod seccompProfile is not RuntimeDefault: %+v", pod.SecurityContext)
			}
			if len(pod.Containers) != 1 || pod.Containers[0].Name != "controller" {
				t.Fatalf("want exactly one container named controller, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Fatal("the controller container has no securityContext")
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot, sc.RunAsUser == nil || *sc.RunAsUser != 65532:
				t.Errorf("container must run as non-root uid 65532: %+v", sc)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Error("root filesystem is writable")
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Error("privilege escalation is allowed")
			case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("capabilities = %+v, want drop ALL and nothing added", sc.Capabilities)
			}
			if len(c.Command) == 0 || c.Command[0] != "/usr/local/bin/tidb-controller-manager" {
				t.Errorf("command = %v, want /usr/local/bin/tidb-controller-manager first", c.Command)
			}
			flags := flagValues(c)
			if flags["tidb-discovery-image"] != c.Image {
				t.Errorf("--tidb-discovery-image = %q, want the operator image %q", flags["tidb-discovery-image"], c.Image)
			}
			if !strings.HasPrefix(c.Image, operatorImage+":") && !strings.HasPrefix(c.Image, operatorImage+"@") {
				t.Errorf("image = %q, want %s with a tag or digest", c.Image, operatorImage)
			}
			if bm := flags["tidb-backup-manager-image"]; !strings.HasPrefix(bm, backupImage+":") && !strings.HasPrefix(bm, backupImage+"@") {
				t.Errorf("--tidb-backup-manager-image = %q, want %s with a tag or digest", bm, backupImage)
			}
			if flags["auto-failover"] != "true" {
				t.Errorf("--auto-failover = %q, want true", flags["auto-failover"])
			}
			var nsFromDownwardAPI bool
			for _, e := range c.Env {
				if e.Name == "NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace" {
					nsFromDownwardAPI = true
				}
			}
			if !nsFromDownwardAPI {
				t.Error("env NAMESPACE does not come from metadata.namespace")
			}
			ports := map[string]int32{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			if ports["metrics"] != 6060 {
				t.Errorf("port metrics = %d, want 6060", ports["metrics"])
			}
			if flags["metrics-bind-address"] != ":6060" {
				t.Errorf("--metrics-bind-address = %q, want :6060 to match the metrics port", flags["metrics-bind-address"])
			}
			// The probe must reach something the binary serves: the health server's /readyz.
			rp := c.ReadinessProbe
			if rp == nil || rp.HTTPGet == nil {
				t.Fatal("no HTTP readiness probe")
			}
			probePort := rp.HTTPGet.Port.IntVal
			if rp.HTTPGet.Port.StrVal != "" {
				probePort = ports[rp.HTTPGet.Port.StrVal]
			}
			if want := ":" + flagPort(flags["health-probe-bind-address"]); rp.HTTPGet.Path != "/readyz" || ":"+itoa(probePort) != want {
				t.Errorf("readiness probe %s on port %d, want /readyz on the health-probe address %s", rp.HTTPGet.Path, probePort, want)
			}

			pdb := typed[policyv1.PodDisruptionBudget](t, mustFind(t, objs, "PodDisruptionBudget", operatorName))
			if !reflect.DeepEqual(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
				t.Errorf("PDB selects %v, the Deployment's pods are %v", pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels)
			}
		})
	}
}

func flagPort(addr string) string { _, port, _ := strings.Cut(addr, ":"); return port }

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func TestRBACBindsTheGeneratedRolesToTheServiceAccount(t *testing.T) {
	for _, dir := range []string{baseDir, devDir} {
		t.Run(dir, func(t *testing.T) {
			objs := built(t, dir)
			mustFind(t, objs, "ServiceAccount", operatorName)
			cr := typed[rbacv1.ClusterRole](t, mustFind(t, objs, "ClusterRole", operatorName))
			role := typed[rbacv1.Role](t, mustFind(t, objs, "Role", operatorName))
			if role.Namespace != operatorNS {
				t.Errorf("Role namespace = %q, want %q", role.Namespace, operatorNS)
			}
			for _, rules := range [][]rbacv1.PolicyRule{cr.Rules, role.Rules} {
				for _, r := range rules {
					if slices.Contains(r.Verbs, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") {
						t.Errorf("wildcard rule %+v: least privilege names every group, resource and verb", r)
					}
				}
			}
			var leases bool
			for _, r := range role.Rules {
				leases = leases || slices.Contains(r.Resources, "leases")
			}
			if !leases {
				t.Error("the Role does not cover the leader-election lease")
			}
			sa := rbacv1.Subject{Kind: "ServiceAccount", Name: operatorName, Namespace: operatorNS}
			crb := typed[rbacv1.ClusterRoleBinding](t, mustFind(t, objs, "ClusterRoleBinding", operatorName))
			rb := typed[rbacv1.RoleBinding](t, mustFind(t, objs, "RoleBinding", operatorName))
			if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != cr.Name || !slices.Contains(crb.Subjects, sa) {
				t.Errorf("ClusterRoleBinding %+v does not bind ClusterRole %s to %+v", crb, cr.Name, sa)
			}
			if rb.Namespace != operatorNS || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name || !slices.Contains(rb.Subjects, sa) {
				t.Errorf("RoleBinding %+v does not bind Role %s to %+v", rb, role.Name, sa)
			}
		})
	}
}

func TestDevOverlay(t *testing.T) {
	objs := built(t, devDir)
	for _, o := range objs {
		switch o.GetKind() {
		case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition":
		default:
			if o.GetNamespace() != operatorNS {
				t.Errorf("%s %s is in namespace %q, want %q", o.GetKind(), o.GetName(), o.GetNamespace(), operatorNS)
			}
		}
	}
	ns := mustFind(t, objs, "Namespace", operatorNS)
	if ns.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v do not enforce the restricted pod security standard", ns.GetLabels())
	}

	d := typed[appsv1.Deployment](t, mustFind(t, objs, "Deployment", operatorName))
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxSurge.String() != "25%" || ru.MaxUnavailable.String() != "1" {
		t.Errorf("strategy = %+v, want RollingUpdate with maxSurge 25%% and maxUnavailable 1", d.Spec.Strategy)
	}
	pod := d.Spec.Template
	keys := map[string]bool{}
	for _, c := range pod.Spec.TopologySpreadConstraints {
		keys[c.TopologyKey] = true
		honor := corev1.NodeInclusionPolicyHonor
		if c.MaxSkew != 1 || c.WhenUnsatisfiable != corev1.ScheduleAnyway ||
			c.NodeAffinityPolicy == nil || *c.NodeAffinityPolicy != honor ||
			c.NodeTaintsPolicy == nil || *c.NodeTaintsPolicy != honor ||
			!reflect.DeepEqual(c.MatchLabelKeys, []string{"pod-template-hash"}) ||
			c.LabelSelector == nil || !reflect.DeepEqual(c.LabelSelector.MatchLabels, operatorLabels) {
			t.Errorf("topology spread constraint on %s = %+v", c.TopologyKey, c)
		}
	}
	if !keys[corev1.LabelHostname] || !keys[corev1.LabelTopologyZone] || len(keys) != 2 {
		t.Errorf("topology keys = %v, want hostname and zone", keys)
	}
	if pod.Labels["sidecar.istio.io/inject"] != "true" {
		t.Error("pods are not labelled for Istio sidecar injection")
	}
	for _, a := range []string{"sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyMemory", "sidecar.istio.io/proxyCPULimit", "sidecar.istio.io/proxyMemoryLimit"} {
		if pod.Annotations[a] == "" {
			t.Errorf("sidecar resource annotation %s missing", a)
		}
	}
	wantScrape := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "6060", "prometheus.io/path": "/metrics"}
	for k, v := range wantScrape {
		if pod.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, pod.Annotations[k], v)
		}
	}
	dns := pod.Spec.DNSConfig
	if dns == nil || len(dns.Options) != 1 || dns.Options[0].Name != "ndots" || dns.Options[0].Value == nil || *dns.Options[0].Value != "1" {
		t.Errorf("dnsConfig = %+v, want ndots 1", dns)
	}

	pdb := typed[policyv1.PodDisruptionBudget](t, mustFind(t, objs, "PodDisruptionBudget", operatorName))
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "1" || pdb.Spec.MinAvailable != nil {
		t.Errorf("PDB = %+v, want maxUnavailable 1", pdb.Spec)
	}

	str := func(o *unstructured.Unstructured, path ...string) string {
		v, _, _ := unstructured.NestedString(o.Object, path...)
		return v
	}
	pa := mustFind(t, objs, "PeerAuthentication", "default")
	if str(pa, "spec", "mtls", "mode") != "STRICT" {
		t.Error("PeerAuthentication is not STRICT")
	}
	tel := typed[struct {
		Spec struct {
			Tracing []struct {
				Providers []struct {
					Name string `json:"name"`
				} `json:"providers"`
				RandomSamplingPercentage float64 `json:"randomSamplingPercentage"`
			} `json:"tracing"`
			Metrics []struct {
				Providers []struct {
					Name string `json:"name"`
				} `json:"providers"`
				ReportingInterval string `json:"reportingInterval"`
			} `json:"metrics"`
			AccessLogging []struct {
				Providers []struct {
					Name string `json:"name"`
				} `json:"providers"`
				Match struct {
					Mode string `json:"mode"`
				} `json:"match"`
			} `json:"accessLogging"`
		} `json:"spec"`
	}](t, mustFind(t, objs, "Telemetry", operatorName))
	if len(tel.Spec.Tracing) != 1 || tel.Spec.Tracing[0].RandomSamplingPercentage != 100 || len(tel.Spec.Tracing[0].Providers) != 1 {
		t.Errorf("tracing = %+v, want one provider at 100%% sampling", tel.Spec.Tracing)
	}
	if len(tel.Spec.Metrics) != 1 || tel.Spec.Metrics[0].ReportingInterval != "15s" || tel.Spec.Metrics[0].Providers[0].Name != "prometheus" {
		t.Errorf("metrics = %+v, want prometheus every 15s", tel.Spec.Metrics)
	}
	if len(tel.Spec.AccessLogging) != 1 || tel.Spec.AccessLogging[0].Match.Mode != "SERVER" || tel.Spec.AccessLogging[0].Providers[0].Name != "envoy" {
		t.Errorf("access logging = %+v, want Envoy logs of server requests", tel.Spec.AccessLogging)
	}

	deny := typed[networkingv1.NetworkPolicy](t, mustFind(t, objs, "NetworkPolicy", "default-deny-ingress"))
	if len(deny.Spec.PodSelector.MatchLabels)+len(deny.Spec.PodSelector.MatchExpressions) != 0 ||
		!slices.Contains(deny.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || len(deny.Spec.Ingress) != 0 {
		t.Errorf("default deny = %+v, want every pod selected and no ingress allowed", deny.Spec)
	}
	allow := typed[networkingv1.NetworkPolicy](t, mustFind(t, objs, "NetworkPolicy", "allow-prometheus-envoy-stats"))
	if in := allow.Spec.Ingress; len(in) != 1 || len(in[0].Ports) != 1 || in[0].Ports[0].Port == nil ||
		in[0].Ports[0].Port.IntValue() != 15020 || len(in[0].From) == 0 {
		t.Errorf("Prometheus allow = %+v, want one rule from Prometheus to port 15020 only", allow.Spec.Ingress)
	}

	sc := mustFind(t, objs, "Sidecar", operatorName)
	if str(sc, "spec", "outboundTrafficPolicy", "mode") != "REGISTRY_ONLY" {
		t.Error("Sidecar outbound policy is not REGISTRY_ONLY")
	}
	hosts := fmtAny(sc.Object["spec"])
	for _, h := range []string{"istiod.istio-system.svc", "kubernetes.default.svc", "opentelemetry"} {
		if !strings.Contains(hosts, h) {
			t.Errorf("Sidecar egress lacks %s", h)
		}
	}
}

func fmtAny(v any) string { b, _ := yaml.Marshal(v); return string(b) }

// An overlay that only changes the images must reach the two image flags too, or an upgrade by
// `images:` would run new controllers that create Jobs and discovery with old images.
func TestOverlayImagesReachTheImageFlags(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, filepath.Join(root, devDir))
	if err != nil {
		t.Fatal(err)
	}
	kustomization := "resources:\n- " + rel + "\nimages:\n" +
		"- name: " + operatorImage + "\n  newName: registry.example/op\n  digest: sha256:" + strings.Repeat("a", 64) + "\n" +
		"- name: " + backupImage + "\n  newName: registry.example/bm\n  newTag: v9.9.9\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := typed[appsv1.Deployment](t, mustFind(t, objs, "Deployment", operatorName))
	c := d.Spec.Template.Spec.Containers[0]
	flags := flagValues(c)
	wantOp := "registry.example/op@sha256:" + strings.Repeat("a", 64)
	if c.Image != wantOp || flags["tidb-discovery-image"] != wantOp {
		t.Errorf("image %q, --tidb-discovery-image %q, want both %q", c.Image, flags["tidb-discovery-image"], wantOp)
	}
	if flags["tidb-backup-manager-image"] != "registry.example/bm:v9.9.9" {
		t.Errorf("--tidb-backup-manager-image = %q, want registry.example/bm:v9.9.9", flags["tidb-backup-manager-image"])
	}
}

// A user's overlay may run the operator in another namespace: the bindings must follow, or the
// operator would run without permissions.
func TestOverlayCanMoveTheOperatorToAnotherNamespace(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, filepath.Join(root, devDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("namespace: ops\nresources:\n- "+rel+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Deployment", "ServiceAccount", "Role", "RoleBinding", "PodDisruptionBudget"} {
		if ns := mustFind(t, objs, kind, operatorName).GetNamespace(); ns != "ops" {
			t.Errorf("%s is in namespace %q, want ops", kind, ns)
		}
	}
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: operatorName, Namespace: "ops"}
	crb := typed[rbacv1.ClusterRoleBinding](t, mustFind(t, objs, "ClusterRoleBinding", operatorName))
	rb := typed[rbacv1.RoleBinding](t, mustFind(t, objs, "RoleBinding", operatorName))
	if !slices.Contains(crb.Subjects, sa) || !slices.Contains(rb.Subjects, sa) {
		t.Errorf("bindings name %v and %v, want the ServiceAccount in ops", crb.Subjects, rb.Subjects)
	}
}
