package brcmd

import (
	"net/url"
	"strings"
)

// Redacted replaces a secret in logged arguments.
const Redacted = "REDACTED"

// secretFlags are flag names whose whole value is a secret, matched on the last dot-separated
// part so that every provider's spelling is covered (--azblob.sas-token, --s3.secret-access-key,
// --azblob.account-key, ...). A plain --key is the TLS key's file path, not a secret, so the
// crypter keys are listed by their full names.
var secretFlags = map[string]bool{
	"sas-token":         true,
	"access-key":        true,
	"secret-access-key": true,
	"session-token":     true,
	"account-key":       true,
	"encryption-key":    true,
	"credentials-blob":  true,
}

var secretFullFlags = map[string]bool{
	"crypter.key":     true,
	"log.crypter.key": true,
	"master-key":      true,
	// --storage-base64 is the storage backend as protobuf: it holds the storage URL's SAS token
	// and any credentials `br operator base64ify` was asked to load, so none of it is logged.
	"storage-base64": true,
}

// urlFlags are the flags whose value is a storage URL; BR reads credentials from their query
// (sas-token=, access-key=, secret-access-key=, ...), so only those parameters are hidden.
var urlFlags = map[string]bool{
	"storage":             true,
	"s":                   true,
	"full-backup-storage": true,
}

// secretQuery are the storage URL query parameters holding credentials. "sig" is the signature
// of an Azure SAS token written into the URL unescaped (…&sas-token=sv=…&sig=…).
var secretQuery = map[string]bool{
	"sas-token":         true,
	"access-key":        true,
	"secret-access-key": true,
	"session-token":     true,
	"account-key":       true,
	"sig":               true,
}

// Redact returns a copy of args that is safe to log: the credential parameters of storage URLs
// (--storage, -s, --full-backup-storage) and the values of secret flags (--*.sas-token,
// --*.access-key, --*.secret-access-key, --*.account-key, the crypter keys, --storage-base64)
// become REDACTED, in both the --flag=value and the --flag value forms. args is not modified.
func Redact(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		dashes, name, value, inline := splitFlag(out[i])
		if name == "" {
			continue
		}
		redact := redactorFor(name)
		if redact == nil {
			continue
		}
		switch {
		case inline:
			out[i] = dashes + name + "=" + redact(value)
		case i+1 < len(out) && !strings.HasPrefix(out[i+1], "-"):
			out[i+1] = redact(out[i+1])
			i++
		}
	}
	return out
}

// splitFlag splits "--name=value" or "-n value"; name is empty when arg is not a flag.
func splitFlag(arg string) (dashes, name, value string, inline bool) {
	switch {
	case strings.HasPrefix(arg, "--"):
		dashes = "--"
	case strings.HasPrefix(arg, "-"):
		dashes = "-"
	default:
		return "", "", "", false
	}
	name, value, inline = strings.Cut(arg[len(dashes):], "=")
	return dashes, name, value, inline
}

func redactorFor(name string) func(string) string {
	last := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		last = name[i+1:]
	}
	switch {
	case urlFlags[name]:
		return redactURL
	case secretFullFlags[name], secretFlags[last]:
		return func(v string) string {
			if v == "" {
				return v
			}
			return Redacted
		}
	default:
		return nil
	}
}

// redactURL hides the values of credential query parameters, keeping the rest of the URL as
// written so that the logged argument still shows which store and options were used.
func redactURL(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretQuery[strings.ToLower(name)] {
			params[i] = k + "=" + Redacted
		}
	}
	return base + "?" + strings.Join(params, "&")
}
