#!/usr/bin/env bash
# Installs the local LiveKit stack's binaries into <repo>/.tools/bin:
#   livekit-server, livekit-sip, lk  (built from source with Go at pinned tags)
# and the Debian packages they need (redis-server, and the cgo libraries for livekit-sip/lk).
#
# Idempotent: a binary is skipped when it exists and its stamp file
# (.tools/bin/<name>.version) records the pinned module@version, so a re-run is near-instant.
# Go's module and build caches (GOMODCACHE, GOCACHE) are left at their defaults so they are
# shared across clones; only the built binaries go into the repo.
#
# Usage: scripts/setup/livekit-tools.sh [--force] [--lk]
#   --force   rebuild every binary even when its stamp matches the pin
#   --lk      also build the lk CLI (its cgo WebRTC audio code makes it the slowest build, about
#             15 minutes on 2 cores); no test and no lab call needs it, only joining a dev room
#             from a terminal (npm run dev-room -- --with-lk)
set -euo pipefail

# ---- pins --------------------------------------------------------------------------------
# The newest tags whose whole dependency graph the project's Go module proxy serves. Newer
# tags exist (livekit-server v1.13.11, sip v1.11.0, livekit-cli v2.18.2) but need dependency
# versions (livekit/protocol, pion forks, ...) that it answers 403 for. Bump and re-run to test.
LIVEKIT_SERVER_MODULE="github.com/livekit/livekit-server"
LIVEKIT_SERVER_VERSION="v1.13.5"
LIVEKIT_SIP_MODULE="github.com/livekit/sip"
LIVEKIT_SIP_VERSION="v1.8.0"
LIVEKIT_CLI_MODULE="github.com/livekit/livekit-cli/v2"
LIVEKIT_CLI_VERSION="v2.16.6"
GO_MIN_VERSION="1.26" # all three modules declare `go 1.26`
# livekit-sip: cgo with opus, opusfile, soxr. lk: cgo with PortAudio (system lib, see below)
# plus a vendored WebRTC APM in C++ (g++, already on the machine).
APT_PACKAGES=(redis-server pkg-config libopus-dev libopusfile-dev libsoxr-dev)
APT_PACKAGES_LK=(portaudio19-dev)
# -------------------------------------------------------------------------------------------

START_SECONDS=$(date +%s.%N)
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
TOOLS_BIN="$REPO_ROOT/.tools/bin"
FORCE=0
WITH_LK=0

INSTALLED=()
SKIPPED=()

log() { printf '[livekit-tools] %s\n' "$*" >&2; }
die() {
  printf '[livekit-tools] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---- Debian packages ---------------------------------------------------------------------
ensure_apt_packages() {
  local missing=() pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then missing+=("$pkg"); fi
  done
  if ((${#missing[@]} == 0)); then
    SKIPPED+=("apt")
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing system packages: ${missing[*]} (no apt-get here; install them with your package manager)"
  fi
  local sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      die "missing system packages: ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}"
    fi
  fi
  log "apt-get install ${missing[*]}"
  local out t0=$SECONDS
  out=$(mktemp)
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$out" 2>&1 ||
    ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >>"$out" 2>&1; then
    tail -n 30 "$out" >&2
    rm -f "$out"
    die "apt-get failed installing: ${missing[*]}"
  fi
  rm -f "$out"
  log "apt packages installed in $((SECONDS - t0))s"
  INSTALLED+=("apt(${missing[*]})")
}

# ---- Go toolchain ------------------------------------------------------------------------
GO_INSTALL_HINT="install Go >= ${GO_MIN_VERSION} from https://go.dev/dl/ (e.g. go${GO_MIN_VERSION}.x linux tarball into /usr/local/go) and put its bin/ on PATH"

version_ge() { # version_ge A B  -> A >= B (dotted numeric)
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

ensure_go() {
  if ! command -v go >/dev/null 2>&1; then
    die "Go not found on PATH; ${GO_INSTALL_HINT}"
  fi
  local gov
  gov=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)
  gov=${gov#go}
  gov=${gov%%[-+ ]*}
  if [[ -z "$gov" ]] || ! version_ge "$gov" "$GO_MIN_VERSION"; then
    die "Go ${gov:-unknown} is too old (need >= ${GO_MIN_VERSION}); ${GO_INSTALL_HINT}"
  fi
}

# ---- binaries ----------------------------------------------------------------------------
# up_to_date NAME PIN -> 0 when .tools/bin/NAME exists and its stamp records PIN
up_to_date() {
  local name=$1 pin=$2
  ((FORCE == 0)) && [[ -x "$TOOLS_BIN/$name" ]] &&
    [[ -f "$TOOLS_BIN/$name.version" ]] && [[ "$(<"$TOOLS_BIN/$name.version")" == "$pin" ]]
}

# run_step NAME CMD... : runs CMD quietly; on failure prints the tail of its output and exits
run_step() {
  local name=$1
  shift
  local out rc=0
  out=$(mktemp)
  "$@" >"$out" 2>&1 || rc=$?
  if ((rc != 0)); then
    log "---- last 40 lines of the $name build output ----"
    tail -n 40 "$out" >&2
    rm -f "$out"
    die "building $name failed (exit $rc): $*"
  fi
  rm -f "$out"
}

# go_build_in MODDIR OUT PKG [LDFLAGS] [TAGS] : `go build` inside a module's own directory
go_build_in() { (cd "$1" && go build -trimpath -ldflags "${4:-}" -tags "${5:-}" -o "$2" "$3"); }

# install_go_binary NAME MODULE VERSION PKG [LDFLAGS] [TAGS]
#
# Not `go install MODULE/PKG@VERSION`, for two reasons:
#  - it refuses modules whose go.mod has replace directives (livekit-server >= v1.13.6 does:
#    pion webrtc/ice/dtls forks);
#  - it also looks up the module's version list to check for deprecation, and fails when the
#    module proxy won't serve that list (true here for livekit/sip and livekit-cli).
# So: `go mod download` the pinned module zip into GOMODCACHE, then `go build` inside that
# directory, exactly as a checkout of the tag would build (its go.mod, go.sum and replaces).
install_go_binary() {
  local name=$1 module=$2 version=$3 pkg=$4 ldflags=${5:-} tags=${6:-}
  local pin="$module@$version"
  if up_to_date "$name" "$pin"; then
    SKIPPED+=("$name")
    return 0
  fi
  log "building $name ($pin)"
  local json dir t0=$SECONDS
  if ! json=$(go mod download -json "$pin" 2>&1); then
    printf '%s\n' "$json" | tail -n 20 >&2
    die "downloading $name ($pin) failed"
  fi
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [[ -z "$dir" || ! -f "$dir/go.mod" ]]; then
    printf '%s\n' "$json" | tail -n 20 >&2
    die "downloading $name ($pin): no module directory in 'go mod download' output"
  fi
  run_step "$name" go_build_in "$dir" "$TOOLS_BIN/$name.tmp" "$pkg" "$ldflags" "$tags"
  mv -f "$TOOLS_BIN/$name.tmp" "$TOOLS_BIN/$name"
  stamp "$name" "$pin"
  log "built $name in $((SECONDS - t0))s"
  INSTALLED+=("$name@$version")
}

stamp() { printf '%s\n' "$2" >"$TOOLS_BIN/$1.version"; }

# ---- main --------------------------------------------------------------------------------
main() {
  local arg
  for arg in "$@"; do
    case "$arg" in
    --force) FORCE=1 ;;
    --lk) WITH_LK=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      return 0
      ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
  done
  if ((WITH_LK)); then APT_PACKAGES+=("${APT_PACKAGES_LK[@]}"); fi

  mkdir -p "$TOOLS_BIN"
  # Run go from an empty directory so no go.mod/go.work above the caller's cwd is picked up.
  WORK_DIR=$(mktemp -d)
  trap 'rm -rf "$WORK_DIR"' EXIT
  cd "$WORK_DIR"

  local need_go=0
  up_to_date livekit-server "$LIVEKIT_SERVER_MODULE@$LIVEKIT_SERVER_VERSION" || need_go=1
  up_to_date livekit-sip "$LIVEKIT_SIP_MODULE@$LIVEKIT_SIP_VERSION" || need_go=1
  if ((WITH_LK)); then up_to_date lk "$LIVEKIT_CLI_MODULE@$LIVEKIT_CLI_VERSION" || need_go=1; fi
  if ((need_go)); then
    ensure_go # before apt, so a machine without Go fails fast
    # Never let `go` fetch a newer toolchain on its own; fail clearly instead.
    export GOTOOLCHAIN=local GOWORK=off
  fi

  ensure_apt_packages
  # The server's main package is cmd/server; install it under the name livekit-server.
  install_go_binary livekit-server "$LIVEKIT_SERVER_MODULE" "$LIVEKIT_SERVER_VERSION" ./cmd/server
  # livekit-sip needs cgo: opus/opusfile (gopkg.in/hraban/opus.v2) and soxr, via pkg-config.
  CGO_ENABLED=1 install_go_binary livekit-sip "$LIVEKIT_SIP_MODULE" "$LIVEKIT_SIP_VERSION" \
    ./cmd/livekit-sip "-X github.com/livekit/sip/version.Version=${LIVEKIT_SIP_VERSION#v}"
  if ((WITH_LK)); then
    # lk's vendored PortAudio C sources are a git submodule, absent from the module zip:
    # link the system libportaudio (portaudio19-dev) instead, via its portaudio_system tag.
    CGO_ENABLED=1 install_go_binary lk "$LIVEKIT_CLI_MODULE" "$LIVEKIT_CLI_VERSION" ./cmd/lk \
      "" portaudio_system
  else
    SKIPPED+=("lk(not asked for)")
  fi

  local elapsed
  elapsed=$(awk -v s="$START_SECONDS" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  printf 'livekit-tools: installed [%s] skipped [%s] in %ss -> %s\n' \
    "${INSTALLED[*]:-}" "${SKIPPED[*]:-}" "$elapsed" "$TOOLS_BIN"
}

main "$@"
