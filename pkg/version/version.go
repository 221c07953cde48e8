package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped with -ldflags -X; see the package documentation. They are variables, not constants,
// because the linker can only overwrite string variables.
var (
	gitVersion = "v0.0.0-dev"
	gitCommit  = ""
	buildDate  = ""
)

// Info describes one build.
type Info struct {
	GitVersion string `json:"gitVersion"`
	GitCommit  string `json:"gitCommit"`
	BuildDate  string `json:"buildDate"`
	GoVersion  string `json:"goVersion"`
	Compiler   string `json:"compiler"`
	Platform   string `json:"platform"`
}

// Get returns the running binary's build information. A commit that was not stamped falls back
// to the VCS revision the Go toolchain recorded, when it recorded one, so a plain `go build` in a
// checkout still identifies itself.
func Get() Info {
	commit := gitCommit
	if commit == "" {
		commit = vcsRevision()
	}
	return Info{
		GitVersion: gitVersion,
		GitCommit:  orUnknown(commit),
		BuildDate:  orUnknown(buildDate),
		GoVersion:  runtime.Version(),
		Compiler:   runtime.Compiler,
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// String renders the build on one line, the form printed by -V and logged at start-up.
func (i Info) String() string {
	return fmt.Sprintf("TiDB Operator Version: %s (git commit %s, built %s, %s %s %s)",
		i.GitVersion, i.GitCommit, i.BuildDate, i.GoVersion, i.Compiler, i.Platform)
}

// KeysAndValues returns the build as logr key/value pairs, for the start-up log line.
func (i Info) KeysAndValues() []any {
	return []any{
		"gitVersion", i.GitVersion,
		"gitCommit", i.GitCommit,
		"buildDate", i.BuildDate,
		"goVersion", i.GoVersion,
		"platform", i.Platform,
	}
}

func vcsRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
