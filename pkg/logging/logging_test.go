package logging

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestVerbosityReadsTheKlogStyleFlag(t *testing.T) {
	cases := map[string]struct {
		args    []string // command line
		want    int      // expected verbosity
		wantErr string   // substring of the parse or read error
	}{
		"no -v means verbosity zero":              {args: nil, want: 0},
		"single dash as the chart passes it":      {args: []string{"-v=2"}, want: 2},
		"double dash with a separate value":       {args: []string{"--v", "4"}, want: 4},
		"other klog flags are accepted alongside": {args: []string{"-logtostderr=true", "-vmodule=foo=3", "-v=1"}, want: 1},
		"a non-numeric level is a parse error":    {args: []string{"-v=high"}, wantErr: `invalid value "high" for flag -v`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(&bytes.Buffer{})
			AddFlags(fs)
			// klog keeps -v in a process-wide variable; put it back for the next case.
			t.Cleanup(func() { _ = fs.Set("v", "0") })

			err := fs.Parse(tc.args)
			if err == nil {
				var v int
				v, err = Verbosity(fs)
				if err == nil && v != tc.want {
					t.Fatalf("Verbosity() = %d, want %d", v, tc.want)
				}
			}
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestVerbosityIsZeroWithoutTheFlag(t *testing.T) {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	if v, err := Verbosity(fs); v != 0 || err != nil {
		t.Fatalf("Verbosity() = %d, %v; want 0, nil", v, err)
	}
}

func TestNewPrintsUpToTheRequestedVerbosity(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, 2)

	l.V(2).Info("shown at two")
	l.V(3).Info("hidden at three")
	l.Error(nil, "errors always show")

	out := buf.String()
	if !strings.Contains(out, "shown at two") || !strings.Contains(out, "errors always show") {
		t.Errorf("missing expected lines in %q", out)
	}
	if strings.Contains(out, "hidden at three") {
		t.Errorf("V(3) message printed at verbosity 2: %q", out)
	}
	if strings.Contains(out, "stacktrace") {
		t.Errorf("an error log carried a stack trace: %q", out)
	}
}
