package brlog

import (
	"encoding/base64"
	"math/rand/v2"
	"net/url"
	"testing"
)

// sasToken is an Azure SAS token as spec.azblob.sasToken holds it.
const sasToken = "sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https&sig=AbCd%2Bef/gh%3D"

func TestSecretRedactor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets []string
		line    string
		want    string
	}{
		{
			"a secret given is replaced as is",
			[]string{"hunter2-secret"},
			`[ERROR] [main.go:1] ["auth failed"] [key=hunter2-secret] [again="hunter2-secret"]`,
			`[ERROR] [main.go:1] ["auth failed"] [key=REDACTED] [again="REDACTED"]`,
		},
		{
			"a secret given is replaced in its query-escaped form",
			[]string{"p@ss word/+x"},
			"url=http://h/?k=" + url.QueryEscape("p@ss word/+x") + " done",
			"url=http://h/?k=REDACTED done",
		},
		{
			"a secret given is replaced in its path-escaped form",
			[]string{"p@ss word/+x"},
			"GET /bucket/" + url.PathEscape("p@ss word/+x") + " 403",
			"GET /bucket/REDACTED 403",
		},
		{
			"a secret given is replaced as Go's JSON encoder escapes it",
			[]string{"a&b<c>d"},
			`{"level":"ERROR","key":"a\u0026b\u003cc\u003ed"}`,
			`{"level":"ERROR","key":"REDACTED"}`,
		},
		{
			"the SAS token given is replaced in BR's storage URL, with the parameters around it kept",
			[]string{sasToken},
			`[storage="azure://c/p/?account-name=acct&sas-token=` + url.QueryEscape(sasToken) + `&x=1"]`,
			`[storage="azure://c/p/?account-name=acct&sas-token=REDACTED&x=1"]`,
		},
		{
			"a sas-token value is replaced without the token being given",
			nil,
			`Error: failed to access azure://c/p/?account-name=acct&sas-token=sv%3D2022-11-02%26sig%3DAbCd%252B: 403`,
			`Error: failed to access azure://c/p/?account-name=acct&sas-token=REDACTED: 403`,
		},
		{
			"an unescaped token in a URL loses its sas-token value and its signature",
			nil,
			`--storage=azure://c/p/?sas-token=sv=2022-11-02&ss=b&sig=AbCd+ef/gh=&sp=rw`,
			`--storage=azure://c/p/?sas-token=REDACTED&ss=b&sig=REDACTED&sp=rw`,
		},
		{
			"a sas-token flag value is replaced",
			nil,
			`[args="--azblob.sas-token=sv=2022-11-02 --azblob.account-name=acct"]`,
			`[args="--azblob.sas-token=REDACTED --azblob.account-name=acct"]`,
		},
		{
			"the signature of a request URL an SDK logs is replaced, the other parameters kept",
			nil,
			`[WARN] retrying GET https://acct.blob.core.windows.net/c/p/backupmeta?se=2030-01-01&sig=AbCd%2Bef%2Fgh%3D&sp=r&sv=2022-11-02 after 503`,
			`[WARN] retrying GET https://acct.blob.core.windows.net/c/p/backupmeta?se=2030-01-01&sig=REDACTED&sp=r&sv=2022-11-02 after 503`,
		},
		{
			"a signature at the end of a quoted URL is replaced up to the quote",
			nil,
			`[url="https://acct.blob.core.windows.net/c?sv=1&sig=AbC%3D"] [status=403]`,
			`[url="https://acct.blob.core.windows.net/c?sv=1&sig=REDACTED"] [status=403]`,
		},
		{
			"a signature inside a query-escaped URL is replaced up to the escaped ampersand",
			nil,
			`redirect=https%3A%2F%2Fa.blob.core.windows.net%2Fc%3Fsv%3D1%26sig%3DAbC%252B%26sp%3Dr`,
			`redirect=https%3A%2F%2Fa.blob.core.windows.net%2Fc%3Fsv%3D1%26sig%3DREDACTED%26sp%3Dr`,
		},
		{
			"a signature inside a JSON string is replaced up to the escaped ampersand",
			nil,
			`{"url":"https://a.blob.core.windows.net/c?sv=1\u0026sig=AbC%2B\u0026sp=r"}`,
			`{"url":"https://a.blob.core.windows.net/c?sv=1\u0026sig=REDACTED\u0026sp=r"}`,
		},
		{
			"an upper-case parameter name is redacted too",
			nil,
			`?SIG=AbC&SAS-TOKEN=sv%3D1`,
			`?SIG=REDACTED&SAS-TOKEN=REDACTED`,
		},
		{
			"the argument of --storage-base64 is replaced in both flag forms",
			nil,
			`tikv-ctl compact-log-backup --storage-base64 CgIIAQ== --from 1 --storage-base64="CgIIAQ==" --storage-base64=CgIIAQ==`,
			`tikv-ctl compact-log-backup --storage-base64 REDACTED --from 1 --storage-base64="REDACTED" --storage-base64=REDACTED`,
		},
		{
			"a secret that contains another given secret is replaced whole",
			[]string{"abcd", "abcdefgh"},
			"x abcdefgh y abcd z",
			"x REDACTED y REDACTED z",
		},
		{
			"empty and very short secrets are ignored rather than blanking common words",
			[]string{"", "a", "br", "the"},
			"the br backup of a table",
			"the br backup of a table",
		},
		{
			"words that merely contain sig or sas-token are kept",
			nil,
			"signature=1 design=2 assig=3 nosas-tokens=4 sig= sig==",
			"signature=1 design=2 assig=3 nosas-tokens=4 sig= sig==",
		},
		{
			"a line without secrets is unchanged",
			[]string{sasToken},
			`[2025/01/02 15:04:05.123 +00:00] [INFO] [progress.go:123] [progress] [step="Full Backup"] [progress=45.2%]`,
			`[2025/01/02 15:04:05.123 +00:00] [INFO] [progress.go:123] [progress] [step="Full Backup"] [progress=45.2%]`,
		},
		{"an empty line stays empty", []string{sasToken}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SecretRedactor(tc.secrets...)(tc.line); got != tc.want {
				t.Fatalf("redacted\n%q\nto\n%q\nwant\n%q", tc.line, got, tc.want)
			}
		})
	}
}

func TestSecretRedactorLeavesBase64Alone(t *testing.T) {
	// base64ify's stdout is redacted like any other line before the manager parses it, so the
	// redactor must never alter standard base64 text, whatever bytes it encodes.
	redact := SecretRedactor(sasToken, url.QueryEscape(sasToken))
	t.Run("base64 that happens to end in sig= or sig== is kept", func(t *testing.T) {
		for _, s := range []string{"QUJD/sig", "QUJ/sig=", "QU/sig==", "+sig+sig/sig=", "sas+token/sig="} {
			if got := redact(s); got != s {
				t.Errorf("redact(%q) = %q", s, got)
			}
		}
	})
	t.Run("the base64 of a storage backend holding the SAS token is kept", func(t *testing.T) {
		// A stand-in for the protobuf: field tags and lengths around the URL and the token.
		backend := "\x2a\x80\x01\x0a\x04acct\x12\x01c\x1a\x01p\x32" + string([]byte{byte(len(sasToken))}) + sasToken
		s := base64.StdEncoding.EncodeToString([]byte(backend))
		if got := redact(s); got != s {
			t.Errorf("redact(%q) = %q", s, got)
		}
	})
	t.Run("the base64 of random bytes is kept", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			b := make([]byte, 1+r.IntN(64))
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			s := base64.StdEncoding.EncodeToString(b)
			if got := redact(s); got != s {
				t.Fatalf("redact(%q) = %q", s, got)
			}
		}
	})
	if got := SecretRedactor()("CgIIAQ=="); got != "CgIIAQ==" {
		t.Errorf("a redactor without secrets changed base64: %q", got)
	}
}
