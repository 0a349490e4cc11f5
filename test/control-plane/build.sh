#!/usr/bin/env bash
# Makes the Kubernetes control plane the lab runs available: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl, all of the release pinned in versions.env.
#
# Where they come from, in this order:
#   1. $KUBEBUILDER_ASSETS, then PATH, when all five are there and report the pinned version
#      (etcd: any 3.5 or later).
#   2. A cache outside the repository, ${NEARBY_CACHE:-$HOME/.cache/nearby}/control-plane/<version>/bin,
#      built once from the releases' Go modules through throwaway wrapper modules kept in the cache.
#      Each binary is renamed into place only once its build has finished, and the stamp is written
#      only once all five are there and report the pinned version: a killed build resumes where it
#      stopped and is never taken for a finished one.
#
# Prints one NAME=PATH line per binary on stdout (progress goes to stderr), and writes
# <cache>/control-plane/current.json, which lab/control-plane/binaries.ts reads.
#
# `build.sh kube-proxy` does the same for kube-proxy alone, the peer the benchmarks measure
# nearby against: same release, same wrapper module, same flags, its own stamp, recorded in
# <cache>/control-plane/kube-proxy.json (read by test/bench/peers/kube-proxy-binary.ts). It is a
# set of its own so the lab's control plane never waits for a binary the lab does not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$here/versions.env"

cache_root="${NEARBY_CACHE:-${HOME:?set HOME or NEARBY_CACHE}/.cache/nearby}/control-plane"
dest="$cache_root/$K8S_VERSION"
bin_dir="$dest/bin"
set_name=${1:-control-plane}
case $set_name in
  control-plane)
    names=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)
    stamp="$dest/complete"
    current_json="$cache_root/current.json" ;;
  kube-proxy)
    names=(kube-proxy)
    stamp="$dest/kube-proxy.complete"
    current_json="$cache_root/kube-proxy.json" ;;
  *) echo "control-plane: error: unknown set '$set_name' (control-plane or kube-proxy)" >&2; exit 2 ;;
esac

# Bump when the way the binaries are built changes, so caches built the old way are rebuilt.
recipe=1
recipe_key="recipe=$recipe kubernetes=$K8S_VERSION etcd=$ETCD_VERSION"

declare -A json_key=(
  [etcd]=etcd [kube-apiserver]=kubeApiserver [kube-controller-manager]=kubeControllerManager
  [kube-scheduler]=kubeScheduler [kubectl]=kubectl [kube-proxy]=kubeProxy
)
in_set() {
  local name
  for name in "${names[@]}"; do [[ $name == "$1" ]] && return 0; done
  return 1
}
declare -A chosen=()

note() { echo "control-plane: $*" >&2; }
die() { echo "control-plane: error: $*" >&2; exit 1; }

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# What a binary says its version is (v1.36.3, or 3.6.8 for etcd); empty when it cannot say.
reported_version() {
  local name=$1 path=$2 out
  case $name in
    etcd)
      out=$(timeout 20 "$path" --version 2>/dev/null) || return 0
      sed -n 's/^etcd Version: *//p' <<<"$out" | head -n1 ;;
    kubectl)
      out=$(timeout 20 "$path" version --client 2>/dev/null) || return 0
      sed -n 's/^Client Version: *//p' <<<"$out" | head -n1 ;;
    *)
      out=$(timeout 20 "$path" --version 2>/dev/null) || return 0
      sed -n 's/^Kubernetes *//p' <<<"$out" | head -n1 ;;
  esac
}

# Whether an installed binary may stand in for ours: the pinned Kubernetes release exactly, and
# for etcd any 3.5 or later, the storage API every supported kube-apiserver speaks.
acceptable_installed() {
  local name=$1 version=$2
  case $name in
    etcd) [[ $version =~ ^3\.([5-9]|[1-9][0-9])\.[0-9]+$ ]] ;;
    *) [[ $version == "$K8S_VERSION" ]] ;;
  esac
}

# $KUBEBUILDER_ASSETS first: it is set on purpose, PATH is whatever the machine has.
find_installed() {
  local name=$1
  if [[ -n ${KUBEBUILDER_ASSETS:-} && -x $KUBEBUILDER_ASSETS/$name ]]; then
    echo "$KUBEBUILDER_ASSETS/$name"
    return
  fi
  command -v "$name" 2>/dev/null || true
}

# Rule 1. Looks for all five before running any, so the usual case (not installed) costs nothing.
use_installed() {
  local name path version
  declare -A found=()
  for name in "${names[@]}"; do
    path=$(find_installed "$name")
    [[ -n $path ]] || return 1
    found[$name]=$path
  done
  for name in "${names[@]}"; do
    version=$(reported_version "$name" "${found[$name]}")
    if ! acceptable_installed "$name" "$version"; then
      note "${found[$name]} reports ${version:-no version}, not the pinned one; falling back to the cache"
      return 1
    fi
  done
  for name in "${names[@]}"; do chosen[$name]=${found[$name]}; done
  installed_etcd_version=""
  if in_set etcd; then installed_etcd_version=$(reported_version etcd "${found[etcd]}"); fi
  return 0
}

cache_complete() {
  [[ -f $stamp && $(<"$stamp") == "$recipe_key" ]] || return 1
  local name
  for name in "${names[@]}"; do [[ -x $bin_dir/$name ]] || return 1; done
}

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# Tells other tools where the binaries are: NAME=PATH lines, and current.json for TypeScript.
publish() {
  local source=$1 etcd_version=$2 name dir common_dir=""
  for name in "${names[@]}"; do
    dir=$(dirname "${chosen[$name]}")
    if [[ -z $common_dir ]]; then common_dir=$dir; elif [[ $common_dir != "$dir" ]]; then common_dir=none; fi
  done
  local bin_dir_json
  if [[ $common_dir == none ]]; then bin_dir_json=null; else bin_dir_json=$(json_string "$common_dir"); fi

  mkdir -p "$cache_root"
  local tmp="$current_json.$$.tmp"
  {
    echo "{"
    echo "  \"version\": $(json_string "$K8S_VERSION"),"
    if in_set etcd; then echo "  \"etcdVersion\": $(json_string "$etcd_version"),"; fi
    echo "  \"source\": $(json_string "$source"),"
    echo "  \"binDir\": $bin_dir_json,"
    local i last=$((${#names[@]} - 1))
    for i in "${!names[@]}"; do
      name=${names[$i]}
      printf '  "%s": %s%s\n' "${json_key[$name]}" "$(json_string "${chosen[$name]}")" "$([[ $i == "$last" ]] || echo ,)"
    done
    echo "}"
  } >"$tmp"
  mv -f "$tmp" "$current_json"

  for name in "${names[@]}"; do echo "$name=${chosen[$name]}"; done
}

publish_cache() {
  local name
  for name in "${names[@]}"; do chosen[$name]=$bin_dir/$name; done
  publish cache "${ETCD_VERSION#v}"
}

if use_installed; then
  publish installed "$installed_etcd_version"
  exit 0
fi
if cache_complete; then
  publish_cache
  exit 0
fi

# ---- Rule 2: build into the cache. Everything below runs only when something is missing. ----

# Go's own installer puts it in /usr/local/go, which a non-login shell may not have on PATH.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || die "Go is needed to build the control plane from its Go modules; install Go (see k8s.io/kubernetes@$K8S_VERSION's go.mod for the version) and run 'make control-plane' again"

mkdir -p "$bin_dir" "$dest/logs"
# The lock is inherited by `go build`, so even a build orphaned by a killed run is waited for.
exec 9>"$dest/.lock"
if ! flock -n 9; then
  note "another build of $K8S_VERSION is under way; waiting for it"
  flock 9
fi
# The build we waited for may have finished everything.
if cache_complete; then
  publish_cache
  exit 0
fi
# An interrupted `go build` leaves its work directory behind; keeping them in the cache lets the
# next run clear them.
rm -rf "$stamp" "$bin_dir"/.*.partial "$dest/tmp"
mkdir -p "$dest/tmp"

# The wrapper modules take their dependencies only from the Go module proxy, never from a
# workspace or vendor directory the caller happens to be in.
export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOTMPDIR="$dest/tmp"

build_pid=""
stop_build() {
  if [[ -n $build_pid ]]; then kill -TERM -- "-$build_pid" 2>/dev/null || true; fi
}
trap 'stop_build; exit 130' INT
trap 'stop_build; exit 143' TERM
trap 'stop_build' EXIT

# The file a `go mod download -json` field names, e.g. GoMod or Info.
download_field() {
  local module=$1 field=$2
  (cd "$dest" && go mod download -json "$module") | sed -n "s/^[[:space:]]*\"$field\": \"\\(.*\\)\",\$/\\1/p"
}

# The release time recorded by the module proxy: a reproducible stand-in for a build date.
release_time() {
  sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(download_field "$1" Info)"
}

# Writes a wrapper module's go.mod; go.sum is kept between runs so it is filled in only once.
write_wrapper() {
  local dir=$1 content=$2
  mkdir -p "$dir"
  printf '%s\n' "$content" >"$dir/go.mod"
}

overall_start=$SECONDS
declare -A took=()
# Said first, so whoever ran `make demo-cluster` or `make test` knows the wait is expected.
note "building ${names[*]} $K8S_VERSION once into $dest: minutes, not seconds (about 7-15 min for the control plane on 2 cores); a progress line every 30 s"

is_built() {
  [[ -x $bin_dir/$1 && -f $bin_dir/.$1.built && $(<"$bin_dir/.$1.built") == "$recipe_key" ]]
}

# Builds one command in its own process group, so an interrupted run stops the compilers too.
# The output appears under its real name only when `go build` succeeded.
build_one() {
  local name=$1 package=$2 workdir=$3 tags=$4 ldflags=$5
  local out="$bin_dir/$name" built="$bin_dir/.$name.built" partial="$bin_dir/.$name.partial"
  local log="$dest/logs/$name.log"
  if is_built "$name"; then
    note "$name: built by an earlier run"
    return
  fi
  rm -f "$built"
  local start=$SECONDS last_report=$SECONDS
  note "building $name ($package)"
  (cd "$workdir" && exec setsid go build -mod=mod -p 2 -v -trimpath -tags "$tags" -ldflags "$ldflags" -o "$partial" "$package") \
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

# --- etcd: its own wrapper module, so its dependency versions are etcd's, not Kubernetes'. ---
etcd_module="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
etcd_wrapper="$dest/src/etcd"
if in_set etcd && ! is_built etcd; then
  note "resolving $etcd_module"
  etcd_go=$(sed -n 's/^go \(.*\)$/\1/p' "$(download_field "$etcd_module" GoMod)")
  write_wrapper "$etcd_wrapper" "// Generated by nearby's test/control-plane/build.sh; safe to delete.
module nearby.local/control-plane/etcd

go $etcd_go

require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
fi
if in_set etcd; then
  build_one etcd go.etcd.io/etcd/server/v3 "$etcd_wrapper" "" \
    "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=go-module-$ETCD_VERSION"
fi

# --- Kubernetes: k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
# directories of its own repository; outside that repository they must be replaced with their
# published v0.<minor>.<patch> releases instead. ---
k8s_module="k8s.io/kubernetes@$K8S_VERSION"
k8s_wrapper="$dest/src/kubernetes"
[[ $K8S_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "K8S_VERSION=$K8S_VERSION in versions.env is not a v1.<minor>.<patch> release"
k8s_minor=${BASH_REMATCH[1]}
k8s_patch=${BASH_REMATCH[2]}
staging_version="v0.$k8s_minor.$k8s_patch"

need_k8s=false
for name in "${names[@]}"; do
  [[ $name == etcd ]] || is_built "$name" || need_k8s=true
done
build_date=1970-01-01T00:00:00Z
if $need_k8s; then
  note "resolving $k8s_module"
  k8s_gomod=$(download_field "$k8s_module" GoMod)
  build_date=$(release_time "$k8s_module")
  k8s_go=$(sed -n 's/^go \(.*\)$/\1/p' "$k8s_gomod")
  k8s_godebug=$(grep '^godebug ' "$k8s_gomod" || true)
  staging_modules=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$k8s_gomod")
  [[ -n $staging_modules ]] || die "found no staging replace lines in $k8s_gomod; its layout changed"
  replaces=""
  for module in $staging_modules; do replaces+=$'\t'"$module => $module $staging_version"$'\n'; done
  write_wrapper "$k8s_wrapper" "// Generated by nearby's test/control-plane/build.sh; safe to delete.
module nearby.local/control-plane/kubernetes

go $k8s_go

$k8s_godebug

require k8s.io/kubernetes $K8S_VERSION

replace (
$replaces)"
  note "$(wc -w <<<"$staging_modules") staging modules mapped to $staging_version"
fi

# The same ldflags Kubernetes' hack/lib/version.sh passes, so --version reports the release.
k8s_ldflags="-s -w"
for version_package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $version_package.gitVersion=$K8S_VERSION"
  k8s_ldflags+=" -X $version_package.gitMajor=1 -X $version_package.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $version_package.gitTreeState=clean -X $version_package.buildDate=$build_date"
  k8s_ldflags+=" -X $version_package.gitCommit="
done
# The tags Kubernetes' own release builds use (hack/lib/golang.sh).
k8s_tags="selinux,notest,grpcnotrace"
for name in "${names[@]}"; do
  [[ $name == etcd ]] && continue
  build_one "$name" "k8s.io/kubernetes/cmd/$name" "$k8s_wrapper" "$k8s_tags" "$k8s_ldflags"
done

# Only binaries that report the pinned versions earn the stamp.
for name in "${names[@]}"; do
  version=$(reported_version "$name" "$bin_dir/$name")
  want=$K8S_VERSION
  [[ $name == etcd ]] && want=${ETCD_VERSION#v}
  if [[ $version != "$want" ]]; then
    rm -f "$bin_dir/.$name.built"
    die "$bin_dir/$name reports '${version}', expected $want; see $dest/logs/$name.log"
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
publish_cache
