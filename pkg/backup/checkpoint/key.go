package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// KeyPrefix is where TiKV's log backup advancer keeps each task's global checkpoint in PD's
// etcd, one key per task name.
const KeyPrefix = "/tidb/br-stream/checkpoint/"

// ErrNoCheckpoint is returned (wrapped) when PD holds no checkpoint for the task: the task was
// never started, was stopped, or TiKV has not advanced it yet.
var ErrNoCheckpoint = errors.New("no log backup checkpoint in PD")

// Key is the etcd key of the checkpoint of the log backup task named task.
func Key(task string) string { return KeyPrefix + task }

// Decode reads a checkpoint value: a TSO as an 8-byte big-endian unsigned integer. Anything
// else is refused rather than guessed at, since a wrong checkpoint in status would mislead a
// point-in-time restore.
func Decode(value []byte) (uint64, error) {
	if len(value) != 8 {
		return 0, fmt.Errorf("checkpoint value is %d bytes, want an 8-byte big-endian TSO", len(value))
	}
	return binary.BigEndian.Uint64(value), nil
}

// Endpoint is the address of PD's etcd of TidbCluster tcName in tcNamespace, as v1.6 dials it:
// the PD client Service, "<tc>-pd.<ns>:2379". It is the PD base URL without its scheme, so it
// names PD exactly as the operator's PD HTTP client does.
func Endpoint(tcName, tcNamespace string) string {
	u := pdapi.ServiceURL(tcNamespace, tcName, "", false, false)
	return strings.TrimPrefix(u, pdapi.Scheme(false)+"://")
}
