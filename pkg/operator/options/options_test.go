package options

import (
	"bytes"
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/tidbops/tidb-operator/pkg/features"
)

// parse registers the options on a fresh flag set and parses args, as main does.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	o := New()
	fs := flag.NewFlagSet("tidb-operator", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	o.AddFlags(fs)
	return o, fs.Parse(args)
}

func TestDefaultsMatchV16(t *testing.T) {
	o, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"-V", o.PrintVersion, false},
		{"-workers", o.Workers, 5},
		{"-cluster-scoped", o.ClusterScoped, true},
		{"-cluster-permission-node", o.ClusterPermissionNode, false},
		{"-cluster-permission-pv", o.ClusterPermissionPV, false},
		{"-cluster-permission-sc", o.ClusterPermissionSC, false},
		{"-auto-failover", o.AutoFailover, true},
		{"-pd-failover-period", o.PDFailoverPeriod, 5 * time.Minute},
		{"-tikv-failover-period", o.TiKVFailoverPeriod, 5 * time.Minute},
		{"-tidb-failover-period", o.TiDBFailoverPeriod, 5 * time.Minute},
		{"-tiflash-failover-period", o.TiFlashFailoverPeriod, 5 * time.Minute},
		{"-dm-master-failover-period", o.DMMasterFailoverPeriod, 5 * time.Minute},
		{"-dm-worker-failover-period", o.DMWorkerFailoverPeriod, 5 * time.Minute},
		{"-detect-node-failure", o.DetectNodeFailure, false},
		{"-pod-hard-recovery-period", o.PodHardRecoveryPeriod, 24 * time.Hour},
		{"-resync-duration", o.ResyncDuration, 30 * time.Second},
		{"-test-mode", o.TestMode, false},
		{"-tidb-backup-manager-image", o.BackupManagerImage, "pingcap/tidb-backup-manager:latest"},
		{"-tidb-discovery-image", o.DiscoveryImage, "pingcap/tidb-operator:latest"},
		{"-selector", o.Selector, ""},
		{"-leader-lease-duration", o.LeaseDuration, 15 * time.Second},
		{"-leader-renew-deadline", o.RenewDeadline, 10 * time.Second},
		{"-leader-retry-period", o.RetryPeriod, 2 * time.Second},
		{"-leader-resource-lock", o.LeaderResourceLock, "leases"},
		{"-kube-client-qps", o.KubeClientQPS, 0.0},
		{"-kube-client-burst", o.KubeClientBurst, 0},
		{"-features", o.Features.String(), "StableScheduling=true,AdvancedStatefulSet=false,VolumeModifying=false,VolumeReplacing=false"},
		{"-metrics-bind-address", o.MetricsBindAddress, ":6060"},
		{"-health-probe-bind-address", o.HealthProbeBindAddress, ":8081"},
		{"-kubeconfig", o.Kubeconfig, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("default of %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := o.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

func TestEveryV16FlagIsRegistered(t *testing.T) {
	fs := flag.NewFlagSet("tidb-operator", flag.ContinueOnError)
	New().AddFlags(fs)
	for _, name := range []string{
		"V", "version", "workers", "cluster-scoped", "cluster-permission-node", "cluster-permission-pv",
		"cluster-permission-sc", "auto-failover", "pd-failover-period", "tikv-failover-period",
		"tidb-failover-period", "tiflash-failover-period", "dm-master-failover-period",
		"dm-worker-failover-period", "detect-node-failure", "pod-hard-recovery-period", "resync-duration",
		"test-mode", "tidb-backup-manager-image", "tidb-discovery-image", "selector",
		"leader-lease-duration", "leader-renew-deadline", "leader-retry-period", "leader-resource-lock",
		"kube-client-qps", "kube-client-burst", "features",
	} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag -%s is not registered", name)
		}
	}
}

func TestParse(t *testing.T) {
	cases := map[string]struct {
		args  []string              // command line as a Deployment would pass it
		check func(*Options) string // returns a complaint, or "" when the options are as expected
	}{
		"the Helm chart's argument list": {
			args: []string{
				"-tidb-backup-manager-image=pingcap/tidb-backup-manager:v1.6.3",
				"-tidb-discovery-image=pingcap/tidb-operator:v1.6.3",
				"-cluster-scoped=true",
				"-cluster-permission-node=true",
				"-cluster-permission-pv=true",
				"-cluster-permission-sc=true",
				"-auto-failover=true",
				"-pd-failover-period=5m",
				"-tikv-failover-period=5m",
				"-tiflash-failover-period=5m",
				"-tidb-failover-period=5m",
				"-dm-master-failover-period=5m",
				"-dm-worker-failover-period=5m",
				"-features=StableScheduling=true,AdvancedStatefulSet=false",
				"-workers=5",
				"-selector=",
				"-leader-lease-duration=15s",
				"-leader-renew-deadline=10s",
				"-leader-retry-period=2s",
			},
			check: func(o *Options) string {
				switch {
				case o.BackupManagerImage != "pingcap/tidb-backup-manager:v1.6.3":
					return "backup manager image " + o.BackupManagerImage
				case o.DiscoveryImage != "pingcap/tidb-operator:v1.6.3":
					return "discovery image " + o.DiscoveryImage
				case !o.ClusterPermissionNode || !o.ClusterPermissionPV || !o.ClusterPermissionSC:
					return "cluster permissions not all set"
				case !o.Features.Enabled(features.StableScheduling) || o.Features.Enabled(features.AdvancedStatefulSet):
					return "features " + o.Features.String()
				}
				return ""
			},
		},
		"double dashes work like single dashes": {
			args: []string{"--workers=12", "--cluster-scoped=false", "--selector", "env=prod,team!=qa"},
			check: func(o *Options) string {
				if o.Workers != 12 || o.ClusterScoped || o.Selector != "env=prod,team!=qa" {
					return "got workers=" + strconv.Itoa(o.Workers) + " selector=" + o.Selector
				}
				return ""
			},
		},
		"durations in every Go unit": {
			args: []string{"-pd-failover-period=90s", "-tikv-failover-period=1h30m", "-resync-duration=500ms", "-pod-hard-recovery-period=48h"},
			check: func(o *Options) string {
				if o.PDFailoverPeriod != 90*time.Second || o.TiKVFailoverPeriod != 90*time.Minute ||
					o.ResyncDuration != 500*time.Millisecond || o.PodHardRecoveryPeriod != 48*time.Hour {
					return "durations not parsed"
				}
				return ""
			},
		},
		"a bare boolean flag means true": {
			args: []string{"-detect-node-failure", "-test-mode", "-V"},
			check: func(o *Options) string {
				if !o.DetectNodeFailure || !o.TestMode || !o.PrintVersion {
					return "bare booleans not set"
				}
				return ""
			},
		},
		"-version is the long spelling of -V": {
			args: []string{"--version"},
			check: func(o *Options) string {
				if !o.PrintVersion {
					return "PrintVersion not set"
				}
				return ""
			},
		},
		"client throttling and feature gates": {
			args: []string{"-kube-client-qps=50.5", "-kube-client-burst=100", "-features=VolumeModifying=true,VolumeReplacing=true"},
			check: func(o *Options) string {
				if o.KubeClientQPS != 50.5 || o.KubeClientBurst != 100 {
					return "throttling not parsed"
				}
				if !o.Features.Enabled(features.VolumeModifying) || !o.Features.Enabled(features.VolumeReplacing) || !o.Features.Enabled(features.StableScheduling) {
					return "features " + o.Features.String()
				}
				return ""
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := parse(t, tc.args...)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if complaint := tc.check(o); complaint != "" {
				t.Fatal(complaint)
			}
			if err := o.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestParseRejectsMalformedValues(t *testing.T) {
	cases := map[string]struct {
		args    []string // command line
		wantErr string   // substring of the parse error
	}{
		"a worker count that is not a number": {[]string{"-workers=five"}, `invalid value "five" for flag -workers`},
		"a duration without a unit":           {[]string{"-pd-failover-period=300"}, `invalid value "300" for flag -pd-failover-period`},
		"a boolean that is not a boolean":     {[]string{"-auto-failover=maybe"}, `invalid boolean value "maybe" for -auto-failover`},
		"an unknown feature gate":             {[]string{"-features=Warp=true"}, `unrecognized feature gate "Warp"`},
		"a flag v1.6 never had":               {[]string{"-no-such-flag"}, "flag provided but not defined: -no-such-flag"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		args    []string // command line that parses but is not acceptable
		wantErr []string // substrings that must all appear in the error
	}{
		"zero workers":               {[]string{"-workers=0"}, []string{"-workers must be at least 1, got 0"}},
		"a negative failover period": {[]string{"-tikv-failover-period=-1m"}, []string{"-tikv-failover-period must be a positive duration, got -1m0s"}},
		"a zero resync duration":     {[]string{"-resync-duration=0s"}, []string{"-resync-duration must be a positive duration"}},
		"a lease no longer than the renew deadline": {
			[]string{"-leader-lease-duration=10s", "-leader-renew-deadline=10s"},
			[]string{"-leader-lease-duration (10s) must be longer than -leader-renew-deadline (10s)"},
		},
		"a renew deadline too close to the retry period": {
			[]string{"-leader-renew-deadline=2s", "-leader-retry-period=2s"},
			[]string{"-leader-renew-deadline (2s) must be longer than 1.2 × -leader-retry-period (2s)"},
		},
		"a lock kind client-go no longer has": {
			[]string{"-leader-resource-lock=endpoints"},
			[]string{`-leader-resource-lock "endpoints" is not supported: only "leases"`},
		},
		"a selector that does not parse": {[]string{"-selector=a=b=c"}, []string{`-selector "a=b=c" is not a valid label selector`}},
		"negative throttling":            {[]string{"-kube-client-qps=-1", "-kube-client-burst=-2"}, []string{"-kube-client-qps must not be negative", "-kube-client-burst must not be negative"}},
		"empty images":                   {[]string{"-tidb-backup-manager-image=", "-tidb-discovery-image="}, []string{"-tidb-backup-manager-image must not be empty", "-tidb-discovery-image must not be empty"}},
		"several problems are reported together": {
			[]string{"-workers=-3", "-selector=!!"},
			[]string{"-workers must be at least 1", "-selector \"!!\""},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := parse(t, tc.args...)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			err = o.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLabelSelector(t *testing.T) {
	o, err := parse(t, "-selector=app=tidb,env in (prod,staging)")
	if err != nil {
		t.Fatal(err)
	}
	s, err := o.LabelSelector()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Matches(labels.Set{"app": "tidb", "env": "prod"}) || s.Matches(labels.Set{"app": "tidb", "env": "dev"}) {
		t.Fatalf("selector %s matches the wrong objects", s)
	}
}
