package main

import (
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tidbops/tidb-operator/pkg/features"
	"github.com/tidbops/tidb-operator/pkg/scheduler/extender"
	"github.com/tidbops/tidb-operator/pkg/scheduler/options"
	"github.com/tidbops/tidb-operator/pkg/scheduler/server"
)

func init() { newExtender = buildExtender }

// buildExtender links the placement logic in. It connects with $KUBECONFIG (or
// ~/.kube/config) when present, for running next to a local kube-scheduler, and with the
// pod's service account otherwise, which is how the shipped Deployment runs it.
func buildExtender(opts *options.Options, logger logr.Logger) (server.Extender, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load the API server connection: %w", err)
	}
	// A filter call makes a handful of reads; the client-go default of 5 QPS would throttle a
	// burst of pods being placed.
	cfg.QPS, cfg.Burst = 50, 100
	ext, _, err := extender.NewForConfig(cfg, opts.Features.Enabled(features.StableScheduling), logger)
	if err != nil {
		return nil, err
	}
	// The event broadcaster's goroutines end with the process; events in flight at exit are
	// lost, which is harmless for explanations.
	return ext, nil
}
