package brdouble

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// The environment variables that steer the double. The binary reads them; tests set them.
const (
	// EnvFail makes the run fail after its first progress step: BR-style [ERROR] lines on
	// stdout carrying the value as the error, "Error: <value>" on stderr, exit code 1.
	EnvFail = "BRDOUBLE_FAIL"
	// EnvHang (any non-empty value) makes the run hang after its first progress step until
	// SIGTERM or SIGINT, which it handles as BR does (log, "context canceled", exit 1).
	EnvHang = "BRDOUBLE_HANG"
	// EnvHangMax bounds a hang (a Go duration, default DefaultHangMax): after it the run
	// fails as if interrupted, so a leaked double never outlives the test run.
	EnvHangMax = "BRDOUBLE_HANG_MAX"
	// EnvDie (any non-empty value) makes the run SIGKILL itself after its first progress step,
	// leaving whatever it had written, as a node failure or an OOM kill would.
	EnvDie = "BRDOUBLE_DIE"
	// EnvStepDelay is the pause between progress lines (a Go duration, default
	// DefaultStepDelay). "0" makes runs as fast as possible.
	EnvStepDelay = "BRDOUBLE_STEP_DELAY"
	// EnvOnly limits EnvFail, EnvHang and EnvDie to runs whose command path starts with one
	// of these comma-separated prefixes, e.g. "br log truncate" or "tikv-ctl". Without it the
	// controls apply to every run, which would also fail a compact's `br operator base64ify`.
	EnvOnly = "BRDOUBLE_ONLY"
	// EnvRecord is a file to which each run appends one JSON Record line.
	EnvRecord = "BRDOUBLE_RECORD"
	// EnvEtcd (any value but "", "0" or "false") makes `br log start|stop|pause|resume` also
	// keep the task in PD's etcd at --pd, as real BR does, so that the operator's checkpoint
	// tracker and the simulator's TiKV advancer see it. The etcd is reached with etcd's gRPC
	// client, so HTTPS_PROXY pointing at the TiDB simulator takes a simulated --pd there.
	// Without it the double needs no PD at all, which the backup-manager tests rely on.
	EnvEtcd = "BRDOUBLE_ETCD"
)

// EtcdEnabled reports whether a value of EnvEtcd turns the etcd mode on.
func EtcdEnabled(value string) bool {
	switch value {
	case "", "0", "false":
		return false
	}
	return true
}

// Defaults of the controls.
const (
	DefaultStepDelay = 300 * time.Millisecond
	DefaultHangMax   = 10 * time.Minute
)

// Record is what one run of the double saw, appended by the run as a JSON line to the file
// named by EnvRecord before it does anything else (so a run that is killed is recorded too).
type Record struct {
	Time time.Time `json:"time"`
	PID  int       `json:"pid"`
	// Tool is "br" or "tikv-ctl": the name the double was run as.
	Tool string `json:"tool"`
	// Args are the arguments after the binary, with secrets replaced by "REDACTED" (SAS
	// tokens and keys in storage URLs and flags, credentials inside --storage-base64).
	Args []string `json:"args"`
	// CredentialEnv names the credential variables that were set (AWS_ACCESS_KEY_ID,
	// GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_KEY, ...), never their values.
	CredentialEnv []string `json:"credentialEnv"`
	// Env names the other backup-related variables that were set (BR_LOG_TO_TERM,
	// AWS_REGION, STORAGE_EMULATOR_HOST, ...).
	Env []string `json:"env"`
}

// CredentialEnvNames are the credential variables BR, tikv-ctl and the project's storage
// code read, as v1.6's Jobs set them. A Record lists the ones present.
var CredentialEnvNames = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"GOOGLE_APPLICATION_CREDENTIALS", "GCS_SERVICE_ACCOUNT_JSON_KEY",
	"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
	"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
}

// OtherEnvNames are the non-secret variables a Record lists when present.
var OtherEnvNames = []string{
	"BR_LOG_TO_TERM", "AWS_REGION", "AWS_DEFAULT_REGION", "S3_PROVIDER", "S3_ENDPOINT",
	"AWS_ACL", "AWS_STORAGE_CLASS", "GCS_PROJECT_ID", "GCS_OBJECT_ACL", "GCS_BUCKET_ACL",
	"GCS_LOCATION", "GCS_STORAGE_CLASS", "STORAGE_EMULATOR_HOST", "AZURE_ACCESS_TIER",
}

// ReadRecords reads every Record appended to path. A missing file is no records.
func ReadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open brdouble records: %w", err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("decode brdouble record %q: %w", sc.Text(), err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read brdouble records: %w", err)
	}
	return out, nil
}

// TSO is the TiDB timestamp of t: physical milliseconds shifted left by 18 bits (the
// logical part is zero), as BR, PD and the backupmeta's versions use.
func TSO(t time.Time) uint64 { return uint64(t.UnixMilli()) << 18 }

// TSOTime is the wall time of a TSO.
func TSOTime(ts uint64) time.Time { return time.UnixMilli(int64(ts >> 18)) }
