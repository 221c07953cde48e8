package brrun

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidbops/tidb-operator/pkg/backup/brlog"
)

// sasToken is an Azure SAS token, as spec.azblob.sasToken holds it. Its signature is what
// grants access.
const (
	sasToken  = "sv=2022-11-02&ss=b&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=S3cr3tSig%2Bx%3D"
	signature = "S3cr3tSig"
)

func TestRunKeepsSecretsTheChildPrintsOutOfTheLogAndTheHandlers(t *testing.T) {
	// The child gets the token as an argument (so the logged command line holds it too) and
	// prints it the ways BR and its SDKs do: in the --storage URL, raw, and as a signed
	// request URL whose signature the manager never gave to the redactor.
	path := script(t, `
echo "[INFO] [main.go:1] [\"Welcome to BR\"] [storage=\"azure://c/p/?account-name=acct&sas-token=$2\"]"
echo "token $1"
echo "[ERROR] [backup.go:1] [\"backup failed\"] [error=\"GET https://acct.blob.core.windows.net/c/p?sv=1&sig=Other%2BSig&sp=r: 403\"]" >&2
echo "Error: run tikv-ctl --storage-base64 CgIIAQ== failed" >&2
`)
	args := []string{sasToken, url.QueryEscape(sasToken)}
	var out, errs lines
	var log bytes.Buffer
	c := Command{Path: path, Args: args, Redact: brlog.SecretRedactor(sasToken)}
	if err := Run(context.Background(), c, Handlers{Stdout: out.add, Stderr: errs.add}, &log, time.Second); err != nil {
		t.Fatal(err)
	}

	handled := strings.Join(out, "\n") + "\n" + strings.Join(errs, "\n")
	for where, text := range map[string]string{"the log": log.String(), "the handlers": handled} {
		for _, secret := range []string{signature, "Other%2BSig", "CgIIAQ==", url.QueryEscape(sasToken)} {
			if strings.Contains(text, secret) {
				t.Errorf("%s has %q:\n%s", where, secret, text)
			}
		}
		for _, want := range []string{"sas-token=REDACTED", "token REDACTED", "sig=REDACTED&sp=r: 403", "--storage-base64 REDACTED failed"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", where, want, text)
			}
		}
	}
	if want := "brrun: running " + path + " REDACTED REDACTED\n"; !strings.Contains(log.String(), want) {
		t.Errorf("log lacks the redacted command line %q:\n%s", want, log.String())
	}
	if len(out) != 2 || len(errs) != 2 {
		t.Errorf("handlers got %d stdout and %d stderr lines, want 2 and 2", len(out), len(errs))
	}
}

func TestRunCallsTheRedactorOneLineAtATime(t *testing.T) {
	// The redactor counts without a lock: with -race, overlapping calls from the stdout and
	// stderr readers would be reported.
	path := script(t, `
i=0
while [ $i -lt 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done
`)
	calls := 0
	c := Command{Path: path, Redact: func(line string) string {
		calls++
		return strings.ReplaceAll(line, "1", "#")
	}}
	var out lines
	var log bytes.Buffer
	if err := Run(context.Background(), c, Handlers{Stdout: out.add}, &log, time.Second); err != nil {
		t.Fatal(err)
	}
	// 400 output lines, plus brrun's own: the command line and the exit.
	if calls != 402 {
		t.Errorf("the redactor ran %d times, want 402", calls)
	}
	if out[1] != "out #" || !strings.Contains(log.String(), "br (stderr): err #0\n") {
		t.Errorf("the redactor's result was not used: stdout[1] = %q, log:\n%s", out[1], tail(log.String()))
	}
}

func TestRunWithQuietStdout(t *testing.T) {
	const b64 = "CgIIARIGYWNjb3VudBoBYyIBcA=="
	cases := map[string]struct {
		// body is the script.
		body string
		// wantStdout is what the handler gets; wantSummary the log line standing for it.
		wantStdout  []string
		wantSummary string
	}{
		"stdout reaches the handler but only its size reaches the log": {
			body:        "echo '[INFO] [main.go:1] [\"Welcome to BR\"]'\necho " + b64 + "\necho 'warning: slow' >&2\n",
			wantStdout:  []string{`[INFO] [main.go:1] ["Welcome to BR"]`, b64},
			wantSummary: fmt.Sprintf("br: <stdout not shown: %d bytes in 2 lines>\n", len(`[INFO] [main.go:1] ["Welcome to BR"]`)+len(b64)),
		},
		"a single line is counted as one": {
			body:        "echo " + b64 + "\necho 'warning: slow' >&2\n",
			wantStdout:  []string{b64},
			wantSummary: fmt.Sprintf("br: <stdout not shown: %d bytes in 1 line>\n", len(b64)),
		},
		"no stdout at all is said too": {
			body:        "echo 'warning: slow' >&2\n",
			wantSummary: "br: <stdout not shown: 0 bytes in 0 lines>\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errs lines
			var log bytes.Buffer
			// As the manager runs base64ify: quiet, and redacted like every other run.
			c := Command{Path: script(t, tc.body), QuietStdout: true, Redact: brlog.SecretRedactor(sasToken)}
			if err := Run(context.Background(), c, Handlers{Stdout: out.add, Stderr: errs.add}, &log, time.Second); err != nil {
				t.Fatal(err)
			}
			if strings.Join(out, "\n") != strings.Join(tc.wantStdout, "\n") {
				t.Errorf("the stdout handler got %q, want %q", out, tc.wantStdout)
			}
			if strings.Contains(log.String(), b64) || strings.Contains(log.String(), "Welcome") {
				t.Errorf("stdout reached the log:\n%s", log.String())
			}
			if !strings.Contains(log.String(), tc.wantSummary) {
				t.Errorf("log lacks %q:\n%s", tc.wantSummary, log.String())
			}
			if len(errs) != 1 || !strings.Contains(log.String(), "br (stderr): warning: slow\n") {
				t.Errorf("stderr should still reach the handler (%q) and the log:\n%s", errs, log.String())
			}
			// The summary comes after the output, before brrun says how the child ended.
			if i, j := strings.Index(log.String(), tc.wantSummary), strings.Index(log.String(), "br exited with code 0"); i < 0 || j < i {
				t.Errorf("the summary should precede the exit line:\n%s", log.String())
			}
		})
	}
	t.Run("without QuietStdout there is no summary", func(t *testing.T) {
		var log bytes.Buffer
		if err := Run(context.Background(), Command{Path: script(t, "echo "+b64+"\n")}, Handlers{}, &log, time.Second); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), "br: "+b64+"\n") || strings.Contains(log.String(), "not shown") {
			t.Errorf("log:\n%s", log.String())
		}
	})
}
