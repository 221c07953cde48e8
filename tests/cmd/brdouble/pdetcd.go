package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The keys real BR and TiKV use for a log backup task in PD's etcd. They are spelled out here
// rather than shared with the operator's reader, so that a wrong key on either side shows up as
// a failing test instead of agreeing with itself.
const (
	pdTaskInfoPrefix   = "/tidb/br-stream/info/"
	pdTaskPausePrefix  = "/tidb/br-stream/pause/"
	pdCheckpointPrefix = "/tidb/br-stream/checkpoint/"
	// pdEtcdTimeout bounds each etcd operation, so an unreachable PD fails the run instead of
	// hanging the Job.
	pdEtcdTimeout = 30 * time.Second
)

// BR's errors for a task that should not, or should, exist.
const (
	errTaskExists   = "[BR:Stream:ErrStreamLogTaskExist]stream task already exists"
	errTaskNotFound = "[BR:Stream:ErrStreamLogTaskNotFound]stream task not found"
)

// pdEtcd is PD's embedded etcd as BR reaches it, in the BRDOUBLE_ETCD mode.
type pdEtcd struct {
	cli       *clientv3.Client
	endpoints []string
}

// pdTaskInfo is what the double registers for a task: a readable stand-in for BR's protobuf
// StreamBackupTaskInfo with the fields a test may want to check.
type pdTaskInfo struct {
	Name        string   `json:"name"`
	StartTS     uint64   `json:"start_ts"`
	EndTS       uint64   `json:"end_ts"`
	Storage     string   `json:"storage"`
	TableFilter []string `json:"table_filter"`
}

// openPDEtcd connects to the etcd of the PD named by --pd, or returns nil when the etcd mode
// is off. The client does not dial until the first operation.
func (c *brCLI) openPDEtcd(cmd *cobra.Command) (*pdEtcd, error) {
	if !c.p.ctl.etcd {
		return nil, nil
	}
	f := cmd.Flags()
	endpoints, _ := f.GetStringSlice("pd")
	if len(endpoints) == 0 {
		return nil, brError(errInvalidArgument, "--pd is required to reach PD's etcd")
	}
	cfg := clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second, Logger: zap.NewNop()}
	ca, _ := f.GetString("ca")
	cert, _ := f.GetString("cert")
	key, _ := f.GetString("key")
	if ca != "" {
		tc, err := clientTLS(ca, cert, key)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PD etcd at %s: %w", strings.Join(endpoints, ","), err)
	}
	return &pdEtcd{cli: cli, endpoints: endpoints}, nil
}

func clientTLS(ca, cert, key string) (*tls.Config, error) {
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("read the CA for PD: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in the CA file %s", ca)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("load the client certificate for PD: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

func (e *pdEtcd) close() { _ = e.cli.Close() }

func (e *pdEtcd) where() string { return strings.Join(e.endpoints, ",") }

// task reports whether the task is registered and its checkpoint (0 if none).
func (e *pdEtcd) task(ctx context.Context, name string) (exists bool, checkpoint uint64, err error) {
	ctx, cancel := context.WithTimeout(ctx, pdEtcdTimeout)
	defer cancel()
	resp, err := e.cli.Txn(ctx).Then(
		clientv3.OpGet(pdTaskInfoPrefix+name, clientv3.WithKeysOnly()),
		clientv3.OpGet(pdCheckpointPrefix+name),
	).Commit()
	if err != nil {
		return false, 0, fmt.Errorf("read log backup task %s from PD etcd at %s: %w", name, e.where(), err)
	}
	exists = len(resp.Responses[0].GetResponseRange().Kvs) > 0
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 && len(kvs[0].Value) == 8 {
		checkpoint = binary.BigEndian.Uint64(kvs[0].Value)
	}
	return exists, checkpoint, nil
}

// register is BR's task registration: the info key and the first checkpoint together, only if
// no task of that name exists.
func (e *pdEtcd) register(ctx context.Context, info pdTaskInfo) error {
	ctx, cancel := context.WithTimeout(ctx, pdEtcdTimeout)
	defer cancel()
	value, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode log backup task %s: %w", info.Name, err)
	}
	infoKey := pdTaskInfoPrefix + info.Name
	resp, err := e.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(infoKey), "=", 0)).
		Then(
			clientv3.OpPut(infoKey, string(value)),
			clientv3.OpPut(pdCheckpointPrefix+info.Name, string(binary.BigEndian.AppendUint64(nil, info.StartTS))),
			// A pause left by an earlier task of the same name must not stop the new one.
			clientv3.OpDelete(pdTaskPausePrefix+info.Name),
		).Commit()
	if err != nil {
		return fmt.Errorf("register log backup task %s in PD etcd at %s: %w", info.Name, e.where(), err)
	}
	if !resp.Succeeded {
		return brError(errTaskExists, "failed to start log backup task %s: it is registered in PD", info.Name)
	}
	return nil
}

// change applies a pause, resume or stop to a registered task.
func (e *pdEtcd) change(ctx context.Context, op, name string) error {
	ctx, cancel := context.WithTimeout(ctx, pdEtcdTimeout)
	defer cancel()
	infoKey, pauseKey, ckKey := pdTaskInfoPrefix+name, pdTaskPausePrefix+name, pdCheckpointPrefix+name
	var ops []clientv3.Op
	switch op {
	case "pause":
		host, _ := os.Hostname()
		value, _ := json.Marshal(map[string]any{
			"severity": "MANUAL", "operation_hostname": host, "operation_pid": os.Getpid(),
			"operation_time": time.Now().UTC().Format(time.RFC3339Nano),
		})
		ops = []clientv3.Op{clientv3.OpPut(pauseKey, string(value))}
	case "resume":
		ops = []clientv3.Op{clientv3.OpDelete(pauseKey)}
	case "stop":
		ops = []clientv3.Op{
			clientv3.OpDelete(infoKey), clientv3.OpDelete(pauseKey), clientv3.OpDelete(ckKey),
			// TiKV also keeps per-store checkpoints below the task's own key.
			clientv3.OpDelete(ckKey+"/", clientv3.WithPrefix()),
		}
	default:
		return fmt.Errorf("unknown log backup state change %q", op)
	}
	resp, err := e.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(infoKey), ">", 0)).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("%s log backup task %s in PD etcd at %s: %w", op, name, e.where(), err)
	}
	if !resp.Succeeded {
		return brError(errTaskNotFound, "failed to %s log backup task: can not find task %s in PD", op, name)
	}
	return nil
}
