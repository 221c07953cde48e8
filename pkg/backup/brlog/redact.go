package brlog

import (
	"cmp"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces a secret in what SecretRedactor returns.
const Redacted = "REDACTED"

// minSecretLength is the shortest secret SecretRedactor replaces by its value. A shorter one
// (a misconfiguration, or a placeholder such as "x") would blank out common words in every
// line, making the log useless while protecting nothing of worth.
const minSecretLength = 4

// Pieces of the patterns below. A URL in a log line ends at a blank, a quote, a bracket, a
// backslash (a JSON escape) or punctuation such as ": " after it; a query value also ends at
// "&". A colon is never part of the secret part of a value: escaped values have none, and
// signatures are base64.
const (
	// valueChar is a character of a query value, "%" aside.
	valueChar = `[^&%\s"'\\<>\[\](){},;:]`
	// firstValueChar is valueChar without "=".
	firstValueChar = `[^=&%\s"'\\<>\[\](){},;:]`
	// escapeNotAmp is a percent-escape other than %26: an escaped "&" separates the parameters
	// of a URL that is itself query-escaped inside another.
	escapeNotAmp = `%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f])`
)

var (
	// sasTokenRE finds the value of a sas-token parameter, as in BR's --storage URL
	// (azure://c/p/?account-name=a&sas-token=sv%3D…%26sig%3D…) or a --azblob.sas-token=… flag.
	// The token is query-escaped there, so its value goes on to the first raw "&", %26 and all.
	sasTokenRE = regexp.MustCompile(`(?i)((?:\b|\\u0026)sas-token(?:=|%3D))(?:` + valueChar + `|%)+`)
	// sigRE finds the signature of an Azure SAS, the part that grants access, in a request URL
	// an SDK logs (…?sv=…&sig=…&sp=…): raw, query-escaped inside another URL (%26sig%3D…) or
	// in a JSON string (\u0026sig=…). A value must not start with "=": that and the boundary
	// before "sig" keep the pattern out of standard base64 text (whose only "=" are the padding
	// at its end), so that base64ify's output is never altered.
	sigRE = regexp.MustCompile(`(?i)((?:\b|%26|%3F|\\u0026)sig(?:=|%3D))` +
		`(?:` + firstValueChar + `|` + escapeNotAmp + `)(?:` + valueChar + `|` + escapeNotAmp + `)*`)
	// storageBase64RE finds the argument of tikv-ctl's --storage-base64, the storage backend
	// protobuf (with the SAS token inside) that base64ify printed, should a tool echo its
	// command line.
	storageBase64RE = regexp.MustCompile(`(--storage-base64(?:=|\s+)["']?)[^\s"']+`)
)

// SecretRedactor returns a function that rewrites a line of BR's or tikv-ctl's output so that
// it can be logged, or put in a status message: each of secrets becomes REDACTED, in every form
// a tool may print it (as is, query-escaped as in BR's --storage URL, path-escaped, and
// escaped inside a JSON string), and so does any sas-token or sig query parameter value and
// the argument of --storage-base64, whatever the secrets given. Empty secrets and secrets
// shorter than four bytes are ignored.
//
// The caller passes what it knows to be secret: the SAS token, the key values it put in the
// child's environment, the base64 backend handed to tikv-ctl. The patterns are the safety net
// for what it does not know, such as a signed URL an SDK logs. They never match standard base64
// text, so the redactor can be applied to `br operator base64ify`'s output too. It is safe for
// concurrent use.
func SecretRedactor(secrets ...string) func(string) string {
	var forms []string
	for _, s := range secrets {
		if len(s) < minSecretLength {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), jsonEscape(s))
	}
	// Longest first: strings.Replacer tries its pairs in order at each position, so a secret
	// that contains another (a key, and the URL made of it) is replaced whole. Equal forms (a
	// secret that needs no escaping) end up side by side, for Compact.
	slices.SortFunc(forms, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	forms = slices.Compact(forms)
	var replacer *strings.Replacer
	if len(forms) > 0 {
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, Redacted)
		}
		replacer = strings.NewReplacer(pairs...)
	}
	return func(line string) string {
		if replacer != nil {
			line = replacer.Replace(line)
		}
		line = sasTokenRE.ReplaceAllString(line, "${1}"+Redacted)
		line = sigRE.ReplaceAllString(line, "${1}"+Redacted)
		return storageBase64RE.ReplaceAllString(line, "${1}"+Redacted)
	}
}

// jsonEscape is s as it appears inside a JSON string written by Go's encoder, which escapes
// "&", "<" and ">" (a SAS token is full of "&").
func jsonEscape(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		return s // a string always marshals (invalid UTF-8 becomes U+FFFD)
	}
	return string(b[1 : len(b)-1])
}
