#!/usr/bin/env bash
# Makes a working CRIU >= 4.0 available to ckpt; called by scripts/setup-deps.sh.
#
#   1. The system's criu, when it is >= 4.0 and `criu check` passes: nothing to do.
#   2. The private build in build/criu/ (CKPT_CRIU_PREFIX), when it exists and passes.
#   3. Otherwise: CRIU is built from the upstream source tarball that Debian ships in the
#      `criu` source package of trixie (criu_4.1.1.orig.tar.xz), fetched from the archive
#      this machine's apt configuration names (the URIs: line of /etc/apt/sources.list.d/,
#      or a `deb` line of sources.list), checked against the SHA-256 that trixie's signed
#      Sources index lists for it (pinned below: the archive serves the tarball but not
#      always the .dsc), patched with scripts/criu-patches/*.patch (fixes for current
#      kernels not in 4.1.1, each explained in its header), built against bookworm's -dev
#      packages and installed into build/criu/. A build whose patch set differs from the
#      repository's is rebuilt.
#
# Why not bookworm's criu: 3.17.1 fails on current kernels ("vdso: Unexpected rt vDSO area
# bounds"). ckpt finds the binary in the order CKPT_CRIU, build/criu/sbin/criu, PATH
# (docs/operators.md).
set -euo pipefail

cd "$(dirname "$0")/.."
PREFIX="${CKPT_CRIU_PREFIX:-$PWD/build/criu}"
VERSION=4.1.1
# From `apt-cache showsrc criu` with trixie's deb-src (Checksums-Sha256 of criu 4.1.1-1).
TARBALL_SHA256=f80a66cb3726bb2116266d4759ce3bcbfab7abdb6b6d430bf20dd41911717afe
POOL_PATH=pool/main/c/criu
WORK="$PREFIX/src"

log() { echo "setup-criu: $*"; }

# version_ok BIN: true when BIN reports a version >= 4.0.
version_ok() {
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^Version: *\([0-9]*\)\..*/\1/p' | head -1)
  [[ -n "$v" && "$v" -ge 4 ]]
}

# usable BIN: the binary exists, is new enough and this kernel passes its check.
usable() {
  [[ -x "$1" ]] && version_ok "$1" && "$1" check >/dev/null 2>&1
}

if sys=$(command -v criu 2>/dev/null) && usable "$sys"; then
  log "using the system's $sys ($("$sys" --version | head -1))"
  exit 0
fi
PATCHES=(scripts/criu-patches/*.patch)
PATCH_STAMP=$(cat "${PATCHES[@]}" /dev/null | sha256sum | cut -d' ' -f1)
if usable "$PREFIX/sbin/criu" && [[ "$(cat "$PREFIX/patches.sha256" 2>/dev/null)" == "$PATCH_STAMP" ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  # Not fatal: the library and its tests work without CRIU; process checkpoints (and
  # their tests, which fail saying so) need root anyway.
  echo "setup-criu: warning: no working CRIU >= 4.0, and building one needs root (apt-get;" \
    "criu check needs CAP_SYS_ADMIN); run make as root or set CKPT_CRIU" >&2
  exit 0
fi

BUILD_PKGS=(make gcc patch pkg-config xz-utils curl python3 libprotobuf-c-dev protobuf-c-compiler
            protobuf-compiler libprotobuf-dev libnl-3-dev libnl-route-3-dev libnet1-dev libbsd-dev
            libcap-dev libgnutls28-dev libnftables-dev uuid-dev iproute2 python3-protobuf)
missing=()
for p in "${BUILD_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing CRIU's build dependencies: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian archive this machine uses: the first URIs:/deb entry that is not a security
# or updates mirror. Nothing in the repository names a host.
archive_uri() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri=$(awk '/^URIs:/ {print $2}' "$f" | grep -v -- '-security' | grep -i debian | head -1)
    [[ -n "$uri" ]] && { echo "${uri%/}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' \
      "$f" | grep -v -- '-security' | grep -i debian | head -1)
    [[ -n "$uri" ]] && { echo "${uri%/}"; return; }
  done
}

URI=$(archive_uri)
if [[ -z "$URI" ]]; then
  echo "setup-criu: no Debian archive found in /etc/apt/sources.list*; install criu >= 4.0" \
    "yourself and set CKPT_CRIU to its path" >&2
  exit 1
fi

TARBALL="criu_${VERSION}.orig.tar.xz"
mkdir -p "$WORK"
if [[ ! -s "$WORK/$TARBALL" ]]; then
  log "fetching $TARBALL from the archive in this machine's apt configuration"
  curl -fsSL --retry 3 -o "$WORK/$TARBALL.part" "$URI/$POOL_PATH/$TARBALL"
  mv "$WORK/$TARBALL.part" "$WORK/$TARBALL"
fi
got=$(sha256sum "$WORK/$TARBALL" | cut -d' ' -f1)
if [[ "$got" != "$TARBALL_SHA256" ]]; then
  rm -f "$WORK/$TARBALL"
  echo "setup-criu: $TARBALL has SHA-256 $got, not the $TARBALL_SHA256 Debian lists;" \
    "removed it; run the set-up again" >&2
  exit 1
fi

SRC="$WORK/criu-$VERSION"
rm -rf "$SRC"
tar -xJf "$WORK/$TARBALL" -C "$WORK"
for p in "${PATCHES[@]}"; do
  [[ -f "$p" ]] || continue
  log "applying $p"
  patch -s -p1 -d "$SRC" <"$p"
done
log "building CRIU $VERSION in $SRC (about a minute)"
# Only the criu binary: no docs (asciidoc), no plugins, no python library.
make -C "$SRC" -j"${JOBS:-2}" criu >"$WORK/build.log" 2>&1 || {
  tail -30 "$WORK/build.log" >&2
  echo "setup-criu: building CRIU failed; full log in $WORK/build.log" >&2
  exit 1
}
install -D -m 0755 "$SRC/criu/criu" "$PREFIX/sbin/criu"
# crit decodes images (used by the benchmark for CRIU's own stats); it is a python script.
if [[ -f "$SRC/crit/crit" ]]; then
  install -D -m 0755 "$SRC/crit/crit" "$PREFIX/bin/crit" || true
fi

if ! "$PREFIX/sbin/criu" check; then
  echo "setup-criu: the CRIU built in $PREFIX does not pass 'criu check' on this kernel" \
    "($(uname -r)); see 'ckpt check'" >&2
  exit 1
fi
echo "$PATCH_STAMP" >"$PREFIX/patches.sha256"
log "CRIU $VERSION ready: $PREFIX/sbin/criu"
