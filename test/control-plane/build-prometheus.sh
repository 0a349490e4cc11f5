#!/usr/bin/env bash
# Makes the Prometheus the lab runs (`nearbyctl lab up --control-plane --prometheus`) and the
# promtool that tests deploy/prometheus/ rules available: the release pinned in prometheus.env.
#
# Where they come from, in this order:
#   1. PATH, when both prometheus and promtool there report the pinned version.
#   2. A cache outside the repository, ${NEARBY_CACHE:-$HOME/.cache/nearby}/prometheus/<version>/bin,
#      built once from the release's Go module (github.com/prometheus/prometheus) through a
#      throwaway wrapper module kept in the cache. Only Kubernetes service discovery is compiled in
#      (Prometheus' own remove_all_sd / enable_kubernetes_sd build tags): the lab needs nothing else
#      and the cloud SDKs would triple the build. Without the builtinassets tag the web UI's static
#      files (built with npm, not part of the Go module) are absent; the HTTP API is complete.
#      Each binary is renamed into place only once its build has finished, and the stamp is written
#      only once both report the pinned version: a killed build is never taken for a finished one.
#
# Prints PROMETHEUS=PATH and PROMTOOL=PATH on stdout (progress goes to stderr), and writes
# <cache>/prometheus/current.json, which lab/prometheus reads.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=prometheus.env
source "$here/prometheus.env"

cache_root="${NEARBY_CACHE:-${HOME:?set HOME or NEARBY_CACHE}/.cache/nearby}/prometheus"
dest="$cache_root/$PROMETHEUS_VERSION"
bin_dir="$dest/bin"
stamp="$dest/complete"
current_json="$cache_root/current.json"
names=(prometheus promtool)

# Bump when the way the binaries are built changes, so caches built the old way are rebuilt.
recipe=1
recipe_key="recipe=$recipe prometheus=$PROMETHEUS_MODULE_VERSION"

note() { echo "prometheus: $*" >&2; }
die() { echo "prometheus: error: $*" >&2; exit 1; }
duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# What a binary says its version is (3.16.0); empty when it cannot say.
reported_version() {
  local out
  out=$(timeout 20 "$1" --version 2>&1) || return 0
  sed -n 's/^[a-z]*, version \([^ ]*\) .*/\1/p' <<<"$out" | head -n1
}

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

publish() {
  local source=$1 prometheus=$2 promtool=$3
  mkdir -p "$cache_root"
  local tmp="$current_json.$$.tmp"
  printf '{\n  "version": %s,\n  "source": %s,\n  "prometheus": %s,\n  "promtool": %s\n}\n' \
    "$(json_string "$PROMETHEUS_VERSION")" "$(json_string "$source")" \
    "$(json_string "$prometheus")" "$(json_string "$promtool")" >"$tmp"
  mv -f "$tmp" "$current_json"
  echo "PROMETHEUS=$prometheus"
  echo "PROMTOOL=$promtool"
}

cache_complete() {
  [[ -f $stamp && $(<"$stamp") == "$recipe_key" && -x $bin_dir/prometheus && -x $bin_dir/promtool ]]
}

use_installed() {
  local name path
  declare -A found=()
  for name in "${names[@]}"; do
    path=$(command -v "$name" 2>/dev/null || true)
    [[ -n $path ]] || return 1
    local version
    version=$(reported_version "$path")
    if [[ $version != "$PROMETHEUS_VERSION" ]]; then
      note "$path reports ${version:-no version}, not $PROMETHEUS_VERSION; falling back to the cache"
      return 1
    fi
    found[$name]=$path
  done
  publish installed "${found[prometheus]}" "${found[promtool]}"
}

if use_installed; then exit 0; fi
if cache_complete; then
  publish cache "$bin_dir/prometheus" "$bin_dir/promtool"
  exit 0
fi

# ---- Build into the cache. Everything below runs only when the cache is missing or stale. ----

# Go's own installer puts it in /usr/local/go, which a non-login shell may not have on PATH.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || die "Go is needed to build Prometheus from its Go module; install Go (see github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION's go.mod for the version) and run 'make prometheus' again"

mkdir -p "$bin_dir" "$dest/logs"
# The lock is inherited by `go build`, so even a build orphaned by a killed run is waited for.
exec 9>"$dest/.lock"
if ! flock -n 9; then
  note "another build of Prometheus $PROMETHEUS_VERSION is under way; waiting for it"
  flock 9
fi
if cache_complete; then
  publish cache "$bin_dir/prometheus" "$bin_dir/promtool"
  exit 0
fi
rm -rf "$stamp" "$bin_dir"/.*.partial "$dest/tmp"
mkdir -p "$dest/tmp"

# The wrapper module takes its dependencies only from the Go module proxy, never from a workspace
# or vendor directory the caller happens to be in. CGO off, as Prometheus' release builds (netgo).
export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOTMPDIR="$dest/tmp"

build_pid=""
stop_build() {
  if [[ -n $build_pid ]]; then kill -TERM -- "-$build_pid" 2>/dev/null || true; fi
}
trap 'stop_build; exit 130' INT
trap 'stop_build; exit 143' TERM
trap 'stop_build' EXIT

module="github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION"
wrapper="$dest/src"
note "resolving $module"
download=$(cd "$dest" && go mod download -json "$module")
gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$download")
info=$(sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p' <<<"$download")
[[ -f $gomod ]] || die "go mod download $module gave no go.mod"
go_version=$(sed -n 's/^go \(.*\)$/\1/p' "$gomod")
# The release time the module proxy records: a reproducible stand-in for a build date.
build_date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
mkdir -p "$wrapper"
printf '%s\n' "// Generated by nearby's test/control-plane/build-prometheus.sh; safe to delete.
module nearby.local/prometheus

go $go_version

require github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION" >"$wrapper/go.mod"

# The ldflags Prometheus' .promu.yml passes, so --version reports the release.
ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Revision=go-module-$PROMETHEUS_MODULE_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Branch=HEAD"
ldflags+=" -X github.com/prometheus/common/version.BuildUser=nearby"
ldflags+=" -X github.com/prometheus/common/version.BuildDate=$build_date"
tags="netgo,remove_all_sd,enable_kubernetes_sd"

overall_start=$SECONDS
declare -A took=()
is_built() {
  [[ -x $bin_dir/$1 && -f $bin_dir/.$1.built && $(<"$bin_dir/.$1.built") == "$recipe_key" ]]
}

build_one() {
  local name=$1 package=$2
  local out="$bin_dir/$name" built="$bin_dir/.$name.built" partial="$bin_dir/.$name.partial"
  local log="$dest/logs/$name.log"
  if is_built "$name"; then
    note "$name: built by an earlier run"
    return
  fi
  rm -f "$built"
  local start=$SECONDS last_report=$SECONDS
  note "building $name ($package); log: $log"
  # Its own process group, so an interrupted run stops the compilers too.
  (cd "$wrapper" && exec setsid go build -mod=mod -p 2 -v -trimpath -tags "$tags" -ldflags "$ldflags" -o "$partial" "$package") \
    >"$log" 2>&1 &
  build_pid=$!
  while kill -0 "$build_pid" 2>/dev/null; do
    sleep 1 &
    wait $! || true
    if ((SECONDS - last_report >= 30)); then
      last_report=$SECONDS
      note "  $name: $(duration $((SECONDS - start))) so far, $(grep -cv '^go: ' "$log" || true) packages compiled"
    fi
  done
  local status=0
  wait "$build_pid" || status=$?
  build_pid=""
  if ((status != 0)); then
    tail -n 40 "$log" >&2
    die "building $name failed (exit $status); full log: $log"
  fi
  mv -f "$partial" "$out"
  echo "$recipe_key" >"$built"
  took[$name]=$((SECONDS - start))
  note "built $name in $(duration "${took[$name]}")"
}

build_one prometheus github.com/prometheus/prometheus/cmd/prometheus
build_one promtool github.com/prometheus/prometheus/cmd/promtool

for name in "${names[@]}"; do
  version=$(reported_version "$bin_dir/$name")
  if [[ $version != "$PROMETHEUS_VERSION" ]]; then
    rm -f "$bin_dir/.$name.built"
    die "$bin_dir/$name reports '$version', expected $PROMETHEUS_VERSION; see $dest/logs/$name.log"
  fi
done
echo "$recipe_key" >"$stamp"
rm -rf "$dest/tmp"

if ((${#took[@]} > 0)); then
  for name in "${names[@]}"; do
    [[ -n ${took[$name]:-} ]] && note "  $name: $(duration "${took[$name]}")"
  done
  note "  total: $(duration $((SECONDS - overall_start)))"
fi
publish cache "$bin_dir/prometheus" "$bin_dir/promtool"
