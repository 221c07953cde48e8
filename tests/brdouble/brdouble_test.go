package brdouble_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/tests/brdouble"
)

func TestMain(m *testing.M) {
	code := m.Run()
	brdouble.Cleanup()
	os.Exit(code)
}

func TestBuildLaysOutTheJobsBinaries(t *testing.T) {
	br, tikvCtl := brdouble.Build(t)
	if !strings.HasSuffix(br, brdouble.BRRelPath) || !strings.HasSuffix(tikvCtl, brdouble.TiKVCtlRelPath) {
		t.Errorf("paths %s and %s are not the Job's layout", br, tikvCtl)
	}
	if br2, tikvCtl2 := brdouble.Build(t); br2 != br || tikvCtl2 != tikvCtl {
		t.Errorf("a second Build built again: %s %s", br2, tikvCtl2)
	}
	// Each name acts as its tool: BR's version and tikv-ctl's clap error.
	out, err := exec.Command(br, "-V").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "Release Version: ") {
		t.Errorf("br -V: %v\n%s", err, out)
	}
	out, err = exec.Command(tikvCtl, "--bogus").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "error: Found argument '--bogus'") {
		t.Errorf("tikv-ctl --bogus: %v\n%s", err, out)
	}
}

func TestRecordsAndTSO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records")
	if recs, err := brdouble.ReadRecords(path); err != nil || recs != nil {
		t.Fatalf("a missing file: %v, %v", recs, err)
	}
	br, _ := brdouble.Build(t)
	cmd := exec.Command(br, "--pd=pd:2379", "backup", "full", "--no-such-flag")
	cmd.Env = []string{brdouble.EnvRecord + "=" + path, "AZURE_STORAGE_KEY=k"}
	_ = cmd.Run()
	recs, err := brdouble.ReadRecords(path)
	if err != nil || len(recs) != 1 || recs[0].Tool != "br" || recs[0].Args[0] != "--pd=pd:2379" ||
		len(recs[0].CredentialEnv) != 1 || recs[0].CredentialEnv[0] != "AZURE_STORAGE_KEY" {
		t.Fatalf("records %+v, %v", recs, err)
	}

	now := time.UnixMilli(time.Now().UnixMilli())
	if got := brdouble.TSOTime(brdouble.TSO(now)); !got.Equal(now) {
		t.Errorf("TSO round trip: %v != %v", got, now)
	}
	if brdouble.TSO(time.UnixMilli(1)) != 1<<18 {
		t.Error("a TSO is milliseconds << 18")
	}
}
