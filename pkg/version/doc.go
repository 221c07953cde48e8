// Package version reports which build of the operator binaries is running.
//
// The values are stamped at link time, for example:
//
//	go build -ldflags "\
//	  -X github.com/tidbops/tidb-operator/pkg/version.gitVersion=v1.6.3 \
//	  -X github.com/tidbops/tidb-operator/pkg/version.gitCommit=$(git rev-parse HEAD) \
//	  -X github.com/tidbops/tidb-operator/pkg/version.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// All three binaries print the same Info with -V/-version (or the `version` subcommand of
// tidb-backup-manager) and log it once at start-up, so a bug report always says what ran.
package version
