#!/usr/bin/env bash
# System packages the tests need on Debian: WeasyPrint's Pango, a Korean font, gettext, Chromium,
# poppler-utils (pdffonts and pdftotext, to read back the PDFs the tests make), PgBouncer (the worker tests also run through a transaction pooler, as production does).
# Installs only what is missing, and only when it can (root with apt-get); otherwise it says what to do.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-nanum fonts-dejavu-core gettext poppler-utils chromium nodejs npm pgbouncer)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# node and npm may come from elsewhere than Debian's packages; a working binary is enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for pkg in "${missing[@]}"; do [[ "$pkg" == nodejs || "$pkg" == npm ]] || filtered+=("$pkg"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 1
fi
