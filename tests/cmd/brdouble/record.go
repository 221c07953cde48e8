package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tidbops/tidb-operator/tests/brdouble"
)

const redacted = "REDACTED"

// record appends this run's Record to BRDOUBLE_RECORD. A failure to record is reported on
// stderr but does not stop the run: the test will notice the missing line.
func (p *proc) record() {
	if p.ctl.record == "" {
		return
	}
	r := brdouble.Record{
		Time:          time.Now(),
		PID:           os.Getpid(),
		Tool:          p.tool,
		Args:          redactArgs(p.args, p.tool == "tikv-ctl"),
		CredentialEnv: present(p.lookup, brdouble.CredentialEnvNames),
		Env:           present(p.lookup, brdouble.OtherEnvNames),
	}
	line, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(p.stderr, "brdouble: encode record:", err)
		return
	}
	// One write of a whole line to an O_APPEND file keeps concurrent runs' lines apart.
	f, err := os.OpenFile(p.ctl.record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(p.stderr, "brdouble: open record file:", err)
		return
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		fmt.Fprintln(p.stderr, "brdouble: write record:", err)
	}
}

func present(lookup func(string) (string, bool), names []string) []string {
	out := []string{}
	for _, n := range names {
		if _, ok := lookup(n); ok {
			out = append(out, n)
		}
	}
	return out
}

// secretFlags are the flags whose values are secrets whatever they look like.
var secretFlags = map[string]bool{
	"--azblob.account-key": true, "--azblob.sas-token": true, "--azblob.encryption-key": true,
	"--crypter.key": true, "--master-key": true,
}

// secretQuery are the storage URL query parameters BR reads credentials from.
var secretQuery = map[string]bool{
	"sas-token": true, "access-key": true, "secret-access-key": true, "session-token": true,
	"account-key": true, "encryption-key": true,
}

// redactArgs hides every secret the arguments carry: secret flags' values, credentials in
// storage URLs' queries, and (for tikv-ctl, whose -s is --storage-base64) credentials inside a
// base64 StorageBackend.
func redactArgs(args []string, tikvCtl bool) []string {
	out := make([]string, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case secretFlags[name] && hasValue:
			out[i] = name + "=" + redacted
		case secretFlags[a] && i+1 < len(args):
			out[i], out[i+1] = a, redacted
			i++
		case tikvCtl && (a == "--storage-base64" || a == "-s") && i+1 < len(args) && looksBase64(args[i+1]):
			out[i], out[i+1] = a, redactBackend(args[i+1])
			i++
		case tikvCtl && name == "--storage-base64" && hasValue:
			out[i] = name + "=" + redactBackend(value)
		default:
			out[i] = redactURLs(a)
		}
	}
	return out
}

// redactURLs redacts credential query parameters of any URL inside arg ("--storage=azure://...").
func redactURLs(arg string) string {
	prefix, rawURL := "", arg
	if name, value, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(name, "-") {
		prefix, rawURL = name+"=", value
	}
	if !strings.Contains(rawURL, "://") || !strings.Contains(rawURL, "?") {
		return arg
	}
	return prefix + redactURL(rawURL)
}

func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Unparseable: hide the whole query rather than risk printing a token.
		base, _, _ := strings.Cut(rawURL, "?")
		return base + "?" + redacted
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretQuery[normalizeKey(k)] {
			q.Set(k, redacted)
			changed = true
		}
	}
	if !changed {
		return rawURL
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func looksBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(s) > 0
}

// redactBackend re-encodes a base64 StorageBackend with its credentials replaced, so the
// record still shows where the storage is.
func redactBackend(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return b64
	}
	be, err := decodeBackend(raw)
	if err != nil {
		return redacted
	}
	if !be.hasSecrets() {
		return b64
	}
	be.redactSecrets()
	return base64.StdEncoding.EncodeToString(be.encode())
}
