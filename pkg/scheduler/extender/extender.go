package extender

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/record"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/scheduler/predicates"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
)

// FailSchedulerAnnKey is v1.6's test hook: a pod carrying it makes filter fail outright.
const FailSchedulerAnnKey = "tidb.pingcap.com/fail-scheduler"

// Config is what an Extender needs.
type Config struct {
	// Client reads TidbClusters, pods, PVCs and nodes and patches PVCs. It should read from
	// the API server, not a cache (see the package comment).
	Client client.Client
	// Recorder records the decisions as events on the pods.
	Recorder record.EventRecorder
	// StableScheduling turns on the TiDB rule (the StableScheduling feature gate).
	StableScheduling bool
	// LockStaleAfter is the age at which a scheduling lock whose pod is still not placed is
	// released; zero means predicates.DefaultLockStaleAfter.
	LockStaleAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger logr.Logger
}

// Extender implements server.Extender.
type Extender struct {
	cfg   Config
	locks keyedMutex
}

var _ server.Extender = (*Extender)(nil)

// New returns an Extender.
func New(cfg Config) *Extender {
	if cfg.LockStaleAfter == 0 {
		cfg.LockStaleAfter = predicates.DefaultLockStaleAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &record.FakeRecorder{}
	}
	return &Extender{cfg: cfg}
}

// component returns the pod's instance and component labels.
func component(pod *corev1.Pod) (instance, comp string) {
	return pod.Labels[label.InstanceLabelKey], pod.Labels[label.ComponentLabelKey]
}

// Filter implements server.Extender.
func (e *Extender) Filter(ctx context.Context, args *extenderv1.ExtenderArgs) (*extenderv1.ExtenderFilterResult, error) {
	if args == nil || args.Pod == nil {
		return nil, errors.New("the filter request carries no Pod")
	}
	pod := args.Pod
	if _, ok := pod.Annotations[FailSchedulerAnnKey]; ok {
		return nil, fmt.Errorf("pod %s/%s carries the %s annotation, which makes filtering fail on purpose", pod.Namespace, pod.Name, FailSchedulerAnnKey)
	}
	nodes, err := e.candidates(ctx, args)
	if err != nil {
		return nil, err
	}
	instance, comp := component(pod)
	if instance == "" || comp == "" {
		return passAll(args), nil
	}
	switch comp {
	case label.PDComponent, label.TiKVComponent:
		return e.filterHA(ctx, args, nodes, comp)
	case label.TiDBComponent:
		if e.cfg.StableScheduling {
			return e.filterStable(ctx, args, nodes)
		}
	}
	return passAll(args), nil
}

// cluster is what a decision about one pod reads from the API server.
type cluster struct {
	tc     *v1alpha1.TidbCluster
	peers  []corev1.Pod
	claims []corev1.PersistentVolumeClaim
}

// load reads the pod's TidbCluster and, if withPeers, its component's pods (and, if withClaims,
// PVCs). A missing TidbCluster gives a nil cluster and no error.
func (e *Extender) load(ctx context.Context, pod *corev1.Pod, comp string, withPeers, withClaims bool) (*cluster, error) {
	name := predicates.ClusterName(pod, comp)
	tc := &v1alpha1.TidbCluster{}
	if err := e.cfg.Client.Get(ctx, client.ObjectKey{Namespace: pod.Namespace, Name: name}, tc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get TidbCluster %s/%s: %w", pod.Namespace, name, err)
	}
	c := &cluster{tc: tc}
	instance, _ := component(pod)
	selector := client.MatchingLabels(label.New().Instance(instance).Component(comp))
	if withPeers {
		var pods corev1.PodList
		if err := e.cfg.Client.List(ctx, &pods, client.InNamespace(pod.Namespace), selector); err != nil {
			return nil, fmt.Errorf("list %s pods of %s/%s: %w", comp, pod.Namespace, name, err)
		}
		c.peers = pods.Items
	}
	if withClaims {
		var pvcs corev1.PersistentVolumeClaimList
		if err := e.cfg.Client.List(ctx, &pvcs, client.InNamespace(pod.Namespace), selector); err != nil {
			return nil, fmt.Errorf("list %s PVCs of %s/%s: %w", comp, pod.Namespace, name, err)
		}
		c.claims = pvcs.Items
	}
	return c, nil
}

// haInput gathers the HA rule's input, reading the nodes of peers that are not candidates.
func (e *Extender) haInput(ctx context.Context, pod *corev1.Pod, comp string, c *cluster, nodes []corev1.Node) (*predicates.HAInput, error) {
	slots, err := predicates.DeleteSlots(c.tc, comp)
	if err != nil {
		return nil, fmt.Errorf("TidbCluster %s/%s: %w", c.tc.Namespace, c.tc.Name, err)
	}
	replicas := predicates.Replicas(c.tc, comp)
	in := &predicates.HAInput{
		Component:      comp,
		Pod:            pod.Name,
		Replicas:       replicas,
		TopologyKey:    predicates.TopologyKey(c.tc),
		Candidates:     nodes,
		Peers:          c.peers,
		PeerNodeLabels: map[string]map[string]string{},
		Failed:         predicates.FailurePods(c.tc, comp),
		Desired:        predicates.DesiredOrdinals(replicas, slots),
	}
	candidate := sets.New[string]()
	for i := range nodes {
		candidate.Insert(nodes[i].Name)
	}
	for i := range c.peers {
		n := c.peers[i].Spec.NodeName
		if n == "" || candidate.Has(n) {
			continue
		}
		if _, done := in.PeerNodeLabels[n]; done {
			continue
		}
		var node corev1.Node
		if err := e.cfg.Client.Get(ctx, client.ObjectKey{Name: n}, &node); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("get node %s of pod %s: %w", n, c.peers[i].Name, err)
		}
		in.PeerNodeLabels[n] = node.Labels
	}
	return in, nil
}

func (e *Extender) filterHA(ctx context.Context, args *extenderv1.ExtenderArgs, nodes []corev1.Node, comp string) (*extenderv1.ExtenderFilterResult, error) {
	pod := args.Pod
	tcName := predicates.ClusterName(pod, comp)
	// Pods of one component read and move one scheduling lock; serialise just them.
	unlock := e.locks.Lock(pod.Namespace + "/" + tcName + "/" + comp)
	defer unlock()

	c, err := e.load(ctx, pod, comp, true, true)
	if err != nil {
		return nil, err
	}
	if c == nil {
		msg := fmt.Sprintf("%s: TidbCluster %s/%s of this %s pod does not exist, so its placement cannot be judged", predicates.RuleHA, pod.Namespace, tcName, comp)
		e.cfg.Recorder.Event(pod, corev1.EventTypeWarning, predicates.RuleHA, msg)
		return rejectAll(args, nodes, msg), nil
	}
	lock := predicates.Lock(&predicates.LockInput{
		Component: comp, Pod: pod.Name, Claims: c.claims, Pods: c.peers,
		Now: e.cfg.Now(), StaleAfter: e.cfg.LockStaleAfter,
	})
	if lock.HeldBy != "" {
		msg := lock.Message(comp, pod.Name)
		e.cfg.Recorder.Event(pod, corev1.EventTypeWarning, predicates.RuleLock, msg)
		return rejectAll(args, nodes, msg), nil
	}
	if len(nodes) == 1 && lock.ClaimBound {
		// v1.6: a pod whose volume is already bound usually has exactly one feasible node
		// (a local PV pins it); there is nothing to choose, and refusing would strand it.
		if err := e.takeLock(ctx, pod, lock, c.claims); err != nil {
			return nil, err
		}
		e.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, predicates.RuleHA,
			"%s: only node %s is feasible and claim %s is bound there; keeping it", predicates.RuleHA, nodes[0].Name, lock.Claim)
		return passAll(args), nil
	}
	in, err := e.haInput(ctx, pod, comp, c, nodes)
	if err != nil {
		return nil, err
	}
	d := predicates.HA(in)
	if d.Err != nil {
		e.cfg.Recorder.Event(pod, corev1.EventTypeWarning, predicates.RuleHA, predicates.RuleHA+": "+d.Message())
		return keep(args, nodes, nil, d.Rejected), nil
	}
	if len(d.Nodes) == 0 {
		// No candidates at all (kube-scheduler does not normally ask then): nothing to
		// decide, and taking the lock would only hold up the siblings.
		return keep(args, nodes, nil, d.Rejected), nil
	}
	if err := e.takeLock(ctx, pod, lock, c.claims); err != nil {
		return nil, err
	}
	e.cfg.Recorder.Event(pod, corev1.EventTypeNormal, predicates.RuleHA, predicates.RuleHA+": "+d.Message())
	return keep(args, nodes, d.Nodes, d.Rejected), nil
}

// takeLock marks the pod's own claim with the scheduling lock and clears finished or stale
// marks. The mark goes on first, so a crash in between leaves an extra mark that Lock treats
// as finished or stale rather than no mark at all. Patches carry the resourceVersion, so a
// concurrent writer makes this fail (and kube-scheduler retry) instead of being overwritten.
func (e *Extender) takeLock(ctx context.Context, pod *corev1.Pod, lock predicates.LockDecision, claims []corev1.PersistentVolumeClaim) error {
	byName := make(map[string]*corev1.PersistentVolumeClaim, len(claims))
	for i := range claims {
		byName[claims[i].Name] = &claims[i]
	}
	if pvc := byName[lock.Claim]; pvc != nil && !lock.Holds {
		patched := pvc.DeepCopy()
		if patched.Annotations == nil {
			patched.Annotations = map[string]string{}
		}
		patched.Annotations[label.PodSchedulingAnnKey] = e.cfg.Now().UTC().Format(time.RFC3339)
		if err := e.cfg.Client.Patch(ctx, patched, client.MergeFromWithOptions(pvc, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("take the %s scheduling lock on PVC %s/%s: %w", pod.Labels[label.ComponentLabelKey], pvc.Namespace, pvc.Name, err)
		}
	}
	for name, why := range lock.Release {
		pvc := byName[name]
		if pvc == nil {
			continue
		}
		patched := pvc.DeepCopy()
		delete(patched.Annotations, label.PodSchedulingAnnKey)
		err := e.cfg.Client.Patch(ctx, patched, client.MergeFromWithOptions(pvc, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			e.cfg.Logger.V(2).Info("released a scheduling lock", "pvc", pvc.Namespace+"/"+name, "reason", why)
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			// Someone else changed or removed it; Lock will look again next time.
		default:
			return fmt.Errorf("release the scheduling lock on PVC %s/%s (%s): %w", pvc.Namespace, name, why, err)
		}
	}
	return nil
}

func (e *Extender) filterStable(ctx context.Context, args *extenderv1.ExtenderArgs, nodes []corev1.Node) (*extenderv1.ExtenderFilterResult, error) {
	pod := args.Pod
	c, err := e.load(ctx, pod, label.TiDBComponent, false, false)
	if err != nil {
		return nil, err
	}
	var members map[string]v1alpha1.TiDBMember
	if c != nil {
		members = c.tc.Status.TiDB.Members
	}
	d := predicates.Stable(pod.Name, members, nodes)
	if !d.Pinned {
		e.cfg.Recorder.Event(pod, corev1.EventTypeWarning, predicates.RuleStable, d.Message)
		return passAll(args), nil
	}
	e.cfg.Recorder.Event(pod, corev1.EventTypeNormal, predicates.RuleStable, d.Message)
	rejected := make(map[string]string, len(nodes))
	for i := range nodes {
		if nodes[i].Name != d.Previous {
			rejected[nodes[i].Name] = fmt.Sprintf("%s: %s goes back to node %s", predicates.RuleStable, pod.Name, d.Previous)
		}
	}
	return keep(args, nodes, d.Nodes, rejected), nil
}

// Prioritize implements server.Extender: PD and TiKV nodes are ranked by how empty their
// topology and the node itself are, a TiDB pod's previous node ranks first, and every other
// pod gets zeros, as in v1.6.
func (e *Extender) Prioritize(ctx context.Context, args *extenderv1.ExtenderArgs) (extenderv1.HostPriorityList, error) {
	if args == nil || args.Pod == nil {
		return nil, errors.New("the prioritize request carries no Pod")
	}
	nodes, err := e.candidates(ctx, args)
	if err != nil {
		return nil, err
	}
	pod := args.Pod
	var scores map[string]int64
	instance, comp := component(pod)
	if instance != "" {
		switch comp {
		case label.PDComponent, label.TiKVComponent:
			c, err := e.load(ctx, pod, comp, true, false)
			if err != nil {
				return nil, err
			}
			if c != nil {
				in, err := e.haInput(ctx, pod, comp, c, nodes)
				if err != nil {
					return nil, err
				}
				scores = predicates.SpreadScores(in)
			}
		case label.TiDBComponent:
			c, err := e.load(ctx, pod, comp, false, false)
			if err != nil {
				return nil, err
			}
			if c != nil {
				scores = predicates.StableScores(c.tc.Status.TiDB.Members[pod.Name].NodeName, nodes)
			}
		}
	}
	out := make(extenderv1.HostPriorityList, len(nodes))
	for i := range nodes {
		out[i] = extenderv1.HostPriority{Host: nodes[i].Name, Score: scores[nodes[i].Name]}
	}
	return out, nil
}

// Preempt implements server.Extender: it keeps the victims only on nodes where the pod would
// pass Filter's rules. It does not take the scheduling lock, and a pod that would have to wait
// for it gets no node at all. Victims still count towards HA: evicting a lower-priority pod
// of another component changes nothing there, and evicting a sibling to make room is exactly
// what HA must not do.
func (e *Extender) Preempt(ctx context.Context, args *extenderv1.ExtenderPreemptionArgs) (*extenderv1.ExtenderPreemptionResult, error) {
	if args == nil || args.Pod == nil {
		return nil, errors.New("the preempt request carries no Pod")
	}
	names := sets.New[string]()
	for n := range args.NodeNameToVictims {
		names.Insert(n)
	}
	for n := range args.NodeNameToMetaVictims {
		names.Insert(n)
	}
	allowed, err := e.preemptable(ctx, args.Pod, names)
	if err != nil {
		return nil, err
	}
	out := &extenderv1.ExtenderPreemptionResult{NodeNameToMetaVictims: map[string]*extenderv1.MetaVictims{}}
	for n, v := range args.NodeNameToVictims {
		if !allowed.Has(n) || v == nil {
			continue
		}
		mv := &extenderv1.MetaVictims{NumPDBViolations: v.NumPDBViolations, Pods: make([]*extenderv1.MetaPod, 0, len(v.Pods))}
		for _, p := range v.Pods {
			mv.Pods = append(mv.Pods, &extenderv1.MetaPod{UID: string(p.UID)})
		}
		out.NodeNameToMetaVictims[n] = mv
	}
	for n, mv := range args.NodeNameToMetaVictims {
		if allowed.Has(n) && mv != nil {
			out.NodeNameToMetaVictims[n] = mv
		}
	}
	return out, nil
}

// preemptable returns the nodes among names that the pod's rules allow.
func (e *Extender) preemptable(ctx context.Context, pod *corev1.Pod, names sets.Set[string]) (sets.Set[string], error) {
	instance, comp := component(pod)
	if instance == "" || names.Len() == 0 {
		return names, nil
	}
	checked := comp == label.PDComponent || comp == label.TiKVComponent || (comp == label.TiDBComponent && e.cfg.StableScheduling)
	if !checked {
		return names, nil
	}
	var list corev1.NodeList
	if err := e.cfg.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes := make([]corev1.Node, 0, names.Len())
	for i := range list.Items {
		if names.Has(list.Items[i].Name) {
			nodes = append(nodes, list.Items[i])
		}
	}
	if comp == label.TiDBComponent {
		c, err := e.load(ctx, pod, comp, false, false)
		if err != nil {
			return nil, err
		}
		var members map[string]v1alpha1.TiDBMember
		if c != nil {
			members = c.tc.Status.TiDB.Members
		}
		return sets.New(predicates.Stable(pod.Name, members, nodes).Nodes...), nil
	}
	c, err := e.load(ctx, pod, comp, true, true)
	if err != nil || c == nil {
		return sets.New[string](), err
	}
	lock := predicates.Lock(&predicates.LockInput{
		Component: comp, Pod: pod.Name, Claims: c.claims, Pods: c.peers,
		Now: e.cfg.Now(), StaleAfter: e.cfg.LockStaleAfter,
	})
	if lock.HeldBy != "" {
		return sets.New[string](), nil
	}
	in, err := e.haInput(ctx, pod, comp, c, nodes)
	if err != nil {
		return nil, err
	}
	d := predicates.HA(in)
	return sets.New(d.Nodes...), nil
}

// candidates returns the nodes of a request: the full objects kube-scheduler sends when
// nodeCacheCapable is false (the shipped configuration), or, when it sends names only, the
// named nodes read from the API server.
func (e *Extender) candidates(ctx context.Context, args *extenderv1.ExtenderArgs) ([]corev1.Node, error) {
	if args.Nodes != nil {
		return args.Nodes.Items, nil
	}
	if args.NodeNames == nil {
		return nil, nil
	}
	want := sets.New(*args.NodeNames...)
	var list corev1.NodeList
	if err := e.cfg.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	byName := make(map[string]*corev1.Node, len(list.Items))
	for i := range list.Items {
		if want.Has(list.Items[i].Name) {
			byName[list.Items[i].Name] = &list.Items[i]
		}
	}
	out := make([]corev1.Node, 0, len(*args.NodeNames))
	for _, n := range *args.NodeNames {
		if node := byName[n]; node != nil {
			out = append(out, *node)
		}
	}
	return out, nil
}

// passAll answers filter with every node of the request.
func passAll(args *extenderv1.ExtenderArgs) *extenderv1.ExtenderFilterResult {
	return &extenderv1.ExtenderFilterResult{Nodes: args.Nodes, NodeNames: args.NodeNames, FailedNodes: extenderv1.FailedNodesMap{}}
}

// rejectAll answers filter with no node, every one failed for the same reason.
func rejectAll(args *extenderv1.ExtenderArgs, nodes []corev1.Node, reason string) *extenderv1.ExtenderFilterResult {
	failed := make(map[string]string, len(nodes))
	for i := range nodes {
		failed[nodes[i].Name] = reason
	}
	return keep(args, nodes, nil, failed)
}

// keep answers filter with the named nodes, in the shape the request used (objects or
// names), and the rejected ones as FailedNodes so kube-scheduler's FailedScheduling event
// says why. Rejections are resolvable (a sibling may be removed, a lock released), so they go
// into FailedNodes, not FailedAndUnresolvableNodes.
func keep(args *extenderv1.ExtenderArgs, nodes []corev1.Node, names []string, rejected map[string]string) *extenderv1.ExtenderFilterResult {
	kept := sets.New(names...)
	res := &extenderv1.ExtenderFilterResult{FailedNodes: rejected}
	if res.FailedNodes == nil {
		res.FailedNodes = extenderv1.FailedNodesMap{}
	}
	if args.Nodes != nil {
		list := &corev1.NodeList{Items: make([]corev1.Node, 0, len(names))}
		for i := range nodes {
			if kept.Has(nodes[i].Name) {
				list.Items = append(list.Items, nodes[i])
			}
		}
		res.Nodes = list
		return res
	}
	out := make([]string, 0, len(names))
	for i := range nodes {
		if kept.Has(nodes[i].Name) {
			out = append(out, nodes[i].Name)
		}
	}
	res.NodeNames = &out
	return res
}
