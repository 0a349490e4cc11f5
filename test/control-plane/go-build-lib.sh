# Shell functions the cache builders (build.sh, build-node.sh) share: messages, the JSON they
# publish, and building one Go command into <dest>/bin so that a killed build is never taken for a
# finished one. Sourced, never run. The caller sets, before calling them:
#   log_prefix  what every message starts with (control-plane, node)
#   dest        the cache directory of one pinned set: bin/, logs/ and tmp/ live under it
#   recipe_key  what a finished binary's .<name>.built marker must hold to count as current
# and may set GO_BUILD_JOBS (go build -p; default 2) to share a busy machine, and go_verb=test to
# build a test binary (go test -c, e.g. e2e.test) instead of a command.
# shellcheck shell=bash

note() { echo "$log_prefix: $*" >&2; }
die() {
  echo "$log_prefix: error: $*" >&2
  exit 1
}
duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# Go's own installer puts it in /usr/local/go, which a non-login shell may not have on PATH.
need_go() {
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="/usr/local/go/bin:$PATH"; fi
  command -v go >/dev/null || die "Go is needed to build $1 from Go modules; install Go and run the make target again"
}

# The file a `go mod download -json` field names, e.g. GoMod or Info.
download_field() {
  local module=$1 field=$2
  (cd "$dest" && go mod download -json "$module") | sed -n "s/^[[:space:]]*\"$field\": \"\\(.*\\)\",\$/\\1/p"
}

# The release time recorded by the module proxy: a reproducible stand-in for a build date.
release_time() {
  sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(download_field "$1" Info)"
}

# The go directive of a released module's go.mod, which its wrapper module must repeat.
module_go_version() {
  sed -n 's/^go \(.*\)$/\1/p' "$(download_field "$1" GoMod)"
}

# Writes a wrapper module's go.mod; go.sum is kept between runs so it is filled in only once.
write_wrapper() {
  local dir=$1 content=$2
  mkdir -p "$dir"
  printf '%s\n' "$content" >"$dir/go.mod"
}

# Takes the cache's lock (inherited by `go build`, so even a build orphaned by a killed run is
# waited for) and clears what an interrupted run left. Returns 1 when, after waiting, $1 (a
# command) says the build we waited for finished everything.
lock_cache() {
  local done_check=$1
  mkdir -p "$dest/bin" "$dest/logs"
  exec 9>"$dest/.lock"
  if ! flock -n 9; then
    note "another build into $dest is under way; waiting for it"
    flock 9
  fi
  if "$done_check"; then return 1; fi
  rm -rf "$dest/bin"/.*.partial "$dest/tmp"
  mkdir -p "$dest/tmp"
  export GOTMPDIR="$dest/tmp"
  build_pid=""
  trap 'stop_build; exit 130' INT
  trap 'stop_build; exit 143' TERM
  trap 'stop_build' EXIT
}

stop_build() {
  if [[ -n ${build_pid:-} ]]; then kill -TERM -- "-$build_pid" 2>/dev/null || true; fi
}

declare -A took=()

is_built() {
  [[ -x $dest/bin/$1 && -f $dest/bin/.$1.built && $(<"$dest/bin/.$1.built") == "$recipe_key" ]]
}

# Builds one command in its own process group, so an interrupted run stops the compilers too.
# The output appears under its real name only when `go build` succeeded. CGO_ENABLED and any
# other build environment come from the caller's environment.
build_one() {
  local name=$1 package=$2 workdir=$3 tags=$4 ldflags=$5
  shift 5
  local out="$dest/bin/$name" built="$dest/bin/.$name.built" partial="$dest/bin/.$name.partial"
  local log="$dest/logs/$name.log"
  if is_built "$name"; then
    note "$name: built by an earlier run"
    return
  fi
  rm -f "$built"
  local start=$SECONDS last_report=$SECONDS
  # go test reads -v as "verbose tests", so a test binary names each package it compiles only
  # through -x, one compile line per package.
  local -a verb=(build -v) count=(grep -cv "^go: ")
  if [[ ${go_verb:-build} == test ]]; then verb=(test -c -x) count=(grep -c "/compile -o "); fi
  note "building $name ($package); log: $log"
  (cd "$workdir" && exec setsid go "${verb[@]}" -mod=mod -p "${GO_BUILD_JOBS:-2}" -trimpath "$@" -tags "$tags" -ldflags "$ldflags" -o "$partial" "$package") \
    >"$log" 2>&1 &
  build_pid=$!
  while kill -0 "$build_pid" 2>/dev/null; do
    sleep 1 &
    wait $! || true
    if ((SECONDS - last_report >= 30)); then
      last_report=$SECONDS
      note "  $name: $(duration $((SECONDS - start))) so far, $("${count[@]}" "$log" || true) packages compiled"
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

# How long each binary built in this run took, and the whole run since $1 (a $SECONDS value).
report_times() {
  local since=$1 name
  shift
  ((${#took[@]} > 0)) || return 0
  for name in "$@"; do
    [[ -n ${took[$name]:-} ]] && note "  $name: $(duration "${took[$name]}")"
  done
  note "  total: $(duration $((SECONDS - since)))"
}
