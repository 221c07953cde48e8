package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The keys of PD's etcd that log backup uses, as BR and TiKV write them. BR registers a task
// under the info prefix and pauses it under the pause prefix; TiKV's advancer keeps the task's
// global checkpoint, an 8-byte big-endian TSO, under the checkpoint prefix.
const (
	LogBackupInfoPrefix       = "/tidb/br-stream/info/"
	LogBackupPausePrefix      = "/tidb/br-stream/pause/"
	LogBackupCheckpointPrefix = "/tidb/br-stream/checkpoint/"
)

// DefaultLogBackupAdvanceInterval is how often the simulated TiKV moves log backup checkpoints
// when Options.LogBackupAdvanceInterval is 0. Real TiKV flushes every few minutes; a second
// keeps tests short while leaving the checkpoint visibly behind the clock.
const DefaultLogBackupAdvanceInterval = time.Second

// AdvanceLogBackups moves the checkpoint of every running (registered, not paused) log backup
// task to the model's clock in every etcd that has started, as one tick of the simulated TiKV
// does. Tests that disable the periodic advance (a negative LogBackupAdvanceInterval) call it
// to decide exactly when checkpoints move.
func (s *Server) AdvanceLogBackups(ctx context.Context) error {
	var errs []error
	for _, m := range s.etcd.running() {
		if err := advanceLogBackups(ctx, m.cli, s.model.Now()); err != nil {
			errs = append(errs, fmt.Errorf("advance the log backups of %s: %w", m.key, err))
		}
	}
	return errors.Join(errs...)
}

func (e *etcdSet) runAdvancer(m *etcdMember) {
	defer e.wg.Done()
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
			err := advanceLogBackups(ctx, m.cli, e.now())
			cancel()
			if err != nil && e.ctx.Err() == nil {
				e.log.Error(err, "advance log backups", "cluster", m.key.String())
			}
		}
	}
}

// advanceLogBackups sets each running task's checkpoint to now, never backwards. Each write is
// a transaction conditioned on the task still being registered, not paused, and its checkpoint
// unchanged since it was read, so that a concurrent `br log stop` or `pause` is never undone
// by a tick that read the task just before.
func advanceLogBackups(ctx context.Context, cli *clientv3.Client, now time.Time) error {
	infos, err := cli.Get(ctx, LogBackupInfoPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return fmt.Errorf("list log backup tasks: %w", err)
	}
	target := binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli())<<18)
	var errs []error
	for _, kv := range infos.Kvs {
		task := strings.TrimPrefix(string(kv.Key), LogBackupInfoPrefix)
		if task == "" || strings.Contains(task, "/") {
			continue // not a task's own key
		}
		if err := advanceTask(ctx, cli, task, kv.CreateRevision, target); err != nil {
			errs = append(errs, fmt.Errorf("task %s: %w", task, err))
		}
	}
	return errors.Join(errs...)
}

func advanceTask(ctx context.Context, cli *clientv3.Client, task string, infoRev int64, target []byte) error {
	infoKey, pauseKey, ckKey := LogBackupInfoPrefix+task, LogBackupPausePrefix+task, LogBackupCheckpointPrefix+task
	cur, err := cli.Get(ctx, ckKey)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	cmps := []clientv3.Cmp{
		clientv3.Compare(clientv3.CreateRevision(infoKey), "=", infoRev),
		clientv3.Compare(clientv3.CreateRevision(pauseKey), "=", 0),
	}
	if len(cur.Kvs) == 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(ckKey), "=", 0))
	} else {
		v := cur.Kvs[0].Value
		// Big-endian values of equal length compare as their numbers do. A value of another
		// length is not a TSO; it is replaced rather than left to confuse a reader.
		if len(v) == len(target) && string(v) >= string(target) {
			return nil
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(ckKey), "=", cur.Kvs[0].ModRevision))
	}
	if _, err := cli.Txn(ctx).If(cmps...).Then(clientv3.OpPut(ckKey, string(target))).Commit(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}
