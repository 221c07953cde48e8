package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/go-logr/logr"

	"github.com/tidbops/tidb-operator/pkg/features"
	"github.com/tidbops/tidb-operator/pkg/logging"
	"github.com/tidbops/tidb-operator/pkg/version"
)

// Environment of the discovery Deployment the operator creates for each cluster.
const (
	envPodNamespace = "MY_POD_NAMESPACE"
	envClusterName  = "TC_NAME"
	envTLSEnabled   = "TC_TLS_ENABLED"
)

// v1.6 ports of the discovery service.
const (
	defaultDiscoveryPort      = 10261
	defaultDiscoveryProxyPort = 10262
)

// DiscoveryConfig is what the discovery service is started with.
type DiscoveryConfig struct {
	// Port (-port) serves the discovery API PD and DM-master pods ask at start-up.
	Port int
	// ProxyPort (-proxy-port) serves the reverse proxy to the PD dashboard.
	ProxyPort int
	// Namespace ($MY_POD_NAMESPACE) is the cluster's namespace; requests for peers in other
	// namespaces are refused.
	Namespace string
	// ClusterName ($TC_NAME) is the TidbCluster (or DMCluster) this instance serves.
	ClusterName string
	// TLSEnabled ($TC_TLS_ENABLED) says PD is reached over TLS.
	TLSEnabled bool
	// Features are the feature gates (-features).
	Features *features.Gates
	Logger   logr.Logger
}

// DiscoveryServer runs the discovery service until ctx ends. The discovery package provides it
// and sets discoveryServer from an init function in a file of this command.
type DiscoveryServer interface {
	Run(ctx context.Context, cfg DiscoveryConfig) error
}

// discoveryServer is the linked-in implementation, nil in a build without one.
var discoveryServer DiscoveryServer

// ErrDiscoveryUnavailable is returned when the binary is asked to be the discovery service but
// was built without it. The operator is still usable; only this mode is missing.
var ErrDiscoveryUnavailable = errors.New("the discovery service is not linked into this build " +
	"(it comes from package pkg/discovery, which registers itself as discoveryServer in cmd/tidb-operator)")

// runDiscovery parses the discovery flags and environment and starts the linked-in server.
func runDiscovery(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, printVersion, err := parseDiscovery(name, args, getenv, stderr)
	if err != nil {
		return err
	}
	if printVersion {
		fmt.Fprintln(stdout, version.Get())
		return nil
	}
	cfg.Logger.Info(version.Get().String(), version.Get().KeysAndValues()...)
	if discoveryServer == nil {
		return fmt.Errorf("discovery for %s/%s: %w", cfg.Namespace, cfg.ClusterName, ErrDiscoveryUnavailable)
	}
	return discoveryServer.Run(ctx, cfg)
}

// parseDiscovery reads v1.6's discovery flags (-port, -proxy-port, -V/-version, -features,
// klog's) and environment, and checks them.
func parseDiscovery(name string, args []string, getenv func(string) string, stderr io.Writer) (DiscoveryConfig, bool, error) {
	cfg := DiscoveryConfig{Features: features.New()}
	var printVersion bool
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&printVersion, "V", false, "Print the version and exit")
	fs.BoolVar(&printVersion, "version", false, "Print the version and exit")
	fs.IntVar(&cfg.Port, "port", defaultDiscoveryPort, "Port of the discovery API")
	fs.IntVar(&cfg.ProxyPort, "proxy-port", defaultDiscoveryProxyPort, "Port of the PD dashboard proxy")
	fs.Var(cfg.Features, features.FlagName, features.FlagUsage)
	logging.AddFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("unexpected argument %q: the discovery service takes only flags", fs.Arg(0))
	}
	if printVersion {
		return cfg, true, nil
	}

	var errs []error
	for _, p := range []struct {
		flag string
		port int
	}{{"port", cfg.Port}, {"proxy-port", cfg.ProxyPort}} {
		if p.port < 1 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("-%s must be a TCP port (1-65535), got %d", p.flag, p.port))
		}
	}
	if cfg.Port == cfg.ProxyPort {
		errs = append(errs, fmt.Errorf("-port and -proxy-port must differ, both are %d", cfg.Port))
	}
	cfg.ClusterName = getenv(envClusterName)
	if cfg.ClusterName == "" {
		errs = append(errs, fmt.Errorf("environment variable %s is not set; it names the cluster this discovery service serves", envClusterName))
	}
	cfg.Namespace = getenv(envPodNamespace)
	if cfg.Namespace == "" {
		// v1.6 did not check this, but every request would then be refused as coming from
		// another namespace; failing at start-up says why.
		errs = append(errs, fmt.Errorf("environment variable %s is not set; set it to the pod's namespace through the downward API", envPodNamespace))
	}
	if raw := getenv(envTLSEnabled); raw != "" {
		on, err := strconv.ParseBool(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s=%q is not a boolean", envTLSEnabled, raw))
		}
		cfg.TLSEnabled = on
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, false, err
	}

	logger, err := logging.Setup(fs)
	if err != nil {
		return cfg, false, err
	}
	cfg.Logger = logger.WithValues("namespace", cfg.Namespace, "cluster", cfg.ClusterName)
	return cfg, false, nil
}
