#!/usr/bin/env bash
# Installs what ImageForge needs on a Debian machine: apt packages that are missing and the dotnet tools of the
# repository's tool manifest. Idempotent; prints nothing when everything is already there.
set -euo pipefail

packages=(packer mmdebstrap openscap-scanner ssg-debian ssg-debderived zstd e2fsprogs shellcheck)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "imageforge prereqs: installing ${missing[*]}" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$(dirname "$0")/.."
if [ -f .config/dotnet-tools.json ]; then
  dotnet tool restore >/dev/null
fi
