#!/usr/bin/env bash
# Package inventory of a RHEL-family root filesystem, read from its rpm database. Standalone (no common.sh): a cloud
# provisioner runs it inside the VM with "/", or on a mounted root filesystem with its directory.
#
#   collect-packages-rpm.sh <root-dir> <output-file>
#
# Same columns as collect-packages-dpkg.sh: name, version ([epoch:]version-release), architecture, source_name and
# source_version (from the source rpm's file name), maintainer (the vendor), installed_size (KiB, rounded up),
# license (the rpm License tag, already machine-readable), type ("rpm"). gpg-pubkey pseudo-packages are left out.
set -euo pipefail
export LC_ALL=C

if [[ $# -ne 2 ]]; then
    echo "usage: ${0##*/} <root-dir> <output-file>" >&2
    exit 2
fi
root="${1%/}"
out="$2"
command -v rpm >/dev/null 2>&1 || {
    echo "${0##*/}: rpm is not installed" >&2
    exit 1
}

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
    printf 'name\tversion\tarchitecture\tsource_name\tsource_version\tmaintainer\tinstalled_size\tlicense\ttype\n'
    rpm --root "${root:-/}" -qa --queryformat \
        '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{VENDOR}\t%{SIZE}\t%{LICENSE}\n' |
        awk -F'\t' -v OFS='\t' '
            $1 == "gpg-pubkey" { next }
            {
                # SOURCERPM is <name>-<version>-<release>.src.rpm; the name may contain dashes.
                src = $4; sub(/\.(no)?src\.rpm$/, "", src)
                srcname = $1; srcver = $2
                if (src != "(none)" && src != "") {
                    n = split(src, part, "-")
                    if (n >= 3) {
                        srcname = part[1]
                        for (i = 2; i <= n - 2; i++) srcname = srcname "-" part[i]
                        srcver = part[n - 1] "-" part[n]
                        if (index($2, ":") > 0) srcver = substr($2, 1, index($2, ":")) srcver
                    }
                }
                vendor = ($5 == "(none)") ? "" : $5
                license = ($7 == "(none)") ? "" : $7
                kib = int(($6 + 1023) / 1024)
                print $1, $2, $3, srcname, srcver, vendor, kib, license, "rpm"
            }' | LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k3,3
} >"$tmp"
mv -f "$tmp" "$out"
trap - EXIT
