package tasks

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

func TestPDFailureKindIsStableAcrossAttempts(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"an HTTP error names the code, not the body": {
			err:  fmt.Errorf("read PD health: %w", &pdapi.HTTPError{Code: 503, URL: "http://x", Body: "busy at 12:00:01"}),
			want: "it answered HTTP 503",
		},
		"an unresolvable service name": {
			err:  fmt.Errorf("read PD health: %w", &net.DNSError{Err: "no such host", Name: "basic-pd.ns", IsNotFound: true}),
			want: "its address does not resolve",
		},
		"a deadline": {
			err:  fmt.Errorf("read PD health: %w", context.DeadlineExceeded),
			want: "the request timed out",
		},
		"a refused connection, whatever the local port": {
			err:  fmt.Errorf("read PD health: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			want: "the connection was refused or reset",
		},
		"anything else": {
			err:  fmt.Errorf("read PD health: decode: unexpected character"),
			want: "the request failed",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := pdFailureKind(c.err); got != c.want {
				t.Fatalf("pdFailureKind(%v) = %q, want %q", c.err, got, c.want)
			}
		})
	}
}
