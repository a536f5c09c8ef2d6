#!/usr/bin/env bash
# Installs what ImageForge needs on a Debian machine: apt packages that are missing and the dotnet tools of the
# repository's tool manifest. Idempotent; prints nothing when everything is already there.
set -euo pipefail

# The local target's disk (GPT/UEFI, no loop devices) and its boot test: mtools, dosfstools (the EFI system
# partition), fdisk (sfdisk), gdisk, grub-efi-amd64-bin (grub-mkstandalone), qemu-utils (qemu-img: overlay, VHD),
# qemu-system-x86 and ovmf (booting the disk under UEFI), pigz (disk.tar.gz on every core), python3 (hashing the
# sparse disk in one pass, the disk and boot-test documents), postgresql-15 (the server binaries the Storage specs start
# a throwaway cluster of: docs/cluster.md). strace: the test run's check that unit suites connect to nothing outside
# loopback (eng/loopback-only.py).
packages=(packer mmdebstrap openscap-scanner ssg-debian ssg-debderived zstd e2fsprogs shellcheck
  mtools dosfstools fdisk gdisk grub-efi-amd64-bin qemu-utils qemu-system-x86 ovmf pigz python3 chromium
  postgresql-15 strace)

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

# JSON Schema validation for the tests (CycloneDX, SPDX, OSV): ajv from npm, pinned in eng/schema-validation.
if ! command -v npm >/dev/null 2>&1; then
  echo "imageforge prereqs: installing nodejs npm" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -f eng/schema-validation/node_modules/ajv/package.json ] ||
  [ ! -f eng/schema-validation/node_modules/ajv-formats/package.json ]; then
  npm install --prefix eng/schema-validation --no-audit --no-fund --silent --no-package-lock >/dev/null
fi

# Azurite (the Azure Storage emulator) for the Azure Blob specs: pinned by eng/azurite/package-lock.json.
if ! grep -qs '"version": "3.35.0"' eng/azurite/node_modules/azurite/package.json; then
  npm ci --prefix eng/azurite --no-audit --no-fund --silent >/dev/null
fi

if [ -f .config/dotnet-tools.json ]; then
  dotnet tool restore >/dev/null
fi
