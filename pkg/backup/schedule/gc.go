package schedule

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/tidbops/tidb-operator/pkg/apis/pingcap/v1alpha1"
)

const fieldMaxReservedTime = "spec.maxReservedTime"

// Item is one Backup of a schedule as the garbage collection sees it.
type Item struct {
	Name    string
	Created time.Time
	// CommitTs is the TSO in status.commitTs, 0 when unknown.
	CommitTs uint64
	// Finished: the Backup will not run again, it is Complete or Failed. The caller counts an
	// Invalid Backup as Failed, or it would block the schedule for good.
	Finished bool
	// Failed: the Backup failed; with Finished false it is still being retried.
	Failed bool
}

// Complete reports whether the Backup holds a restorable snapshot.
func (it Item) Complete() bool { return it.Finished && !it.Failed }

// oldestFirst orders by creation time, then name.
func oldestFirst(a, b Item) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// sorted returns a copy of items, oldest first.
func sorted(items []Item) []Item {
	s := slices.Clone(items)
	slices.SortStableFunc(s, oldestFirst)
	return s
}

// newestComplete returns the index of the newest Complete item of s (sorted oldest first), or -1.
func newestComplete(s []Item) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i].Complete() {
			return i
		}
	}
	return -1
}

// ByCount returns the Items to delete so that at most maxBackups finished Backups remain, oldest
// first. Unfinished Items are neither chosen nor counted: a Backup still running may yet fail,
// and counting it would delete a good Backup for it (v1.6 counted every Backup of the schedule,
// running or not). The newest Complete Item is never chosen, so with maxBackups 1 and a failed
// newest Backup two remain. maxBackups <= 0 sets no limit, as in v1.6.
func ByCount(items []Item, maxBackups int) []Item {
	if maxBackups <= 0 {
		return nil
	}
	s := sorted(items)
	keep := newestComplete(s)
	var del []Item
	finished := 0
	for i := len(s) - 1; i >= 0; i-- {
		if !s[i].Finished {
			continue
		}
		finished++
		if finished > maxBackups && i != keep {
			del = append(del, s[i])
		}
	}
	slices.Reverse(del)
	return del
}

// ParseReservedTime parses spec.maxReservedTime, a Go duration such as 72h. A negative duration
// is a *FieldError; 0 keeps only what ByAge never deletes.
func ParseReservedTime(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &FieldError{Field: fieldMaxReservedTime, Value: s, Err: err}
	}
	if d < 0 {
		return 0, &FieldError{Field: fieldMaxReservedTime, Value: s, Err: errors.New("must not be negative")}
	}
	return d, nil
}

// ByAge returns the finished Items created before now-reserved, oldest first. It never chooses
// the newest Complete Item, so that one restorable Backup remains even when Backups stopped
// succeeding for longer than reserved.
//
// With pitr (the schedule keeps a log backup) it also keeps the newest Complete Item created
// before now-reserved, as v1.6 did: a point-in-time restore to a time inside the reserved window
// needs a snapshot taken at or before that time to start from. TruncateUntil then truncates the
// log backup at that snapshot.
func ByAge(items []Item, reserved time.Duration, now time.Time, pitr bool) []Item {
	cutoff := now.Add(-reserved)
	s := sorted(items)
	keep := newestComplete(s)
	base := -1
	if pitr {
		for i, it := range s {
			if it.Created.Before(cutoff) && it.Complete() {
				base = i
			}
		}
	}
	var del []Item
	for i, it := range s {
		if it.Finished && it.Created.Before(cutoff) && i != keep && i != base {
			del = append(del, it)
		}
	}
	return del
}

// Without returns items less those named in drop, in their order: what remains after the
// garbage collection deleted drop.
func Without(items, drop []Item) []Item {
	gone := make(map[string]bool, len(drop))
	for _, it := range drop {
		gone[it.Name] = true
	}
	var rest []Item
	for _, it := range items {
		if !gone[it.Name] {
			rest = append(rest, it)
		}
	}
	return rest
}

// LogRange is what the schedule's log backup covers, from its status.
type LogRange struct {
	// Start is status.commitTs, where the log backup started.
	Start uint64
	// Truncated is status.logSuccessTruncateUntil, what was truncated already.
	Truncated uint64
	// Checkpoint is status.logCheckpointTs, how far the log backup got; 0 when unknown.
	Checkpoint uint64
}

// TruncateUntil returns the TSO the log backup may be truncated at after the garbage collection
// by age: the smallest CommitTs of the kept Complete Backups, so that each can still start a
// point-in-time restore, and never later than now-reserved, so that the reserved window stays
// covered. ok is false when there is nothing to truncate: no Complete Backup is kept, the point is
// not after the log's start or what was truncated already, or it is beyond the checkpoint.
// An uncertain input makes no truncation: a kept Complete Backup without a CommitTs, or an
// unknown checkpoint.
func TruncateUntil(kept []Item, reserved time.Duration, now time.Time, log LogRange) (uint64, bool) {
	var until uint64
	found := false
	for _, it := range kept {
		if !it.Complete() {
			continue
		}
		if it.CommitTs == 0 {
			return 0, false
		}
		if !found || it.CommitTs < until {
			until, found = it.CommitTs, true
		}
	}
	if !found {
		return 0, false
	}
	until = min(until, v1alpha1.TimeToTSO(now.Add(-reserved)))
	if until <= log.Start || until <= log.Truncated || log.Checkpoint == 0 || until > log.Checkpoint {
		return 0, false
	}
	return until, true
}

// Blocked reports whether a new Backup must wait because one of items is not finished, and names
// the oldest such. items are the schedule's own Backups, or those of every schedule of the group
// when the tidb.pingcap.com/backup-schedule-group label is set; the caller leaves log backups
// out, as they never finish. v1.6 looked only at the last Backup of each schedule
// (status.lastBackup); passing just those keeps that behaviour.
func Blocked(items []Item) (string, bool) {
	for _, it := range sorted(items) {
		if !it.Finished {
			return it.Name, true
		}
	}
	return "", false
}
