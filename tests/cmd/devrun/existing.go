package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// runExisting installs the CRDs into the cluster of opts.Kubeconfig and runs the operator from
// source against it until ctx ends. Nothing is simulated: the operator's PD, TiKV and TiDB
// clients reach whatever that cluster runs.
func runExisting(ctx context.Context, opts Options, l layout) (retErr error) {
	log := opts.Logger
	namespace := opts.Namespace
	if namespace == "" {
		namespace = "default"
	}

	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = ""
	rules.Precedence = filepath.SplitList(opts.Kubeconfig)
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	raw, err := loader.RawConfig()
	if err != nil {
		return fmt.Errorf("load KUBECONFIG=%s: %w", opts.Kubeconfig, err)
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return fmt.Errorf("KUBECONFIG=%s: %w", opts.Kubeconfig, err)
	}
	say(opts.Stderr, "devrun: KUBECONFIG is set: running the operator against context %q (%s); no local cluster, no simulator",
		raw.CurrentContext, cfg.Host)
	if err := writeKubeconfigCopy(raw, l.kubeconfig); err != nil {
		return err
	}

	say(opts.Stderr, "devrun: building the operator into %s", l.rel(l.operatorBinary))
	build := startBuild(ctx, l, opts.Stderr)
	defer build.stop()

	kc, err := newClient(cfg)
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, kc, l, opts.Stderr); err != nil {
		return err
	}
	created, err := ensureNamespace(ctx, kc, namespace)
	if err != nil {
		return err
	}
	if created {
		say(opts.Stderr, "devrun: created namespace %s for the operator's leader-election lease", namespace)
	}

	if err := build.wait(ctx); err != nil {
		return err
	}
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	healthAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	op, err := startOperator(operatorRun{
		binary: l.operatorBinary,
		args: []string{
			"-metrics-bind-address=" + metricsAddr,
			"-health-probe-bind-address=" + healthAddr,
		},
		env:     map[string]string{"KUBECONFIG": opts.Kubeconfig, "NAMESPACE": namespace},
		logPath: filepath.Join(l.logs, "operator.log"),
		out:     opts.Stdout,
		prefix:  "operator | ",
	})
	if err != nil {
		return err
	}
	defer func() {
		say(opts.Stderr, "devrun: stopping the operator…")
		if err := op.stop(); err != nil {
			retErr = errors.Join(retErr, err)
			return
		}
		say(opts.Stderr, "devrun: stopped")
	}()
	log.Info("Operator started", "pid", op.pid(), "namespace", namespace)

	printExistingBanner(opts.Stdout, l, raw.CurrentContext, namespace, op.pid(), metricsAddr, healthAddr)
	if opts.OnReady != nil {
		opts.OnReady(Ready{Kubeconfig: l.kubeconfig, RestConfig: rest.CopyConfig(cfg), OperatorPID: op.pid()})
	}
	return waitForEnd(ctx, op, nil)
}

// writeKubeconfigCopy writes the current context of raw, with certificates inlined, to path:
// scripts find the cluster devrun used at .run/kubeconfig whichever way it was chosen.
func writeKubeconfigCopy(raw clientcmdapi.Config, path string) error {
	cfg := raw.DeepCopy()
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func printExistingBanner(w io.Writer, l layout, context, namespace string, pid int, metrics, health string) {
	var sb strings.Builder
	fmt.Fprintf(&sb, `
==============================================================================
TiDB Operator (built from source) is running against context %q.

  operator:   pid %d, namespace %s (NAMESPACE), cluster scoped
              metrics http://%s/metrics, health http://%s/healthz
  kubeconfig: %s (a copy of the current context)
  logs:       %s (also below, prefixed "operator | ")

Try it:
  kubectl apply -f examples/basic/
  kubectl get tc -w

Press Ctrl-C to stop the operator (the cluster and the CRDs stay).
==============================================================================
`, context, pid, namespace, metrics, health, l.rel(l.kubeconfig), l.rel(filepath.Join(l.logs, "operator.log")))
	_, _ = io.WriteString(w, sb.String())
}
