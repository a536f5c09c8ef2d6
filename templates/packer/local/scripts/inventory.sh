#!/usr/bin/env bash
# Stage 3 of the local target: the package inventory of the image, read from its dpkg database.
#
# <output_dir>/packages.tsv, tab-separated with a header: name, version, architecture, source_name, source_version,
# maintainer, installed_size (KiB, as dpkg records it). Only installed packages; sorted by name. Source fields fall
# back to the package's own name and version when the package has no Source field (dpkg does this).
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
{
    printf 'name\tversion\tarchitecture\tsource_name\tsource_version\tmaintainer\tinstalled_size\n'
    dpkg-query --admindir="$IF_ROOTFS/var/lib/dpkg" -W \
        -f='${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${Maintainer}\t${Installed-Size}\n' |
        awk -F'\t' -v OFS='\t' '
            $1 != "installed" { next }
            {
                # Defensive: dpkg fills source fields itself, but never leave them empty.
                if ($5 == "") $5 = $2
                if ($6 == "") $6 = $3
                gsub(/[\r\n]/, " ", $7)
                print $2, $3, $4, $5, $6, $7, $8
            }' | LC_ALL=C sort -t "$(printf '\t')" -k1,1
} >"$out.tmp"
mv -f "$out.tmp" "$out"
printf 'inventory: %s packages in %s\n' "$(($(wc -l <"$out") - 1))" "$out"
