#!/usr/bin/env bash
# Copies the tree (tracked files plus untracked, non-ignored ones) to a temporary folder, runs
# `make generate` there and fails on any difference, so generated files can never drift from the
# Go types that produce them.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$tmp" 2>/dev/null || true
make -C "$tmp" -s generate >/dev/null
status=0
for path in pkg/apis manifests/crd manifests/base/custom_resource_definition.yaml \
    manifests/base/cluster_role.yaml manifests/base/role.yaml; do
  if ! diff -r "$root/$path" "$tmp/$path" >/dev/null 2>&1; then
    echo "verify: $path differs from what 'make generate' produces:" >&2
    diff -r "$root/$path" "$tmp/$path" | head -40 >&2 || true
    status=1
  fi
done
[ $status -eq 0 ] && echo "verify: generated files are up to date"
exit $status
