#!/usr/bin/env bash
# Stage "flavours" of the local target, after the facts and before the export (the tree is final): for each flavour
# (IMAGEFORGE_FLAVOURS, space-separated name:formats:packages entries, e.g. azure:raw,vhd:waagent), a copy of the
# hardened, cleaned tree gets the flavour's packages, installed in a chroot from the apt sources the bootstrap wrote
# into the image, is cleaned by the clean stage again and is written as its own disk by the export stage:
#   disk-<name>.raw (+ disk-<name>.vhd, disk-<name>.tar.gz)   with their .sha256, the base disk's layout
#   disk-<name>.packages                                       what it added or changed: "name<TAB>version" per line
# The tree itself is not touched: the base disk, its scans and its inventory are the same as without flavours.
# Nothing to do (and no output) without flavours.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init flavours

flavours="${IMAGEFORGE_FLAVOURS:-}"
# The mirror's credentials are taken out of the environment first thing: apt sees them only through a netrc file.
mirror_auth="${IMAGEFORGE_MIRROR_AUTH:-}"
unset IMAGEFORGE_MIRROR_AUTH
[[ -n "${flavours// /}" ]] || exit 0

step "checking inputs"
require_env IMAGEFORGE_OUTPUT_DIR
if_paths
require_abs_path IMAGEFORGE_OUTPUT_DIR
require_rootfs
output_dir="${IMAGEFORGE_OUTPUT_DIR%/}"
scripts="$(dirname "${BASH_SOURCE[0]}")"
base="$IF_ROOTFS"
read -r -a entries <<<"$flavours"
for entry in "${entries[@]}"; do
    [[ "$entry" =~ ^[a-z][a-z0-9-]*:raw(,(vhd|tar-gz))*:[a-z0-9][a-z0-9+.-]+(,[a-z0-9][a-z0-9+.-]+)*$ ]] ||
        die "flavours: '$entry' is not name:formats:packages (e.g. azure:raw,vhd:waagent)"
done
[[ -z "$mirror_auth" || "$mirror_auth" == *:* ]] || die "mirror_auth must be login:password"
leftover="$(mounts_inside "$base")"
[[ -z "$leftover" ]] || die "mounts are active below $base, refusing to copy it: $leftover"

# dpkg's view of a tree: "name<TAB>version" of every installed package, sorted.
package_versions() {
    dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${db:Status-Status}\t${Package}\t${Version}\n' |
        awk -F'\t' -v OFS='\t' '$1 == "installed" { print $2, $3 }' | LC_ALL=C sort
}
base_packages="$IF_WORK_DIR/flavours-base.tsv"
package_versions "$base" >"$base_packages"

tree=""
cleanup() {
    if [[ -n "$tree" ]]; then
        rm -f "$tree/etc/apt/auth.conf.d/90imageforge.conf"
        rm -rf --one-file-system "$tree"
    fi
}
trap cleanup EXIT

for entry in "${entries[@]}"; do
    IFS=: read -r name formats packages <<<"$entry"
    IFS=, read -r -a install <<<"$packages"
    tree="$IF_MEM/flavour-$name"
    log="$IF_LOG_DIR/flavour-$name.log"

    step "copying the hardened tree for the $name flavour"
    rm -rf --one-file-system "$tree"
    # A whole copy, not hard links: dpkg and maintainer scripts change files in place (modes, owners, appends),
    # which through a hard link would change the base disk's tree too. Reflinked where the filesystem can.
    started=$SECONDS
    cp -a --reflink=auto "$base" "$tree"
    printf 'copied %s MiB in %s s\n' "$(du -sm "$tree" | cut -f1)" "$((SECONDS - started))"

    step "installing ${install[*]} into the $name flavour"
    IF_ROOTFS="$tree"
    # apt inside the tree uses the image's own sources (the bootstrap's mirror and security mirror), the build
    # machine's resolver for as long as it runs (the clean stage empties resolv.conf again) and, for a mirror behind
    # basic auth, a netrc file in the tree that is removed right after.
    if [[ -f /etc/resolv.conf ]]; then
        rm -f "$tree/etc/resolv.conf"
        cat /etc/resolv.conf >"$tree/etc/resolv.conf"
    fi
    if [[ -n "$mirror_auth" ]]; then
        machine="$(sed -nE 's#^deb +(https?://[^/ ]+).*#\1#p' "$tree/etc/apt/sources.list" | head -n 1)"
        mkdir -p "$tree/etc/apt/auth.conf.d"
        (
            umask 077
            printf 'machine %s\nlogin %s\npassword %s\n' "$machine" "${mirror_auth%%:*}" "${mirror_auth#*:}" \
                >"$tree/etc/apt/auth.conf.d/90imageforge.conf"
        )
    fi
    install_policy_rcd
    if ! { if_chroot apt-get -q -o Dpkg::Use-Pty=0 update &&
        if_chroot apt-get -y -q -o Dpkg::Use-Pty=0 install --no-install-recommends "${install[@]}"; } >"$log" 2>&1; then
        grep -E '^(E|W): |^Err:' "$log" | tail -n 20 >&2 || true
        remove_policy_rcd
        die "apt-get could not install ${install[*]} into the $name flavour (log: $log)"
    fi
    remove_policy_rcd
    rm -f "$tree/etc/apt/auth.conf.d/90imageforge.conf"
    LC_ALL=C comm -13 "$base_packages" <(package_versions "$tree") >"$output_dir/disk-$name.packages"
    printf '%s flavour: %s\n' "$name" "$(awk -F'\t' '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2 }' \
        "$output_dir/disk-$name.packages")"
    for package in "${install[@]}"; do
        grep -q "^$package	" "$output_dir/disk-$name.packages" ||
            die "the $name flavour's tree does not list $package as installed after apt-get install"
    done

    # The clean and export stages, run on the flavour's tree: apt lists, logs, resolv.conf, machine-id and any
    # host keys go again, and the disk is written with the base disk's layout and identifiers.
    IMAGEFORGE_TREE="$tree" bash "$scripts/clean.sh"
    IMAGEFORGE_TREE="$tree" IMAGEFORGE_EXPORT_FLAVOUR="$name" IMAGEFORGE_DISK_FORMATS="$formats" \
        bash "$scripts/export.sh"
    rm -rf --one-file-system "$tree"
    tree=""
    IF_ROOTFS="$base"
done
trap - EXIT
