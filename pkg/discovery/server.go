package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// componentSpec is what differs between PD and DM-master in the protocol.
type componentSpec struct {
	// peerServiceSuffix ends the headless service name in an advertise peer URL.
	peerServiceSuffix string
	// peerPort and clientPort: members advertise the peer port, others join the client port.
	peerPort, clientPort string
}

var components = map[Component]componentSpec{
	ComponentPD: {peerServiceSuffix: "-pd-peer", peerPort: "2380", clientPort: "2379"},
	ComponentDM: {peerServiceSuffix: "-dm-master-peer", peerPort: "8291", clientPort: "8261"},
}

// Config wires a Server.
type Config struct {
	// Namespace of the discovery pod. Pods of other namespaces are refused: the service
	// must not be usable to bootstrap members of clusters it does not belong to.
	Namespace string
	// ClusterName, when set, is the only cluster served (TC_NAME of the discovery pod).
	ClusterName string
	// Clusters loads TidbClusters. Required.
	Clusters ClusterGetter
	// PD reaches PD. Required.
	PD PDDialer
	// DM serves DM-master pods; nil refuses them.
	DM DMSource
	// Logger receives one line per answered question.
	Logger logr.Logger
}

// Server answers the discovery protocol. It is an http.Handler.
type Server struct {
	cfg Config

	// mu serialises questions: the decision to bootstrap must see every earlier question.
	mu     sync.Mutex
	rounds map[string]*round
}

// round is the set of pods that asked since the cluster object last changed.
type round struct {
	resourceVersion string
	pods            map[string]struct{}
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Namespace == "" {
		return nil, errors.New("discovery: the namespace of the discovery pod is required")
	}
	if cfg.Clusters == nil {
		return nil, errors.New("discovery: a ClusterGetter is required")
	}
	if cfg.PD == nil {
		return nil, errors.New("discovery: a PD dialer is required")
	}
	return &Server{cfg: cfg, rounds: map[string]*round{}}, nil
}

// requestError is a question the server will never answer, whatever the cluster state.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP routes GET /new/... and GET /verify/....
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The path is used as received: ServeMux would clean "//", which base64 in general may
	// contain (encoded host names do not, but nothing here relies on that).
	path := r.URL.Path
	log := s.cfg.Logger.WithValues("path", path)
	var (
		answer string
		err    error
	)
	switch {
	case strings.HasPrefix(path, newPrefix):
		arg, comp, ok := splitNewPath(strings.TrimPrefix(path, newPrefix))
		if !ok {
			err = badRequest("%q is not a base64-encoded advertise peer URL", strings.TrimPrefix(path, newPrefix))
			break
		}
		log = log.WithValues("component", comp, "advertisePeerURL", arg)
		answer, err = s.Discover(r.Context(), comp, arg)
	case strings.HasPrefix(path, verifyPrefix):
		arg, ok := decodeArg(strings.TrimPrefix(path, verifyPrefix))
		if !ok {
			err = badRequest("%q is not a base64-encoded PD URL", strings.TrimPrefix(path, verifyPrefix))
			break
		}
		log = log.WithValues("pdURL", arg)
		answer, err = s.Verify(r.Context(), arg)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		code := http.StatusInternalServerError
		var re *requestError
		if errors.As(err, &re) {
			code = re.code
		}
		log.Info("question not answered", "status", code, "error", err.Error())
		http.Error(w, err.Error(), code)
		return
	}
	log.Info("answered", "answer", answer)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(answer))
}

// asker is a member pod, from its advertise peer URL
// "<pod>.<cluster><peer suffix>.<ns>.svc[.<domain>]:<peer port>".
type asker struct {
	address   string // host:port as advertised, without scheme
	host      string
	pod       string
	cluster   string
	namespace string
}

func parseAsker(raw string, spec componentSpec) (asker, error) {
	addr := raw
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	addr = strings.TrimRight(addr, "/")
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	labels := strings.Split(host, ".")
	if len(labels) < 3 || labels[0] == "" || (len(labels) > 3 && labels[3] != "svc") {
		return asker{}, badRequest("advertise peer URL %q is not <pod>.<cluster>%s.<namespace>.svc[...]:%s", raw, spec.peerServiceSuffix, spec.peerPort)
	}
	cluster, ok := strings.CutSuffix(labels[1], spec.peerServiceSuffix)
	if !ok || cluster == "" || labels[2] == "" {
		return asker{}, badRequest("advertise peer URL %q does not name a %s service", raw, spec.peerServiceSuffix)
	}
	return asker{address: addr, host: host, pod: labels[0], cluster: cluster, namespace: labels[2]}, nil
}

// Discover answers a member's question: the arguments it must start with.
func (s *Server) Discover(ctx context.Context, comp Component, advertisePeerURL string) (string, error) {
	spec, ok := components[comp]
	if !ok {
		return "", &requestError{code: http.StatusNotFound, msg: fmt.Sprintf("unknown component %q", comp)}
	}
	a, err := parseAsker(advertisePeerURL, spec)
	if err != nil {
		return "", err
	}
	if err := s.checkScope(a.namespace, a.cluster); err != nil {
		return "", err
	}
	if comp == ComponentDM && s.cfg.DM == nil {
		return "", &requestError{code: http.StatusNotFound, msg: "this discovery service does not serve DM"}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	var (
		cluster  *Cluster
		peerURLs func(context.Context) ([]string, error)
	)
	if comp == ComponentDM {
		cluster, err = s.cfg.DM.GetDMCluster(ctx, a.namespace, a.cluster)
		if err == nil {
			peerURLs = func(ctx context.Context) ([]string, error) {
				return s.cfg.DM.MasterPeerURLs(ctx, a.namespace, a.cluster, cluster)
			}
		}
	} else {
		cluster, err = s.cfg.Clusters.GetCluster(ctx, a.namespace, a.cluster)
		if err == nil {
			peerURLs = func(ctx context.Context) ([]string, error) {
				return s.pdPeerURLs(ctx, a.namespace, a.cluster, cluster)
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("get cluster %s/%s: %w", a.namespace, a.cluster, err)
	}

	key := string(comp) + "/" + a.namespace + "/" + a.cluster
	rd := s.rounds[key]
	if rd == nil || rd.resourceVersion != cluster.ResourceVersion {
		rd = &round{resourceVersion: cluster.ResourceVersion, pods: map[string]struct{}{}}
		s.rounds[key] = rd
	}
	rd.pods[a.pod] = struct{}{}

	var answer string
	if len(rd.pods) == cluster.Replicas && cluster.Ref == nil {
		answer, err = s.bootstrap(ctx, comp, spec, a, cluster, peerURLs)
	} else {
		answer, err = s.join(ctx, comp, spec, a, cluster, peerURLs)
	}
	if err != nil {
		// The pod stays counted: it will ask again, and its question still brings the
		// round closer to bootstrapping.
		return "", err
	}
	delete(rd.pods, a.pod)
	return answer, nil
}

// bootstrap answers the question that completes the replica count.
func (s *Server) bootstrap(ctx context.Context, comp Component, spec componentSpec, a asker, c *Cluster, peerURLs func(context.Context) ([]string, error)) (string, error) {
	if comp == ComponentPD && len(c.PDAddresses) > 0 {
		return "--join=" + strings.Join(c.PDAddresses, ","), nil
	}
	// Starting a second cluster next to a live one would split it for good, so a reachable
	// member list always wins over the count; an unreachable PD is the normal case here.
	if urls, err := peerURLs(ctx); err == nil {
		if join := joinList(urls, a, spec); len(join) > 0 {
			return "--join=" + strings.Join(join, ","), nil
		}
	}
	name := a.pod
	if comp == ComponentPD && (c.ClusterDomain != "" || c.AcrossK8s) {
		name = a.host
	}
	return fmt.Sprintf("--initial-cluster=%s=%s://%s", name, pdapi.Scheme(c.TLS), a.address), nil
}

// join answers every other question with the members to join.
func (s *Server) join(ctx context.Context, comp Component, spec componentSpec, a asker, c *Cluster, peerURLs func(context.Context) ([]string, error)) (string, error) {
	var extra []string
	if comp == ComponentPD {
		extra = c.PDAddresses
	}
	urls, err := peerURLs(ctx)
	if err != nil {
		if len(extra) > 0 {
			// The external PDs belong to the same PD cluster; joining them needs nothing else.
			return "--join=" + strings.Join(extra, ","), nil
		}
		return "", err
	}
	join := joinList(urls, a, spec)
	for _, u := range extra {
		if !slices.Contains(join, u) {
			join = append(join, u)
		}
	}
	if len(join) == 0 {
		return "", fmt.Errorf("%s/%s has no %s members to join yet", a.namespace, a.cluster, comp)
	}
	return "--join=" + strings.Join(join, ","), nil
}

// joinList turns member peer URLs into the client URLs to join, leaving out the asker itself.
func joinList(peerURLs []string, a asker, spec componentSpec) []string {
	var out []string
	for _, p := range peerURLs {
		u, err := url.Parse(strings.TrimRight(p, "/"))
		if err != nil || u.Host == "" {
			continue
		}
		if u.Hostname() == a.host {
			continue
		}
		if u.Port() == spec.peerPort {
			u.Host = net.JoinHostPort(u.Hostname(), spec.clientPort)
		}
		if s := u.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// pdPeerURLs reads PD's member list from the first place that answers and returns the first
// peer URL of each member.
func (s *Server) pdPeerURLs(ctx context.Context, namespace, name string, c *Cluster) ([]string, error) {
	target := c.target(namespace, name)
	var errs []error
	for _, base := range c.pdURLs(namespace, name) {
		pd, err := s.cfg.PD(ctx, target, base)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		info, err := pd.Members(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var urls []string
		for _, m := range info.Members {
			if m != nil && len(m.PeerURLs) > 0 {
				urls = append(urls, m.PeerURLs[0])
			}
		}
		return urls, nil
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("%s/%s has no PD to ask for members", namespace, name)
	}
	return nil, fmt.Errorf("read PD members of %s/%s: %w", namespace, name, errors.Join(errs...))
}

// Verify answers which PD URL to use in place of pdURL: pdURL itself when that PD is healthy,
// else the client URL of a healthy peer member, else pdURL anyway (its user retries).
func (s *Server) Verify(ctx context.Context, pdURL string) (string, error) {
	addr := pdURL
	scheme := ""
	if sc, rest, ok := strings.Cut(addr, "://"); ok {
		scheme, addr = sc, rest
	}
	host := addr
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	labels := strings.Split(host, ".")
	svc := strings.TrimSuffix(labels[0], "-peer")
	cluster, ok := strings.CutSuffix(svc, "-pd")
	if !ok || cluster == "" {
		return "", badRequest("PD URL %q does not name a <cluster>-pd service", pdURL)
	}
	namespace := s.cfg.Namespace
	if len(labels) > 1 {
		namespace = labels[1]
	}
	if err := s.checkScope(namespace, cluster); err != nil {
		return "", err
	}
	c, err := s.cfg.Clusters.GetCluster(ctx, namespace, cluster)
	if err != nil {
		return "", fmt.Errorf("get cluster %s/%s: %w", namespace, cluster, err)
	}
	if scheme == "" {
		scheme = pdapi.Scheme(c.TLS)
	}
	target := c.target(namespace, cluster)
	healthy := func(base string) bool {
		pd, err := s.cfg.PD(ctx, target, base)
		if err != nil {
			return false
		}
		_, err = pd.Health(ctx)
		return err == nil
	}
	if c.LocalPD && healthy(scheme+"://"+addr) {
		return pdURL, nil
	}
	for _, peer := range c.PeerClientURLs {
		if healthy(peer) {
			return peer, nil
		}
	}
	return pdURL, nil
}

func (s *Server) checkScope(namespace, cluster string) error {
	if namespace != s.cfg.Namespace {
		return badRequest("namespace %q is not the discovery service's namespace %q", namespace, s.cfg.Namespace)
	}
	if s.cfg.ClusterName != "" && cluster != s.cfg.ClusterName {
		return badRequest("cluster %q is not served here; this discovery service belongs to %q", cluster, s.cfg.ClusterName)
	}
	return nil
}
