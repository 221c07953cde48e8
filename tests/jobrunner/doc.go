// Package jobrunner runs the pods of Kubernetes Jobs as local processes, in the simulated
// cluster of package tests/cluster, so that end-to-end tests exercise the real
// tidb-backup-manager binary in the Jobs the operator creates.
//
// kwok stands in for the kubelet of the fake nodes: it schedules nothing itself, but moves pods
// through their life cycle (Pending, Running, Ready) without running any container, and its
// pod-complete stage would mark every Running Job pod Succeeded a few seconds later. A cluster
// started with cluster.Options{Full: true, LocalJobs: true} leaves that stage out, and a Runner
// does the rest of a kubelet's work for the pods it selects (owned by a Job, first container of
// Options.Image):
//
//   - once kwok has made such a pod Running, it starts Options.BackupManager with the main
//     container's args (a command naming tidb-backup-manager, the image's entrypoint, is
//     dropped; any other command cannot be run and fails the pod with StartError);
//   - the environment is the container's, resolved as the kubelet resolves it: plain values
//     with $(VAR) references, valueFrom secretKeyRef and configMapKeyRef (optional honoured),
//     fieldRef to the pod's metadata, envFrom; a missing Secret, ConfigMap or key that is not
//     optional leaves the container waiting with reason CreateContainerConfigError, retried
//     every two seconds, instead of starting it. Options.Env comes on top;
//   - KUBECONFIG names a kubeconfig holding a token of the pod's ServiceAccount, from the
//     TokenRequest API (default audience, renewed like a projected token), and the API
//     server's address and CA; so the process has exactly the permissions RBAC gives the pod,
//     as in a real cluster, and a missing Role shows up as a refused request;
//   - when the process exits, the pod's status is written through the status subresource as
//     the kubelet writes it (phase Succeeded or Failed, the container terminated with its
//     exit code, reason Completed or Error, start and finish times, Ready=False), so that
//     kube-controller-manager's Job controller marks the Job Complete or Failed. An OnFailure
//     pod's failed container is run again after a short back-off;
//   - when the pod is deleted while its process runs, the process group gets SIGTERM and,
//     after the grace period, SIGKILL.
//
// Each process's stdout and stderr go to a file under Options.LogDir named after the pod;
// Runner.Runs lists what ran, for assertions and failure messages. Secret values are never
// logged or recorded: Run lists the names of the environment only.
//
// A test binary normally starts one Runner after the shared cluster is up:
//
//	cl := cluster.Shared(t) // started with cluster.Options{Full: true, LocalJobs: true}
//	r, err := jobrunner.Start(ctx, cl.Config(), jobrunner.Options{
//		Image:         "pingcap/tidb-backup-manager",
//		BackupManager: managerBinary,
//		Env:           []string{"BACKUP_MANAGER_BR_PATH=" + br, "BACKUP_MANAGER_TIKV_CTL_PATH=" + tikvCtl},
//		LogDir:        filepath.Join(cl.LogDir(), "jobs"),
//	})
//	...
//	defer r.Stop()
//
// Differences from a kubelet that tests may notice: volumes are not mounted (the process sees
// the local file system, which is why the tools' paths come through Options.Env); the token is
// not bound to the pod object, because kwok removes a deleted pod's object at once where a
// kubelet keeps it until the container has stopped; a container that cannot be created stays
// in phase Running (kwok has made it Running, and would take a Pending pod over again) rather
// than Pending; and the process starts only once kwok's stages have made the pod Running, a
// few seconds after it was scheduled.
//
// The package is Linux-only: it relies on process groups and the parent-death signal.
package jobrunner
