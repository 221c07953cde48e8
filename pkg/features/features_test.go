package features

import (
	"flag"
	"strings"
	"testing"
)

func TestDefaultsMatchV16(t *testing.T) {
	g := New()
	want := "StableScheduling=true,AdvancedStatefulSet=false,VolumeModifying=false,VolumeReplacing=false"
	if got := g.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestSet(t *testing.T) {
	cases := map[string]struct {
		value   string           // the -features argument
		want    map[Feature]bool // gates expected afterwards
		wantErr string           // substring of the error, empty for success
	}{
		"the chart's usual value flips two gates": {
			value: "StableScheduling=false,AdvancedStatefulSet=true",
			want:  map[Feature]bool{StableScheduling: false, AdvancedStatefulSet: true, VolumeModifying: false, VolumeReplacing: false},
		},
		"gates not named keep their defaults": {
			value: "VolumeModifying=true",
			want:  map[Feature]bool{StableScheduling: true, AdvancedStatefulSet: false, VolumeModifying: true, VolumeReplacing: false},
		},
		"spaces and empty entries are tolerated": {
			value: " VolumeReplacing = true , ,",
			want:  map[Feature]bool{StableScheduling: true, AdvancedStatefulSet: false, VolumeModifying: false, VolumeReplacing: true},
		},
		"an empty value changes nothing": {
			value: "",
			want:  map[Feature]bool{StableScheduling: true, AdvancedStatefulSet: false, VolumeModifying: false, VolumeReplacing: false},
		},
		"an unknown gate is rejected and the known ones are listed": {
			value:   "StableScheduling=true,Bogus=true",
			wantErr: `unrecognized feature gate "Bogus" (known gates: StableScheduling, AdvancedStatefulSet, VolumeModifying, VolumeReplacing)`,
		},
		"a gate without a value is rejected": {
			value:   "StableScheduling",
			wantErr: `feature gate "StableScheduling": want Name=true|false`,
		},
		"a value that is not a boolean is rejected": {
			value:   "AdvancedStatefulSet=yes",
			wantErr: `feature gate AdvancedStatefulSet: invalid value "yes", want true or false`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := New()
			err := g.Set(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set(%q) error = %v, want it to contain %q", tc.value, err, tc.wantErr)
				}
				if g.String() != New().String() {
					t.Fatalf("a rejected value changed the gates to %q", g.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q) = %v", tc.value, err)
			}
			for f, want := range tc.want {
				if got := g.Enabled(f); got != want {
					t.Errorf("Enabled(%s) = %t, want %t", f, got, want)
				}
			}
		})
	}
}

func TestGatesWorkAsAGoFlag(t *testing.T) {
	g := New()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Var(g, FlagName, FlagUsage)

	if err := fs.Parse([]string{"--features=StableScheduling=true,AdvancedStatefulSet=false,VolumeReplacing=true"}); err != nil {
		t.Fatal(err)
	}
	if !g.Enabled(VolumeReplacing) || g.Enabled(AdvancedStatefulSet) || !g.Enabled(StableScheduling) {
		t.Fatalf("gates after parse = %s", g)
	}
}

func TestEnabledPanicsOnAnUnknownGate(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Enabled(unknown) did not panic")
		}
	}()
	New().Enabled("NoSuchGate")
}
