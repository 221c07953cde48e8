package restore

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/controllers/backupjob"
)

// snapshotRestore is a valid snapshot Restore of ns/rt into TidbCluster ns/basic.
func snapshotRestore() *v1alpha1.Restore {
	return &v1alpha1.Restore{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rt", UID: "uid-rt"},
		Spec: v1alpha1.RestoreSpec{
			Mode: v1alpha1.RestoreModeSnapshot,
			BR:   &v1alpha1.BRConfig{Cluster: "basic"},
			StorageProvider: v1alpha1.StorageProvider{
				S3: &v1alpha1.S3StorageProvider{Provider: "aws", Region: "us-west-2", Bucket: "backups", Prefix: "full-1"},
			},
		},
	}
}

// pitrRestore is a valid PiTR Restore starting from a snapshot backup.
func pitrRestore() *v1alpha1.Restore {
	rs := snapshotRestore()
	rs.Spec.Mode = v1alpha1.RestoreModePiTR
	rs.Spec.PitrRestoredTs = "2025-01-02 15:04:05+0800"
	rs.Spec.S3.Prefix = "log"
	rs.Spec.PitrFullBackupStorageProvider = v1alpha1.StorageProvider{
		S3: &v1alpha1.S3StorageProvider{Provider: "aws", Region: "us-west-2", Bucket: "backups", Prefix: "full-1"},
	}
	return rs
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		edit func(rs *v1alpha1.Restore)
		// base is pitrRestore when set, else snapshotRestore.
		pitr bool
		// wantReason is "" for a valid spec.
		wantReason string
		// wantField must appear in the message.
		wantField string
	}{
		"a snapshot restore with BR and S3 is valid": {},
		"an empty mode means snapshot":               {edit: func(rs *v1alpha1.Restore) { rs.Spec.Mode = "" }},
		"a PiTR restore from a full backup is valid": {pitr: true},
		"a PiTR restore from logRestoreStartTs is valid": {pitr: true, edit: func(rs *v1alpha1.Restore) {
			rs.Spec.PitrFullBackupStorageProvider = v1alpha1.StorageProvider{}
			rs.Spec.LogRestoreStartTs = "2025-01-01 00:00:00+0800"
		}},
		"a PiTR restore to the end of the log (no pitrRestoredTs) is valid, as in v1.6": {pitr: true, edit: func(rs *v1alpha1.Restore) {
			rs.Spec.PitrRestoredTs = ""
		}},
		"a Lightning import (no spec.br) is not supported": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.BR = nil },
			wantReason: ReasonNotSupported, wantField: "spec.br is not set",
		},
		"a volume-snapshot restore is not supported yet": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.Mode = v1alpha1.RestoreModeVolumeSnapshot },
			wantReason: ReasonNotSupported, wantField: "not supported yet",
		},
		"a federated volume restore phase is not supported": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.FederalVolumeRestorePhase = v1alpha1.FederalVolumeRestoreVolume },
			wantReason: ReasonNotSupported, wantField: "spec.federalVolumeRestorePhase",
		},
		"spec.br.cluster is required": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.BR.Cluster = "" },
			wantReason: ReasonInvalidSpec, wantField: "spec.br.cluster",
		},
		"a raw backup type cannot be restored": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.Type = v1alpha1.BackupTypeRaw },
			wantReason: ReasonInvalidSpec, wantField: "spec.backupType",
		},
		"a db restore needs spec.br.db": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.Type = v1alpha1.BackupTypeDB },
			wantReason: ReasonInvalidSpec, wantField: "spec.br.db",
		},
		"a table restore needs spec.br.table": {
			edit: func(rs *v1alpha1.Restore) {
				rs.Spec.Type = v1alpha1.BackupTypeTable
				rs.Spec.BR.DB = "test"
			},
			wantReason: ReasonInvalidSpec, wantField: "spec.br.table",
		},
		"no storage at all": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.StorageProvider = v1alpha1.StorageProvider{} },
			wantReason: ReasonInvalidSpec, wantField: "spec.s3",
		},
		"an S3 storage without a bucket names the field": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.S3.Bucket, rs.Spec.S3.Prefix = "", "" },
			wantReason: ReasonInvalidSpec, wantField: "spec.s3.bucket",
		},
		"a prefix that climbs out of the bucket is refused": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.S3.Prefix = "../other" },
			wantReason: ReasonInvalidSpec, wantField: "spec.s3.prefix",
		},
		"PiTR with neither a full backup nor a start point": {pitr: true,
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.PitrFullBackupStorageProvider = v1alpha1.StorageProvider{} },
			wantReason: ReasonInvalidSpec, wantField: "spec.logRestoreStartTs",
		},
		"PiTR with both a full backup and a start point": {pitr: true,
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.LogRestoreStartTs = "400036290571534337" },
			wantReason: ReasonInvalidSpec, wantField: "both set",
		},
		"PiTR with an unparseable pitrRestoredTs": {pitr: true,
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.PitrRestoredTs = "yesterday" },
			wantReason: ReasonInvalidSpec, wantField: "spec.pitrRestoredTs",
		},
		"PiTR with an unparseable logRestoreStartTs": {pitr: true,
			edit: func(rs *v1alpha1.Restore) {
				rs.Spec.PitrFullBackupStorageProvider = v1alpha1.StorageProvider{}
				rs.Spec.LogRestoreStartTs = "soon"
			},
			wantReason: ReasonInvalidSpec, wantField: "spec.logRestoreStartTs",
		},
		"PiTR whose log replay would start after its end": {pitr: true,
			edit: func(rs *v1alpha1.Restore) {
				rs.Spec.PitrFullBackupStorageProvider = v1alpha1.StorageProvider{}
				rs.Spec.LogRestoreStartTs = "2025-02-01 00:00:00+0800"
			},
			wantReason: ReasonInvalidSpec, wantField: "after spec.pitrRestoredTs",
		},
		"PiTR whose full backup storage is broken names that field": {pitr: true,
			edit: func(rs *v1alpha1.Restore) {
				rs.Spec.PitrFullBackupStorageProvider.S3.Bucket, rs.Spec.PitrFullBackupStorageProvider.S3.Prefix = "", ""
			},
			wantReason: ReasonInvalidSpec, wantField: "spec.pitrFullBackupStorageProvider",
		},
		"PiTR fields are ignored by a snapshot restore": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.PitrRestoredTs = "not a time" },
			wantReason: "",
		},
		"a storage flag in spec.br.options is refused like the backup-manager refuses it": {
			edit:       func(rs *v1alpha1.Restore) { rs.Spec.BR.Options = []string{"--storage=s3://elsewhere"} },
			wantReason: ReasonInvalidSpec, wantField: "storage",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rs := snapshotRestore()
			if c.pitr {
				rs = pitrRestore()
			}
			if c.edit != nil {
				c.edit(rs)
			}
			p := validate(rs)
			if c.wantReason == "" {
				if p != nil {
					t.Fatalf("valid spec refused: %s: %s", p.Reason, p.Message)
				}
				return
			}
			if p == nil {
				t.Fatalf("invalid spec accepted, want %s", c.wantReason)
			}
			if p.Reason != c.wantReason || !strings.Contains(p.Message, c.wantField) {
				t.Fatalf("got %s: %q, want %s naming %q", p.Reason, p.Message, c.wantReason, c.wantField)
			}
		})
	}
}

func withConditions(rs *v1alpha1.Restore, types ...v1alpha1.RestoreConditionType) *v1alpha1.Restore {
	rs = rs.DeepCopy()
	for _, t := range types {
		v1alpha1.UpdateRestoreCondition(&rs.Status, &v1alpha1.RestoreCondition{Type: t, Status: corev1.ConditionTrue})
	}
	return rs
}

var (
	absent    = backupjob.Outcome{Phase: backupjob.Absent}
	running   = backupjob.Outcome{Phase: backupjob.Running}
	succeeded = backupjob.Outcome{Phase: backupjob.Succeeded}
	failedJob = backupjob.Outcome{Phase: backupjob.Failed, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}
)

func TestDecideJob(t *testing.T) {
	fresh := snapshotRestore()
	cases := map[string]struct {
		rs   *v1alpha1.Restore
		out  backupjob.Outcome
		want jobAction
	}{
		"a new Restore gets its Job":                                     {rs: fresh, out: absent, want: jobCreate},
		"an invalid Restore is validated again":                          {rs: withConditions(fresh, v1alpha1.RestoreInvalid), out: absent, want: jobCreate},
		"a scheduled Restore whose Job runs waits":                       {rs: withConditions(fresh, v1alpha1.RestoreScheduled), out: running, want: jobWait},
		"a running Restore waits":                                        {rs: withConditions(fresh, v1alpha1.RestoreScheduled, v1alpha1.RestoreRunning), out: running, want: jobWait},
		"a Job nobody recorded is recorded as Scheduled":                 {rs: fresh, out: running, want: jobRecordScheduled},
		"a Job the backup-manager already reports is not recorded again": {rs: withConditions(fresh, v1alpha1.RestoreRunning), out: running, want: jobWait},
		"a complete Restore is done, whatever its Job":                   {rs: withConditions(fresh, v1alpha1.RestoreScheduled, v1alpha1.RestoreComplete), out: succeeded, want: jobDone},
		"a failed Restore is done here (prune is decided elsewhere)":     {rs: withConditions(fresh, v1alpha1.RestoreScheduled, v1alpha1.RestoreFailed), out: failedJob, want: jobDone},
		"a failed Job of an unfinished Restore is recorded":              {rs: withConditions(fresh, v1alpha1.RestoreScheduled, v1alpha1.RestoreRunning), out: failedJob, want: jobFailed},
		"a succeeded Job without Complete is a missing result":           {rs: withConditions(fresh, v1alpha1.RestoreScheduled, v1alpha1.RestoreRunning), out: succeeded, want: jobUnreported},
		"a started Restore whose Job is gone is never run again":         {rs: withConditions(fresh, v1alpha1.RestoreScheduled), out: absent, want: jobLost},
		"a running Restore whose Job is gone is never run again":         {rs: withConditions(fresh, v1alpha1.RestoreRunning), out: absent, want: jobLost},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := decideJob(c.rs, c.out); got != c.want {
				t.Fatalf("decideJob = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDecidePrune(t *testing.T) {
	base := snapshotRestore()
	base.Spec.Prune = v1alpha1.PruneTypeAfterFailed
	failed := withConditions(base, v1alpha1.RestoreScheduled, v1alpha1.RestoreRunning, v1alpha1.RestoreFailed)
	noPrune := withConditions(snapshotRestore(), v1alpha1.RestoreScheduled, v1alpha1.RestoreFailed)
	cases := map[string]struct {
		rs                   *v1alpha1.Restore
		restoreJob, pruneJob backupjob.Outcome
		want                 pruneAction
	}{
		"a failed Restore without spec.prune is left alone":        {rs: noPrune, restoreJob: failedJob, pruneJob: absent, want: pruneNone},
		"a Restore that did not fail is not pruned":                {rs: withConditions(base, v1alpha1.RestoreScheduled), restoreJob: running, pruneJob: absent, want: pruneNone},
		"a failed Restore gets its prune Job":                      {rs: failed, restoreJob: failedJob, pruneJob: absent, want: pruneCreate},
		"a failed Restore whose Job was removed still gets pruned": {rs: failed, restoreJob: absent, pruneJob: absent, want: pruneCreate},
		"the prune waits while the restore pod still runs":         {rs: failed, restoreJob: running, pruneJob: absent, want: pruneHold},
		"a scheduled prune waits":                                  {rs: withConditions(failed, v1alpha1.RestorePruneScheduled), restoreJob: failedJob, pruneJob: running, want: pruneWait},
		"a running prune waits":                                    {rs: withConditions(failed, v1alpha1.RestorePruneScheduled, v1alpha1.RestorePruneRunning), restoreJob: failedJob, pruneJob: running, want: pruneWait},
		"an unrecorded prune Job is recorded as PruneScheduled":    {rs: failed, restoreJob: failedJob, pruneJob: running, want: pruneRecordScheduled},
		"PruneRunning without PruneScheduled is not rewound":       {rs: withConditions(failed, v1alpha1.RestorePruneRunning), restoreJob: failedJob, pruneJob: running, want: pruneWait},
		"a failed prune Job is recorded":                           {rs: withConditions(failed, v1alpha1.RestorePruneScheduled, v1alpha1.RestorePruneRunning), restoreJob: failedJob, pruneJob: failedJob, want: pruneFailed},
		"a succeeded prune Job without PruneComplete is recorded":  {rs: withConditions(failed, v1alpha1.RestorePruneScheduled), restoreJob: failedJob, pruneJob: succeeded, want: pruneUnreported},
		"a finished prune is never run again":                      {rs: withConditions(failed, v1alpha1.RestorePruneScheduled, v1alpha1.RestorePruneComplete), restoreJob: failedJob, pruneJob: absent, want: pruneNone},
		"a failed prune is never run again":                        {rs: withConditions(failed, v1alpha1.RestorePruneScheduled, v1alpha1.RestorePruneFailed), restoreJob: failedJob, pruneJob: absent, want: pruneNone},
		"a scheduled prune whose Job is gone is not run twice":     {rs: withConditions(failed, v1alpha1.RestorePruneScheduled), restoreJob: failedJob, pruneJob: absent, want: pruneLost},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := decidePrune(c.rs, c.restoreJob, c.pruneJob); got != c.want {
				t.Fatalf("decidePrune = %v, want %v", got, c.want)
			}
		})
	}
}

func TestPruneJobNameIsDistinctAndBounded(t *testing.T) {
	rs := snapshotRestore()
	if got := PruneJobName(rs); got != "restore-rt-prune" || got == rs.GetRestoreJobName() {
		t.Fatalf("PruneJobName = %q", got)
	}
	if err := checkJobName(strings.Repeat("a", 64)); err == nil {
		t.Fatal("a 64-character Job name must be refused")
	}
	if err := checkJobName(strings.Repeat("a", 63)); err != nil {
		t.Fatalf("a 63-character Job name is valid: %v", err)
	}
}
