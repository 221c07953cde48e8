// Package cluster runs a real Kubernetes control plane on the local machine for tests and for
// hands-on experiments with the operator.
//
// There is no container engine on the machines this project is developed and tested on, so kind
// and similar tools cannot run. Instead the package starts the control-plane binaries built by
// hack/testbin.sh as ordinary processes:
//
//   - etcd and kube-apiserver through controller-runtime's envtest, which is all that API-level
//     tests need (CRD validation, watches, owner references, the status subresource);
//   - with Options.Full, also kube-controller-manager, kube-scheduler and kwok. kwok stands in for
//     the kubelet of a set of fake nodes spread over zones, so pods are scheduled and become
//     Running and Ready (without running any container), and PersistentVolumeClaims of the kwok
//     default StorageClass are provisioned and bound. The pods of Jobs are marked Succeeded a
//     few seconds after they run, unless Options.LocalJobs leaves that to package
//     tests/jobrunner, which runs their program as a local process.
//
// Every process the package starts is placed in its own process group and is also watched by a
// small guardian process, so nothing is left behind when the owner stops the cluster, is
// interrupted, or dies. Component logs go to files under Cluster.LogDir.
//
// The binaries come from hack/testbin.sh (run on demand; it builds and caches them by version,
// which takes minutes once per machine) or from the folder named by TIDB_OPERATOR_TESTBIN. The
// package is Linux-only: it relies on process groups, the parent-death signal and /proc.
//
// Tests normally share one cluster per test binary:
//
//	func TestMain(m *testing.M) { cluster.SharedForTest(m, cluster.Options{Full: true}) }
//
//	func TestSomething(t *testing.T) {
//		ns := cluster.Namespace(t) // a fresh namespace, deleted when the test ends
//		...
//	}
//
// `go test -short` skips everything that needs the cluster and does not start it. For working by
// hand, tests/cmd/localcluster runs the same cluster in the foreground.
package cluster
