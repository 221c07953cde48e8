#!/usr/bin/env bash
# Installs the storage and SQL servers the backup tests run (tests/backupenv) and caches them by
# version outside the repository, so a fresh machine (and CI, on a fresh clone) gets them without
# any manual step and later runs reuse them. Prints on stdout, one line per server asked for, the
# path of the executable to run; progress goes to stderr.
#
#   hack/testservers.sh s3|azure|mysql|all
#     s3:    versitygw, built from the Go module proxy  -> <cache>/bin/versitygw-<v>/versitygw
#     azure: Azurite, installed from the npm registry   -> <cache>/npm/azurite-<v>/node_modules/.bin/azurite-blob
#     mysql: MariaDB from Debian's packages (apt-get, needs root or password-less sudo) -> mariadbd
#
# Each server has its own lock, so test binaries of several packages starting at once install
# it once while the others wait, and installing one server never waits for another.
set -euo pipefail

VERSITYGW_VERSION=${VERSITYGW_VERSION:-v1.8.0}
AZURITE_VERSION=${AZURITE_VERSION:-3.37.0}

cache=${TIDB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tidb-operator}
mkdir -p "$cache/locks"

log() { echo "testservers: $*" >&2; }

# with_lock NAME CMD...: runs CMD holding an exclusive lock on <cache>/locks/NAME.lock. flock on
# a file descriptor is released by the kernel if this script dies, so a killed install never
# leaves a stale lock behind.
with_lock() {
  local name=$1
  shift
  (
    exec 9>"$cache/locks/$name.lock"
    flock 9
    "$@"
  )
}

s3() {
  local dir="$cache/bin/versitygw-$VERSITYGW_VERSION"
  if [ ! -x "$dir/versitygw" ]; then
    with_lock "versitygw-$VERSITYGW_VERSION" build_versitygw "$dir"
  fi
  echo "$dir/versitygw"
}

build_versitygw() {
  local dir=$1
  [ -x "$dir/versitygw" ] && return 0 # another process built it while we waited
  log "building versitygw $VERSITYGW_VERSION from the Go module proxy (about a minute cold)…"
  local start=$SECONDS work
  mkdir -p "$dir"
  work=$(mktemp -d "$dir/.build.XXXXXX")
  # GOWORK=off: `go install pkg@version` must not see the repository's go.work. The binary is
  # moved into place only when complete, so a half-built file is never mistaken for a cache hit.
  GOWORK=off GOBIN="$work" go install -trimpath -ldflags='-s -w' \
    "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  mv "$work/versitygw" "$dir/versitygw"
  rm -rf "$work"
  log "versitygw $VERSITYGW_VERSION built in $((SECONDS - start))s"
}

azure() {
  local dir="$cache/npm/azurite-$AZURITE_VERSION"
  if [ ! -f "$dir/.complete" ]; then
    with_lock "azurite-$AZURITE_VERSION" install_azurite "$dir"
  fi
  echo "$dir/node_modules/.bin/azurite-blob"
}

install_azurite() {
  local dir=$1
  [ -f "$dir/.complete" ] && return 0
  command -v npm >/dev/null 2>&1 || { log "npm is not installed (apt-get install -y nodejs npm)"; return 1; }
  log "installing azurite $AZURITE_VERSION from the npm registry (about a minute cold)…"
  local start=$SECONDS work
  mkdir -p "$cache/npm"
  # Installed into a scratch folder beside the final one and renamed when complete: an
  # interrupted npm install leaves only a scratch folder, never a half-filled cache entry.
  # The .bin links npm makes are relative, so they survive the rename.
  work=$(mktemp -d "$cache/npm/.azurite-$AZURITE_VERSION.XXXXXX")
  chmod 755 "$work" # mktemp makes it private; the cache entry is not
  echo '{"name":"tidb-operator-testservers","private":true}' >"$work/package.json"
  # Azurite declares node >= 22 but runs on the machine's Node 20; npm only warns about that.
  (cd "$work" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error \
    "azurite@$AZURITE_VERSION" >&2)
  [ -x "$work/node_modules/.bin/azurite-blob" ] || { log "npm install left no azurite-blob"; return 1; }
  touch "$work/.complete"
  rm -rf "$dir"
  mv "$work" "$dir"
  log "azurite $AZURITE_VERSION installed in $((SECONDS - start))s"
}

find_mariadbd() {
  command -v mariadbd 2>/dev/null && return 0
  # /usr/sbin is not on every user's PATH.
  [ -x /usr/sbin/mariadbd ] && { echo /usr/sbin/mariadbd; return 0; }
  return 1
}

mysql() {
  if ! find_mariadbd >/dev/null; then
    with_lock mariadb-apt install_mariadb
  fi
  find_mariadbd
}

install_mariadb() {
  find_mariadbd >/dev/null && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      log "mariadbd is not installed and installing it needs root: run 'apt-get install -y mariadb-server' as root"
      return 1
    fi
  fi
  log "installing mariadb-server from Debian's packages (about half a minute cold)…"
  local start=$SECONDS
  # The package lists may be missing or stale on a fresh machine. Debian's packaged service is
  # not started here (no init system); the tests start their own mariadbd per test anyway.
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server >&2
  find_mariadbd >/dev/null || { log "mariadb-server installed but no mariadbd found"; return 1; }
  log "mariadb-server installed in $((SECONDS - start))s"
}

case "${1:-}" in
  s3) s3 ;;
  azure) azure ;;
  mysql) mysql ;;
  all) s3; azure; mysql ;;
  *) echo "usage: $0 s3|azure|mysql|all" >&2; exit 2 ;;
esac
