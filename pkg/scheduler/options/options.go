package options

import (
	"errors"
	"flag"
	"fmt"

	"github.com/tidbops/tidb-operator/pkg/features"
)

// Defaults of v1.6.
const (
	// DefaultPort is where kube-scheduler reaches the extender (the chart's
	// urlPrefix http://127.0.0.1:10262/scheduler).
	DefaultPort = 10262
	// DefaultMetricsBindAddress serves /metrics and /debug/pprof.
	DefaultMetricsBindAddress = ":6060"
)

// Options is everything tidb-scheduler is told on its command line.
type Options struct {
	// PrintVersion (-V, -version) prints the build and exits.
	PrintVersion bool
	// Port (-port) serves the extender API and /healthz.
	Port int
	// Features (-features) are the feature gates; StableScheduling decides whether TiDB pods
	// are pinned to their previous node.
	Features *features.Gates
	// MetricsBindAddress (-metrics-bind-address) serves /metrics and /debug/pprof; "0" turns
	// it off.
	MetricsBindAddress string
}

// New returns the options at their v1.6 defaults.
func New() *Options {
	return &Options{
		Port:               DefaultPort,
		Features:           features.New(),
		MetricsBindAddress: DefaultMetricsBindAddress,
	}
}

// AddFlags registers every option on fs, using the current field values as defaults.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.PrintVersion, "V", o.PrintVersion, "Print the version and exit")
	fs.BoolVar(&o.PrintVersion, "version", o.PrintVersion, "Print the version and exit")
	fs.IntVar(&o.Port, "port", o.Port, "Port of the scheduler extender API and /healthz")
	if o.Features == nil {
		o.Features = features.New()
	}
	fs.Var(o.Features, features.FlagName, features.FlagUsage)
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address serving /metrics and /debug/pprof; \"0\" turns it off")
}

// Validate reports every invalid option at once.
func (o *Options) Validate() error {
	var errs []error
	if o.Port < 1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("-port must be a TCP port (1-65535), got %d", o.Port))
	}
	if o.MetricsBindAddress == "" {
		errs = append(errs, errors.New("-metrics-bind-address must not be empty; use \"0\" to turn metrics off"))
	}
	if o.Features == nil {
		errs = append(errs, errors.New("feature gates are not initialised"))
	}
	return errors.Join(errs...)
}

// ExtenderAddress is the listen address of the extender API.
func (o *Options) ExtenderAddress() string { return fmt.Sprintf(":%d", o.Port) }
