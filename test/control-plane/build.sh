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
# `build.sh kubelet` does the same for the kubelet, for the lab's real nodes: recorded in
# <cache>/control-plane/kubelet.json and gathered with the other node components by build-node.sh.
# `build.sh e2e-test` does the same for e2e.test, Kubernetes' own end-to-end suite of the same
# release (`go test -c k8s.io/kubernetes/test/e2e`), which `make e2e-upstream` runs against the
# lab: recorded in <cache>/control-plane/e2e-test.json. Long (tens of minutes on 2 cores), so it is
# a set of its own, in <version>/e2e-test/ with its own lock, that only that target builds.
# `build.sh agnhost` does the same for agnhost, Kubernetes' e2e test image program
# (test/images/agnhost of the same module, with the version its VERSION file holds), for the
# image test/images/build.sh makes: recorded in <cache>/control-plane/agnhost.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$here/versions.env"
# shellcheck source-path=SCRIPTDIR source=go-build-lib.sh
source "$here/go-build-lib.sh"
log_prefix=control-plane

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
  kubelet)
    names=(kubelet)
    stamp="$dest/kubelet.complete"
    current_json="$cache_root/kubelet.json" ;;
  e2e-test)
    # A directory (and so a lock) of its own: its long build never holds up the other sets.
    dest="$dest/e2e-test"
    bin_dir="$dest/bin"
    names=(e2e.test)
    stamp="$dest/complete"
    current_json="$cache_root/e2e-test.json" ;;
  agnhost)
    names=(agnhost)
    stamp="$dest/agnhost.complete"
    current_json="$cache_root/agnhost.json" ;;
  *) echo "control-plane: error: unknown set '$set_name' (control-plane, kube-proxy, kubelet, e2e-test or agnhost)" >&2; exit 2 ;;
esac

# Bump when the way the binaries are built changes, so caches built the old way are rebuilt.
recipe=1
recipe_key="recipe=$recipe kubernetes=$K8S_VERSION etcd=$ETCD_VERSION"

declare -A json_key=(
  [etcd]=etcd [kube-apiserver]=kubeApiserver [kube-controller-manager]=kubeControllerManager
  [kube-scheduler]=kubeScheduler [kubectl]=kubectl [kube-proxy]=kubeProxy [kubelet]=kubelet
  [e2e.test]=e2eTest [agnhost]=agnhost
)
in_set() {
  local name
  for name in "${names[@]}"; do [[ $name == "$1" ]] && return 0; done
  return 1
}
declare -A chosen=()

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
    e2e.test)
      out=$(timeout 20 "$path" --version 2>/dev/null) || return 0
      head -n1 <<<"$out" ;;
    agnhost)
      out=$(timeout 20 "$path" --version 2>/dev/null) || return 0
      sed -n 's/^app version *//p' <<<"$out" | head -n1 ;;
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

need_go "the control plane (see k8s.io/kubernetes@$K8S_VERSION's go.mod for the Go version)"
# The build we waited for may have finished everything.
if ! lock_cache cache_complete; then
  publish_cache
  exit 0
fi
rm -f "$stamp"

# The wrapper modules take their dependencies only from the Go module proxy, never from a
# workspace or vendor directory the caller happens to be in.
export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0

overall_start=$SECONDS
# Said first, so whoever ran `make demo-cluster` or `make test` knows the wait is expected.
note "building ${names[*]} $K8S_VERSION once into $dest: minutes, not seconds (about 7-15 min for the control plane, 20 more for e2e.test, on 2 cores); a progress line every 30 s"

# --- etcd: its own wrapper module, so its dependency versions are etcd's, not Kubernetes'. ---
etcd_module="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
etcd_wrapper="$dest/src/etcd"
if in_set etcd && ! is_built etcd; then
  note "resolving $etcd_module"
  etcd_go=$(module_go_version "$etcd_module")
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
# agnhost reports the version of its own VERSION file (its Makefile's LD_FLAGS), not the release's.
agnhost_version=""
if in_set agnhost; then
  agnhost_version=$(<"$(download_field "$k8s_module" Dir)/test/images/agnhost/VERSION")
fi
for name in "${names[@]}"; do
  case $name in
    etcd) ;;
    # Kubernetes builds its test binaries with the same tags and ldflags (hack/lib/golang.sh).
    # -vet=off: go test would otherwise vet every dependency first, which the release build skips.
    e2e.test) go_verb=test build_one "$name" k8s.io/kubernetes/test/e2e "$k8s_wrapper" "$k8s_tags" "$k8s_ldflags" -vet=off ;;
    agnhost)
      build_one agnhost k8s.io/kubernetes/test/images/agnhost "$k8s_wrapper" "$k8s_tags" \
        "$k8s_ldflags -X main.Version=$agnhost_version" ;;
    *) build_one "$name" "k8s.io/kubernetes/cmd/$name" "$k8s_wrapper" "$k8s_tags" "$k8s_ldflags" ;;
  esac
done

# Only binaries that report the pinned versions earn the stamp.
for name in "${names[@]}"; do
  version=$(reported_version "$name" "$bin_dir/$name")
  want=$K8S_VERSION
  [[ $name == etcd ]] && want=${ETCD_VERSION#v}
  [[ $name == agnhost ]] && want=$agnhost_version
  if [[ $version != "$want" ]]; then
    rm -f "$bin_dir/.$name.built"
    die "$bin_dir/$name reports '${version}', expected $want; see $dest/logs/$name.log"
  fi
done
echo "$recipe_key" >"$stamp"
rm -rf "$dest/tmp"

report_times "$overall_start" "${names[@]}"
publish_cache
