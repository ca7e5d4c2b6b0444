#!/usr/bin/env bash
# Copy the libre fonts the letter PDF uses into static/fonts/ from pinned @fontsource
# npm packages. Bundling them makes a PDF look the same on every machine, and keeps
# the browser preview free of third-party font hosts.
#
# Run from anywhere:  bash scripts/vendor_fonts.sh
# Changing a version: edit the PACKAGES list, re-run, update static/fonts/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/static/fonts"

# package@version  file-prefix  weights/styles to keep
PACKAGES=(
  "@fontsource/source-serif-4@5.3.1|source-serif-4|400-normal 600-normal 700-normal 400-italic"
  "@fontsource/source-sans-3@5.3.1|source-sans-3|400-normal 600-normal"
)
SUBSETS=(latin latin-ext)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
specs=()
for entry in "${PACKAGES[@]}"; do
  specs+=("${entry%%|*}")
done
# --ignore-scripts: font packages need no install hooks, and we run none we have not read.
npm install --no-audit --no-fund --ignore-scripts --save-exact "${specs[@]}" >/dev/null

mkdir -p "$DEST"
find "$DEST" -maxdepth 1 \( -name '*.woff' -o -name '*.woff2' -o -name 'LICENSE-*' \) -delete

for entry in "${PACKAGES[@]}"; do
  spec="${entry%%|*}"
  rest="${entry#*|}"
  prefix="${rest%%|*}"
  styles="${rest#*|}"
  name="${spec%@*}"
  pkg="$WORK/node_modules/$name"
  for subset in "${SUBSETS[@]}"; do
    for style in $styles; do
      file="$prefix-$subset-$style.woff"
      cp "$pkg/files/$file" "$DEST/$file"
    done
  done
  cp "$pkg/LICENSE" "$DEST/LICENSE-$prefix.txt"
  version="$(node -p "require('$pkg/package.json').version")"
  echo "$name $version -> $(ls "$DEST" | grep -c "^$prefix-") files"
done
