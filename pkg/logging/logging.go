package logging

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// AddFlags registers klog's flags (-v, -vmodule, -logtostderr, -log_dir, ...) on fs. v1.6 passed
// them to klog; here -v sets the verbosity of the logr logger and the others are accepted so that
// existing manifests keep working. Output always goes to stderr, as a container expects.
func AddFlags(fs *flag.FlagSet) {
	klog.InitFlags(fs)
}

// Verbosity returns the value of -v from a parsed flag set (0 when it was not registered).
func Verbosity(fs *flag.FlagSet) (int, error) {
	f := fs.Lookup("v")
	if f == nil {
		return 0, nil
	}
	v, err := strconv.Atoi(f.Value.String())
	if err != nil {
		return 0, fmt.Errorf("flag -v: %q is not a number: %w", f.Value.String(), err)
	}
	if v < 0 {
		return 0, fmt.Errorf("flag -v: verbosity must not be negative, got %d", v)
	}
	return v, nil
}

// New returns a JSON logger writing to w that prints Info messages up to V(verbosity). logr
// verbosity n is zap level -n, which is why the level is negated.
func New(w io.Writer, verbosity int) logr.Logger {
	return zap.New(
		zap.WriteTo(w),
		zap.Level(zapcore.Level(-verbosity)),
		// Reconcile errors are expected events in an operator; a stack trace on each one only
		// buries the message. Keep traces for panics.
		zap.StacktraceLevel(zapcore.DPanicLevel),
	)
}

// Install makes l the logger behind controller-runtime and klog.
func Install(l logr.Logger) {
	ctrl.SetLogger(l)
	klog.SetLogger(l)
}

// Setup reads -v from a parsed flag set, builds the stderr logger and installs it.
func Setup(fs *flag.FlagSet) (logr.Logger, error) {
	v, err := Verbosity(fs)
	if err != nil {
		return logr.Discard(), err
	}
	l := New(os.Stderr, v)
	Install(l)
	return l, nil
}
