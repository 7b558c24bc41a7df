#!/usr/bin/env bash
# Installs the Debian packages ckpt needs to build and test, only those missing, then
# makes CRIU available (scripts/setup-criu.sh).
# Run as root on Debian bookworm (CI and a fresh machine); a non-root user gets a clear list.
set -euo pipefail

PKGS=(cmake make g++ pkg-config libssl-dev libzstd-dev libcli11-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev tmux)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing missing packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: not root; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# CRIU >= 4.0 for process checkpoints: the system's, or built into build/criu/.
"$(dirname "$0")/setup-criu.sh"
