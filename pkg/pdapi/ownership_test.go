package pdapi

import "testing"

func TestBelongsTo(t *testing.T) {
	cases := map[string]struct {
		// address is a client URL or store address; the cluster is "basic" in "db".
		address, component, domain string
		// want is whether it belongs to the cluster.
		want bool
	}{
		"a PD client URL of the cluster":                  {address: "http://basic-pd-0.basic-pd-peer.db.svc:2379", component: "pd", want: true},
		"a TLS PD client URL":                             {address: "https://basic-pd-12.basic-pd-peer.db.svc:2379", component: "pd", want: true},
		"a PD of another cluster is a peer member":        {address: "http://other-pd-0.other-pd-peer.db.svc:2379", component: "pd"},
		"a PD of another namespace is a peer member":      {address: "http://basic-pd-0.basic-pd-peer.db2.svc:2379", component: "pd"},
		"a PD with the cluster domain":                    {address: "http://basic-pd-0.basic-pd-peer.db.svc.cluster.local:2379", component: "pd", domain: "cluster.local", want: true},
		"a short name still matches when a domain is set": {address: "http://basic-pd-0.basic-pd-peer.db.svc:2379", component: "pd", domain: "cluster.local", want: true},
		"another domain is a peer":                        {address: "http://basic-pd-0.basic-pd-peer.db.svc.c2.com:2379", component: "pd", domain: "c1.com"},
		"a TiKV store address":                            {address: "basic-tikv-3.basic-tikv-peer.db.svc:20160", component: "tikv", want: true},
		"a TiFlash store is not a TiKV store":             {address: "basic-tiflash-0.basic-tiflash-peer.db.svc:3930", component: "tikv"},
		"a TiFlash store address":                         {address: "basic-tiflash-0.basic-tiflash-peer.db.svc:3930", component: "tiflash", want: true},
		"an IP address is never a pod of the cluster":     {address: "10.0.0.1:20160", component: "tikv"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := BelongsTo(tc.address, tc.component, "db", "basic", tc.domain); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
