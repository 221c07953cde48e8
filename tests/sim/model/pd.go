package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// member is a PD member.
type member struct {
	name      string
	id        uint64
	pod       PodKey
	podUID    string
	clientURL string
	peerURL   string
	version   string
	// forcedUnhealthy is an injected fault.
	forcedUnhealthy bool
}

// Member is a PD member as the PD API shows it.
type Member struct {
	Name       string
	ID         uint64
	PeerURLs   []string
	ClientURLs []string
	Version    string
	Healthy    bool
}

// memberName is the name PD knows a PD pod by: the pod name, or its FQDN when a cluster domain
// is configured.
func memberName(p simapi.Pod) string {
	if p.ClusterDomain != "" {
		return podDomain(p)
	}
	return p.Name
}

func (c *Cluster) healthy(mb *member) bool {
	return !mb.forcedUnhealthy && c.pods[mb.pod].running()
}

func (c *Cluster) hasQuorum() bool {
	n := 0
	for _, mb := range c.members {
		if c.healthy(mb) {
			n++
		}
	}
	return len(c.members) > 0 && 2*n > len(c.members)
}

// reconcileMembers lets running PD pods join and re-elects the leader when needed.
func (c *Cluster) reconcileMembers() {
	for _, p := range c.podsOf(simapi.ComponentPD) {
		name := memberName(p.spec)
		if mb := c.members[name]; mb != nil {
			if p.running() {
				mb.pod, mb.podUID = p.key, p.spec.UID
				mb.version = c.m.imageVersion(p.spec.Image)
			}
			continue
		}
		if !p.running() {
			continue
		}
		if uid, ok := c.deletedMembers[name]; ok && uid == p.spec.UID {
			continue
		}
		// Adding an etcd member needs a working cluster, unless this is the first member.
		if len(c.members) > 0 && c.leader == "" {
			continue
		}
		delete(c.deletedMembers, name)
		domain := podDomain(p.spec)
		c.members[name] = &member{
			name:      name,
			id:        c.m.newID(),
			pod:       p.key,
			podUID:    p.spec.UID,
			clientURL: "http://" + domain + ":2379",
			peerURL:   "http://" + domain + ":2380",
			version:   c.m.imageVersion(p.spec.Image),
		}
		c.pdStarted = true
		c.electLeader()
	}
	c.electLeader()
}

// electLeader keeps a healthy leader, or picks the lowest-named healthy member while a quorum
// is healthy.
func (c *Cluster) electLeader() {
	if !c.hasQuorum() {
		c.leader = ""
		return
	}
	if mb := c.members[c.leader]; mb != nil && c.healthy(mb) {
		return
	}
	c.leader = ""
	for _, name := range c.memberNames() {
		if c.healthy(c.members[name]) {
			c.leader = name
			return
		}
	}
}

func (c *Cluster) memberNames() []string {
	names := make([]string, 0, len(c.members))
	for n := range c.members {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (c *Cluster) view(mb *member) Member {
	return Member{
		Name:       mb.name,
		ID:         mb.id,
		PeerURLs:   []string{mb.peerURL},
		ClientURLs: []string{mb.clientURL},
		Version:    strings.TrimPrefix(mb.version, "v"),
		Healthy:    c.healthy(mb),
	}
}

// Members lists the PD members sorted by name.
func (c *Cluster) Members() []Member {
	out := make([]Member, 0, len(c.members))
	for _, n := range c.memberNames() {
		out = append(out, c.view(c.members[n]))
	}
	return out
}

// HasLeader reports whether PD has a leader and can serve requests that need one.
func (c *Cluster) HasLeader() bool { return c.leader != "" }

// Leader returns the PD leader.
func (c *Cluster) Leader() (Member, error) {
	mb := c.members[c.leader]
	if mb == nil {
		return Member{}, newErr(KindNoLeader, "no leader")
	}
	return c.view(mb), nil
}

// MemberByPod returns the member a PD pod runs, if it is a member.
func (c *Cluster) MemberByPod(p PodKey) (Member, bool) {
	for _, n := range c.memberNames() {
		if mb := c.members[n]; mb.pod == p {
			return c.view(mb), true
		}
	}
	return Member{}, false
}

// TransferLeader makes the named member the leader.
func (c *Cluster) TransferLeader(name string) error {
	if c.leader == "" {
		return newErr(KindNoLeader, "no leader")
	}
	mb := c.members[name]
	if mb == nil {
		return newErr(KindInvalid, fmt.Sprintf("member %s not found", name))
	}
	if !c.healthy(mb) {
		return newErr(KindInvalid, fmt.Sprintf("member %s is not healthy", name))
	}
	c.leader = name
	return nil
}

// DeleteMemberByName removes a member from PD.
func (c *Cluster) DeleteMemberByName(name string) error {
	mb := c.members[name]
	if mb == nil {
		return newErr(KindNotFound, fmt.Sprintf("member %s not found", name))
	}
	return c.deleteMember(mb)
}

// DeleteMemberByID removes a member from PD.
func (c *Cluster) DeleteMemberByID(id uint64) error {
	for _, mb := range c.members {
		if mb.id == id {
			return c.deleteMember(mb)
		}
	}
	return newErr(KindNotFound, fmt.Sprintf("member %d not found", id))
}

func (c *Cluster) deleteMember(mb *member) error {
	if c.leader == "" {
		return newErr(KindNoLeader, "no leader")
	}
	delete(c.members, mb.name)
	c.deletedMembers[mb.name] = mb.podUID
	if c.leader == mb.name {
		c.leader = ""
	}
	c.electLeader()
	return nil
}

// MemberReady answers GET /pd/api/v2/ready for a member: ok when it is healthy; missing when
// the simulated PD predates the API.
func (c *Cluster) MemberReady(p PodKey) (ok, missing bool) {
	if c.readyAPIMissing {
		return false, true
	}
	for _, mb := range c.members {
		if mb.pod == p {
			return c.healthy(mb) && c.leader != "", false
		}
	}
	return false, false
}

// SnapshotRecovering is the snapshot-recovering marker of PD.
func (c *Cluster) SnapshotRecovering() bool { return c.snapshotRecovering }
