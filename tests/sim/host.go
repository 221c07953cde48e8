package sim

import (
	"net"
	"strconv"
	"strings"

	"github.com/tidbops/tidb-operator/tests/sim/simapi"
)

// Target is what a request's host names.
type Target struct {
	// Host is host:port as addressed.
	Host      string
	Namespace string
	// Cluster is the TidbCluster named by the host.
	Cluster   string
	Component string
	// Pod is set for a pod's own address, empty for a Service.
	Pod  string
	Port int
}

// componentSuffixes maps Service name suffixes to components; longer suffixes first so that
// "-pd-peer" wins over "-pd".
var componentSuffixes = []struct{ suffix, component string }{
	{"-scheduling-peer", simapi.ComponentScheduling},
	{"-tiflash-peer", simapi.ComponentTiFlash},
	{"-ticdc-peer", simapi.ComponentTiCDC},
	{"-tikv-peer", simapi.ComponentTiKV},
	{"-tidb-peer", simapi.ComponentTiDB},
	{"-tso-peer", simapi.ComponentTSO},
	{"-pd-peer", simapi.ComponentPD},
	{"-scheduling", simapi.ComponentScheduling},
	{"-tidb", simapi.ComponentTiDB},
	{"-tso", simapi.ComponentTSO},
	{"-pd", simapi.ComponentPD},
}

// ParseHost resolves a simulated host name. Pod addresses look like
// <pod>.<tc>-<component>-peer.<ns>[.svc[.<domain>]], Service addresses like
// <tc>-<component>[-peer].<ns>[.svc[.<domain>]]. A missing port means 80.
func ParseHost(hostport string) (Target, bool) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		host, portStr = hostport, "80"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return Target{}, false
	}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	t := Target{Host: hostport, Port: port}
	// Pod form: the second label is a -peer Service and the fourth, if any, is "svc".
	if len(labels) >= 3 && labels[2] != "svc" && (len(labels) == 3 || labels[3] == "svc") {
		tc, comp, ok := splitService(labels[1])
		if ok && strings.HasSuffix(labels[1], "-peer") && strings.HasPrefix(labels[0], tc+"-") {
			t.Pod, t.Cluster, t.Component, t.Namespace = labels[0], tc, comp, labels[2]
			return t, true
		}
		return Target{}, false
	}
	// Service form.
	if len(labels) >= 2 && (len(labels) == 2 || labels[2] == "svc") {
		if tc, comp, ok := splitService(labels[0]); ok {
			t.Cluster, t.Component, t.Namespace = tc, comp, labels[1]
			return t, true
		}
	}
	return Target{}, false
}

func splitService(name string) (tc, component string, ok bool) {
	for _, s := range componentSuffixes {
		if tc, found := strings.CutSuffix(name, s.suffix); found && tc != "" {
			return tc, s.component, true
		}
	}
	return "", "", false
}

// servicePort is the port each component's simulated API listens on.
func servicePort(component string) int {
	switch component {
	case simapi.ComponentPD, simapi.ComponentTSO, simapi.ComponentScheduling:
		return 2379
	case simapi.ComponentTiKV:
		return 20180
	case simapi.ComponentTiDB:
		return 10080
	case simapi.ComponentTiFlash:
		return 20292
	case simapi.ComponentTiCDC:
		return 8301
	}
	return 0
}
