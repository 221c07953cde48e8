package pdapi

import (
	"errors"
	"strings"
)

// ErrNotBootstrapped means PD answered that no TiKV has bootstrapped the cluster yet. It is a
// normal state right after creation: status records bootStrapped=false instead of failing.
// Match it with errors.Is; the concrete error is the *HTTPError PD produced.
var ErrNotBootstrapped = errors.New("TiKV cluster not bootstrapped")

// notBootstrappedMessage ends PD's error body (a JSON string followed by a newline).
const notBootstrappedMessage = "TiKV cluster not bootstrapped, please start TiKV first"

func bodyMeansNotBootstrapped(body string) bool {
	trimmed := strings.TrimRight(strings.TrimSpace(body), `"`)
	return strings.HasSuffix(trimmed, notBootstrappedMessage)
}

// IsNotBootstrapped is errors.Is(err, ErrNotBootstrapped).
func IsNotBootstrapped(err error) bool {
	return errors.Is(err, ErrNotBootstrapped)
}
