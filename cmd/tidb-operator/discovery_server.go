package main

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/discovery"
)

// discoveryTLSDir is where the discovery Deployment mounts PD's cluster certificate when
// tlsCluster is enabled (see pkg/builders: DiscoveryDeployment).
const discoveryTLSDir = "/var/lib/pd-tls"

func init() { discoveryServer = linkedDiscovery{} }

// linkedDiscovery runs pkg/discovery with a client that reads the served TidbCluster directly
// from the API server (the discovery Role allows get on that one object, so there is no cache).
type linkedDiscovery struct{}

func (linkedDiscovery) Run(ctx context.Context, cfg DiscoveryConfig) error {
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("discovery: load the Kubernetes client configuration: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("discovery: register the API types: %w", err)
	}
	c, err := client.New(restCfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("discovery: create the Kubernetes client: %w", err)
	}
	opts := discovery.Options{
		Config: discovery.Config{
			Namespace:   cfg.Namespace,
			ClusterName: cfg.ClusterName,
			Clusters:    discovery.TidbClusters{Reader: c},
			Logger:      cfg.Logger,
		},
		Addr:      fmt.Sprintf(":%d", cfg.Port),
		ProxyAddr: fmt.Sprintf(":%d", cfg.ProxyPort),
		TLS:       cfg.TLSEnabled,
	}
	if cfg.TLSEnabled {
		opts.TLSDir = discoveryTLSDir
	}
	return discovery.Run(ctx, opts)
}
