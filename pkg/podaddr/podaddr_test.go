package podaddr

import "testing"

func TestURL(t *testing.T) {
	cases := map[string]struct {
		pod       Pod
		component string
		port      int
		want      string
	}{
		"a TiKV pod's status port over the peer service": {
			pod: Pod{Namespace: "db", Cluster: "basic", Name: "basic-tikv-0"}, component: "tikv", port: 20180,
			want: "http://basic-tikv-0.basic-tikv-peer.db:20180",
		},
		"a cluster domain adds .svc.<domain>": {
			pod: Pod{Namespace: "db", Cluster: "basic", Name: "basic-tidb-1", ClusterDomain: "cluster.local"}, component: "tidb", port: 10080,
			want: "http://basic-tidb-1.basic-tidb-peer.db.svc.cluster.local:10080",
		},
		"cluster TLS switches to https": {
			pod: Pod{Namespace: "db", Cluster: "x", Name: "x-ticdc-2", TLS: true}, component: "ticdc", port: 8301,
			want: "https://x-ticdc-2.x-ticdc-peer.db:8301",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.pod.URL(c.component, c.port); got != c.want {
				t.Fatalf("URL = %q, want %q", got, c.want)
			}
		})
	}
}
