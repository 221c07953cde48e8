package pdapi

import (
	"fmt"
	"regexp"
	"strings"
)

// BelongsTo reports whether address, a PD member's client URL or a store address, is a pod of
// component ("pd", "tikv", "tiflash") of TidbCluster namespace/name: a host of the form
// "<name>-<component>-<n>.<name>-<component>-peer.<ns>.svc[.<clusterDomain>]" with a port.
// PD and the stores also list members of other clusters that share the PD cluster
// (heterogeneous or cross-Kubernetes setups); status keeps those apart as peer members and
// peer stores.
func BelongsTo(address, component, namespace, name, clusterDomain string) bool {
	if _, rest, ok := strings.Cut(address, "://"); ok {
		address = rest
	}
	address = strings.TrimRight(address, "/")
	domain := ""
	if clusterDomain != "" {
		domain = `(\.` + regexp.QuoteMeta(clusterDomain) + `)?`
	}
	pattern := fmt.Sprintf(`^%[1]s-%[2]s-\d+\.%[1]s-%[2]s-peer\.%[3]s\.svc%[4]s:\d+$`,
		regexp.QuoteMeta(name), regexp.QuoteMeta(component), regexp.QuoteMeta(namespace), domain)
	ok, err := regexp.MatchString(pattern, address)
	return err == nil && ok
}
