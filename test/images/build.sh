#!/usr/bin/env bash
# Builds the container images a real lab node runs (issue 17) on this machine, with no registry:
# Debian root filesystems from mmdebstrap, images made and the real Dockerfile built by buildah
# (chroot isolation, host network, --pull=never), each exported as a docker-archive tarball that
# `ctr -n k8s.io images import` loads under the name the manifests use (images.env).
#
#   pause      registry.k8s.io/pause of the pinned Kubernetes release: its build/pause/linux/pause.c
#              compiled with gcc -static into an image from scratch; also tagged PAUSE_ALIAS
#   bases      node:20-bookworm and node:20-bookworm-slim, the Dockerfile's FROM lines, from
#              DEBIAN_SUITE (Node 20); kept in the image store only, never exported
#   agent      the repository's Dockerfile, tagged $NEARBY_AGENT_IMAGE (the Makefile passes
#              ghcr.io/nearby-lb/nearby-agent:<package.json version>), smoke-checked
#   samples    istio/examples-helloworld-v1 and -v2 (lab/images/helloworld.ts on the slim base)
#              and curlimages/curl (Debian's curl and coreutils)
#   agnhost    Kubernetes' e2e image: `build.sh agnhost` of the same release on a Debian base with
#              the tools its Dockerfile installs
#   coredns    the cluster DNS: the CoreDNS binary `make coredns` builds (coredns.env) in an image
#              from scratch, under kubeadm's image name
#
# Usage: build.sh [pause|bases|agent|samples|agnhost|coredns]...   (none: all of them, in that order)
# Everything lives in ${NEARBY_CACHE:-$HOME/.cache/nearby}/images: the buildah store (storage/),
# the archives (archives/), one log per step (logs/), and per step a marker (built/<step>) that is
# written only when the step finished and holds its inputs' key, so a finished step is reused and
# a killed one is redone. Prints one IMAGE=ARCHIVE line per exported image on stdout (progress
# goes to stderr) and writes images/current.json. Needs root (mmdebstrap, buildah's chroot).
set -euo pipefail

here="$(cd "${BASH_SOURCE[0]%/*}" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=images.env
source "$here/images.env"
# shellcheck source-path=SCRIPTDIR source=../control-plane/versions.env
source "$repo/test/control-plane/versions.env"
# shellcheck source-path=SCRIPTDIR source=../control-plane/coredns.env
source "$repo/test/control-plane/coredns.env"
# shellcheck source-path=SCRIPTDIR source=../control-plane/go-build-lib.sh
source "$repo/test/control-plane/go-build-lib.sh"
log_prefix=images

dest="${NEARBY_CACHE:-${HOME:?set HOME or NEARBY_CACHE}/.cache/nearby}/images"
archives="$dest/archives"
markers="$dest/built"
current_json="$dest/current.json"
# buildah's run state: lock files and mount records that must not outlive a reboot.
runroot=/run/nearby-images
# Bump when the way the images are made changes, so images made the old way are made again.
recipe=1

[[ $(id -u) == 0 ]] || die "needs root: mmdebstrap and buildah's chroot isolation run as root"
for tool in mmdebstrap buildah gcc; do
  command -v "$tool" >/dev/null || die "$tool is missing; \`make images\` installs it (IMAGE_APT_PKGS)"
done

steps=("$@")
((${#steps[@]} > 0)) || steps=(pause bases agent samples agnhost coredns)
for step in "${steps[@]}"; do
  case $step in
    pause | bases | agent | samples | agnhost | coredns) ;;
    *) die "unknown step '$step' (pause, bases, agent, samples, agnhost or coredns)" ;;
  esac
done
wants() {
  local step
  for step in "${steps[@]}"; do [[ $step == "$1" ]] && return 0; done
  return 1
}
# The Dockerfile and the samples stand on the Node bases.
if wants agent || wants samples; then wants bases || steps=(bases "${steps[@]}"); fi
if wants agent; then : "${NEARBY_AGENT_IMAGE:?set NEARBY_AGENT_IMAGE (make images passes \$(IMAGE):\$(VERSION))}"; fi

bh_args=(--root "$dest/storage" --runroot "$runroot" --storage-driver overlay)
bh() { buildah "${bh_args[@]}" "$@"; }

# The file an image is exported to: its name with / and : made safe.
archive_of() {
  local name=${1//\//_}
  echo "$archives/${name//:/_}.tar"
}

# Runs one long command in its own process group with its output in logs/<name>.log and a
# progress line every 30 s; dies with the log's tail when it fails.
run_logged() {
  local name=$1 log="$dest/logs/$1.log" start=$SECONDS last_report=$SECONDS status=0
  shift
  note "  $name: log: $log"
  setsid nice -n 15 "$@" >"$log" 2>&1 &
  build_pid=$!
  while kill -0 "$build_pid" 2>/dev/null; do
    sleep 1 &
    wait $! || true
    if ((SECONDS - last_report >= 30)); then
      last_report=$SECONDS
      note "  $name: $(duration $((SECONDS - start))) so far: $(tail -n1 "$log" | cut -c1-100)"
    fi
  done
  wait "$build_pid" || status=$?
  build_pid=""
  if ((status != 0)); then
    tail -n 40 "$log" >&2
    die "$name failed (exit $status); full log: $log"
  fi
}

# Exports an image to its archive under its own name; the archive appears only when complete.
export_image() {
  local image=$1 archive
  archive=$(archive_of "$image")
  rm -f "$archive.partial"
  bh push --quiet "$image" "docker-archive:$archive.partial:$image" >/dev/null
  # The name beside the archive, for current.json (an archive's own tag drops docker.io/).
  echo "$image" >"$archive.name"
  mv -f "$archive.partial" "$archive"
}

image_exists() { bh inspect --type image "$1" >/dev/null 2>&1; }
image_id() { bh inspect --type image --format '{{.FromImageID}}' "$1"; }

# A step is current when its marker holds its key and what it made is still there.
declare -A step_images=()
step_current() {
  local step=$1 key=$2 image
  [[ -f $markers/$step && $(<"$markers/$step") == "$key" ]] || return 1
  for image in ${step_images[$step]}; do
    image_exists "$image" || return 1
    [[ $step == bases || -f $(archive_of "$image") ]] || return 1
  done
}

declare -A took=()
# Runs step function $2 unless the step is current with key $3; stamps it when it finished.
run_step() {
  local step=$1 fn=$2 key=$3 start=$SECONDS
  if step_current "$step" "$key"; then
    note "$step: made by an earlier run"
    return
  fi
  rm -f "$markers/$step"
  note "$step: making ${step_images[$step]}"
  "$fn"
  echo "$key" >"$markers/$step"
  took[$step]=$((SECONDS - start))
  note "$step: done in $(duration "${took[$step]}")"
}

# The Kubernetes module's source (pause.c, the e2e image list), from the Go module cache.
k8s_source() {
  need_go "the Kubernetes module's source"
  download_field "k8s.io/kubernetes@$K8S_VERSION" Dir
}

# The pins in images.env must be what the pinned release itself uses; a Kubernetes bump that
# changes them stops here instead of building images the kubelet and e2e tests never ask for.
check_pins() {
  local src=$1 manifest pause agnhost
  manifest="$src/test/utils/image/manifest.go"
  pause=$(sed -n 's/.*configs\[Pause\] = Config{[^,]*, "pause", "\([^"]*\)"}.*/\1/p' "$manifest")
  agnhost=$(sed -n 's/.*configs\[Agnhost\] = Config{[^,]*, "agnhost", "\([^"]*\)"}.*/\1/p' "$manifest")
  [[ $PAUSE_IMAGE == "registry.k8s.io/pause:$pause" ]] ||
    die "images.env has PAUSE_IMAGE=$PAUSE_IMAGE but Kubernetes $K8S_VERSION uses pause:$pause ($manifest)"
  [[ $AGNHOST_IMAGE == "registry.k8s.io/e2e-test-images/agnhost:$agnhost" ]] ||
    die "images.env has AGNHOST_IMAGE=$AGNHOST_IMAGE but Kubernetes $K8S_VERSION uses agnhost:$agnhost ($manifest)"
}

image_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) uname -m ;;
  esac
}
default_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The steps that fetch over TLS (npm) trust what the host trusts: its CA bundle is mounted over the
# image's for those steps only, so a TLS-intercepting proxy the host is set up for works, and none
# of it lands in an image (make_agent checks).
host_ca=${NEARBY_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
image_ca=/etc/ssl/certs/ca-certificates.crt
ca_mount=()
[[ -f $host_ca ]] && ca_mount=(-v "$host_ca:$image_ca:ro")

# ---- pause ----
make_pause() {
  local src=$k8s_src/build/pause/linux/pause.c tag=${PAUSE_IMAGE##*:} c
  # The flags of build/pause/Makefile; VERSION names the module the source came from.
  gcc -Os -Wall -Werror -static "-DVERSION=v$tag-go-module-$K8S_VERSION" -o "$dest/bin/.pause.partial" "$src"
  strip "$dest/bin/.pause.partial"
  mv -f "$dest/bin/.pause.partial" "$dest/bin/pause"
  c=$(bh from --quiet scratch)
  bh copy --quiet "$c" "$dest/bin/pause" /pause >/dev/null
  # As build/pause/Dockerfile: USER 65535:65535, ENTRYPOINT ["/pause"].
  bh config --os linux --arch "$(image_arch)" --user 65535:65535 --entrypoint '["/pause"]' "$c"
  bh commit --quiet --rm "$c" "$PAUSE_IMAGE" >/dev/null
  bh tag "$PAUSE_IMAGE" "$PAUSE_ALIAS"
  export_image "$PAUSE_IMAGE"
  export_image "$PAUSE_ALIAS"
}

# ---- Debian root filesystems ----
# Docs, man pages and translations are left out as Docker's slim images do, for later installs too
# (the dpkg settings stay in the image).
slim_dpkg=(
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
)
# What the build stage's FROM offers beyond Node: what npm packages' install scripts expect of
# node:20-bookworm (a compiler, make, git, curl, CA certificates).
build_base_packages=nodejs,npm,ca-certificates,curl,git,make,g++,libc6-dev
runtime_base_packages=nodejs,ca-certificates
tools_packages=ca-certificates,curl,iproute2,netcat-openbsd,bind9-dnsutils,util-linux,procps

# mmdebstrap's minbase (essential packages and apt) plus $2, as the tarball tmp/$1.tar;
# mmdebstrap's own apt setting against recommends is used while building, then removed, so apt in
# the image behaves as in Docker's Debian images. Not run in a subshell: an interrupted run must
# still find and stop mmdebstrap.
debian_rootfs() {
  local name=$1 packages=$2
  shift 2
  rm -f "$dest/tmp/$name.tar"
  run_logged "mmdebstrap-$name" mmdebstrap --variant=minbase --include="$packages" \
    --aptopt='APT::Install-Recommends "false"' "$@" \
    --customize-hook='rm -f "$1/etc/apt/apt.conf.d/99mmdebstrap"' \
    "$DEBIAN_SUITE" "$dest/tmp/$name.tar" "$DEBIAN_MIRROR"
}

# A working container whose only layer is the root filesystem tmp/$1.tar; $2... are buildah
# config options. Prints the container's name.
rootfs_container() {
  local tarball=$dest/tmp/$1.tar c
  shift
  c=$(bh from --quiet scratch)
  bh add --quiet "$c" "$tarball" / >/dev/null
  bh config --os linux --arch "$(image_arch)" --env "PATH=$default_path" "$@" "$c"
  rm -f "$tarball"
  echo "$c"
}

# Each base carries the key it was made with as a label, so a change to one remakes only that one.
build_base_key="recipe=$recipe suite=$DEBIAN_SUITE packages=$build_base_packages npm=$NODE_BUILD_NPM"
runtime_base_key="recipe=$recipe suite=$DEBIAN_SUITE packages=$runtime_base_packages slim"
base_label=io.nearby.base-key
base_current() {
  [[ $(bh inspect --type image --format "{{index .OCIv1.Config.Labels \"$base_label\"}}" "$1" 2>/dev/null) == "$2" ]]
}

make_bases() {
  local c
  if base_current "$NODE_BUILD_BASE" "$build_base_key"; then
    note "  $NODE_BUILD_BASE: made by an earlier run"
  else
    debian_rootfs node-build "$build_base_packages"
    c=$(rootfs_container node-build --cmd '["node"]' --label "$base_label=$build_base_key")
    # Debian's npm (9.2) cannot read this repository's lockfile (an override aliased with npm:);
    # node:20 images ship the npm of Node's own release, which Debian's npm installs here.
    run_logged npm-install buildah "${bh_args[@]}" run --isolation chroot "${ca_mount[@]}" "$c" -- \
      npm install --global --no-audit --no-fund "npm@$NODE_BUILD_NPM"
    [[ $(bh run --isolation chroot "$c" -- npm --version) == "$NODE_BUILD_NPM" ]] ||
      die "npm in $NODE_BUILD_BASE is not $NODE_BUILD_NPM after installing it; see $dest/logs/npm-install.log"
    bh commit --quiet --rm "$c" "$NODE_BUILD_BASE" >/dev/null
  fi
  if base_current "$NODE_RUNTIME_BASE" "$runtime_base_key"; then
    note "  $NODE_RUNTIME_BASE: made by an earlier run"
  else
    debian_rootfs node-runtime "$runtime_base_packages" "${slim_dpkg[@]}"
    c=$(rootfs_container node-runtime --cmd '["node"]' --label "$base_label=$runtime_base_key")
    bh commit --quiet --rm "$c" "$NODE_RUNTIME_BASE" >/dev/null
  fi
}

# ---- the agent ----
# Runs a command in a throwaway container of an image; its output goes to stdout.
in_image() {
  local image=$1 c status=0
  shift
  c=$(bh from --quiet --pull=never "$image")
  bh run --isolation chroot "$c" -- "$@" || status=$?
  bh rm "$c" >/dev/null
  return "$status"
}

make_agent() {
  # The Dockerfile's build context minus .dockerignore, as Docker would send it; --pull=never makes
  # a missing base an error rather than a registry lookup.
  run_logged agent-bud buildah "${bh_args[@]}" bud --pull=never --isolation chroot --network host "${ca_mount[@]}" \
    -f "$repo/Dockerfile" -t "$NEARBY_AGENT_IMAGE" "$repo"
  note "  agent: node $(in_image "$NEARBY_AGENT_IMAGE" node --version)"
  in_image "$NEARBY_AGENT_IMAGE" test -f dist/cmd/agent.js || die "the agent image has no dist/cmd/agent.js"
  in_image "$NEARBY_AGENT_IMAGE" node dist/cmd/agent.js --help >"$dest/logs/agent-help.log" 2>&1 ||
    die "node dist/cmd/agent.js --help failed in the agent image; see $dest/logs/agent-help.log"
  note "  agent: dist/cmd/agent.js --help: $(head -n1 "$dest/logs/agent-help.log")"
  [[ $(in_image "$NEARBY_AGENT_IMAGE" sha256sum $image_ca) == "$(in_image "$NODE_RUNTIME_BASE" sha256sum $image_ca)" ]] ||
    die "the agent image's $image_ca is not its base's: the build-time CA bundle leaked into it"
  export_image "$NEARBY_AGENT_IMAGE"
}

# ---- the samples ----
# lab/images/helloworld.ts is the lab's stand-in for Istio's helloworld; compiled alone to an ES
# module (it imports only node:), it is what the image runs.
compile_helloworld() {
  local out=$dest/tmp/helloworld
  rm -rf "$out"
  (cd "$repo" && npx tsc --module es2022 --target es2022 --moduleResolution bundler --types node --strict \
    --outDir "$out" lab/images/helloworld.ts)
  mv "$out/helloworld.js" "$out/helloworld.mjs"
  echo "$out/helloworld.mjs"
}

make_samples() {
  local program version image c
  program=$(compile_helloworld)
  for version in v1 v2; do
    image=HELLOWORLD_${version^^}_IMAGE
    image=${!image}
    c=$(bh from --quiet --pull=never "$NODE_RUNTIME_BASE")
    bh copy --quiet "$c" "$program" /opt/helloworld/helloworld.mjs >/dev/null
    # The real image sets SERVICE_VERSION to its version; a pod's env overrides it.
    bh config --env "SERVICE_VERSION=$version" --port 5000 --workingdir /opt/helloworld \
      --cmd '[]' --entrypoint '["node", "/opt/helloworld/helloworld.mjs"]' "$c"
    bh commit --quiet --rm "$c" "$image" >/dev/null
    export_image "$image"
  done
  debian_rootfs curl ca-certificates,curl "${slim_dpkg[@]}"
  bh commit --quiet --rm "$(rootfs_container curl --entrypoint '["curl"]' --cmd '["--help"]')" "$CURL_IMAGE" >/dev/null
  export_image "$CURL_IMAGE"
}

# ---- agnhost ----
make_agnhost() {
  local agnhost c porter=$k8s_src/test/images/agnhost/porter
  agnhost=$(GO_BUILD_JOBS=1 nice -n 15 bash "$repo/test/control-plane/build.sh" agnhost | sed -n 's/^agnhost=//p')
  [[ -x $agnhost ]] || die "build.sh agnhost named no agnhost"
  debian_rootfs agnhost "$tools_packages" "${slim_dpkg[@]}"
  c=$(rootfs_container agnhost)
  # What test/images/agnhost/Dockerfile adds besides its Alpine packages.
  bh copy --quiet "$c" "$agnhost" /agnhost >/dev/null
  bh copy --quiet "$c" "$porter/localhost.crt" "$porter/localhost.key" / >/dev/null
  bh run --isolation chroot "$c" -- sh -c 'ln -s agnhost /agnhost-2 && mkdir /uploads &&
    groupadd -g 50000 group-defined-in-image && useradd -u 1000 -M user-defined-in-image &&
    usermod -a -G group-defined-in-image user-defined-in-image'
  bh config --port 80 --port 8080 --port 8081 --port 9376 --port 5000 \
    --entrypoint '["/agnhost"]' --cmd '["pause"]' "$c"
  bh commit --quiet --rm "$c" "$AGNHOST_IMAGE" >/dev/null
  export_image "$AGNHOST_IMAGE"
}

# ---- coredns ----
# As CoreDNS' own Dockerfile: the static binary as /coredns, its entrypoint, ports 53 and 9153. Its
# image runs as nonroot with the binary's file capability cap_net_bind_service; this one keeps
# root (uid 0 in the container) and no file capability, and the Deployment's securityContext
# (drop ALL, add NET_BIND_SERVICE) leaves it that one capability, enough to bind port 53.
make_coredns() {
  local coredns c reported
  [[ $COREDNS_IMAGE == "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" ]] ||
    die "images.env has COREDNS_IMAGE=$COREDNS_IMAGE but coredns.env pins $COREDNS_VERSION"
  coredns=$(GO_BUILD_JOBS=1 nice -n 15 bash "$repo/test/control-plane/build-coredns.sh" | sed -n 's/^COREDNS=//p')
  [[ -x $coredns ]] || die "build-coredns.sh named no coredns"
  c=$(bh from --quiet scratch)
  bh copy --quiet "$c" "$coredns" /coredns >/dev/null
  bh config --os linux --arch "$(image_arch)" --port 53/udp --port 53/tcp --port 9153/tcp \
    --entrypoint '["/coredns"]' "$c"
  bh commit --quiet --rm "$c" "$COREDNS_IMAGE" >/dev/null
  reported=$(in_image "$COREDNS_IMAGE" /coredns -version) || die "/coredns -version failed in $COREDNS_IMAGE"
  [[ $(head -n1 <<<"$reported") == "CoreDNS-${COREDNS_VERSION#v}" ]] ||
    die "/coredns -version in $COREDNS_IMAGE reports '$(head -n1 <<<"$reported")', not $COREDNS_VERSION"
  note "  coredns: /coredns -version: $(tr '\n' ' ' <<<"$reported")"
  export_image "$COREDNS_IMAGE"
}

# ---- what each step makes, and the inputs that decide whether it is current ----
step_images[pause]="$PAUSE_IMAGE $PAUSE_ALIAS"
step_images[bases]="$NODE_BUILD_BASE $NODE_RUNTIME_BASE"
step_images[agent]="${NEARBY_AGENT_IMAGE:-}"
step_images[samples]="$HELLOWORLD_V1_IMAGE $HELLOWORLD_V2_IMAGE $CURL_IMAGE"
step_images[agnhost]="$AGNHOST_IMAGE"
step_images[coredns]="$COREDNS_IMAGE"

exported_images() {
  local step image
  for step in "${steps[@]}"; do
    [[ $step == bases ]] && continue
    for image in ${step_images[$step]}; do echo "$image"; done
  done
}

publish() {
  local tmp="$current_json.$$.tmp" image first=true
  {
    echo "{"
    echo "  \"store\": $(json_string "$dest/storage"),"
    echo "  \"archives\": {"
    local name_file
    for name_file in "$archives"/*.tar.name; do
      [[ -f $name_file && -f ${name_file%.name} ]] || continue
      image=$(<"$name_file")
      $first || echo ","
      first=false
      printf '    %s: %s' "$(json_string "$image")" "$(json_string "$(archive_of "$image")")"
    done
    echo
    echo "  }"
    echo "}"
  } >"$tmp"
  mv -f "$tmp" "$current_json"
  while read -r image; do [[ -z $image ]] || echo "$image=$(archive_of "$image")"; done < <(exported_images)
}

# The inputs of the agent: every file of the build context (.dockerignore's entries left out).
context_hash() {
  (cd "$repo" && git ls-files -co --exclude-standard -z -- . ':!:node_modules' ':!:dist' ':!:build' |
    sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
}

mkdir -p "$dest/logs" "$archives" "$markers" "$runroot"
declare -A key=()
all_current() {
  local step
  for step in "${steps[@]}"; do step_current "$step" "${key[$step]}" || return 1; done
}

# Keys that need no image store to compute; the agent's and the samples' also name the base they
# stand on, so a remade base remakes them.
key[pause]="recipe=$recipe image=$PAUSE_IMAGE alias=$PAUSE_ALIAS kubernetes=$K8S_VERSION"
key[bases]="$build_base_key $runtime_base_key"
key[agnhost]="recipe=$recipe image=$AGNHOST_IMAGE kubernetes=$K8S_VERSION suite=$DEBIAN_SUITE tools=$tools_packages"
key[coredns]="recipe=$recipe image=$COREDNS_IMAGE coredns=$COREDNS_VERSION build=$(sha256sum "$repo/test/control-plane/build-coredns.sh" | cut -c1-16)"
dependent_keys() {
  local bases="none"
  if image_exists "$NODE_BUILD_BASE" && image_exists "$NODE_RUNTIME_BASE"; then
    bases="$(image_id "$NODE_BUILD_BASE" | cut -c1-12),$(image_id "$NODE_RUNTIME_BASE" | cut -c1-12)"
  fi
  key[agent]="recipe=$recipe image=${NEARBY_AGENT_IMAGE:-} context=$(context_hash) bases=$bases"
  key[samples]="recipe=$recipe suite=$DEBIAN_SUITE helloworld=$(sha256sum "$repo/lab/images/helloworld.ts" | cut -c1-16) bases=$bases"
}
dependent_keys

if all_current; then
  publish
  exit 0
fi

overall_start=$SECONDS
if ! lock_cache all_current; then
  publish
  exit 0
fi
# Working containers a killed run left behind; the store is this script's alone.
bh rm --all >/dev/null
note "making ${steps[*]} into $dest; a progress line every 30 s during long steps"
if wants pause || wants agnhost; then
  k8s_src=$(k8s_source)
  [[ -d $k8s_src ]] || die "k8s.io/kubernetes@$K8S_VERSION is not in the Go module cache"
  check_pins "$k8s_src"
fi
for step in pause bases agent samples agnhost coredns; do
  wants "$step" || continue
  run_step "$step" "make_$step" "${key[$step]}"
  # A remade base changes what the agent and the samples stand on.
  [[ $step == bases ]] && dependent_keys
done
# Images a remade tag left nameless.
bh rmi --prune >/dev/null 2>&1 || true
rm -rf "$dest/tmp"
for step in "${steps[@]}"; do
  [[ -n ${took[$step]:-} ]] && note "  $step: $(duration "${took[$step]}")"
done
note "  total: $(duration $((SECONDS - overall_start)))"
publish
