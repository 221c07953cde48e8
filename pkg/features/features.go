package features

import (
	"fmt"
	"strconv"
	"strings"
)

// Feature names one gate. The names are part of the v1.6 command-line contract.
type Feature string

const (
	// StableScheduling makes tidb-scheduler put a TiDB pod back on the node it ran on before.
	StableScheduling Feature = "StableScheduling"
	// AdvancedStatefulSet manages components with apps.pingcap.com StatefulSets, which can delete
	// arbitrary ordinals.
	AdvancedStatefulSet Feature = "AdvancedStatefulSet"
	// VolumeModifying lets the operator change a PVC's storage class attributes (IOPS, throughput)
	// in place through the cloud provider.
	VolumeModifying Feature = "VolumeModifying"
	// VolumeReplacing lets the operator replace a component's volumes by recreating pods one by one.
	VolumeReplacing Feature = "VolumeReplacing"
)

// known lists every gate with its default, in the order v1.6 documents them; String keeps this
// order so -help shows the same default text as v1.6.
var known = []struct {
	name Feature
	def  bool
}{
	{StableScheduling, true},
	{AdvancedStatefulSet, false},
	{VolumeModifying, false},
	{VolumeReplacing, false},
}

// FlagName is the flag both binaries register the gates under.
const FlagName = "features"

// FlagUsage is the help text of -features.
const FlagUsage = "A set of key=value pairs that describe feature gates for alpha/experimental features. " +
	"Options are: StableScheduling=true|false (default true), AdvancedStatefulSet=true|false (default false), " +
	"VolumeModifying=true|false (default false), VolumeReplacing=true|false (default false)"

// Gates is a set of feature gates. The zero value is not useful; start from New.
type Gates struct {
	enabled map[Feature]bool
}

// New returns the gates at their v1.6 defaults.
func New() *Gates {
	g := &Gates{enabled: make(map[Feature]bool, len(known))}
	for _, k := range known {
		g.enabled[k.name] = k.def
	}
	return g
}

// Enabled reports whether a gate is on. Asking for an unknown gate is a programming error, so it
// panics rather than silently answering false.
func (g *Gates) Enabled(f Feature) bool {
	on, ok := g.enabled[f]
	if !ok {
		panic(fmt.Sprintf("features: unknown feature gate %q", f))
	}
	return on
}

// Set parses "Name=bool,Name=bool" and applies it on top of the current values; gates not named
// keep their value, as in v1.6. It implements flag.Value and pflag.Value. The whole value is
// checked before anything changes, so a bad entry leaves the gates untouched.
func (g *Gates) Set(value string) error {
	updates := make(map[Feature]bool)
	for _, entry := range strings.Split(value, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, raw, found := strings.Cut(entry, "=")
		if !found {
			return fmt.Errorf("feature gate %q: want Name=true|false", entry)
		}
		name, raw = strings.TrimSpace(name), strings.TrimSpace(raw)
		f := Feature(name)
		if _, ok := g.enabled[f]; !ok {
			return fmt.Errorf("unrecognized feature gate %q (known gates: %s)", name, strings.Join(names(), ", "))
		}
		on, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("feature gate %s: invalid value %q, want true or false", name, raw)
		}
		updates[f] = on
	}
	for f, on := range updates {
		g.enabled[f] = on
	}
	return nil
}

// String renders every gate as "Name=bool", comma separated, in the documented order.
func (g *Gates) String() string {
	if g == nil || g.enabled == nil {
		return ""
	}
	parts := make([]string, 0, len(known))
	for _, k := range known {
		parts = append(parts, fmt.Sprintf("%s=%t", k.name, g.enabled[k.name]))
	}
	return strings.Join(parts, ",")
}

// Type names the value for pflag's help output.
func (g *Gates) Type() string { return "mapStringBool" }

func names() []string {
	out := make([]string, 0, len(known))
	for _, k := range known {
		out = append(out, string(k.name))
	}
	return out
}
