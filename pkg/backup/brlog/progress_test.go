package brlog

import (
	"strings"
	"testing"
)

func TestParseProgress(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want Progress
		ok   bool
	}{
		{
			"a BR log line with timestamp and level gives its step and percent",
			`[2025/01/02 15:04:05.123 +00:00] [INFO] [progress.go:123] [progress] [step="Full Restore"] [progress=45.2%] [count="45 / 100"]`,
			Progress{Step: "Full Restore", Percent: 45.2}, true,
		},
		{
			"the fields alone are enough",
			`[progress] [step="Full Backup"] [progress=100%]`,
			Progress{Step: "Full Backup", Percent: 100}, true,
		},
		{
			"a step with spaces and punctuation is kept whole",
			`x [progress] [step="Restore Files (SST)"] [progress=0.5%]`,
			Progress{Step: "Restore Files (SST)", Percent: 0.5}, true,
		},
		{"a line without progress fields is not progress", `[INFO] [backup.go:1] ["backup started"]`, Progress{}, false},
		{"an empty step is not progress", `[progress] [step=""] [progress=1%]`, Progress{}, false},
		{"a percent that is not a number is ignored", `[progress] [step="Full Backup"] [progress=abc%]`, Progress{}, false},
		{"a NaN percent is ignored", `[progress] [step="Full Backup"] [progress=NaN%]`, Progress{}, false},
		{"an infinite percent is ignored", `[progress] [step="Full Backup"] [progress=+Inf%]`, Progress{}, false},
		{"an empty line is not progress", "", Progress{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseProgress(tc.line)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("ParseProgress = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseBase64ify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stdout  string
		want    string
		wantErr bool
	}{
		{"BR's single line is returned without its newline", "CgIIAQ==\n", "CgIIAQ==", false},
		{"log lines before the base64 line are skipped", "[2025/01/02] [INFO] [main.go:1] [\"Welcome to BR\"]\nCgIIAQ==\n\n", "CgIIAQ==", false},
		{"the last base64 line wins", "QUJD\nREVG\n", "REVG", false},
		{"surrounding blanks are trimmed", "  CgIIAQ==  \r\n", "CgIIAQ==", false},
		{"output without base64 is an error", "[ERROR] something failed\n", "", true},
		{"empty output is an error", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBase64ify(tc.stdout)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseBase64ify = %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "base64ify") {
				t.Fatalf("error %q does not say which command", err)
			}
		})
	}
}
