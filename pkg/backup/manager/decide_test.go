package manager

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/brrun"
)

func TestGCDecision(t *testing.T) {
	for _, tc := range []struct {
		name            string
		current, wanted string
		raise           bool
		errContains     string
	}{
		{name: "a shorter GC life time is raised", current: "10m0s", wanted: "72h", raise: true},
		{name: "a longer one is left alone, never shortened", current: "100h", wanted: "72h"},
		{name: "an equal one is left alone", current: "72h0m0s", wanted: "72h"},
		{name: "an unreadable cluster value is an error naming it", current: "ten minutes", wanted: "72h", errContains: `"ten minutes"`},
		{name: "a bad spec value names the field", current: "10m", wanted: "3 days", errContains: "spec.tikvGCLifeTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raise, err := gcDecision(tc.current, tc.wanted)
			if tc.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errContains) {
					t.Fatalf("err = %v, want one containing %q", err, tc.errContains)
				}
				return
			}
			if err != nil || raise != tc.raise {
				t.Fatalf("gcDecision(%q, %q) = %v, %v; want %v", tc.current, tc.wanted, raise, err, tc.raise)
			}
		})
	}
}

func TestCleanLocationRefusesAnythingButTheBackupsOwnPath(t *testing.T) {
	s3 := func(prefix string) v1alpha1.StorageProvider {
		return v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: prefix}}
	}
	for _, tc := range []struct {
		name        string
		provider    v1alpha1.StorageProvider
		recorded    string
		errContains string
	}{
		{name: "the recorded path of the spec's storage is cleaned", provider: s3("team/backup-1"), recorded: "s3://b/team/backup-1"},
		{name: "a GCS path as v1.6 recorded it, with its trailing slash, is the same path", provider: v1alpha1.StorageProvider{Gcs: &v1alpha1.GcsStorageProvider{Bucket: "b", Prefix: "p"}}, recorded: "gcs://b/p/"},
		{name: "an Azure path recorded without the slash is the same path", provider: v1alpha1.StorageProvider{Azblob: &v1alpha1.AzblobStorageProvider{Container: "c", Prefix: "p"}}, recorded: "azure://c/p"},
		{name: "a spec pointing elsewhere than the recorded path is refused", provider: s3("team/backup-2"), recorded: "s3://b/team/backup-1", errContains: "refusing to delete"},
		{name: "a whole bucket is refused even when recorded", provider: s3(""), recorded: "s3://b", errContains: "prefix is empty"},
		{name: "a local prefix with .. is refused", provider: v1alpha1.StorageProvider{Local: &v1alpha1.LocalStorageProvider{
			VolumeMount: corev1.VolumeMount{Name: "v", MountPath: "/backup"}, Prefix: "team/../../etc"}}, recorded: "local:///etc", errContains: `".."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bk := &v1alpha1.Backup{Spec: v1alpha1.BackupSpec{StorageProvider: tc.provider, BR: &v1alpha1.BRConfig{Cluster: "c"}}}
			bk.Status.BackupPath = tc.recorded
			_, err := cleanLocation(bk)
			switch {
			case tc.errContains == "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case err == nil:
				t.Fatal("accepted")
			case !strings.Contains(err.Error(), tc.errContains):
				t.Fatalf("err = %v, want one containing %q", err, tc.errContains)
			}
		})
	}
}

func TestAnInterruptionIsToldApartFromAToolFailure(t *testing.T) {
	interrupted := &interruptedError{tool: "br", err: brrun.ErrInterrupted}
	if got := reasonFor(context.Background(), interrupted, reasonBackupFailed); got != "Interrupted" {
		t.Errorf("reason of an interruption = %q", got)
	}
	if !errors.Is(interrupted, brrun.ErrInterrupted) || !strings.Contains(interrupted.Error(), "SIGTERM") {
		t.Errorf("interruption error %q does not name SIGTERM or unwrap", interrupted)
	}
	if got := reasonFor(context.Background(), errors.New("br exited with code 1"), reasonBackupFailed); got != reasonBackupFailed {
		t.Errorf("reason of a failure = %q", got)
	}
}

func TestAFailureAfterSIGTERMIsAnInterruption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := reasonFor(ctx, errors.New("list objects: context canceled"), reasonStorageAccess); got != reasonInterrupted {
		t.Errorf("reason of a storage error after SIGTERM = %q, want %s", got, reasonInterrupted)
	}
}
