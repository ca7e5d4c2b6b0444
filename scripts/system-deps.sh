#!/usr/bin/env bash
# Installs the few Debian/Ubuntu packages pip cannot provide: venv support, the Pango
# libraries WeasyPrint draws text with, and the Noto fonts letters print names in
# Japanese, Chinese, Korean, Arabic and Devanagari with (static/fonts/README.md). With `--browser` also Chromium for browser tests.
# Does nothing for packages already present; needs root or sudo only when one is missing.
set -eu
want=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 shared-mime-info
  fonts-noto-cjk fonts-noto-core)
[ "${1:-}" = "--browser" ] && want+=(chromium)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# python3-venv is only needed when `python3 -m venv` cannot make a venv with pip.
if [ ${#missing[@]} -gt 0 ] && printf '%s\n' "${missing[@]}" | grep -qx python3-venv; then
  if python3 -c 'import ensurepip, venv' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
  fi
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null || { echo "please install: ${missing[*]}" >&2; exit 1; }
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
