package version

import (
	"runtime"
	"strings"
	"testing"
)

// stamp overrides the link-time variables for one test, as -ldflags -X would.
func stamp(t *testing.T, version, commit, date string) {
	t.Helper()
	oldVersion, oldCommit, oldDate := gitVersion, gitCommit, buildDate
	gitVersion, gitCommit, buildDate = version, commit, date
	t.Cleanup(func() { gitVersion, gitCommit, buildDate = oldVersion, oldCommit, oldDate })
}

func TestGetReportsTheStampedValues(t *testing.T) {
	stamp(t, "v1.6.3", "0123abcd", "2026-11-26T00:00:00Z")

	got := Get()
	want := Info{
		GitVersion: "v1.6.3",
		GitCommit:  "0123abcd",
		BuildDate:  "2026-11-26T00:00:00Z",
		GoVersion:  runtime.Version(),
		Compiler:   runtime.Compiler,
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
	if got != want {
		t.Fatalf("Get() = %+v, want %+v", got, want)
	}
}

func TestGetSaysUnknownForAnUnstampedBuildDate(t *testing.T) {
	stamp(t, "v0.0.0-dev", "abc", "")

	if got := Get().BuildDate; got != "unknown" {
		t.Fatalf("BuildDate = %q, want %q", got, "unknown")
	}
}

func TestStringNamesVersionCommitAndDate(t *testing.T) {
	stamp(t, "v1.6.3", "0123abcd", "2026-11-26T00:00:00Z")

	s := Get().String()
	for _, part := range []string{"TiDB Operator Version: v1.6.3", "git commit 0123abcd", "built 2026-11-26T00:00:00Z", runtime.Version()} {
		if !strings.Contains(s, part) {
			t.Errorf("String() = %q, missing %q", s, part)
		}
	}
}

func TestKeysAndValuesComeInPairs(t *testing.T) {
	kv := Get().KeysAndValues()
	if len(kv)%2 != 0 {
		t.Fatalf("KeysAndValues() has odd length %d", len(kv))
	}
	for i := 0; i < len(kv); i += 2 {
		if _, ok := kv[i].(string); !ok {
			t.Errorf("key %d is %T, want string", i, kv[i])
		}
	}
}
