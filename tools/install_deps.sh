#!/usr/bin/env bash
# tools/install_deps.sh — install what is missing to build unroll on Debian bookworm (run as root).
# Idempotent and non-interactive: packages already installed are left alone; apt-get runs only if needed.
set -euo pipefail
pkgs=(g++ cmake make libxtensor-dev xtl-dev libxtensor-blas-dev libopenblas-dev doctest-dev libfmt-dev
      nlohmann-json3-dev libcli11-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install_deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
