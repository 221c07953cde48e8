#!/usr/bin/env bash
# Builds the control-plane binaries the tests need from the Go module proxy and caches them by
# version outside the repository. There is no Docker engine and setup-envtest cannot download
# binaries here, so etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok are
# compiled from source once per version. Prints the folder that holds them on stdout.
#
#   hack/testbin.sh [apiserver|all]
#     apiserver: etcd + kube-apiserver (enough for envtest)
#     all:       also kube-controller-manager, kube-scheduler and kwok (the simulated cluster)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
STAGING_VERSION=${STAGING_VERSION:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
GO_DIRECTIVE=${GO_DIRECTIVE:-1.26.0}

what=${1:-apiserver}
cache=${TIDB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tidb-operator}
bin="$cache/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
mkdir -p "$bin"

log() { echo "testbin: $*" >&2; }

build_etcd() {
  [ -x "$bin/etcd" ] && return 0
  log "building etcd $ETCD_VERSION (about 40s cold)…"
  local work; work=$(mktemp -d)
  cat >"$work/go.mod" <<MOD
module testbin/etcd

go $GO_DIRECTIVE

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$work/main.go" <<'SRC'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
SRC
  (cd "$work" && GOFLAGS=-mod=mod go mod tidy >&2 && go build -trimpath -ldflags='-s -w' -o "$bin/etcd.tmp" . >&2)
  mv "$bin/etcd.tmp" "$bin/etcd"
  rm -rf "$work"
}

build_kube() {
  local want=("$@") missing=()
  for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "building ${missing[*]} from k8s.io/kubernetes $K8S_VERSION (minutes when cold)…"
  local work; work=$(mktemp -d)
  (cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null)
  local modfile
  modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
  {
    echo "module testbin/kube"
    echo
    echo "go $GO_DIRECTIVE"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # k8s.io/kubernetes replaces its staging modules with local paths; point them at the proxy.
    grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$modfile" | awk -v v="$STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  {
    echo "//go:build tools"
    echo
    echo "package tools"
    echo
    echo "import ("
    for b in "${missing[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
    echo ")"
  } >"$work/tools.go"
  local pkgs=()
  for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$work" && GOFLAGS=-mod=mod go mod tidy >&2 && go build -trimpath -ldflags='-s -w' -o "$work/out/" "${pkgs[@]}" >&2)
  for b in "${missing[@]}"; do mv "$work/out/$b" "$bin/$b"; done
  rm -rf "$work"
}

build_kwok() {
  if [ ! -x "$bin/kwok" ]; then
    log "building kwok $KWOK_VERSION…"
    GOBIN="$bin" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  fi
  [ -f "$bin/kwok-stages/.complete" ] && return 0
  # kwok's stage definitions ship in its module; keep the ones the harness uses next to it:
  # node initialisation and heartbeat, the general pod life cycle, and volume provisioning
  # (plus the kwok-volume StorageClass). Kustomization files are left behind on purpose.
  local src stages
  src="$(cd "$(mktemp -d)" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage"
  stages=$(mktemp -d)
  cp "$src"/node/fast/node-initialize.yaml "$src"/node/heartbeat/node-heartbeat.yaml \
    "$src"/pod/general/pod-*.yaml \
    "$src"/volume/fast/{pvc-provision,pv-bind,pv-delete,pvc-delete,storage-class}.yaml "$stages/"
  chmod -R u+w "$stages"
  touch "$stages/.complete"
  rm -rf "$bin/kwok-stages"
  mv "$stages" "$bin/kwok-stages"
}

case "$what" in
  apiserver) build_etcd; build_kube kube-apiserver ;;
  all) build_etcd; build_kube kube-apiserver kube-controller-manager kube-scheduler; build_kwok ;;
  *) echo "usage: $0 [apiserver|all]" >&2; exit 2 ;;
esac
echo "$bin"
