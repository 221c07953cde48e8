// Package discovery is the PD bootstrap protocol, both sides of it.
//
// A new PD pod cannot know by itself whether to start a cluster or join one. Its start script
// asks the per-cluster discovery service ("<tc>-discovery", port 10261) with
// GET /new/<base64 of its advertise peer URL>, and runs PD with the answer: either
// "--initial-cluster=<name>=<peer URL>" (exactly one pod of a new cluster gets this) or
// "--join=<client URLs of the current members>". The server remembers which pods have asked
// since the TidbCluster last changed; the pod whose question completes the desired replica
// count bootstraps the cluster, every other pod joins through PD's member list. While PD cannot
// be reached the answer is HTTP 500 and the script retries. DM-master uses the same protocol
// (GET /new/<base64>/dm) with its own member list.
//
// GET /verify/<base64 of a PD URL> serves start scripts that need a reachable PD (clusters
// spanning several Kubernetes clusters): it returns the URL if that PD is healthy, else the
// client URL of a healthy peer member.
//
// The server (Server, Run) runs in the "tidb-discovery" mode of the operator binary; the client
// side (Endpoint, NewURL, VerifyURL, Ask) is what start scripts and their generators use. Both
// live here so that a change to one is made together with the other.
package discovery
