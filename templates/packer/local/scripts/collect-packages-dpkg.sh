#!/usr/bin/env bash
# Package inventory of a Debian-family root filesystem, read from its dpkg database. Standalone (no common.sh): the
# local target runs it on the chroot's directory, a cloud provisioner runs it inside the VM with "/".
#
#   collect-packages-dpkg.sh <root-dir> <output-file>
#
# Writes a tab-separated file with a header: name, version, architecture, source_name, source_version, maintainer,
# installed_size (KiB), license, type ("deb"). Installed packages only, sorted by name. license is the License of
# the "Files: *" paragraph of /usr/share/doc/<package>/copyright when that file is machine-readable (DEP-5), else
# empty.
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 2 ]]; then
    echo "usage: ${0##*/} <root-dir> <output-file>" >&2
    exit 2
fi
root="${1%/}"
out="$2"
[[ -d "$root/var/lib/dpkg" ]] || {
    echo "${0##*/}: no dpkg database at ${root:-/}/var/lib/dpkg" >&2
    exit 1
}

# dep5_license <copyright-file>: the License of the "Files: *" paragraph, or nothing.
dep5_license() {
    awk '
        NR == 1 && $0 !~ /^Format:[ \t]*https?:\/\/.*copyright-format/ { exit }
        /^[ \t]*$/ { in_files = 0; next }
        /^Files:[ \t]*\*[ \t]*$/ { in_files = 1; next }
        in_files && /^License:/ {
            sub(/^License:[ \t]*/, ""); sub(/[ \t\r]+$/, ""); gsub(/\t/, " "); print; exit
        }' "$1" 2>/dev/null || true
}

# copyright_of <package>: the copyright file inside root, following a doc directory symlink within root.
copyright_of() {
    local doc="$root/usr/share/doc/$1" target
    if [[ -L "$doc" ]]; then
        target="$(readlink "$doc")"
        if [[ "$target" == /* ]]; then doc="$root$target"; else doc="$root/usr/share/doc/$target"; fi
    fi
    printf '%s/copyright' "$doc"
}

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
    printf 'name\tversion\tarchitecture\tsource_name\tsource_version\tmaintainer\tinstalled_size\tlicense\ttype\n'
    dpkg-query --admindir="$root/var/lib/dpkg" -W \
        -f='${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${Maintainer}\t${Installed-Size}\n' |
        awk -F'\t' -v OFS='\t' '
            $1 != "installed" { next }
            {
                # Defensive: dpkg fills source fields itself, but never leave them empty.
                if ($5 == "") $5 = $2
                if ($6 == "") $6 = $3
                gsub(/[\r\n]/, " ", $7)
                print $2, $3, $4, $5, $6, $7, $8
            }' | LC_ALL=C sort -t "$(printf '\t')" -k1,1 |
        while IFS=$'\t' read -r name version arch src srcver maint size; do
            license=""
            copyright="$(copyright_of "$name")"
            [[ -f "$copyright" ]] && license="$(dep5_license "$copyright")"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tdeb\n' \
                "$name" "$version" "$arch" "$src" "$srcver" "$maint" "$size" "$license"
        done
} >"$tmp"
mv -f "$tmp" "$out"
trap - EXIT
