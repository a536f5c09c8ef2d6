#!/usr/bin/env bash
# Stage 3 of the local target: the package inventory of the image, read from its dpkg database.
#
# <output_dir>/packages.tsv, tab-separated with a header: name, version, architecture, source_name, source_version,
# maintainer, installed_size (KiB, as dpkg records it), license (DEP-5 "Files: *" license, else empty), type (deb).
# Only installed packages; sorted by name. Source fields fall back to the package's own name and version when the
# package has no Source field (dpkg does this). The work is done by collect-packages-dpkg.sh.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init inventory

step "checking inputs"
require_env IMAGEFORGE_OUTPUT_DIR
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_rootfs
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
mkdir -p "$output_dir"

step "listing installed packages"
out="$output_dir/packages.tsv"
# The collector is standalone so cloud provisioners can run the same script inside a VM (with root "/").
bash "$(dirname "${BASH_SOURCE[0]}")/collect-packages-dpkg.sh" "$IF_ROOTFS" "$out"
printf 'inventory: %s packages in %s (%s with a machine-readable license)\n' "$(($(wc -l <"$out") - 1))" "$out" \
    "$(awk -F'\t' 'NR > 1 && $8 != "" { n++ } END { print n + 0 }' "$out")"
