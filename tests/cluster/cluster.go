package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Cluster is a running local control plane. Create it with Start and always Stop it.
type Cluster struct {
	opts         Options
	binDir       string
	workDir      string
	ownsWorkDir  bool
	logDir       string
	kubeconfig   string
	env          *envtest.Environment
	envLogs      []*os.File
	config       *rest.Config
	client       client.Client
	guardian     *guardian
	envProcesses []Process
	children     []*child
	nodes        []string
	timings      Timings

	mu       sync.Mutex
	keepWork bool
	stopOnce sync.Once
	stopErr  error
}

// Timings records how long the phases of Start took.
type Timings struct {
	// Binaries is the time spent locating (and, on a fresh machine, building) the binaries.
	Binaries time.Duration
	// APIServer is the time from launching etcd to a usable API server with CRDs installed.
	APIServer time.Duration
	// Ready is, for a full cluster, the time from a usable API server to all nodes schedulable
	// and the controller manager acting. Zero otherwise.
	Ready time.Duration
}

// Start brings up a cluster as opts describes and returns once it is usable: the API server
// answers, CRDs are installed and, for a full cluster, every fake node is Ready and
// schedulable. On failure everything started so far is stopped again and the work directory,
// with the component logs, is kept for diagnosis; the error names it. Cancelling ctx aborts the
// wait for binaries and for readiness (the API server's own start is bounded by
// Options.APIServerStartTimeout).
func Start(ctx context.Context, opts Options) (_ *Cluster, retErr error) {
	opts = opts.withDefaults()
	log := opts.Logger
	c := &Cluster{opts: opts, workDir: opts.WorkDir}
	if c.workDir == "" {
		dir, err := os.MkdirTemp("", "tidb-operator-cluster-")
		if err != nil {
			return nil, fmt.Errorf("create work directory: %w", err)
		}
		c.workDir, c.ownsWorkDir = dir, true
	}
	c.logDir = filepath.Join(c.workDir, "logs")
	if err := os.MkdirAll(c.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	c.kubeconfig = opts.KubeconfigPath
	if c.kubeconfig == "" {
		c.kubeconfig = filepath.Join(c.workDir, "kubeconfig")
	}
	defer func() {
		if retErr == nil {
			return
		}
		// Keep the logs once a component was started; before that there is nothing to read.
		started := c.guardian != nil
		if started {
			c.KeepWorkDir()
		}
		if err := c.Stop(); err != nil {
			log.Error(err, "Cleaning up after a failed start")
		}
		if started {
			retErr = fmt.Errorf("%w (logs in %s)", retErr, c.logDir)
		}
	}()

	began := time.Now()
	var err error
	if c.binDir, err = locateBinaries(ctx, opts.Full, opts.Progress); err != nil {
		return nil, err
	}
	c.timings.Binaries = time.Since(began)
	log.Info("Using control-plane binaries", "dir", c.binDir)

	if c.guardian, err = startGuardian(); err != nil {
		return nil, err
	}

	began = time.Now()
	if err := c.startAPIServer(); err != nil {
		return nil, err
	}
	c.timings.APIServer = time.Since(began)
	log.Info("API server is up", "url", c.config.Host, "took", c.timings.APIServer.Round(time.Millisecond))

	if opts.Full {
		began = time.Now()
		if err := c.startRest(ctx); err != nil {
			return nil, err
		}
		c.timings.Ready = time.Since(began)
		log.Info("Cluster is ready", "nodes", len(c.nodes), "took", c.timings.Ready.Round(time.Millisecond))
	}
	return c, nil
}

// startAPIServer runs etcd and kube-apiserver through envtest, provisions the admin user and
// writes its kubeconfig.
func (c *Cluster) startAPIServer() error {
	etcdLog, err := os.Create(filepath.Join(c.logDir, "etcd.log"))
	if err != nil {
		return fmt.Errorf("create etcd log: %w", err)
	}
	apiLog, err := os.Create(filepath.Join(c.logDir, "kube-apiserver.log"))
	if err != nil {
		_ = etcdLog.Close()
		return fmt.Errorf("create kube-apiserver log: %w", err)
	}
	c.envLogs = []*os.File{etcdLog, apiLog}

	c.env = &envtest.Environment{
		// Explicit paths below take precedence over KUBEBUILDER_ASSETS, which a developer's shell
		// may point at binaries of another Kubernetes version.
		BinaryAssetsDirectory:    c.binDir,
		Scheme:                   c.opts.Scheme,
		ControlPlaneStartTimeout: c.opts.APIServerStartTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	c.env.ControlPlane.Etcd = &envtest.Etcd{
		Path: filepath.Join(c.binDir, "etcd"),
		Out:  etcdLog,
		Err:  etcdLog,
	}
	api := c.env.ControlPlane.GetAPIServer()
	api.Path = filepath.Join(c.binDir, "kube-apiserver")
	api.Out = apiLog
	api.Err = apiLog

	if _, err := c.env.Start(); err != nil {
		return fmt.Errorf("start etcd and kube-apiserver: %w", err)
	}
	if err := c.trackEnvProcesses(); err != nil {
		return err
	}
	// CRDs are installed only once the guardian tracks etcd and kube-apiserver, so a slow or
	// failed install cannot leak them; envtest's own 10s wait for a large CRD to be served is
	// too short on a loaded two-core machine (the TidbCluster CRD alone takes seconds).
	if len(c.opts.CRDDirectoryPaths) > 0 {
		if _, err := envtest.InstallCRDs(c.env.Config, envtest.CRDInstallOptions{
			Paths:              c.opts.CRDDirectoryPaths,
			ErrorIfPathMissing: true,
			Scheme:             c.opts.Scheme,
			MaxTime:            3 * time.Minute,
		}); err != nil {
			return fmt.Errorf("install CRDs from %v: %w", c.opts.CRDDirectoryPaths, err)
		}
	}

	admin, err := c.env.ControlPlane.AddUser(envtest.User{
		Name:   "tidb-operator-admin",
		Groups: []string{"system:masters"},
	}, &rest.Config{QPS: 200, Burst: 400})
	if err != nil {
		return fmt.Errorf("add admin user: %w", err)
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("build admin kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(c.kubeconfig), 0o755); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := os.WriteFile(c.kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	c.config = admin.Config()
	if c.client, err = client.New(c.config, client.Options{Scheme: c.opts.Scheme}); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	return nil
}

// trackEnvProcesses finds the etcd and kube-apiserver processes envtest started and hands them
// to the guardian.
func (c *Cluster) trackEnvProcesses() error {
	etcd := c.env.ControlPlane.Etcd
	api := c.env.ControlPlane.APIServer
	etcdPID, err := findChildProcess(etcd.Path, "--listen-client-urls="+etcd.URL.String())
	if err != nil {
		return fmt.Errorf("find etcd process: %w", err)
	}
	apiPID, err := findChildProcess(api.Path, "--secure-port="+api.Port)
	if err != nil {
		return fmt.Errorf("find kube-apiserver process: %w", err)
	}
	c.envProcesses = []Process{{Name: "etcd", PID: etcdPID}, {Name: "kube-apiserver", PID: apiPID}}
	for _, p := range c.envProcesses {
		if err := c.guardian.watch(p.PID); err != nil {
			return err
		}
	}
	return nil
}

// startRest starts the controller manager, the scheduler and kwok, installs the default
// StorageClass, registers the fake nodes and waits until they can take pods.
func (c *Cluster) startRest(ctx context.Context) error {
	assets, err := loadKwokAssets(filepath.Join(c.binDir, kwokStagesDir), c.opts.droppedKwokStages()...)
	if err != nil {
		return err
	}
	stagesPath := filepath.Join(c.workDir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesPath, assets.stages, 0o644); err != nil {
		return fmt.Errorf("write kwok stages: %w", err)
	}
	storageClass, err := assets.defaultStorageClass()
	if err != nil {
		return err
	}

	schedulerArgs := []string{"--kubeconfig=" + c.kubeconfig, "--leader-elect=false", "--secure-port=0"}
	if len(c.opts.SchedulerConfig) > 0 {
		cfg, err := schedulerConfigFor(c.opts.SchedulerConfig, c.kubeconfig)
		if err != nil {
			return err
		}
		path := filepath.Join(c.workDir, "kube-scheduler.yaml")
		if err := os.WriteFile(path, cfg, 0o644); err != nil {
			return fmt.Errorf("write scheduler configuration: %w", err)
		}
		schedulerArgs = []string{"--config=" + path, "--leader-elect=false", "--secure-port=0"}
	}

	components := []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", []string{
			"--kubeconfig=" + c.kubeconfig,
			"--leader-elect=false",
			// The token controller needs the service-account signing key, which envtest keeps
			// to itself; no test needs service-account tokens because no container runs.
			"--controllers=*,-serviceaccount-token",
			"--secure-port=0",
		}},
		{"kube-scheduler", schedulerArgs},
		{"kwok", []string{
			"--kubeconfig=" + c.kubeconfig,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=" + FakeNodeAnnotationValue,
			"--manage-single-node=",
			"--server-address=127.0.0.1:0",
			"--config=" + stagesPath,
		}},
	}
	for _, comp := range components {
		ch, err := startChild(comp.name, filepath.Join(c.binDir, comp.name), comp.args, c.logDir)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.children = append(c.children, ch)
		c.mu.Unlock()
		if err := c.guardian.watch(ch.cmd.Process.Pid); err != nil {
			return err
		}
	}

	if err := c.client.Create(ctx, storageClass); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create StorageClass %s: %w", storageClass.Name, err)
	}
	for _, node := range fakeNodes(c.opts.Zones, c.opts.NodesPerZone, c.opts.NodeAllocatable) {
		if err := c.client.Create(ctx, node); err != nil {
			return fmt.Errorf("create node %s: %w", node.Name, err)
		}
		c.nodes = append(c.nodes, node.Name)
	}
	return c.waitReady(ctx)
}

// waitReady waits for every fake node to be schedulable and for the controller manager to have
// created the default ServiceAccount (the cheapest sign that its controllers run), failing
// early if a component exits.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	defer cancel()
	var pending []string
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.Check(); err != nil {
			return false, err
		}
		pending = pending[:0]
		for _, name := range c.nodes {
			var node corev1.Node
			if err := c.client.Get(ctx, types.NamespacedName{Name: name}, &node); err != nil {
				pending = append(pending, name+": "+err.Error())
				continue
			}
			if ok, why := nodeSchedulable(&node); !ok {
				pending = append(pending, name+": "+why)
			}
		}
		var sa corev1.ServiceAccount
		if err := c.client.Get(ctx, types.NamespacedName{Namespace: "default", Name: "default"}, &sa); err != nil {
			pending = append(pending, "controller manager has not created the default ServiceAccount")
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		if len(pending) > 0 {
			return fmt.Errorf("cluster not ready after %s: %s: %w", c.opts.ReadyTimeout, strings.Join(pending, "; "), err)
		}
		return err
	}
	return nil
}

// Check returns an error if a component of the cluster is no longer running.
func (c *Cluster) Check() error {
	c.mu.Lock()
	children := append([]*child(nil), c.children...)
	c.mu.Unlock()
	var errs []error
	for _, ch := range children {
		if err := ch.exitError(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range c.envProcesses {
		if !processAlive(p.PID) {
			errs = append(errs, fmt.Errorf("%s (pid %d) is gone; see %s", p.Name, p.PID, c.logDir))
		}
	}
	return errors.Join(errs...)
}

// Config returns a copy of the admin user's REST configuration.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.config) }

// Client returns a controller-runtime client for the admin user, with Options.Scheme.
func (c *Cluster) Client() client.Client { return c.client }

// KubeconfigPath returns the path of the admin user's kubeconfig, for other processes
// (the operator under test, kubectl) to connect with.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// WorkDir returns the directory holding the cluster's generated files and logs.
func (c *Cluster) WorkDir() string { return c.workDir }

// LogDir returns the directory holding one log file per component.
func (c *Cluster) LogDir() string { return c.logDir }

// BinDir returns the directory the control-plane binaries were taken from.
func (c *Cluster) BinDir() string { return c.binDir }

// Nodes returns the names of the fake nodes, zone by zone.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.nodes...) }

// Timings returns how long the phases of Start took.
func (c *Cluster) Timings() Timings { return c.timings }

// Processes lists the operating-system processes of the cluster.
func (c *Cluster) Processes() []Process {
	var out []Process
	if c.guardian != nil {
		out = append(out, Process{Name: "guardian", PID: c.guardian.cmd.Process.Pid})
	}
	out = append(out, c.envProcesses...)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.children {
		out = append(out, Process{Name: ch.name, PID: ch.cmd.Process.Pid})
	}
	return out
}

// KeepWorkDir makes Stop leave the work directory (logs, kubeconfig) in place.
func (c *Cluster) KeepWorkDir() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keepWork = true
}

// Stop stops every component, waits for their processes to end and removes the work directory
// if Start created it and KeepWorkDir was not called. It is safe to call more than once and
// from several goroutines; later calls return the first call's result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	var errs []error
	// The guardian goes first: once the components are stopped in order it must never signal
	// their (possibly recycled) process ids.
	if c.guardian != nil {
		c.guardian.dismiss()
	}
	c.mu.Lock()
	children := append([]*child(nil), c.children...)
	c.mu.Unlock()
	// Stop in reverse start order: kwok and the scheduler before the controller manager.
	for i := len(children) - 1; i >= 0; i-- {
		if err := children[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop etcd and kube-apiserver: %w", err))
		}
	}
	for _, f := range c.envLogs {
		_ = f.Close()
	}
	c.mu.Lock()
	keep := c.keepWork
	c.mu.Unlock()
	if c.ownsWorkDir && !keep {
		if err := os.RemoveAll(c.workDir); err != nil {
			errs = append(errs, fmt.Errorf("remove work directory: %w", err))
		}
	}
	return errors.Join(errs...)
}
