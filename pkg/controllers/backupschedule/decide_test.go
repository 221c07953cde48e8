package backupschedule

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/tidbops/tidb-operator/pkg/apis/label"
	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
	"github.com/tidbops/tidb-operator/pkg/backup/schedule"
)

var t0 = time.Date(2024, 1, 1, 0, 30, 0, 0, time.UTC)

func tso(t time.Time) uint64 { return v1alpha1.TimeToTSO(t) }

func tsoStr(t time.Time) string { return strconv.FormatUint(tso(t), 10) }

// newSchedule is an hourly schedule of BR snapshots to S3, created at t0.
func newSchedule(name string) *v1alpha1.BackupSchedule {
	return &v1alpha1.BackupSchedule{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(t0), Generation: 1},
		Spec: v1alpha1.BackupScheduleSpec{
			Schedule: "0 * * * *",
			BackupTemplate: &v1alpha1.BackupSpec{
				BR:              &v1alpha1.BRConfig{Cluster: "basic"},
				StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "snap"}},
				CleanPolicy:     v1alpha1.CleanPolicyTypeDelete,
			},
		},
	}
}

func cond(t v1alpha1.BackupConditionType) []v1alpha1.BackupCondition {
	return []v1alpha1.BackupCondition{{Type: t, Status: corev1.ConditionTrue}}
}

// snap is a snapshot Backup of schedule bs created at created, in phase (""
// for one that has not finished).
func snap(bs string, created time.Time, phase v1alpha1.BackupConditionType) v1alpha1.Backup {
	bk := v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: bs + "-" + created.UTC().Format(v1alpha1.BackupScheduleTimeFormat),
		CreationTimestamp: metav1.NewTime(created), UID: types.UID("uid-" + created.String()),
		Labels: map[string]string{label.BackupScheduleLabelKey: bs},
	}}
	if phase != "" {
		bk.Status.Phase = phase
		bk.Status.Conditions = cond(phase)
	}
	if phase == v1alpha1.BackupComplete {
		bk.Status.CommitTs = tsoStr(created)
	}
	return bk
}

func names(items []schedule.Item) string {
	var n []string
	for _, it := range items {
		n = append(n, it.Name)
	}
	return strings.Join(n, ",")
}

func TestParseSpec(t *testing.T) {
	cases := map[string]struct {
		edit func(bs *v1alpha1.BackupSchedule)
		// wantFields are the fields named in the errors, in order.
		wantFields []string
		wantGCOK   bool
	}{
		"a valid spec": {edit: func(*v1alpha1.BackupSchedule) {}, wantGCOK: true},
		"a cron expression with a minute out of range": {
			edit:       func(bs *v1alpha1.BackupSchedule) { bs.Spec.Schedule = "61 * * * *" },
			wantFields: []string{"spec.schedule"}, wantGCOK: true,
		},
		"a schedule that never fires": {
			edit:       func(bs *v1alpha1.BackupSchedule) { bs.Spec.Schedule = "0 0 30 2 *" },
			wantFields: []string{"spec.schedule"}, wantGCOK: true,
		},
		"every field wrong at once is reported at once, and GC by age cannot run": {
			edit: func(bs *v1alpha1.BackupSchedule) {
				bs.Spec.Schedule = "* *"
				bs.Spec.MaxReservedTime = ptr.To("3 days")
				bs.Spec.CompactInterval = ptr.To("-1h")
				bs.Spec.BackupTemplate.Mode = v1alpha1.BackupModeLog
			},
			wantFields: []string{"spec.schedule", "spec.maxReservedTime", "spec.compactInterval", "spec.backupTemplate.backupMode"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bs := newSchedule("bs")
			c.edit(bs)
			s := parseSpec(bs)
			if len(s.errs) != len(c.wantFields) {
				t.Fatalf("errors %v, want fields %v", s.errs, c.wantFields)
			}
			for i, err := range s.errs {
				var fe *schedule.FieldError
				if !errors.As(err, &fe) || fe.Field != c.wantFields[i] {
					t.Errorf("error %d is %v, want one naming %s", i, err, c.wantFields[i])
				}
			}
			if s.gcOK != c.wantGCOK {
				t.Errorf("gcOK %v, want %v", s.gcOK, c.wantGCOK)
			}
			if len(c.wantFields) == 0 && s.cron == nil {
				t.Error("a valid schedule must be parsed")
			}
			if len(c.wantFields) > 0 {
				msg := invalidMessage(s.errs)
				for _, f := range c.wantFields {
					if !strings.Contains(msg, f) {
						t.Errorf("message %q does not name %s", msg, f)
					}
				}
			}
		})
	}
}

func TestGCPolicyOf(t *testing.T) {
	cases := map[string]struct {
		maxBackups *int32
		reserved   *string
		want       gcPolicy
	}{
		"nothing set: no collection":              {want: gcPolicy{}},
		"maxBackups":                              {maxBackups: ptr.To[int32](3), want: gcPolicy{maxBackups: 3}},
		"maxReservedTime":                         {reserved: ptr.To("72h"), want: gcPolicy{byAge: true, reserved: 72 * time.Hour}},
		"both: maxReservedTime wins (v1.6)":       {maxBackups: ptr.To[int32](3), reserved: ptr.To("1h"), want: gcPolicy{byAge: true, reserved: time.Hour}},
		"maxBackups 0 (older CRDs allowed it)":    {maxBackups: ptr.To[int32](0), want: gcPolicy{}},
		"maxReservedTime 0 keeps only the newest": {reserved: ptr.To("0s"), want: gcPolicy{byAge: true}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bs := newSchedule("bs")
			bs.Spec.MaxBackups, bs.Spec.MaxReservedTime = c.maxBackups, c.reserved
			got, err := gcPolicyOf(bs)
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestPlanGC(t *testing.T) {
	now := t0.Add(100 * time.Hour)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	// log is a running log backup started at t0 with its checkpoint at now.
	log := func(truncateUntil string) *v1alpha1.Backup {
		return &v1alpha1.Backup{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "log-bs"},
			Spec:       v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog, LogTruncateUntil: truncateUntil},
			Status:     v1alpha1.BackupStatus{CommitTs: tsoStr(t0), LogCheckpointTs: tsoStr(now)},
		}
	}
	items := func(bks ...v1alpha1.Backup) []schedule.Item { return snapshotItems(newSchedule("bs"), bks) }
	cases := map[string]struct {
		policy       gcPolicy
		items        []schedule.Item
		log          *v1alpha1.Backup
		wantDel      string
		wantTruncate uint64
		wantAll      bool
	}{
		"no policy deletes nothing": {
			items: items(snap("bs", at(1), v1alpha1.BackupComplete), snap("bs", at(2), v1alpha1.BackupComplete)),
		},
		"maxBackups deletes the oldest finished beyond the count": {
			policy: gcPolicy{maxBackups: 2},
			items: items(snap("bs", at(1), v1alpha1.BackupComplete), snap("bs", at(2), v1alpha1.BackupFailed),
				snap("bs", at(3), v1alpha1.BackupComplete), snap("bs", at(4), v1alpha1.BackupComplete), snap("bs", at(5), "")),
			wantDel: "bs-2024-01-01t01-30-00,bs-2024-01-01t02-30-00",
		},
		"maxBackups with a log backup does not truncate (v1.6 truncates only by age)": {
			policy:  gcPolicy{maxBackups: 1},
			items:   items(snap("bs", at(1), v1alpha1.BackupComplete), snap("bs", at(2), v1alpha1.BackupComplete)),
			log:     log(""),
			wantDel: "bs-2024-01-01t01-30-00",
		},
		"all failed and beyond the count: every Backup goes and the last-backup fields reset": {
			policy:  gcPolicy{byAge: true, reserved: time.Hour},
			items:   items(snap("bs", at(1), v1alpha1.BackupFailed), snap("bs", at(2), v1alpha1.BackupFailed)),
			wantDel: "bs-2024-01-01t01-30-00,bs-2024-01-01t02-30-00", wantAll: true,
		},
		"by age without a log backup keeps only the newest complete among the expired": {
			policy:  gcPolicy{byAge: true, reserved: 10 * time.Hour},
			items:   items(snap("bs", at(1), v1alpha1.BackupComplete), snap("bs", at(2), v1alpha1.BackupComplete), snap("bs", at(95), v1alpha1.BackupComplete)),
			wantDel: "bs-2024-01-01t01-30-00,bs-2024-01-01t02-30-00",
		},
		"by age with a log backup keeps the base snapshot and truncates the log at it": {
			policy:       gcPolicy{byAge: true, reserved: 10 * time.Hour},
			items:        items(snap("bs", at(1), v1alpha1.BackupComplete), snap("bs", at(2), v1alpha1.BackupComplete), snap("bs", at(95), v1alpha1.BackupComplete)),
			log:          log(""),
			wantDel:      "bs-2024-01-01t01-30-00",
			wantTruncate: tso(at(2)),
		},
		"a truncation already asked for is not asked again": {
			policy: gcPolicy{byAge: true, reserved: 10 * time.Hour},
			items:  items(snap("bs", at(2), v1alpha1.BackupComplete), snap("bs", at(95), v1alpha1.BackupComplete)),
			log:    log(tsoStr(at(2))),
		},
		"a truncation at a kept snapshot whose patch was lost is applied without a deletion": {
			policy:       gcPolicy{byAge: true, reserved: 10 * time.Hour},
			items:        items(snap("bs", at(2), v1alpha1.BackupComplete), snap("bs", at(95), v1alpha1.BackupComplete)),
			log:          log(""),
			wantTruncate: tso(at(2)),
		},
		"a truncation point that moves with the clock waits for a deletion": {
			// Only snapshots inside the window are kept, so TruncateUntil answers now-reserved.
			policy: gcPolicy{byAge: true, reserved: 10 * time.Hour},
			items:  items(snap("bs", at(95), v1alpha1.BackupComplete), snap("bs", at(96), v1alpha1.BackupComplete)),
			log:    log(""),
		},
		"a log backup without a checkpoint is not truncated": {
			policy: gcPolicy{byAge: true, reserved: 10 * time.Hour},
			items:  items(snap("bs", at(1), v1alpha1.BackupComplete), snap("bs", at(2), v1alpha1.BackupComplete), snap("bs", at(95), v1alpha1.BackupComplete)),
			log: func() *v1alpha1.Backup {
				l := log("")
				l.Status.LogCheckpointTs = ""
				return l
			}(),
			wantDel: "bs-2024-01-01t01-30-00",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			plan := planGC(c.policy, c.items, c.log, now)
			if got := names(plan.del); got != c.wantDel {
				t.Errorf("deletes %q, want %q", got, c.wantDel)
			}
			if plan.truncate != c.wantTruncate {
				t.Errorf("truncate %d, want %d", plan.truncate, c.wantTruncate)
			}
			if plan.all != c.wantAll {
				t.Errorf("all %v, want %v", plan.all, c.wantAll)
			}
		})
	}
}

func TestItems(t *testing.T) {
	bs := newSchedule("bs")
	bs.Status.LogBackup = "log-bs"
	logBk := v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "log-bs"}, Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog}}
	otherLog := v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x"}, Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog}}
	deleting := snap("bs", t0.Add(time.Hour), "")
	deleting.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	invalid := snap("bs", t0.Add(2*time.Hour), v1alpha1.BackupInvalid)
	retrying := snap("bs", t0.Add(3*time.Hour), v1alpha1.BackupRetryTheFailed)
	running := snap("bs", t0.Add(4*time.Hour), v1alpha1.BackupRunning)
	done := snap("bs", t0.Add(5*time.Hour), v1alpha1.BackupComplete)

	items := snapshotItems(bs, []v1alpha1.Backup{logBk, otherLog, deleting, invalid, retrying, running, done})
	if got, want := names(items), invalid.Name+","+retrying.Name+","+running.Name+","+done.Name; got != want {
		t.Fatalf("items %s, want %s (log backups and Backups being deleted are left out)", got, want)
	}
	want := map[string][2]bool{ // finished, failed
		invalid.Name: {true, true}, retrying.Name: {false, false}, running.Name: {false, false}, done.Name: {true, false},
	}
	for _, it := range items {
		if w := want[it.Name]; it.Finished != w[0] || it.Failed != w[1] {
			t.Errorf("%s: finished %v failed %v, want %v", it.Name, it.Finished, it.Failed, w)
		}
	}
	if items[3].CommitTs != tso(done.CreationTimestamp.Time) {
		t.Errorf("commitTs %d not read", items[3].CommitTs)
	}

	// Blocking: the union of the schedule's and the group's, each once.
	other := snap("other", t0.Add(time.Hour), "")
	blocking := blockingItems(bs, []v1alpha1.Backup{done, logBk}, []v1alpha1.Backup{done, other, otherLog})
	if got := names(blocking); got != done.Name+","+other.Name {
		t.Fatalf("blocking %s", got)
	}
	if name, ok := schedule.Blocked(blocking); !ok || name != other.Name {
		t.Fatalf("Blocked = %s, %v; want the other schedule's running Backup", name, ok)
	}
}

func TestLastTime(t *testing.T) {
	bs := newSchedule("bs")
	if got := lastTime(bs); !got.Equal(t0) {
		t.Errorf("a new schedule counts from its creation, got %v", got)
	}
	clean := t0.Add(5 * time.Hour)
	bs.Status.AllBackupCleanTime = &metav1.Time{Time: clean}
	if got := lastTime(bs); !got.Equal(clean) {
		t.Errorf("after the GC emptied it, from allBackupCleanTime, got %v", got)
	}
	last := t0.Add(7 * time.Hour)
	bs.Status.LastBackupTime = &metav1.Time{Time: last}
	if got := lastTime(bs); !got.Equal(last) {
		t.Errorf("from lastBackupTime, got %v", got)
	}
}

func TestBuildBackup(t *testing.T) {
	tick := time.Date(2024, 1, 1, 2, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		edit  func(bs *v1alpha1.BackupSchedule)
		check func(t *testing.T, bk *v1alpha1.Backup)
	}{
		"BR: the prefix gets <cluster>-pd.<namespace>-2379-<time> (v1.6)": {
			edit: func(*v1alpha1.BackupSchedule) {},
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				if got, want := bk.Spec.S3.Prefix, "snap/basic-pd.ns-2379-2024-01-01t02-00-00"; got != want {
					t.Errorf("prefix %q, want %q", got, want)
				}
				if bk.Spec.StorageSize != "" {
					t.Errorf("a BR Backup has no scratch volume, got size %q", bk.Spec.StorageSize)
				}
			},
		},
		"BR in another namespace": {
			edit: func(bs *v1alpha1.BackupSchedule) { bs.Spec.BackupTemplate.BR.ClusterNamespace = "db" },
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				if !strings.HasSuffix(bk.Spec.S3.Prefix, "basic-pd.db-2379-2024-01-01t02-00-00") {
					t.Errorf("prefix %q", bk.Spec.S3.Prefix)
				}
			},
		},
		"Dumpling: the prefix stays, the scratch volume defaults to 100Gi": {
			edit: func(bs *v1alpha1.BackupSchedule) { bs.Spec.BackupTemplate.BR = nil },
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				if bk.Spec.S3.Prefix != "snap" || bk.Spec.StorageSize != DefaultStorageSize || bk.Spec.StorageClassName != nil {
					t.Errorf("prefix %q size %q class %v", bk.Spec.S3.Prefix, bk.Spec.StorageSize, bk.Spec.StorageClassName)
				}
			},
		},
		"Dumpling: the schedule's volume settings fill what the template leaves empty": {
			edit: func(bs *v1alpha1.BackupSchedule) {
				bs.Spec.BackupTemplate.BR = nil
				bs.Spec.StorageClassName, bs.Spec.StorageSize = ptr.To("fast"), "10Gi"
			},
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				if bk.Spec.StorageSize != "10Gi" || ptr.Deref(bk.Spec.StorageClassName, "") != "fast" {
					t.Errorf("size %q class %v", bk.Spec.StorageSize, bk.Spec.StorageClassName)
				}
			},
		},
		"Dumpling: the template's volume settings win": {
			edit: func(bs *v1alpha1.BackupSchedule) {
				bs.Spec.BackupTemplate.BR = nil
				bs.Spec.BackupTemplate.StorageSize, bs.Spec.BackupTemplate.StorageClassName = "1Gi", ptr.To("slow")
				bs.Spec.StorageClassName, bs.Spec.StorageSize = ptr.To("fast"), "10Gi"
			},
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				if bk.Spec.StorageSize != "1Gi" || ptr.Deref(bk.Spec.StorageClassName, "") != "slow" {
					t.Errorf("size %q class %v", bk.Spec.StorageSize, bk.Spec.StorageClassName)
				}
			},
		},
		"a template without storage uses the schedule's, and never the schedule's br": {
			edit: func(bs *v1alpha1.BackupSchedule) {
				bs.Spec.BackupTemplate.S3 = nil
				bs.Spec.BackupTemplate.BR = nil
				bs.Spec.BR = &v1alpha1.BRConfig{Cluster: "basic"}
				bs.Spec.Gcs = &v1alpha1.GcsStorageProvider{Bucket: "g", Prefix: "p"}
			},
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				if bk.Spec.Gcs == nil || bk.Spec.Gcs.Prefix != "p" || bk.Spec.BR != nil {
					t.Errorf("storage %+v br %+v", bk.Spec.StorageProvider, bk.Spec.BR)
				}
			},
		},
		"labels, annotations, owner and image pull secrets": {
			edit: func(bs *v1alpha1.BackupSchedule) {
				bs.Labels = map[string]string{label.BackupScheduleGroupLabelKey: "g", label.InstanceLabelKey: "release",
					label.BackupScheduleLabelKey: "wrong"}
				bs.Annotations = map[string]string{"a": "b", corev1.LastAppliedConfigAnnotation: "{}"}
				bs.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull"}}
			},
			check: func(t *testing.T, bk *v1alpha1.Backup) {
				want := map[string]string{
					label.NameLabelKey: label.BackupScheduleName, label.ManagedByLabelKey: label.BackupScheduleOperator,
					label.InstanceLabelKey: "release", label.BackupScheduleLabelKey: "bs", label.BackupScheduleGroupLabelKey: "g",
				}
				for k, v := range want {
					if bk.Labels[k] != v {
						t.Errorf("label %s=%q, want %q", k, bk.Labels[k], v)
					}
				}
				if len(bk.Annotations) != 1 || bk.Annotations["a"] != "b" {
					t.Errorf("annotations %v", bk.Annotations)
				}
				ref := metav1.GetControllerOf(bk)
				if ref == nil || ref.UID != "uid-bs" || ref.Kind != "BackupSchedule" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
					t.Errorf("owner %+v", ref)
				}
				if len(bk.Spec.ImagePullSecrets) != 1 || bk.Spec.ImagePullSecrets[0].Name != "pull" {
					t.Errorf("pull secrets %v", bk.Spec.ImagePullSecrets)
				}
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bs := newSchedule("bs")
			c.edit(bs)
			before := bs.DeepCopy()
			bk := buildBackup(bs, tick)
			if bk.Name != "bs-2024-01-01t02-00-00" || bk.Namespace != "ns" {
				t.Errorf("name %s/%s", bk.Namespace, bk.Name)
			}
			c.check(t, bk)
			if bs.Spec.BackupTemplate.S3 != nil && bs.Spec.BackupTemplate.S3.Prefix != before.Spec.BackupTemplate.S3.Prefix {
				t.Error("building a Backup changed the schedule's template")
			}
		})
	}
}

func TestBuildLogAndCompactBackup(t *testing.T) {
	bs := newSchedule("bs")
	bs.Spec.BR = &v1alpha1.BRConfig{Cluster: "basic"}
	bs.Spec.LogBackupTemplate = &v1alpha1.BackupSpec{StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "pitr"}}}
	start := time.Date(2024, 1, 1, 0, 30, 5, 0, time.UTC)
	logBk := buildLogBackup(bs, start)
	if logBk.Name != "log-bs" || logBk.Spec.Mode != v1alpha1.BackupModeLog || logBk.Spec.S3.Prefix != "pitr/log-2024-01-01t00-30-05" {
		t.Fatalf("log backup %s mode %q prefix %q", logBk.Name, logBk.Spec.Mode, logBk.Spec.S3.Prefix)
	}
	if logBk.Spec.BR == nil || logBk.Spec.BR.Cluster != "basic" {
		t.Error("the log backup takes the schedule's br when its template has none")
	}
	if got := logStartOf(logBk); !got.Equal(start) {
		t.Errorf("start recovered from the prefix %v, want %v", got, start)
	}

	bs.Status.LogBackupStartTs = &metav1.Time{Time: start}
	bs.Spec.CompactBackupTemplate = &v1alpha1.CompactSpec{StorageProvider: v1alpha1.StorageProvider{S3: &v1alpha1.S3StorageProvider{Bucket: "b", Prefix: "pitr"}}}
	now := t0.Add(2 * time.Hour)
	from, until := tso(t0), tso(now)
	cb := buildCompactBackup(bs, logBk.Spec.StorageProvider, from, until, now)
	if cb.Name != "compact-bs-2024-01-01t02-30-00" || cb.Spec.S3.Prefix != "pitr/log-2024-01-01t00-30-05" {
		t.Errorf("compact %s prefix %q", cb.Name, cb.Spec.S3.Prefix)
	}
	if cb.Spec.StartTs != strconv.FormatUint(from, 10) || cb.Spec.EndTs != strconv.FormatUint(until, 10) {
		t.Errorf("window %s..%s", cb.Spec.StartTs, cb.Spec.EndTs)
	}
	if cb.Spec.BR == nil || cb.Labels[label.BackupScheduleLabelKey] != "bs" || metav1.GetControllerOf(cb) == nil {
		t.Errorf("br %v labels %v owner %v", cb.Spec.BR, cb.Labels, cb.OwnerReferences)
	}

	// Without storage in the template or the schedule, the log backup's own location.
	bs.Spec.CompactBackupTemplate.S3 = nil
	cb = buildCompactBackup(bs, logBk.Spec.StorageProvider, from, until, now)
	if cb.Spec.S3 == nil || cb.Spec.S3.Prefix != "pitr/log-2024-01-01t00-30-05" {
		t.Errorf("compact storage %+v", cb.Spec.StorageProvider)
	}
}

func TestCompactHelpers(t *testing.T) {
	end := time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)
	cb := &v1alpha1.CompactBackup{Spec: v1alpha1.CompactSpec{EndTs: tsoStr(end)}, Status: v1alpha1.CompactStatus{State: v1alpha1.CompactStateRunning}}
	if _, ok := compactEnd(cb); ok {
		t.Error("a running compaction has no progress yet")
	}
	cb.Status.State = v1alpha1.CompactStateComplete
	if got, ok := compactEnd(cb); !ok || !got.Equal(end) {
		t.Errorf("end %v %v", got, ok)
	}
	cb.Status.State = v1alpha1.CompactStateFailed
	if _, ok := compactEnd(cb); ok {
		t.Error("a failed compaction moves no progress: its window is tried again")
	}

	logBk := &v1alpha1.Backup{Spec: v1alpha1.BackupSpec{Mode: v1alpha1.BackupModeLog}}
	if logRunning(logBk) || logRunning(nil) {
		t.Error("a log backup that has not started cannot be compacted")
	}
	logBk.Status.CommitTs, logBk.Status.Phase = tsoStr(t0), v1alpha1.BackupRunning
	if !logRunning(logBk) {
		t.Error("a started log backup can be compacted")
	}
	logBk.Status.LogSuccessTruncateUntil = tsoStr(end)
	if compactStart(logBk) != tso(end) {
		t.Error("compaction starts after what was truncated")
	}
	logBk.Status.Phase = v1alpha1.BackupStopped
	if logRunning(logBk) {
		t.Error("a stopped log backup is not compacted")
	}
}

func TestEdits(t *testing.T) {
	now := t0.Add(time.Hour)
	st := &v1alpha1.BackupScheduleStatus{}

	if !setValid(false, "bad", 1, now)(st) || setValid(false, "bad", 1, now.Add(time.Minute))(st) {
		t.Fatal("setValid must change once and then be a no-op")
	}
	c := meta.FindStatusCondition(st.Conditions, ConditionScheduleValid)
	if c.Reason != ReasonInvalidSchedule || !c.LastTransitionTime.Time.Equal(now) || c.ObservedGeneration != 1 {
		t.Fatalf("condition %+v", c)
	}
	if !setValid(false, "worse", 2, now.Add(time.Minute))(st) {
		t.Fatal("a new message is a change")
	}
	if c := meta.FindStatusCondition(st.Conditions, ConditionScheduleValid); !c.LastTransitionTime.Time.Equal(now) {
		t.Error("the transition time moves only when the status flips")
	}
	if !setValid(true, validMessage, 2, now.Add(time.Hour))(st) {
		t.Fatal("valid again is a change")
	}
	if c := meta.FindStatusCondition(st.Conditions, ConditionScheduleValid); !c.LastTransitionTime.Time.Equal(now.Add(time.Hour)) || c.Reason != ReasonValid {
		t.Errorf("condition %+v", c)
	}

	st.AllBackupCleanTime = &metav1.Time{Time: t0}
	tick := t0.Add(90 * time.Minute)
	if !setLastBackup("bs-b", tick)(st) || setLastBackup("bs-b", tick)(st) {
		t.Fatal("setLastBackup must change once")
	}
	if st.AllBackupCleanTime != nil {
		t.Error("a new Backup clears allBackupCleanTime")
	}
	if setLastBackup("bs-a", tick.Add(-time.Hour))(st) || st.LastBackup != "bs-b" {
		t.Error("lastBackupTime never moves backwards")
	}
	if resetLastBackup("bs-other", now)(st) {
		t.Error("a reset for a Backup no longer the last does nothing")
	}
	if !resetLastBackup("bs-b", now)(st) || st.LastBackupTime != nil || st.LastBackup != "" || !timeEq(st.AllBackupCleanTime, now) {
		t.Fatalf("reset %+v", st)
	}
	if resetLastBackup("", now.Add(time.Hour))(st) {
		t.Error("a second reset must not move allBackupCleanTime")
	}

	if !setLogBackup("log-bs", t0)(st) || setLogBackup("log-bs", now)(st) || !timeEq(st.LogBackupStartTs, t0) {
		t.Error("the log backup is recorded once")
	}
	if !setCompactProgress(now)(st) || setCompactProgress(t0)(st) || !timeEq(st.LastCompactProgress, now) {
		t.Error("compaction progress only moves forward")
	}
	if !setLastCompact("c", now)(st) || setLastCompact("c", now)(st) {
		t.Error("setLastCompact must change once")
	}
}

func TestBackupPredicate(t *testing.T) {
	old := snap("bs", t0, v1alpha1.BackupRunning)
	progress := old.DeepCopy()
	progress.Status.Progresses = []v1alpha1.Progress{{Step: "backup", Progress: 50}}
	progress.Status.BackupSize = 10
	complete := old.DeepCopy()
	complete.Status.Phase, complete.Status.Conditions = v1alpha1.BackupComplete, cond(v1alpha1.BackupComplete)
	checkpoint := old.DeepCopy()
	checkpoint.Status.LogCheckpointTs = "42"
	p := backupPredicate()
	if p.Update(updateEvent(&old, progress)) {
		t.Error("a progress report does not reconcile the schedule")
	}
	if !p.Update(updateEvent(&old, complete)) || !p.Update(updateEvent(&old, checkpoint)) {
		t.Error("a finished Backup and a moved checkpoint reconcile the schedule")
	}
}
