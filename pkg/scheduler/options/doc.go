// Package options holds tidb-scheduler's command-line options: v1.6's -port, -V/-version and
// -features (klog's flags come from package logging), plus -metrics-bind-address, which v1.6
// did not have because it always used :6060.
package options
