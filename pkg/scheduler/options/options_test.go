package options

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/tidbops/tidb-operator/pkg/features"
)

func parse(args ...string) (*Options, error) {
	o := New()
	fs := flag.NewFlagSet("tidb-scheduler", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.AddFlags(fs)
	return o, fs.Parse(args)
}

func TestParse(t *testing.T) {
	cases := map[string]struct {
		args        []string // command line
		wantPort    int      // -port
		wantVersion bool     // -V
		wantStable  bool     // StableScheduling gate
		wantMetrics string   // -metrics-bind-address
	}{
		"v1.6 defaults":                       {nil, 10262, false, true, ":6060"},
		"the chart's container command":       {[]string{"-v=2", "-port=10262", "-features=StableScheduling=false"}, 10262, false, false, ":6060"},
		"double dashes and a separate value":  {[]string{"--port", "10300", "--features", "StableScheduling=true"}, 10300, false, true, ":6060"},
		"-version is the long spelling of -V": {[]string{"--version"}, 10262, true, true, ":6060"},
		"metrics elsewhere":                   {[]string{"-V", "-metrics-bind-address=127.0.0.1:16060"}, 10262, true, true, "127.0.0.1:16060"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := New()
			fs := flag.NewFlagSet("tidb-scheduler", flag.ContinueOnError)
			o.AddFlags(fs)
			// The chart passes klog's -v; the binary registers it from package logging.
			fs.Int("v", 0, "klog verbosity")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if o.Port != tc.wantPort || o.PrintVersion != tc.wantVersion ||
				o.Features.Enabled(features.StableScheduling) != tc.wantStable || o.MetricsBindAddress != tc.wantMetrics {
				t.Fatalf("options = %+v (features %s)", o, o.Features)
			}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInvalidValues(t *testing.T) {
	cases := map[string]struct {
		args    []string // command line
		wantErr string   // substring of the parse or validation error
	}{
		"a port that is not a number": {[]string{"-port=http"}, `invalid value "http" for flag -port`},
		"a port out of range":         {[]string{"-port=70000"}, "-port must be a TCP port (1-65535), got 70000"},
		"an unknown gate":             {[]string{"-features=HA=true"}, `unrecognized feature gate "HA"`},
		"an empty metrics address":    {[]string{"-metrics-bind-address="}, "-metrics-bind-address must not be empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := parse(tc.args...)
			if err == nil {
				err = o.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestExtenderAddress(t *testing.T) {
	o, _ := parse("-port=10300")
	if got := o.ExtenderAddress(); got != ":10300" {
		t.Fatalf("ExtenderAddress() = %q", got)
	}
}
