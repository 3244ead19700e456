# Shared by scripts/up and scripts/test: dependencies and the build.
# shellcheck shell=bash

KAPI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAPI_BUILD=${KAPI_BUILD:-$KAPI_ROOT/build}
KAPI_JOBS=${KAPI_JOBS:-$(nproc)}

# Debian packages the project needs to build, test and run.
KAPI_PACKAGES="build-essential autoconf automake libtool pkg-config
libmicrohttpd-dev libgnutls28-dev libyajl-dev libyaml-dev libleveldb-dev libssl-dev
libcmocka-dev libcurl4-openssl-dev python3 curl python3-kubernetes"

kapi_log() { printf '==> %s\n' "$*" >&2; }

# Installs the missing packages when running as root; otherwise says
# which are missing.
kapi_deps() {
  local missing=() p
  for p in $KAPI_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    kapi_log "missing packages (run as root, or install them): ${missing[*]}"
    return 1
  fi
  kapi_log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# kapi_build DIR [configure flags...]: configure (once) and build in DIR,
# out of the source tree, installing into DIR/install.
kapi_build() {
  local dir=$1; shift
  umask 022
  if [ ! -x "$KAPI_ROOT/configure" ]; then
    kapi_log "autoreconf"
    (cd "$KAPI_ROOT" && autoreconf -fi >/dev/null 2>&1) || {
      (cd "$KAPI_ROOT" && autoreconf -fi); return 1; }
  fi
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ]; then
    kapi_log "configure in $dir $*"
    (cd "$dir" && "$KAPI_ROOT/configure" --prefix="$dir/install" "$@" >/dev/null) || return 1
  fi
  kapi_log "make in $dir"
  make -C "$dir" -j"$KAPI_JOBS" >/dev/null && make -C "$dir" install >/dev/null
}
