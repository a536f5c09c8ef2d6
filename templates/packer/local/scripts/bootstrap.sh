#!/usr/bin/env bash
# Stage 1 of the local target: a Debian root filesystem in <work_dir>/rootfs.
#
# The bootstrapped base (mmdebstrap output, before packages_remove) is cached as <cache_dir>/base/<key>.tar, where
# key = sha256 of suite, mirror, security flag and mirror, variant, architecture, the sorted package set (packages_add
# and the boot packages) and the kernel package.
# The kernel is installed by a customize hook: the kernel package (a metapackage such as linux-image-cloud-amd64)
# and, should the mirror not serve it, the versioned kernel package it depends on (said as a warning).
# A cache hit is used as is; a miss runs mmdebstrap and moves the tar into the cache atomically, under a flock so
# two builds never bootstrap the same key at once. Then the tar is extracted (owners, permissions, xattrs kept) and
# packages_remove is purged inside the chroot with a policy-rc.d that keeps every service down.
#
# mirror_auth (login:password) goes into an apt auth file in work_dir, outside the root filesystem, for the
# bootstrap only; it never reaches the image, the cache key, the cache or any output.
set -euo pipefail

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if_init bootstrap

# Take the secret out of the environment before anything else runs: mmdebstrap, apt and the maintainer scripts
# inherit this environment.
mirror_auth="${IMAGEFORGE_MIRROR_AUTH:-}"
unset IMAGEFORGE_MIRROR_AUTH

# --- inputs --------------------------------------------------------------------------------------------------------
step "checking inputs"
require_env IMAGEFORGE_SUITE IMAGEFORGE_MIRROR IMAGEFORGE_VARIANT IMAGEFORGE_CACHE_DIR IMAGEFORGE_SECURITY_UPDATES
if_paths
require_abs_path IMAGEFORGE_CACHE_DIR

suite="$IMAGEFORGE_SUITE"
variant="$IMAGEFORGE_VARIANT"
mirror="${IMAGEFORGE_MIRROR%/}"
security_updates="$IMAGEFORGE_SECURITY_UPDATES"
security_mirror="${IMAGEFORGE_SECURITY_MIRROR:-}"
security_mirror="${security_mirror%/}"
cache_dir="${IMAGEFORGE_CACHE_DIR%/}"
read -r -a packages_add <<<"${IMAGEFORGE_PACKAGES_ADD:-} ${IMAGEFORGE_BOOT_PACKAGES:-}"
kernel_package="${IMAGEFORGE_KERNEL_PACKAGE:-}"
read -r -a packages_remove <<<"${IMAGEFORGE_PACKAGES_REMOVE:-}"

[[ "$suite" =~ ^[a-z][a-z0-9.-]*$ ]] || die "suite '$suite' is not a Debian suite or codename"
case "$variant" in
    essential | apt | required | minbase | buildd | important | standard) ;;
    *) die "variant '$variant' is not one of essential, apt, required, minbase, buildd, important, standard" ;;
esac
case "$security_updates" in
    true | false) ;;
    *) die "security_updates must be \"true\" or \"false\", got '$security_updates'" ;;
esac

check_mirror() {
    local name="$1" url="$2"
    [[ "$url" =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[^[:space:]\'\"]*)?$ ]] ||
        die "$name '$url' is not an http(s) URL without credentials (put credentials in mirror_auth)"
}
check_mirror mirror "$mirror"
if [[ "$security_updates" == true ]]; then
    [[ -n "$security_mirror" ]] || die "security_updates is true but security_mirror is empty"
    check_mirror security_mirror "$security_mirror"
fi
for package in "${packages_add[@]}" "${packages_remove[@]}" ${kernel_package:+"$kernel_package"}; do
    [[ "$package" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "'$package' is not a valid Debian package name"
done
if [[ -n "$mirror_auth" && ! "$mirror_auth" =~ ^[^:[:space:]]+:[^[:space:]]+$ ]]; then
    # Never echo the value.
    die "mirror_auth must have the form login:password without whitespace"
fi

# --- cache key -----------------------------------------------------------------------------------------------------
arch="$(dpkg --print-architecture)"
include=""
if ((${#packages_add[@]})); then
    include="$(printf '%s\n' "${packages_add[@]}" | LC_ALL=C sort -u | paste -sd, -)"
fi
case "$suite" in
    stretch | buster) security_suite="$suite/updates" ;;
    *) security_suite="$suite-security" ;;
esac
key_security_mirror=""
[[ "$security_updates" != true ]] || key_security_mirror="$security_mirror"
key_input="$(printf '%s\n' \
    "format=imageforge-base-2" \
    "suite=$suite" \
    "variant=$variant" \
    "architecture=$arch" \
    "mirror=$mirror" \
    "security_updates=$security_updates" \
    "security_mirror=$key_security_mirror" \
    "packages=$include" \
    "kernel=$kernel_package")"
key="$(printf '%s\n' "$key_input" | sha256sum | cut -c1-64)"

base_dir="$cache_dir/base"
cache_tar="$base_dir/$key.tar"
mkdir -p "$base_dir"

# --- cache lookup, or bootstrap under a lock -------------------------------------------------------------------------
exec {lock_fd}>"$base_dir/$key.lock"
if ! flock -n "$lock_fd"; then
    step "waiting for another build that is bootstrapping the same base ($key)"
    flock "$lock_fd"
fi

if [[ -f "$cache_tar" ]]; then
    step "cache hit, using base $key"
else
    step "cache miss, running mmdebstrap ($suite, $variant, ${#packages_add[@]} extra packages)"
    bootstrap_dir="$IF_WORK_DIR/bootstrap"
    leftover="$(mounts_below "$bootstrap_dir")"
    [[ -z "$leftover" ]] || die "mounts of an earlier mmdebstrap are still active below $bootstrap_dir: $leftover"
    rm -rf --one-file-system "$bootstrap_dir"
    # Leftovers of a build that died while storing this key (we hold its exclusive lock now).
    rm -f "$base_dir/.$key.tar.partial."*
    mkdir -p "$bootstrap_dir/tmp"
    tmp_tar="$bootstrap_dir/base.tar"

    args=(--mode=root --variant="$variant")
    [[ -z "$include" ]] || args+=(--include="$include")

    auth_file=""
    if [[ -n "$mirror_auth" ]]; then
        # apt matches "machine" entries without a protocol only for https, so the entry names the scheme. Only the
        # main mirror's host gets the credentials; a security mirror on the same host shares them.
        auth_file="$IF_WORK_DIR/apt-auth.conf"
        machine="$(printf '%s' "$mirror" | sed -E 's#^(https?://[^/]+).*#\1#')"
        (
            umask 077
            printf 'machine %s\nlogin %s\npassword %s\n' "$machine" "${mirror_auth%%:*}" "${mirror_auth#*:}" >"$auth_file"
        )
        chmod 0600 "$auth_file"
        trap 'rm -f "$auth_file"' EXIT
        # apt is pointed at the file by an option mmdebstrap writes into the chroot's
        # /etc/apt/apt.conf.d/99mmdebstrap; the customize hook deletes that file again before the tar is written,
        # so not even the path reaches the image.
        # shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook shell (the chroot directory)
        args+=(--aptopt="Dir::Etc::netrc \"$auth_file\""
            --customize-hook='rm -f "$1/etc/apt/apt.conf.d/99mmdebstrap"')
    fi

    if [[ -n "$kernel_package" ]]; then
        # The hook runs on the build machine with the chroot as $1; apt inside it uses mmdebstrap's sources.
        args+=(--customize-hook="bash '$(dirname "${BASH_SOURCE[0]}")/install-kernel.sh' \"\$1\" '$kernel_package'")
    fi

    sources=("deb $mirror $suite main")
    [[ "$security_updates" != true ]] || sources+=("deb $security_mirror $security_suite main")

    # TMPDIR keeps mmdebstrap's temporary chroot and its mounts (proc, sys, dev) below work_dir.
    # mmdebstrap's progress goes to a log; only its warnings and errors (and apt's, which --quiet would hide, such
    # as "401 Unauthorized") are shown.
    mmdebstrap_log="$IF_LOG_DIR/mmdebstrap.log"
    if ! TMPDIR="$bootstrap_dir/tmp" mmdebstrap "${args[@]}" "$suite" "$tmp_tar" "${sources[@]}" \
        </dev/null >"$mmdebstrap_log" 2>&1; then
        grep -E '^(E|W): |^Err:|^ +[0-9]{3} ' "$mmdebstrap_log" | grep -v '^E: mmdebstrap failed to run' | tail -n 20 >&2 || true
        die "mmdebstrap failed for $suite ($variant) from $mirror (full log: $mmdebstrap_log)"
    fi
    grep -E '^W: |^imageforge-warning: ' "$mmdebstrap_log" | tail -n 20 || true
    if [[ -n "$auth_file" ]]; then
        rm -f "$auth_file"
        trap - EXIT
    fi
    [[ -s "$tmp_tar" ]] || die "mmdebstrap produced no tar at $tmp_tar"

    step "storing base $key in the cache"
    # Copy (or rename, on the same filesystem) to a temporary name next to the final one, flush, then rename:
    # another build never sees a partial tar.
    partial="$base_dir/.$key.tar.partial.$$"
    mv -f "$tmp_tar" "$partial"
    sync "$partial"
    printf '%s\n' "$key_input" >"$base_dir/$key.inputs"
    mv -f "$partial" "$cache_tar"
    rm -rf --one-file-system "$bootstrap_dir"
fi

# Readers hold a shared lock while they extract, so a cache cleaner taking the exclusive lock never removes a tar
# that is being read.
flock -s "$lock_fd"

# --- extract -------------------------------------------------------------------------------------------------------
step "extracting base into the work directory"
# The tree lives in memory (a tmpfs of about 400 MiB at <work_dir>/mem): extracting, hardening, scanning and reading
# it for the disk are faster, and removing it is an unmount. The C# side unmounts whatever is left below work_dir
# after a failure or a cancel.
acquire_memory
mkdir -m 0755 "$IF_ROOTFS"
tar --extract --file="$cache_tar" --directory="$IF_ROOTFS" \
    --numeric-owner --same-owner --same-permissions --xattrs --xattrs-include='*' --acls ||
    die "could not extract $cache_tar into $IF_ROOTFS"
# Which copy of the tar this is (inode, size, modification time), read under the lock: its facts are cached for it.
tar_id="$(stat -c '%i-%s-%Y' "$cache_tar")"
exec {lock_fd}>&-
require_rootfs

# --- the base's own facts ------------------------------------------------------------------------------------------
# What the base itself trusts, runs and lets in, before this image's packages_remove and hardening
# -> <work_dir>/base-facts.json, which the facts stage puts into image-facts.json. Anomaly detection
# (docs/anomalies.md) marks a difference as inherited when the same inputs (this key) gave a base with the same
# difference. Collected once per copy of the tar and kept beside it; a new copy of the key gets its facts anew.
base_facts_cache="$base_dir/$key.facts.$tar_id.json"
if [[ -f "$base_facts_cache" ]]; then
    cp "$base_facts_cache" "$IF_WORK_DIR/base-facts.json"
else
    step "collecting the base's facts"
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to collect the base's facts (apt-get install python3)"
    python3 "$(dirname "${BASH_SOURCE[0]}")/collect-facts.py" "$IF_ROOTFS" "$IF_WORK_DIR/base-facts.json"
    find "$base_dir" -maxdepth 1 -name "$key.facts.*.json" -delete
    cp "$IF_WORK_DIR/base-facts.json" "$base_facts_cache.partial.$$"
    mv -f "$base_facts_cache.partial.$$" "$base_facts_cache"
fi
# What the tree of this build is made of, for the stages that cache work on it (the scan before hardening).
removed_key=""
if ((${#packages_remove[@]})); then
    removed_key="$(printf '%s\n' "${packages_remove[@]}" | LC_ALL=C sort -u | paste -sd, -)"
fi
printf 'base=%s\nremove=%s\n' "$key" "$removed_key" >"$IF_WORK_DIR/base.key"

# --- packages_remove -----------------------------------------------------------------------------------------------
if ((${#packages_remove[@]})); then
    step "purging ${#packages_remove[@]} packages: ${packages_remove[*]}"
    before="$(installed_packages)"
    install_policy_rcd
    trap 'remove_policy_rcd' EXIT
    log="$IF_LOG_DIR/purge.log"
    if ! if_chroot apt-get -y -q -o Dpkg::Use-Pty=0 purge --auto-remove "${packages_remove[@]}" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "apt-get purge failed inside the image (log: $log)"
    fi
    remove_policy_rcd
    trap - EXIT
    removed="$(LC_ALL=C comm -23 <(printf '%s\n' "$before") <(installed_packages) | paste -sd' ' -)"
    printf 'removed: %s\n' "${removed:-nothing (none of them was installed)}"
fi

printf 'root filesystem ready: %s (%s packages)\n' "$IF_ROOTFS" "$(installed_packages | wc -l)"
