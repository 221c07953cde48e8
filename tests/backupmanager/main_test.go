// Package backupmanager runs the real tidb-backup-manager binary, built from
// cmd/tidb-backup-manager, as a local process the way a Job's pod runs it: against a real
// kube-apiserver with our CRDs (the API-server-only mode of tests/cluster), with the br and
// tikv-ctl test doubles (tests/cmd/brdouble) where the init containers would have put the real
// tools, and against real storage servers (versitygw for S3, fake-gcs-server, Azurite, a local
// folder) and a real MySQL-protocol server (MariaDB) from tests/backupenv. Credentials reach
// the process only through its environment, as the Job's env valueFrom gives them.
package backupmanager

import (
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/tests/brdouble"
	"github.com/tidbops/tidb-operator/tests/cluster"
)

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

func TestMain(m *testing.M) {
	code := cluster.RunShared(m, cluster.Options{Scheme: testScheme()})
	brdouble.Cleanup()
	os.Exit(code)
}
